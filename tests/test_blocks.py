"""The blocks: output shapes, predictable layer names, and loud errors on bad input."""

import keras
import numpy as np
import pytest
from keras import layers

from resnet_lib import (
    ParameterFreeShortcut,
    cifar_basic_block,
    cifar_plain_block,
    convolutional_block,
    identity_block,
    plain_bottleneck_block,
)


def block_model(block_fn, input_shape, *args, **kwargs):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, block_fn(inputs, *args, **kwargs))


def weighted_layer_names(model):
    return [layer.name for layer in model.layers if layer.weights]


def test_identity_block_keeps_shape_and_names_its_layers():
    model = block_model(identity_block, (15, 15, 256), (64, 64, 256), stage=2, block=3)
    assert model.output.shape == (None, 15, 15, 256)
    assert sorted(weighted_layer_names(model)) == sorted(
        f"conv2_block3_{i}_{kind}" for i in (1, 2, 3) for kind in ("conv", "bn")
    )
    names = {layer.name for layer in model.layers}
    assert {"conv2_block3_add", "conv2_block3_out", "conv2_block3_1_relu", "conv2_block3_2_relu"} <= names
    assert model.get_layer("conv2_block3_2_conv").kernel.shape == (3, 3, 64, 64)
    # The output is the ReLU of the sum: never negative.
    out = model.predict(np.random.default_rng(0).normal(size=(2, 15, 15, 256)), verbose=0)
    assert out.min() >= 0


def test_identity_block_adds_its_input():
    """With the branch's last batch norm zeroed, the block is ReLU(x): the shortcut really is added."""
    model = block_model(identity_block, (8, 8, 16), (4, 4, 16), stage=3, block=2)
    bn = model.get_layer("conv3_block2_3_bn")
    bn.set_weights([np.zeros(16), np.zeros(16), np.zeros(16), np.ones(16)])
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 16)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.maximum(x, 0), atol=1e-6)


@pytest.mark.parametrize("stride, size_out", [(1, 16), (2, 8)])
def test_convolutional_block_projects_the_shortcut(stride, size_out):
    model = block_model(convolutional_block, (16, 16, 64), (32, 32, 128), stride=stride, stage=3, block=1)
    assert model.output.shape == (None, size_out, size_out, 128)
    assert sorted(weighted_layer_names(model)) == sorted(
        f"conv3_block1_{i}_{kind}" for i in (0, 1, 2, 3) for kind in ("conv", "bn")
    )
    # The stride sits on the first 1x1 convolution and on the projection, as in keras.applications.
    assert model.get_layer("conv3_block1_1_conv").strides == (stride, stride)
    assert model.get_layer("conv3_block1_0_conv").strides == (stride, stride)
    assert model.get_layer("conv3_block1_2_conv").strides == (1, 1)
    assert model.get_layer("conv3_block1_0_conv").kernel.shape == (1, 1, 64, 128)


def test_convolutional_block_on_odd_sizes_matches_same_padding():
    model = block_model(convolutional_block, (15, 15, 8), (4, 4, 16), stride=2, stage=4, block=1)
    assert model.output.shape == (None, 8, 8, 16)


def test_identity_block_refuses_a_channel_mismatch_and_points_to_the_convolutional_block():
    inputs = keras.Input((8, 8, 64))
    with pytest.raises(ValueError, match=r"64 channels.*filters\[2\]. is 256.*convolutional_block"):
        identity_block(inputs, (64, 64, 256), stage=2, block=2)


