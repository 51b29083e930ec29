"""resnet_lib.layers.FusedBatchNormalization and batch_norm.with_fused_batch_norm: TensorFlow's fused batch-norm
kernel behind Keras' BatchNormalization, for faster CPU training (bench/peers.py measures it)."""

import keras
import numpy as np
import pytest

import resnet_lib
from resnet_lib.layers import FusedBatchNormalization
from resnet_lib.batch_norm import with_fused_batch_norm

ON_TENSORFLOW = keras.backend.backend() == "tensorflow"
tensorflow_only = pytest.mark.skipif(not ON_TENSORFLOW, reason="TensorFlow's fused kernel")


def _pair(**config):
    """A Keras batch norm and a fused one with the same configuration, random weights and statistics."""
    rng = np.random.default_rng(0)
    keras_layer, fused_layer = keras.layers.BatchNormalization(**config), FusedBatchNormalization(**config)
    for layer in (keras_layer, fused_layer):
        layer.build((None, 5, 3, 4))
    # gamma, beta (those the configuration has), then the moving mean and variance
    weights = [rng.uniform(0.5, 2.0, 4)] * config.get("scale", True) + [rng.normal(size=4)] * config.get("center", True)
    weights = [w.astype("float32") for w in weights + [rng.normal(size=4), rng.uniform(0.5, 2.0, 4)]]
    for layer in (keras_layer, fused_layer):
        layer.set_weights(weights)
    return keras_layer, fused_layer


@tensorflow_only
@pytest.mark.parametrize("config", [{}, {"momentum": 0.9, "epsilon": 1.001e-5}, {"scale": False, "center": False}])
def test_training_step_equals_keras_batch_norm(config):
    """Outputs, gradients with respect to inputs and weights, and the moving statistics after one step."""
    import tensorflow as tf

    keras_layer, fused_layer = _pair(**config)
    x = tf.constant(np.random.default_rng(1).normal(2.0, 3.0, size=(6, 5, 3, 4)).astype("float32"))
    results = []
    for layer in (keras_layer, fused_layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * tf.range(1.0, 1.0 + y.shape[-1]) * tf.sin(x))  # not symmetric in x
        gradients = tape.gradient(loss, [x, *layer.trainable_weights])
        results.append([y, *gradients, layer.moving_mean, layer.moving_variance])
    for expected, found in zip(*results):
        np.testing.assert_allclose(np.asarray(found), np.asarray(expected), rtol=2e-5, atol=2e-5)
    # the moving variance moved with the biased batch variance, as Keras moves it
    assert not np.allclose(keras_layer.moving_variance, _pair(**config)[0].moving_variance)


@tensorflow_only
def test_inference_is_keras_own_code():
    keras_layer, fused_layer = _pair()
    x = np.random.default_rng(2).normal(size=(2, 5, 3, 4)).astype("float32")
    np.testing.assert_array_equal(fused_layer(x, training=False), keras_layer(x, training=False))


@tensorflow_only
@pytest.mark.parametrize("config, shape, message", [
    ({"epsilon": 1e-6}, (None, 4, 4, 2), "epsilon=1e-06, below the kernel's minimum 1.001e-05"),
    ({"renorm": True}, (None, 4, 4, 2), "renorm=True"),
    ({"axis": 1}, (None, 4, 4, 2), r"normalizes axis 1, not the channels of channels-last inputs \(axis=-1\)"),
    ({}, (None, 8, 2), r"gets 3-D inputs, not 4-D.* \(input shape \(None, 8, 2\)\)"),
    ({"dtype": "mixed_bfloat16"}, (None, 4, 4, 2), "computes in bfloat16"),
])
def test_what_the_kernel_cannot_do_is_refused(config, shape, message):
    """The layer names the problem as `fusion_problem` (which `batch_norm_kernel` uses) does, and the layer to use."""
    with pytest.raises(ValueError, match=message) as refusal:
        FusedBatchNormalization(**config).build(shape)
    assert str(refusal.value).endswith("Use keras.layers.BatchNormalization.")


