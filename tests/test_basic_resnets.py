"""ResNet-18/34 with original (v1) and pre-activation (v2) basic blocks."""

import keras
import pytest
from keras import layers

from resnet_lib import basic_resnet, imagenet_basic_block
from resnet_lib.analysis import trainable_parameters

# Trainable parameters of the reference ResNet-18/34 at 224x224 with 1000 classes (the batch-norm
# moving statistics are not trainable, so they are not part of these published counts).
REFERENCE_TRAINABLE = {18: 11_689_512, 34: 21_797_672}


@pytest.mark.parametrize("depth", [18, 34])
def test_trainable_parameters_match_the_reference_networks(depth):
    model = basic_resnet(depth)
    assert trainable_parameters(model) == REFERENCE_TRAINABLE[depth]
    assert model.name == f"resnet{depth}"
    assert model.get_layer(f"conv5_block{ {18: 2, 34: 3}[depth] }_out").output.shape == (None, 7, 7, 512)


def test_preactivation_network_keeps_the_identity_path_clean():
    model = basic_resnet(18, input_shape=(64, 64, 3), num_classes=10, preactivation=True)
    assert model.name == "preact_resnet18"
    # v2: no ReLU after any addition; the block outputs are the additions themselves.
    adds = [layer for layer in model.layers if isinstance(layer, layers.Add)]
    assert len(adds) == 8 and all(layer.name.endswith("_out") for layer in adds)
    assert [layer.name for layer in model.layers[-4:]] == ["post_bn", "post_relu", "avg_pool", "predictions"]
    # Its blocks have one batch norm fewer on the projection and one more in front: same convolutions.
    v1 = basic_resnet(18, input_shape=(64, 64, 3), num_classes=10)
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
    "kwargs, error, pattern",
    [
        (dict(depth=50), ValueError, r"`depth` must be 18 or 34.*resnet50\(\)"),
        (dict(depth=18, preactivation="yes"), TypeError, r"`preactivation` must be True or False"),
        (dict(depth=18, input_shape=(16, 16, 3)), ValueError, r"`input_shape` must be at least 32x32"),
        (dict(depth=34, num_classes=0), ValueError, r"`num_classes` must be at least 2"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        basic_resnet(**kwargs)