def test_plain_bottleneck_block_has_no_shortcut():
    model = block_model(plain_bottleneck_block, (8, 8, 32), (8, 8, 32), stage=2, block=1)
    assert not any(isinstance(layer, layers.Add) for layer in model.layers)
    assert model.output.shape == (None, 8, 8, 32)


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda x: identity_block(x, (4, 4), stage=2, block=1), ValueError, r"`filters` must have 3"),
        (lambda x: identity_block(x, 16, stage=2, block=1), TypeError, r"`filters` must be a sequence"),
        (lambda x: identity_block(x, (4, 0, 16), stage=2, block=1), ValueError, r"`filters\[1\]` must be at least 1"),
        (lambda x: identity_block(x, (4, 4, 16), kernel_size=2, stage=2, block=1), ValueError, r"`kernel_size` must be odd"),
        (lambda x: identity_block(x, (4, 4, 16), stage=0, block=1), ValueError, r"`stage` must be at least 1"),
        (lambda x: convolutional_block(x, (4, 4, 16), stride=0, stage=2, block=1), ValueError, r"`stride` must be at least 1"),
        (lambda x: convolutional_block(x, (4, 4, 16), stride=1.5, stage=2, block=1), TypeError, r"`stride` must be an integer"),
        (lambda x: cifar_basic_block(x, 8, stage=1, block=1), ValueError, r"16 channels, more than `filters`=8"),
        (lambda x: cifar_basic_block(x, 16, stage=1, block=1, batch_norm=False, zero_init_residual=True), ValueError, r"`zero_init_residual=True` needs `batch_norm=True`"),
        (lambda x: cifar_basic_block(x, 16, stage=1, block=1, batch_norm_momentum=1.5), ValueError, r"`batch_norm_momentum`"),
        (lambda x: identity_block(np.zeros((1, 8, 8, 16)), (4, 4, 16), stage=2, block=1), TypeError, r"`x` must be a symbolic Keras tensor"),
    ],
)
def test_bad_block_arguments_name_the_argument(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(keras.Input((8, 8, 16)))


def test_blocks_refuse_a_tensor_of_the_wrong_rank():
    with pytest.raises(ValueError, match=r"`x` must have rank 4"):
        identity_block(keras.Input((8, 16)), (4, 4, 16), stage=2, block=1)


@pytest.mark.parametrize("stride, filters", [(1, 16), (2, 16), (2, 32)])
def test_cifar_basic_block_and_its_plain_twin_have_the_same_parameters(stride, filters):
    residual = block_model(cifar_basic_block, (8, 8, 16), filters, stride, stage=2, block=1)
    plain = block_model(cifar_plain_block, (8, 8, 16), filters, stride, stage=2, block=1)
    assert residual.count_params() == plain.count_params()
    assert residual.output.shape == plain.output.shape == (None, 8 // stride, 8 // stride, filters)
    assert any(isinstance(layer, layers.Add) for layer in residual.layers)
    assert not any(isinstance(layer, layers.Add) for layer in plain.layers)
    assert {"stage2_block1_conv1", "stage2_block1_bn1", "stage2_block1_conv2", "stage2_block1_bn2"} <= {
        layer.name for layer in plain.layers
    }


def test_zero_initialised_residual_block_starts_as_relu_of_its_input():
    model = block_model(cifar_basic_block, (6, 6, 16), 16, stage=1, block=1, zero_init_residual=True)
    x = np.random.default_rng(2).normal(size=(3, 6, 6, 16)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.maximum(x, 0), atol=1e-6)


def test_parameter_free_shortcut_subsamples_and_pads_with_zeros():
    x = np.arange(2 * 5 * 5 * 3, dtype="float32").reshape(2, 5, 5, 3)
    shortcut = ParameterFreeShortcut(8, 2)
    out = keras.ops.convert_to_numpy(shortcut(x))
    assert out.shape == (2, 3, 3, 8)
    np.testing.assert_array_equal(out[..., :3], x[:, ::2, ::2, :])
    assert not out[..., 3:].any()
    assert shortcut.count_params() == 0 and not shortcut.weights
    with pytest.raises(ValueError, match=r"only add channels"):
        ParameterFreeShortcut(2)(x)


def test_filters_may_be_a_numpy_array():
    model = block_model(identity_block, (8, 8, 16), np.array([4, 4, 16]), stage=2, block=2)
    assert model.output.shape == (None, 8, 8, 16)
