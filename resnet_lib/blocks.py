"""Residual blocks, one function per block, built with the Keras Functional API.

Two families:

* The **bottleneck** blocks of ResNet50 (1x1 -> 3x3 -> 1x1 convolutions, each followed by batch
  norm): `identity_block` keeps the shape and adds the input unchanged; `convolutional_block`
  changes the shape and projects the shortcut with a 1x1 convolution and batch norm. Layer names
  follow `keras.applications.ResNet50`, e.g. `conv3_block2_2_conv`, so weights transfer by name.
* The **basic** blocks (3x3 -> 3x3): `cifar_basic_block`, the block of the CIFAR-style depth family
  (He et al., 2016, section 4.2) with a parameter-free shortcut, and `cifar_plain_block`, the same
  layers without the shortcut; `imagenet_basic_block`, the block of ResNet-18/34, original or
  pre-activation, with a projection shortcut where the shape changes.

In every function `x` is the running tensor and `shortcut` is the skip path.
"""

from __future__ import annotations

from typing import Sequence

from keras import layers

from resnet_lib.layers import ParameterFreeShortcut
from resnet_lib.validation import check_filters, check_image_tensor, check_int, check_kernel_size

#: Batch-norm epsilon of `keras.applications.ResNet50`, kept so the two models agree exactly.
BOTTLENECK_BN_EPSILON = 1.001e-5


def _bottleneck_prefix(stage, block) -> str:
    stage = check_int("stage", stage, minimum=1)
    block = check_int("block", block, minimum=1)
    return f"conv{stage}_block{block}"


#: Where `convolutional_block` puts the branch's stride: on its first 1x1 convolution (ResNet v1,
#: `keras.applications.ResNet50`) or on its middle convolution (ResNet v1.5, torchvision's layout).
STRIDE_ON = ("first", "middle")