@tensorflow_only
def test_resnet50_gets_the_fused_layer_in_every_batch_norm():
    """The copy has the layers, names and weights of the original and predicts the same, bit for bit."""
    keras.utils.set_random_seed(0)
    model = resnet_lib.resnet50((32, 32, 3), 4)
    fused = with_fused_batch_norm(model)
    kinds = [type(layer).__name__ for layer in fused.layers]
    assert kinds.count("FusedBatchNormalization") == 53 and "BatchNormalization" not in kinds
    assert [layer.name for layer in fused.layers] == [layer.name for layer in model.layers]
    x = np.random.default_rng(0).uniform(size=(4, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(fused.predict(x, verbose=0), model.predict(x, verbose=0))


@tensorflow_only
def test_a_network_trains_alike_with_the_fused_kernel():
    """Two training steps from the same weights: the fused copy's losses and weights differ from Keras' no
    more than Keras' own differ when the images are multiplied by 1 + 1e-6 (float32 round-off, grown by
    training; about 6e-5 in the weights here).

    On a residual-14 network, whose last stage still has 8x8 positions. ResNet50 at 32x32 ends in 1x1 maps,
    where batch norm over a batch of 8 values makes the gradients chaotic: there, the same 1e-6 change moves
    Keras' own gradients by over 10 %."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(16, 32, 32, 3)).astype("float32"), rng.integers(0, 10, size=16)

    def two_steps(fused, images):
        keras.utils.set_random_seed(0)
        network = resnet_lib.build_network(14, residual=True)
        if fused:
            network = with_fused_batch_norm(network)
        network.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
        losses = [network.train_on_batch(images, y) for _ in range(2)]
        return np.array(losses), {weight.path: np.asarray(weight) for weight in network.weights}

    keras_run, fused_run = two_steps(False, x), two_steps(True, x)
    nudged_run = two_steps(False, (x * (1 + 1e-6)).astype("float32"))

    def distance(run):
        return (np.abs(run[0] - keras_run[0]).max(),
                max(np.abs(run[1][path] - value).max() for path, value in keras_run[1].items()))

    (loss_noise, weight_noise), (loss_gap, weight_gap) = distance(nudged_run), distance(fused_run)
    assert set(fused_run[1]) == set(keras_run[1])
    assert 0 < weight_noise < 1e-3  # the yardstick itself is round-off, not a broken run
    assert loss_gap <= 2 * max(loss_noise, 1e-6) and weight_gap <= 2 * weight_noise, (loss_gap, weight_gap)


@tensorflow_only
def test_the_copy_saves_and_loads_back(tmp_path):
    model = with_fused_batch_norm(resnet_lib.build_network(8, residual=True))
    model.save(tmp_path / "fused.keras")
    loaded = keras.saving.load_model(tmp_path / "fused.keras")  # safe_mode: the layer is registered
    assert type(loaded.get_layer(model.layers[2].name)).__name__ == type(model.layers[2]).__name__


@tensorflow_only
@pytest.mark.parametrize("model, message", [
    ("resnet50", "must be a keras.Model"),
    (keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), "no BatchNormalization layer"),
])
def test_with_fused_batch_norm_refuses_what_it_cannot_fuse(model, message):
    with pytest.raises(ValueError, match=message):
        with_fused_batch_norm(model)


@pytest.mark.skipif(ON_TENSORFLOW, reason="the refusal on JAX and PyTorch (make test-backends)")
def test_other_backends_are_refused_with_the_layer_to_use():
    with pytest.raises(ValueError, match=f"backend is '{keras.backend.backend()}'.*keras.layers.BatchNormalization"):
        FusedBatchNormalization()
    with pytest.raises(ValueError, match="TensorFlow's fused kernel"):
        with_fused_batch_norm(resnet_lib.build_network(8, residual=True))
