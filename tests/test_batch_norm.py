"""resnet_lib.batch_norm: Keras' BatchNormalization layers trained through TensorFlow's fused kernel
(`batch_norm_kernel`, the default of `resnet_lib.train` on a CPU) and folded into their convolutions for
inference (`fold_batch_norm`), the reader's model unchanged."""

import json
import zipfile

import keras
import numpy as np
import pytest

import resnet_lib
from resnet_lib import batch_norm
from resnet_lib.layers import FoldedBatchNormalization

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the fused kernel is TensorFlow's")


def small_network(**options):
    resnet_lib.set_seed(0)
    return resnet_lib.build_network(8, residual=True, input_shape=(8, 8, 1), num_classes=10, **options)


def images(count=16, shape=(8, 8, 1), seed=0):
    return np.random.default_rng(seed).normal(size=(count, *shape)).astype("float32")


def randomize_statistics(model, seed=1):
    """Moving statistics far from (0, 1), so that folding has something to fold."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 2, gamma.shape), rng.normal(size=beta.shape),
                               rng.normal(size=mean.shape), rng.uniform(0.2, 3, variance.shape)])


def test_auto_picks_the_fused_kernel_on_this_cpu_and_keras_switches_it_off():
    model = small_network()
    assert batch_norm.default_kernel() == "fused"
    assert batch_norm.choose_kernel(model) == "fused" and batch_norm.choose_kernel(model, "fused") == "fused"
    assert batch_norm.choose_kernel(model, "keras") == "keras"


@pytest.mark.parametrize("kernel", ["Fused", "cudnn", None, True])
def test_an_unknown_kernel_is_refused_naming_it(kernel):
    with pytest.raises(ValueError, match=rf"batch_norm_kernel must be one of \('auto', 'fused', 'keras'\), received {kernel!r}"):
        batch_norm.choose_kernel(small_network(), kernel)


def test_fused_is_refused_where_it_cannot_run_and_auto_keeps_keras_there():
    without = small_network(batch_norm=False)
    with pytest.raises(ValueError, match="has no BatchNormalization layer"):
        batch_norm.choose_kernel(without, "fused")
    assert batch_norm.choose_kernel(without) == "keras"
    inputs = keras.Input((8, 8, 3))
    tiny_epsilon = keras.Model(inputs, keras.layers.BatchNormalization(epsilon=1e-6, name="tiny")(inputs))
    with pytest.raises(ValueError, match="'tiny' has epsilon=1e-06, below the kernel's minimum"):
        batch_norm.choose_kernel(tiny_epsilon, "fused")
    assert batch_norm.choose_kernel(tiny_epsilon) == "keras"
    with pytest.raises(ValueError, match="model must be a keras.Model, got"):
        batch_norm.choose_kernel("resnet50")


def test_inside_the_block_training_runs_the_fused_kernel_and_equals_keras_to_round_off():
    model, x = small_network(), images()
    expected = model(x, training=True).numpy()
    model_after_keras = [w.copy() for w in model.get_weights()]
    model.set_weights([w for w in small_network().get_weights()])  # back to the start: the call moved the statistics
    import tensorflow as tf

    with batch_norm.batch_norm_kernel(model) as kernel:
        assert kernel == "fused"
        graph = tf.function(lambda batch: model(batch, training=True)).get_concrete_function(
            tf.TensorSpec((None, 8, 8, 1))).graph.as_graph_def()
        fused = model(x, training=True).numpy()
    assert sum(node.op.startswith("FusedBatchNorm") for node in graph.node) == 7  # every batch norm of the network
    np.testing.assert_allclose(fused, expected, rtol=1e-4, atol=1e-5)
    for after_fused, after_keras in zip(model.get_weights(), model_after_keras):  # the same moving statistics
        np.testing.assert_allclose(after_fused, after_keras, rtol=1e-5, atol=1e-6)
    # Inference, and everything after the block, is Keras' own layer.
    assert all("call" not in vars(layer) for layer in model.layers)
    graph = tf.function(lambda batch: model(batch, training=True)).get_concrete_function(
        tf.TensorSpec((None, 8, 8, 1))).graph.as_graph_def()
    assert not any(node.op.startswith("FusedBatchNorm") for node in graph.node)


def test_the_model_keeps_keras_layers_and_saves_as_keras_would_inside_the_block(tmp_path):
    model = small_network()
    with batch_norm.batch_norm_kernel(model):
        model.save(tmp_path / "inside.keras")
    model.save(tmp_path / "outside.keras")
    configs = [json.loads(zipfile.ZipFile(tmp_path / name).read("config.json")) for name in ("inside.keras", "outside.keras")]
    assert configs[0] == configs[1]
    kinds = {layer["class_name"] for layer in configs[0]["config"]["layers"]}
    assert "BatchNormalization" in kinds and not any("Fused" in kind for kind in kinds)


def test_blocks_do_not_nest():
    model = small_network()
    with batch_norm.batch_norm_kernel(model):
        with pytest.raises(RuntimeError, match="already inside a batch_norm_kernel block"):
            with batch_norm.batch_norm_kernel(model):
                pass


@pytest.mark.parametrize("build", [lambda: small_network(batch_norm_momentum=0.9),
                                   lambda: resnet_lib.resnet50((32, 32, 3), 10)], ids=["resnet8", "resnet50"])
def test_folding_gives_the_outputs_of_the_original_at_inference(build):
    model = build()
    randomize_statistics(model)
    folded = batch_norm.fold_batch_norm(model)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(batch_norm.foldable_pairs(model)) == len(norms)  # every batch norm follows a convolution here
    assert [layer.name for layer in folded.layers] == [layer.name for layer in model.layers]
    assert sum(isinstance(layer, FoldedBatchNormalization) for layer in folded.layers) == len(norms)
    x = images(4, tuple(model.inputs[0].shape[1:]), seed=2)
    expected = model(x, training=False).numpy()
    np.testing.assert_allclose(folded(x).numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(folded.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)


def test_folded_weights_are_the_batch_norm_affine_map_in_float64():
    inputs = keras.Input((5, 5, 2))
    conv = keras.layers.Conv2D(3, 3, use_bias=True, name="conv")
    norm = keras.layers.BatchNormalization(name="norm", epsilon=0.01)
    model = keras.Model(inputs, norm(conv(inputs)))
    conv.set_weights([np.full((3, 3, 2, 3), 0.5, "float32"), np.array([1.0, 2.0, 3.0], "float32")])
    norm.set_weights([np.array([1.0, 2.0, 4.0]), np.array([0.0, 1.0, -1.0]), np.array([1.0, 0.0, 2.0]),
                      np.array([0.99, 3.99, 0.24])])
    kernel, bias = batch_norm.folded_weights(conv, norm)
    scale = np.array([1.0, 2.0, 4.0]) / np.sqrt(np.array([1.0, 4.0, 0.25]))  # gamma / sqrt(variance + epsilon)
    np.testing.assert_allclose(kernel, 0.5 * np.broadcast_to(scale, (3, 3, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(bias, (np.array([1.0, 2.0, 3.0]) - [1.0, 0.0, 2.0]) * scale + [0.0, 1.0, -1.0], rtol=1e-6)
    assert kernel.dtype == bias.dtype == np.float32
    assert batch_norm.foldable_pairs(model) == {"conv": "norm"}


def test_a_folded_model_saves_and_loads_with_safe_mode(tmp_path):
    model = small_network()
    randomize_statistics(model)
    folded = batch_norm.fold_batch_norm(model)
    folded.save(tmp_path / "folded.keras")
    loaded = keras.saving.load_model(tmp_path / "folded.keras", safe_mode=True)
    x = images(3)
    np.testing.assert_array_equal(loaded(x).numpy(), folded(x).numpy())


def test_what_cannot_be_folded_is_left_or_refused():
    inputs = keras.Input((6, 6, 2))
    activated = keras.layers.Conv2D(4, 3, activation="relu", name="conv_relu")(inputs)  # not linear: kept
    shared = keras.layers.Conv2D(4, 1, name="shared")(activated)
    a = keras.layers.BatchNormalization(name="after_shared")(shared)
    b = keras.layers.ReLU()(shared)  # a second consumer: the convolution's output is needed unnormalized
    norm_after_relu = keras.layers.BatchNormalization(name="after_relu")(activated)
    model = keras.Model(inputs, [a, b, norm_after_relu])
    assert batch_norm.foldable_pairs(model) == {}
    with pytest.raises(ValueError, match="has no batch norm directly after a convolution: nothing to fold"):
        batch_norm.fold_batch_norm(model)
    with pytest.raises(ValueError, match="model must be a keras.Model, got"):
        batch_norm.fold_batch_norm([model])