def _bottleneck_branch(x, filters, kernel_size, stride, prefix, stride_on="first"):
    """The residual branch F(x): 1x1 -> 3x3 -> 1x1, batch norm after each, no final ReLU.

    The stride sits on the first convolution (`stride_on="first"`) or on the middle one ("middle").
    """
    filters1, filters2, filters3 = filters
    first_stride, middle_stride = (stride, 1) if stride_on == "first" else (1, stride)
    x = layers.Conv2D(filters1, 1, strides=first_stride, name=f"{prefix}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=BOTTLENECK_BN_EPSILON, name=f"{prefix}_1_bn")(x)
    x = layers.Activation("relu", name=f"{prefix}_1_relu")(x)

    x = layers.Conv2D(filters2, kernel_size, strides=middle_stride, padding="same", name=f"{prefix}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=BOTTLENECK_BN_EPSILON, name=f"{prefix}_2_bn")(x)
    x = layers.Activation("relu", name=f"{prefix}_2_relu")(x)

    x = layers.Conv2D(filters3, 1, name=f"{prefix}_3_conv")(x)
    x = layers.BatchNormalization(epsilon=BOTTLENECK_BN_EPSILON, name=f"{prefix}_3_bn")(x)
    return x


def identity_block(x, filters: Sequence[int], kernel_size: int = 3, *, stage: int, block: int):
    """The bottleneck block whose shortcut is the identity: output = ReLU(F(x) + x).

    Args:
        x: input tensor of shape (batch, height, width, filters[2]).
        filters: (F1, F2, F3), the filter counts of the 1x1, the middle and the last 1x1 convolution.
        kernel_size: size of the middle convolution (odd).
        stage: stage number (2 to 5 in ResNet50), used in the layer names.
        block: block number within the stage, from 1, used in the layer names.

    Returns:
        Tensor of shape (batch, height, width, filters[2]).

    Raises:
        ValueError: if the input's channel count differs from `filters[2]`; the identity shortcut
            cannot change the shape, so such a block must be a `convolutional_block`.
    """
    check_image_tensor("x", x)
    filters = check_filters("filters", filters, 3)
    kernel_size = check_kernel_size("kernel_size", kernel_size)
    prefix = _bottleneck_prefix(stage, block)
    if x.shape[-1] != filters[2]:
        raise ValueError(
            f"identity_block {prefix}: the input has {x.shape[-1]} channels but `filters[2]` is {filters[2]}. "
            "The identity shortcut adds the input unchanged, so both must match. Use convolutional_block "
            "to change the number of channels (or the spatial size)."
        )

    shortcut = x
    x = _bottleneck_branch(x, filters, kernel_size, 1, prefix)
    x = layers.Add(name=f"{prefix}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{prefix}_out")(x)


def convolutional_block(
    x, filters: Sequence[int], kernel_size: int = 3, stride: int = 2, *, stage: int, block: int,
    stride_on: str = "first",
):
    """The bottleneck block with a projection shortcut: output = ReLU(F(x) + BN(W_s x)).

    As in the paper's v1 and `keras.applications.ResNet50`, the stride sits on the first 1x1
    convolution of the branch and on the 1x1 projection of the shortcut. With
    `stride_on="middle"` the branch's stride moves to its middle convolution instead: the
    "ResNet v1.5" layout of torchvision, with the same layers, names and weights.

    Args:
        x: input tensor of shape (batch, height, width, channels), any channel count.
        filters: (F1, F2, F3), the filter counts of the three convolutions of the branch; the
            projection shortcut has F3 filters too.
        kernel_size: size of the middle convolution (odd).
        stride: stride of the first 1x1 convolution and of the shortcut (1 keeps the size).
        stage: stage number, used in the layer names.
        block: block number within the stage, from 1, used in the layer names.
        stride_on: `"first"` (ResNet v1, the default) or `"middle"` (ResNet v1.5): which
            convolution of the branch carries the stride. The shortcut carries it in both.

    Returns:
        Tensor of shape (batch, ceil(height / stride), ceil(width / stride), filters[2]).
    """
    check_image_tensor("x", x)
    filters = check_filters("filters", filters, 3)
    kernel_size = check_kernel_size("kernel_size", kernel_size)
    stride = check_int("stride", stride, minimum=1)
    prefix = _bottleneck_prefix(stage, block)
    if stride_on not in STRIDE_ON:
        raise ValueError(f"`stride_on` must be \"first\" (ResNet v1) or \"middle\" (ResNet v1.5), received {stride_on!r}.")

    shortcut = layers.Conv2D(filters[2], 1, strides=stride, name=f"{prefix}_0_conv")(x)
    shortcut = layers.BatchNormalization(epsilon=BOTTLENECK_BN_EPSILON, name=f"{prefix}_0_bn")(shortcut)
    x = _bottleneck_branch(x, filters, kernel_size, stride, prefix, stride_on)
    x = layers.Add(name=f"{prefix}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{prefix}_out")(x)


def plain_bottleneck_block(
    x, filters: Sequence[int], kernel_size: int = 3, stride: int = 1, *, stage: int, block: int
):
    """The bottleneck block without any shortcut: output = ReLU(F(x)). Same layer names as above."""
    check_image_tensor("x", x)
    filters = check_filters("filters", filters, 3)
    kernel_size = check_kernel_size("kernel_size", kernel_size)
    stride = check_int("stride", stride, minimum=1)
    prefix = _bottleneck_prefix(stage, block)
    x = _bottleneck_branch(x, filters, kernel_size, stride, prefix)
    return layers.Activation("relu", name=f"{prefix}_out")(x)


def _basic_branch(x, filters, stride, prefix, *, batch_norm, momentum, zero_init_last, regularizer):
    """conv3x3 (stride) -> [BN] -> ReLU -> conv3x3 -> [BN]; no final ReLU."""

    def conv(x, strides, suffix):
        return layers.Conv2D(
            filters, 3, strides=strides, padding="same", use_bias=not batch_norm,
            kernel_initializer="he_normal", kernel_regularizer=regularizer, name=f"{prefix}_conv{suffix}",
        )(x)

    def norm(x, suffix, gamma="ones"):
        if not batch_norm:
            return x
        return layers.BatchNormalization(momentum=momentum, gamma_initializer=gamma, name=f"{prefix}_bn{suffix}")(x)

    x = conv(x, stride, 1)
    x = norm(x, 1)
    x = layers.Activation("relu", name=f"{prefix}_relu1")(x)
    x = conv(x, 1, 2)
    return norm(x, 2, "zeros" if zero_init_last else "ones")


def _check_basic_args(x, filters, stride, stage, block, batch_norm_momentum):
    check_image_tensor("x", x)
    filters = check_int("filters", filters, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    prefix = f"stage{check_int('stage', stage, minimum=1)}_block{check_int('block', block, minimum=1)}"
    if not 0.0 <= float(batch_norm_momentum) < 1.0:
        raise ValueError(f"`batch_norm_momentum` must be in [0, 1), received {batch_norm_momentum!r}.")
    return filters, stride, prefix


def cifar_basic_block(
    x,
    filters: int,
    stride: int = 1,
    *,
    stage: int,
    block: int,
    batch_norm: bool = True,
    batch_norm_momentum: float = 0.9,
    zero_init_residual: bool = False,
    kernel_regularizer=None,
):
    """The two-layer residual block of the CIFAR-style networks: output = ReLU(F(x) + shortcut(x)).

    The shortcut is the identity, or, where the block changes the shape, the parameter-free
    `ParameterFreeShortcut` (subsample by `stride`, zero-pad the new channels): option A of He et al.

    Args:
        x: input tensor of shape (batch, height, width, channels), channels <= filters.
        filters: filter count of both 3x3 convolutions.
        stride: stride of the first convolution (2 halves the feature map).
        stage: stage number, used in the layer names (`stage2_block1_conv1`, ...).
        block: block number within the stage, from 1.
        batch_norm: whether each convolution is followed by batch norm.
        batch_norm_momentum: momentum of the moving statistics (Keras' default 0.99 updates them
            too slowly for short training runs; 0.9 is the paper-era value).
        zero_init_residual: start the last batch norm of the branch at gamma = 0, so that the
            block starts as the identity (Goyal et al., 2017). Needs `batch_norm=True`.
        kernel_regularizer: optional regularizer for the convolution kernels (weight decay).

    Returns:
        Tensor of shape (batch, ceil(height / stride), ceil(width / stride), filters).
    """
    filters, stride, prefix = _check_basic_args(x, filters, stride, stage, block, batch_norm_momentum)
    if zero_init_residual and not batch_norm:
        raise ValueError("`zero_init_residual=True` needs `batch_norm=True`: it zeroes the last batch norm's gamma.")
    if x.shape[-1] > filters:
        raise ValueError(
            f"cifar_basic_block {prefix}: the input has {x.shape[-1]} channels, more than `filters`={filters}; "
            "the parameter-free shortcut can only add channels."
        )

    if stride == 1 and x.shape[-1] == filters:
        shortcut = x
    else:
        shortcut = ParameterFreeShortcut(filters, stride, name=f"{prefix}_shortcut")(x)
    x = _basic_branch(
        x, filters, stride, prefix, batch_norm=batch_norm, momentum=batch_norm_momentum,
        zero_init_last=zero_init_residual, regularizer=kernel_regularizer,
    )
    x = layers.Add(name=f"{prefix}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{prefix}_out")(x)


def cifar_plain_block(
    x,
    filters: int,
    stride: int = 1,
    *,
    stage: int,
    block: int,
    batch_norm: bool = True,
    batch_norm_momentum: float = 0.9,
    kernel_regularizer=None,
):
    """`cifar_basic_block` without the shortcut: output = ReLU(F(x)), with exactly the same parameters.

    Args and returns as `cifar_basic_block` (there is no `zero_init_residual`: with no shortcut, a zero
    gamma would cut the signal).
    """
    filters, stride, prefix = _check_basic_args(x, filters, stride, stage, block, batch_norm_momentum)
    x = _basic_branch(
        x, filters, stride, prefix, batch_norm=batch_norm, momentum=batch_norm_momentum,
        zero_init_last=False, regularizer=kernel_regularizer,
    )
    return layers.Activation("relu", name=f"{prefix}_out")(x)


def imagenet_basic_block(x, filters: int, stride: int = 1, *, stage: int, block: int, preactivation: bool = False):
    """The basic block of ResNet-18/34 on ImageNet, original (v1) or pre-activation (v2).

    v1 (He et al., 2016a): conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN, plus the shortcut, then
    ReLU. v2 (He et al., 2016b): BN -> ReLU -> conv3x3(stride) -> BN -> ReLU -> conv3x3, plus the
    shortcut, and no ReLU after the addition, so the identity path stays a pure identity from
    block to block. In both, the shortcut is the identity when the shape is kept, and a 1x1
    convolution with `stride` (projection, option B) when it changes; v1 follows it with batch
    norm, v2 applies it to the pre-activated input.

    Args:
        x: input tensor (batch, height, width, channels).
        filters: filter count of both 3x3 convolutions.
        stride: stride of the first convolution and of the projection.
        stage: stage number, used in the layer names (`conv2_block1_1_conv`, ...).
        block: block number within the stage, from 1.
        preactivation: build the v2 block.

    Returns:
        Tensor of shape (batch, ceil(height / stride), ceil(width / stride), filters).
    """
    check_image_tensor("x", x)
    filters = check_int("filters", filters, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    prefix = _bottleneck_prefix(stage, block)
    projection = stride != 1 or x.shape[-1] != filters

    def conv(x, strides, kernel_size, suffix):
        return layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                             name=f"{prefix}_{suffix}_conv")(x)

    def norm(x, suffix):
        return layers.BatchNormalization(epsilon=BOTTLENECK_BN_EPSILON, name=f"{prefix}_{suffix}_bn")(x)

    if preactivation:
        preactivated = layers.Activation("relu", name=f"{prefix}_preact_relu")(norm(x, "preact"))
        shortcut = conv(preactivated, stride, 1, 0) if projection else x
        x = conv(preactivated, stride, 3, 1)
        x = layers.Activation("relu", name=f"{prefix}_1_relu")(norm(x, 1))
        x = conv(x, 1, 3, 2)
        return layers.Add(name=f"{prefix}_out")([shortcut, x])

    shortcut = norm(conv(x, stride, 1, 0), 0) if projection else x
    x = conv(x, stride, 3, 1)
    x = layers.Activation("relu", name=f"{prefix}_1_relu")(norm(x, 1))
    x = norm(conv(x, 1, 3, 2), 2)
    x = layers.Add(name=f"{prefix}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{prefix}_out")(x)
