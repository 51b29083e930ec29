"""ResNet50 against the trusted reference, keras.applications.ResNet50."""

import keras
import numpy as np
import pytest

import resnet_lib
from resnet_lib import WeightsUnavailableError, resnet50, transfer_weights
from resnet_lib.analysis import randomize_batch_norm


def architecture(model):
    """Per layer: name, class, output shape, weight shapes, and the names of its input layers."""
    rows = []
    for layer in model.layers:
        inbound = sorted(
            t._keras_history.operation.name for node in layer._inbound_nodes for t in node.input_tensors
        )
        rows.append((layer.name, type(layer).__name__, tuple(layer.output.shape),
                     [tuple(w.shape) for w in layer.weights], inbound))
    return sorted(rows)


@pytest.mark.parametrize("input_shape, classes, expected", [((64, 64, 3), 6, 23_600_006), ((224, 224, 3), 1000, 25_636_712)])
def test_parameter_counts(input_shape, classes, expected):
    ours = resnet50(input_shape, classes)
    assert ours.count_params() == expected
    assert ours.output.shape == (None, classes)


def test_defaults_are_the_assignment_setting():
    assert resnet50().count_params() == 23_600_006
    assert resnet50().input.shape == (None, 64, 64, 3)


def test_same_layers_connections_and_shapes_as_keras_applications():
    ours = resnet50((64, 64, 3), 6)
    reference = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=6)
    assert architecture(ours) == architecture(reference)
    assert ours.get_layer("conv2_block1_out").output.shape == (None, 16, 16, 256)
    assert ours.get_layer("conv5_block3_out").output.shape == (None, 2, 2, 2048)


@pytest.mark.parametrize("input_shape, classes", [
    ((64, 64, 3), 6),
    pytest.param((224, 224, 3), 1000, marks=pytest.mark.slow),  # ImageNet's size: the same code, 12 times the work
])
def test_transferred_weights_give_the_same_predictions(input_shape, classes, rng):
    reference = keras.applications.ResNet50(weights=None, input_shape=input_shape, classes=classes)
    randomize_batch_norm(reference, seed=1)
    ours = resnet50(input_shape, classes)
    images = rng.uniform(-1.0, 1.0, size=(4, *input_shape)).astype("float32")

    untouched = ours.predict(images, verbose=0)
    copied = transfer_weights(reference, ours)
    assert len(copied) == 107  # 53 convolutions, 53 batch norms, 1 dense layer
    expected = reference.predict(images, verbose=0)
    actual = ours.predict(images, verbose=0)

    assert np.abs(actual - expected).max() <= 1e-4
    # The check has teeth: before the transfer the two models disagree, and the outputs are not flat.
    # (In log-probabilities: with 1,000 classes every probability is near 0.001, whatever the weights.)
    assert np.abs(np.log(untouched) - np.log(expected)).max() > 0.1
    assert expected.std(axis=1).mean() > 1e-3


def test_transfer_weights_refuses_models_that_do_not_match():
    with pytest.raises(ValueError, match=r"(?s)121 problem\(s\).*'conv1_bn' of `source` has no twin in `target`"):
        transfer_weights(resnet50((64, 64, 3), 6), resnet_lib.build_network(8))
    with pytest.raises(ValueError, match=r"'predictions': weight shapes"):
        transfer_weights(resnet50((64, 64, 3), 6), resnet50((64, 64, 3), 10))
    with pytest.raises(TypeError, match=r"`target` must be a keras.Model"):
        transfer_weights(resnet50(), "model")


def test_transfer_weights_can_skip_the_classifier(rng):
    source, target = resnet50((64, 64, 3), 6), resnet50((64, 64, 3), 10)
    head_before = target.get_layer("predictions").get_weights()[0].copy()
    copied = transfer_weights(source, target, skip=("predictions",))
    assert "predictions" not in copied and len(copied) == 106
    np.testing.assert_array_equal(target.get_layer("predictions").get_weights()[0], head_before)
    np.testing.assert_array_equal(
        target.get_layer("conv1_conv").get_weights()[0], source.get_layer("conv1_conv").get_weights()[0]
    )


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (dict(input_shape=(31, 64, 3)), ValueError, r"`input_shape` must be at least 32x32"),
        (dict(input_shape=(64, 64)), ValueError, r"`input_shape` must have rank 3"),
        (dict(input_shape=(1, 64, 64, 3)), ValueError, r"`input_shape` must have rank 3"),
        (dict(input_shape="64x64"), TypeError, r"`input_shape` must be a tuple"),
        (dict(input_shape=(64.0, 64, 3)), TypeError, r"`input_shape\[0\]` must be an integer"),
        (dict(num_classes=1), ValueError, r"`num_classes` must be at least 2"),
        (dict(num_classes="6"), TypeError, r"`num_classes` must be an integer"),
        (dict(weights="imagenet21k"), WeightsUnavailableError, r"`weights` file 'imagenet21k' does not exist"),
        (dict(weights=3), ValueError, r"`weights` must be None, \"imagenet\" or the path"),
        (dict(input_shape=(64, 64, 1), weights="imagenet"), ValueError, r"3 input channels"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        resnet50(**kwargs)


def test_imagenet_weights_offline_raise_a_clear_error(monkeypatch):
    """Offline, Keras' download fails; we turn that into an error that says what to do."""
    seen = {}

    def offline_resnet50(**kwargs):
        import socket

        seen.update(kwargs, timeout=socket.getdefaulttimeout())
        raise Exception("URL fetch failure on https://...: None -- [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.applications, "ResNet50", offline_resnet50)
    with pytest.raises(WeightsUnavailableError, match=r"needs internet access.*_notop\.h5.*`weights=`"):
        resnet50((64, 64, 3), 6, weights="imagenet")
    assert seen["include_top"] is False and seen["weights"] == "imagenet"
    assert seen["timeout"] is not None  # a download can't hang forever


def test_pretrained_weights_from_a_file(tmp_path):
    """A ResNet50 weights file (here made locally) ends up in our model, classifier excepted."""
    reference = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(224, 224, 3))
    randomize_batch_norm(reference, seed=1)
    path = tmp_path / "resnet50_notop.weights.h5"
    reference.save_weights(path)

    ours = resnet50((64, 64, 3), 6, weights=str(path))
    for name in ("conv1_conv", "conv3_block2_2_bn", "conv5_block3_3_conv"):
        for mine, theirs in zip(ours.get_layer(name).get_weights(), reference.get_layer(name).get_weights()):
            np.testing.assert_array_equal(mine, theirs)


@pytest.mark.slow  # writes and reads a whole ResNet50
def test_saves_and_loads_as_keras_file_in_safe_mode(tmp_path, rng):
    model = resnet50((32, 32, 3), 4)
    path = tmp_path / "resnet50.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    images = rng.uniform(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)
