"""ResNet-18/34 with original (v1) and pre-activation (v2) basic blocks."""

import keras
import pytest
from keras import layers

import resnet_lib
from resnet_lib import imagenet_basic_block, imagenet_stem, resnet18, resnet34
from resnet_lib.analysis import trainable_parameters

# Trainable parameters of the reference ResNet-18/34 at 224x224 with 1000 classes (the batch-norm
# moving statistics are not trainable, so they are not part of these published counts).
REFERENCE_TRAINABLE = {18: 11_689_512, 34: 21_797_672}


@pytest.mark.parametrize("depth", [18, 34])
def test_trainable_parameters_match_the_reference_networks(depth):
    model = {18: resnet18, 34: resnet34}[depth]()
    assert trainable_parameters(model) == REFERENCE_TRAINABLE[depth]
    assert model.name == f"resnet{depth}"
    assert model.get_layer(f"conv5_block{ {18: 2, 34: 3}[depth] }_out").output.shape == (None, 7, 7, 512)


def test_preactivation_network_keeps_the_identity_path_clean():
    model = resnet18(input_shape=(64, 64, 3), num_classes=10, preactivation=True)
    assert model.name == "preact_resnet18"
    # v2: no ReLU after any addition; the block outputs are the additions themselves.
    adds = [layer for layer in model.layers if isinstance(layer, layers.Add)]
    assert len(adds) == 8 and all(layer.name.endswith("_out") for layer in adds)
    assert [layer.name for layer in model.layers[-4:]] == ["post_bn", "post_relu", "avg_pool", "predictions"]
    # Its blocks have one batch norm fewer on the projection and one more in front: same convolutions.
    v1 = resnet18(input_shape=(64, 64, 3), num_classes=10)
    convs = lambda m: sorted(l.name for l in m.layers if isinstance(l, layers.Conv2D))  # noqa: E731
    assert convs(model) == convs(v1)


@pytest.mark.parametrize("preactivation", [False, True])
def test_basic_block_shapes_and_projection(preactivation):
    inputs = keras.Input((16, 16, 64))
    same = imagenet_basic_block(inputs, 64, stage=2, block=2, preactivation=preactivation)
    down = imagenet_basic_block(inputs, 128, 2, stage=3, block=1, preactivation=preactivation)
    assert same.shape == (None, 16, 16, 64) and down.shape == (None, 8, 8, 128)
    model = keras.Model(inputs, [same, down])
    names = {layer.name for layer in model.layers}
    assert "conv3_block1_0_conv" in names and "conv2_block2_0_conv" not in names


@pytest.mark.parametrize(
    "build, kwargs, error, pattern",
    [
        (resnet18, dict(preactivation="yes"), TypeError, r"`preactivation` must be True or False"),
        (resnet18, dict(input_shape=(16, 16, 3)), ValueError, r"`input_shape` must be at least 32x32"),
        (resnet34, dict(num_classes=0), ValueError, r"`num_classes` must be at least 2"),
    ],
)
def test_bad_arguments_name_the_argument(build, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        build(**kwargs)


def test_the_stem_is_resnet50s_with_the_options_of_keras_resnet_builder():
    """One stem for ResNet50 and ResNet-18/34: named as in keras.applications, 4x smaller, 64 channels."""
    names = ["conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool"]
    inputs = keras.Input((64, 64, 3))
    stem = keras.Model(inputs, imagenet_stem(inputs))
    assert [layer.name for layer in stem.layers[1:]] == names and stem.output.shape == (None, 16, 16, 64)
    assert stem.get_layer("conv1_conv").use_bias
    resnet = resnet_lib.resnet50()
    assert [layer.name for layer in resnet.layers[1:7]] == names
    v2 = keras.Model(inputs, imagenet_stem(inputs, use_bias=False, preactivation=True))
    assert [layer.name for layer in v2.layers[1:]] == ["conv1_pad", "conv1_conv", "pool1_pad", "pool1_pool"]
    assert not v2.get_layer("conv1_conv").use_bias
    with pytest.raises(TypeError, match=r"`x` must be a symbolic Keras tensor"):
        imagenet_stem((64, 64, 3))
