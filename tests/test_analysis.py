"""resnet_lib.analysis: multiply-adds, trainable parameters, randomised batch norms, layer tables."""

import keras
import numpy as np
import pytest
from keras import layers

import resnet_lib
from resnet_lib import analysis


def tiny_model():
    """8x8x3 -> Conv2D 3x3, stride 2, same padding -> 4x4x5 -> flatten (80) -> Dense 7."""
    inputs = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(5, 3, strides=2, padding="same", name="conv")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, layers.Dense(7, name="dense")(x), name="tiny")


def batch_norm_weights(model):
    return {layer.name: [w.copy() for w in layer.get_weights()]
            for layer in model.layers if isinstance(layer, layers.BatchNormalization)}


def test_multiply_adds_of_a_tiny_model_by_hand():
    model = tiny_model()
    assert analysis.multiply_adds_per_layer(model) == {
        "conv": 4 * 4 * 3 * 3 * 3 * 5,  # H_out * W_out * kh * kw * C_in * C_out = 2160
        "dense": 80 * 7,  # inputs * outputs = 560
    }
    assert analysis.multiply_adds(model) == 2160 + 560


def test_multiply_adds_of_grouped_convolutions_and_dense_layers_on_sequences():
    images = keras.Input((8, 8, 4))
    grouped = keras.Model(images, layers.Conv2D(6, 3, padding="same", groups=2, name="grouped")(images))
    assert analysis.multiply_adds(grouped) == 8 * 8 * 3 * 3 * (4 // 2) * 6
    sequence = keras.Input((10, 16))
    per_position = keras.Model(sequence, layers.Dense(4, name="per_position")(sequence))
    assert analysis.multiply_adds(per_position) == 10 * 16 * 4


def test_multiply_adds_descend_into_nested_models():
    inner = tiny_model()
    inputs = keras.Input((8, 8, 3))
    outer = keras.Model(inputs, layers.Dense(2, name="head")(inner(inputs)))
    assert analysis.multiply_adds_per_layer(outer) == {"tiny/conv": 2160, "tiny/dense": 560, "head": 7 * 2}


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda: resnet_lib.resnet50((224, 224, 3), 1000), 3_857_973_248),  # He et al. quote "3.8 x 10^9 FLOPs"
        (lambda: resnet_lib.resnet18(), 1_814_073_344),  # and "1.8 x 10^9" for ResNet-18
    ],
    ids=["resnet50", "resnet18"],
)
def test_multiply_adds_of_imagenet_networks(build, expected):
    assert analysis.multiply_adds(build()) == expected


def test_trainable_parameters():
    assert analysis.trainable_parameters(resnet_lib.resnet18()) == 11_689_512
    model = tiny_model()
    # conv 3*3*3*5 + 5, batch-norm gamma and beta 2*5, dense 80*7 + 7; the moving statistics are not trainable.
    assert analysis.trainable_parameters(model) == 140 + 10 + 567
    assert model.count_params() == 140 + 10 + 567 + 10
    model.get_layer("dense").trainable = False
    assert analysis.trainable_parameters(model) == 140 + 10


def test_randomize_batch_norm_changes_all_four_vectors_reproducibly():
    first, second, third = tiny_model(), tiny_model(), tiny_model()
    fresh = batch_norm_weights(first)["bn"]

    assert analysis.randomize_batch_norm(first, seed=3) == ["bn"]
    analysis.randomize_batch_norm(second, seed=3)
    analysis.randomize_batch_norm(third, seed=4)
    gamma, beta, moving_mean, moving_variance = batch_norm_weights(first)["bn"]

    for name, before, after in zip(("gamma", "beta", "moving mean", "moving variance"), fresh,
                                   (gamma, beta, moving_mean, moving_variance)):
        assert not np.any(before == after), f"randomize_batch_norm left some of the {name} unchanged"
    for ours, same_seed, other_seed in zip(batch_norm_weights(first)["bn"], batch_norm_weights(second)["bn"],
                                           batch_norm_weights(third)["bn"]):
        np.testing.assert_array_equal(ours, same_seed)
        assert not np.array_equal(ours, other_seed)
    assert np.all((gamma >= 0.5) & (gamma <= 1.5)) and np.all((moving_variance >= 0.5) & (moving_variance <= 2.0))
    assert gamma.dtype == np.float32


