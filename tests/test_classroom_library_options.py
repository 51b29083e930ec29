"""The two library options the chapters use so that no teaching cell spells out an answer.

Chapter 4 builds its ResNet v1.5 block with `convolutional_block(..., stride_on="middle")` instead
of writing the block out by hand (which repeated most of the answers of chapters 3 and 4), and
chapter 5 builds the blog walkthrough's stride-2 network with `resnet50(stages=...)` instead of
re-typing the stage loop of its exercise. Here both are checked against what they replace.
"""

import keras
import numpy as np
import pytest
from keras import layers

import resnet_lib
from resnet_lib import analysis


def hand_written_v1_5_block(x, filters, kernel_size, stride, prefix):
    """ResNet v1.5 as chapter 4 used to write it: the branch's stride on the 3x3 convolution."""
    filters1, filters2, filters3 = filters
    epsilon = 1.001e-5
    shortcut = layers.Conv2D(filters3, 1, strides=stride, name=f"{prefix}_0_conv")(x)
    shortcut = layers.BatchNormalization(epsilon=epsilon, name=f"{prefix}_0_bn")(shortcut)
    for number, (count, size, strides) in enumerate([(filters1, 1, 1), (filters2, kernel_size, stride), (filters3, 1, 1)], 1):
        x = layers.Conv2D(count, size, strides=strides, padding="same" if size > 1 else "valid", name=f"{prefix}_{number}_conv")(x)
        x = layers.BatchNormalization(epsilon=epsilon, name=f"{prefix}_{number}_bn")(x)
        if number < 3:
            x = layers.Activation("relu", name=f"{prefix}_{number}_relu")(x)
    x = layers.Add(name=f"{prefix}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{prefix}_out")(x)


def test_stride_on_middle_is_resnet_v1_5_output_for_output(rng):
    inputs = keras.Input((9, 9, 16))
    library = keras.Model(inputs, resnet_lib.convolutional_block(inputs, (8, 12, 24), 3, 2, stage=3, block=1,
                                                                  stride_on="middle"))
    by_hand = keras.Model(inputs, hand_written_v1_5_block(inputs, (8, 12, 24), 3, 2, "conv3_block1"))
    assert [layer.name for layer in library.layers] == [layer.name for layer in by_hand.layers]
    analysis.randomize_batch_norm(library, seed=0)
    for layer in library.layers:
        by_hand.get_layer(layer.name).set_weights(layer.get_weights())
    images = rng.normal(size=(2, 9, 9, 16)).astype("float32")
    np.testing.assert_allclose(library.predict(images, verbose=0), by_hand.predict(images, verbose=0), rtol=1e-5,
                               atol=1e-5)
    strides = {layer.name: layer.strides[0] for layer in library.layers if isinstance(layer, layers.Conv2D)}
    assert strides == {"conv3_block1_0_conv": 2, "conv3_block1_1_conv": 1, "conv3_block1_2_conv": 2, "conv3_block1_3_conv": 1}


def test_stride_on_first_is_the_default_and_other_values_are_refused():
    inputs = keras.Input((8, 8, 16))
    default = keras.Model(inputs, resnet_lib.convolutional_block(inputs, (4, 4, 8), stage=2, block=1))
    first = keras.Model(inputs, resnet_lib.convolutional_block(inputs, (4, 4, 8), stage=2, block=1, stride_on="first"))
    assert analysis.layer_table(default) == analysis.layer_table(first)
    assert default.get_layer("conv2_block1_1_conv").strides == (2, 2)
    with pytest.raises(ValueError, match="stride_on"):
        resnet_lib.convolutional_block(inputs, (4, 4, 8), stage=2, block=1, stride_on="3x3")


def test_resnet50_stages_default_and_the_walkthroughs_strides():
    default = resnet_lib.resnet50()
    explicit = resnet_lib.resnet50(stages=resnet_lib.RESNET50_STAGES)
    assert analysis.layer_table(default) == analysis.layer_table(explicit)
    walkthrough = [(stage, filters, blocks, 2) for stage, filters, blocks, _ in resnet_lib.RESNET50_STAGES]
    stride_two = resnet_lib.resnet50(stages=walkthrough, name="walkthrough")
    assert stride_two.count_params() == default.count_params() == 23_600_006
    assert [layer.name for layer in stride_two.layers] == [layer.name for layer in default.layers]
    assert tuple(stride_two.get_layer("conv2_block3_out").output.shape[1:]) == (8, 8, 256)
    assert tuple(stride_two.get_layer("conv5_block3_out").output.shape[1:]) == (1, 1, 2048)


@pytest.mark.parametrize("stages, error, message", [
    ([], ValueError, "empty"),
    ("conv2", TypeError, "list of"),
    ([(2, (64, 64, 256), 3)], ValueError, r"\(stage, \(F1, F2, F3\), blocks, stride\)"),
    ([(2, (64, 64, 256), 0, 1)], ValueError, "blocks"),
    ([(2, (64, 64), 3, 1)], ValueError, "filters"),
])
def test_resnet50_refuses_malformed_stages(stages, error, message):
    with pytest.raises(error, match=message):
        resnet_lib.resnet50(stages=stages)