def test_randomize_batch_norm_makes_batch_norms_matter():
    """A fresh batch norm is nearly the identity at inference; a randomised one is not."""
    model = tiny_model()
    images = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    before = model.predict(images, verbose=0)
    analysis.randomize_batch_norm(model)
    assert np.abs(model.predict(images, verbose=0) - before).max() > 1e-2


def test_randomize_batch_norm_without_scale_or_center_and_in_nested_models():
    inputs = keras.Input((4, 4, 2))
    x = layers.BatchNormalization(scale=False, center=False, name="plain_bn")(inputs)
    inner = keras.Model(inputs, x, name="inner")
    outer_inputs = keras.Input((4, 4, 2))
    outer = keras.Model(outer_inputs, layers.BatchNormalization(name="outer_bn")(inner(outer_inputs)))
    assert analysis.randomize_batch_norm(outer, seed=1) == ["inner/plain_bn", "outer_bn"]
    moving_mean, moving_variance = inner.get_layer("plain_bn").get_weights()
    assert np.all(moving_mean != 0) and np.all(moving_variance != 1)


def test_layer_table():
    has_weights = {"weighted": lambda layer: "yes" if layer.weights else "no"}
    table = analysis.layer_table(tiny_model(), extra_columns=has_weights)
    lines = table.splitlines()
    assert lines[0].split() == ["layer", "weighted", "kind", "output", "shape", "params"]
    assert lines[1].split() == ["image", "no", "InputLayer", "(8,", "8,", "3)", "0"]
    assert lines[2].split() == ["conv", "yes", "Conv2D", "3x3,", "stride", "2", "(4,", "4,", "5)", "140"]
    assert lines[4].split() == ["relu", "no", "Activation", "(relu)", "(4,", "4,", "5)", "0"]
    assert lines[6].split() == ["dense", "yes", "Dense", "(7,)", "567"]
    assert lines[-1] == "total: 727 parameters, of which 717 trainable"
    assert len(lines) == 1 + len(tiny_model().layers) + 1
    assert len({len(line) for line in lines[:-1]}) == 1, "the columns do not line up"


@pytest.mark.parametrize(
    "function", [analysis.multiply_adds, analysis.multiply_adds_per_layer, analysis.trainable_parameters,
                 analysis.randomize_batch_norm, analysis.layer_table],
)
def test_bad_models_are_refused(function):
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model, received 'resnet50' of type str"):
        function("resnet50")
    with pytest.raises(ValueError, match=r"`model` 'unbuilt' is not built"):
        function(keras.Sequential([layers.Dense(3)], name="unbuilt"))


def test_other_bad_arguments_name_the_argument():
    with pytest.raises(TypeError, match=r"`seed` must be an integer, received 1.5"):
        analysis.randomize_batch_norm(tiny_model(), seed=1.5)
    with pytest.raises(ValueError, match=r"`seed` must be at least 0, received -1"):
        analysis.randomize_batch_norm(tiny_model(), seed=-1)
    with pytest.raises(TypeError, match=r"`extra_columns` must be a mapping .*received \['path'\]"):
        analysis.layer_table(tiny_model(), extra_columns=["path"])
    any_size = keras.Input((None, None, 3))
    fully_convolutional = keras.Model(any_size, layers.Conv2D(4, 3, name="conv")(any_size))
    with pytest.raises(ValueError, match=r"layer 'conv' has output shape \(None, None, None, 4\) with unknown sizes"):
        analysis.multiply_adds(fully_convolutional)
