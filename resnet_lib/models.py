"""Whole networks: ResNet50, ResNet-18/34, and the plain/residual depth family of He et al. (2016)."""

from __future__ import annotations

import contextlib
import sys

import keras
from keras import layers

from resnet_lib.blocks import (
    BOTTLENECK_BN_EPSILON,
    cifar_basic_block,
    cifar_plain_block,
    convolutional_block,
    identity_block,
    imagenet_basic_block,
)
from resnet_lib.validation import check_filters, check_image_tensor, check_input_shape, check_int

#: ResNet50's stages after the stem: (stage number, (F1, F2, F3), number of blocks, first stride).
RESNET50_STAGES = (
    (2, (64, 64, 256), 3, 1),
    (3, (128, 128, 512), 4, 2),
    (4, (256, 256, 1024), 6, 2),
    (5, (512, 512, 2048), 3, 2),
)

#: Blocks per stage of the basic-block ImageNet ResNets (He et al., 2016a, Table 1).
BASIC_RESNET_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}

#: Filters of the three stages of the CIFAR-style depth family.
DEPTH_FAMILY_FILTERS = (16, 32, 64)


def _check_num_classes(num_classes) -> int:
    num_classes = check_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2 for a softmax classifier, received {num_classes}.")
    return num_classes


def _check_stages(stages) -> tuple:
    """Returns `stages` as a tuple of (stage, (F1, F2, F3), blocks, stride), each entry checked."""
    if isinstance(stages, (str, bytes)) or not hasattr(stages, "__iter__"):
        raise TypeError(f"`stages` must be a list of (stage, filters, blocks, stride), received {stages!r}.")
    checked = []
    for entry in stages:
        if isinstance(entry, (str, bytes)) or not hasattr(entry, "__len__") or len(entry) != 4:
            raise ValueError(f"each entry of `stages` must be (stage, (F1, F2, F3), blocks, stride), received {entry!r}.")
        stage, filters, blocks, stride = entry
        checked.append((check_int("stage", stage, minimum=1), check_filters("filters", filters, 3),
                        check_int("blocks", blocks, minimum=1), check_int("stride", stride, minimum=1)))
    if not checked:
        raise ValueError("`stages` is empty: ResNet50 needs at least one stage after the stem.")
    return tuple(checked)


def imagenet_stem(x, *, use_bias: bool = True, preactivation: bool = False):
    """The stem `conv1` + `pool1` of the ImageNet ResNets: 7x7/2 convolution, batch norm, ReLU, 3x3/2 max pool.

    It reduces the image by 4 in height and width, to 64 channels. The layers are named as in
    `keras.applications.ResNet50`: `conv1_pad`, `conv1_conv`, `conv1_bn`, `conv1_relu`, `pool1_pad`,
    `pool1_pool`; the two options are those of Keras' ResNet builder too.

    Args:
        x: the input images, (batch, height, width, channels).
        use_bias: give the convolution a bias (ResNet50, as in Keras; ResNet-18/34 have none).
        preactivation: leave out the batch norm and ReLU, for pre-activation (v2) blocks, which
            normalise their own input.

    Returns:
        Tensor of shape (batch, ceil(height / 4), ceil(width / 4), 64).
    """
    check_image_tensor("x", x)
    x = layers.ZeroPadding2D(padding=3, name="conv1_pad")(x)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preactivation:
        x = layers.BatchNormalization(epsilon=BOTTLENECK_BN_EPSILON, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def resnet50(input_shape=(64, 64, 3), num_classes: int = 6, weights=None, name: str = "resnet50", *,
             stages=RESNET50_STAGES):
    """ResNet50 (He et al., 2016, v1), built stage by stage from the blocks of `resnet_lib.blocks`.

    The model is architecturally identical to `keras.applications.ResNet50(weights=None,
    input_shape=input_shape, classes=num_classes)`, layer for layer and name for name:
    23,600,006 parameters at the default, 25,636,712 at (224, 224, 3) with 1000 classes.

    Layout (shapes for a 64x64 input):

    * stem `conv1` + `pool1` (`imagenet_stem`): 7x7/2 convolution, batch norm, ReLU, 3x3/2 max pool
      -> (16, 16, 64)
    * `conv2`: convolutional block (stride 1) + 2 identity blocks -> (16, 16, 256)
    * `conv3`: convolutional block (stride 2) + 3 identity blocks -> (8, 8, 512)
    * `conv4`: convolutional block (stride 2) + 5 identity blocks -> (4, 4, 1024)
    * `conv5`: convolutional block (stride 2) + 2 identity blocks -> (2, 2, 2048)
    * global average pool -> (2048,), dense softmax -> (num_classes,)

    Args:
        input_shape: (height, width, channels), height and width at least 32.
        num_classes: number of classes of the softmax head, at least 2.
        weights: `None` (random initialisation), `"imagenet"` (download the Keras ImageNet weights
            and transfer them; needs internet, or the file already in Keras' cache), or the path
            to a weights file of `keras.applications.ResNet50` (see `load_pretrained_resnet50`).
            With 1000 classes the classifier is transferred too; otherwise it stays random.
        name: the model's name.
        stages: the stages after the stem, as (stage number, (F1, F2, F3), number of blocks, stride
            of the first block); `RESNET50_STAGES` by default. Another list builds a variant with
            the same stem and head, e.g. other strides (chapter 5 builds a blog walkthrough's
            network, whose stage 2 has stride 2, this way).

    Returns:
        A `keras.Model` mapping (batch, *input_shape) images to (batch, num_classes) probabilities.
    """
    input_shape = check_input_shape("input_shape", input_shape, min_size=32)
    num_classes = _check_num_classes(num_classes)
    stages = _check_stages(stages)

    inputs = keras.Input(shape=input_shape, name="input_layer")
    x = imagenet_stem(inputs)

    for stage, filters, blocks, stride in stages:
        x = convolutional_block(x, filters, stride=stride, stage=stage, block=1)
        for block in range(2, blocks + 1):
            x = identity_block(x, filters, stage=stage, block=block)

    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs, name=name)

    if weights is not None:
        from resnet_lib.weights import load_pretrained_resnet50, transfer_weights

        source = load_pretrained_resnet50(weights, input_shape=input_shape, include_top=num_classes == 1000)
        transfer_weights(source, model, skip=() if num_classes == 1000 else ("predictions",))
    return model


def resnet18(input_shape=(224, 224, 3), num_classes: int = 1000, *, preactivation: bool = False,
             name: str | None = None):
    """ResNet-18 (He et al., 2016a), optionally with pre-activation blocks (2016b).

    The stem of ResNet50 (`imagenet_stem`, its convolution without a bias), then four stages of
    two `imagenet_basic_block`s each, with 64, 128, 256 and 512 filters, global average pooling and
    a softmax layer. The pre-activation network puts a final batch norm and ReLU before the
    pooling. At 224x224 with 1000 classes it has 11,689,512 trainable parameters, as the paper's
    reference implementations.

    Args:
        input_shape: (height, width, channels), height and width at least 32.
        num_classes: number of classes, at least 2.
        preactivation: use the pre-activation (v2) blocks.
        name: the model's name; defaults to `resnet18`, or `preact_resnet18` with `preactivation`.

    Returns:
        A `keras.Model` mapping (batch, *input_shape) images to (batch, num_classes) probabilities.
    """
    return _basic_resnet(18, input_shape, num_classes, preactivation=preactivation, name=name)


def resnet34(input_shape=(224, 224, 3), num_classes: int = 1000, *, preactivation: bool = False,
             name: str | None = None):
    """ResNet-34 (He et al., 2016a), optionally with pre-activation blocks (2016b).

    As `resnet18`, with 3, 4, 6 and 3 basic blocks in the four stages (the stages of ResNet50, with
    basic instead of bottleneck blocks): 21,797,672 trainable parameters at 224x224 with 1000 classes.

    Args and returns as `resnet18`; the name defaults to `resnet34` or `preact_resnet34`.
    """
    return _basic_resnet(34, input_shape, num_classes, preactivation=preactivation, name=name)


def _basic_resnet(depth: int, input_shape, num_classes, *, preactivation, name):
    """ResNet-18 or ResNet-34: `imagenet_stem`, four stages of `imagenet_basic_block`s, the head."""
    if not isinstance(preactivation, bool):
        raise TypeError(f"`preactivation` must be True or False, received {preactivation!r}.")
    input_shape = check_input_shape("input_shape", input_shape, min_size=32)
    num_classes = _check_num_classes(num_classes)

    inputs = keras.Input(shape=input_shape, name="input_layer")
    x = imagenet_stem(inputs, use_bias=False, preactivation=preactivation)

    for stage, (blocks, filters) in enumerate(zip(BASIC_RESNET_BLOCKS[depth], (64, 128, 256, 512)), start=2):
        for block in range(1, blocks + 1):
            stride = 2 if stage > 2 and block == 1 else 1
            x = imagenet_basic_block(x, filters, stride, stage=stage, block=block, preactivation=preactivation)
    if preactivation:
        x = layers.BatchNormalization(epsilon=BOTTLENECK_BN_EPSILON, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)

    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    default_name = f"{'preact_' if preactivation else ''}resnet{depth}"
    return keras.Model(inputs, outputs, name=name or default_name)


@contextlib.contextmanager
def _recursion_limit_at_least(frames: int):
    """Lets the code inside recurse `frames` levels deeper than the caller's stack, then restores the limit.

    `keras.Model(inputs, outputs)` walks the layer graph recursively
    (`keras.src.ops.function._build_map_helper`), one Python frame per layer on the path it
    follows back from the output: about 2 per residual block (through the shortcuts) and 6 per
    plain block. Python's default limit of 1,000 frames therefore stops residual networks a little
    deeper than 980 layers and plain ones deeper than 326. Since Python 3.11 these nested Python
    calls use no C stack, so a higher limit for the duration of the build is safe.
    """
    frame, stack_depth = sys._getframe(), 0
    while frame is not None:
        stack_depth, frame = stack_depth + 1, frame.f_back
    previous = sys.getrecursionlimit()
    needed = stack_depth + frames
    if needed > previous:
        sys.setrecursionlimit(needed)
    try:
        yield
    finally:
        if needed > previous:
            sys.setrecursionlimit(previous)


def valid_depths(maximum: int = 110) -> list[int]:
    """The depths 6n + 2 (n >= 1) of the CIFAR-style family, up to `maximum`."""
    return list(range(8, maximum + 1, 6))


def build_network(
    depth: int,
    residual: bool = True,
    input_shape=(32, 32, 3),
    num_classes: int = 10,
    *,
    batch_norm: bool = True,
    batch_norm_momentum: float = 0.9,
    zero_init_residual: bool = False,
    weight_decay: float = 0.0,
    name: str | None = None,
):
    """A CIFAR-style network of He et al. (2016, section 4.2) with `depth` = 6n + 2 weighted layers.

    A 3x3 convolution with 16 filters, then three stages of n basic blocks (two 3x3 convolutions
    each) with 16, 32 and 64 filters (the first block of stages 2 and 3 halves the feature map),
    global average pooling and a softmax layer. With `residual=False` the blocks have no shortcut.
    The shortcuts have no parameters, so plain and residual networks of the same depth have exactly
    the same number of parameters (about 0.27 M at depth 20, 0.85 M at depth 56).

    There is no depth limit. Keras walks the layers recursively when it assembles the model, deeper
    than Python's default recursion limit of 1,000 allows beyond depth 980 (residual) or 326
    (plain), so `build_network` raises the limit for that step and restores it. Building takes
    time in proportion to the depth: the 1202-layer network of He et al. (19.5 M parameters,
    4,208 Keras layers) builds in about 20-25 s on 2 CPU cores, but its first training step takes
    well over 10 minutes on a CPU: train it on a GPU. To load or clone a network deeper than those limits with Keras
    (`keras.saving.load_model`, `keras.models.clone_model`), raise the limit yourself first:
    `sys.setrecursionlimit(4 * depth + 1000)`.

    Args:
        depth: number of weighted layers, 6n + 2 with n >= 1: 8, 14, 20, 26, 32, ..., 56, ..., 1202
        residual: True for a ResNet, False for the plain network of the same depth.
        input_shape: (height, width, channels), height and width at least 8.
        num_classes: number of classes, at least 2.
        batch_norm: whether every convolution is followed by batch norm.
        batch_norm_momentum: momentum of the batch-norm moving statistics.
        zero_init_residual: start the last batch norm of every residual branch at gamma = 0, so
            each block starts as the identity (needs `residual=True` and `batch_norm=True`).
        weight_decay: L2 penalty on the convolution and dense kernels (0 disables it).
        name: the model's name; defaults to `resnet{depth}` or `plain{depth}`.

    Returns:
        A `keras.Model` mapping (batch, *input_shape) images to (batch, num_classes) probabilities.
    """
    depth = check_int("depth", depth)
    if depth < 8 or (depth - 2) % 6:
        nearby = ", ".join(str(d) for d in valid_depths(max(110, depth + 12)) if abs(d - depth) <= 30) or "8, 14, 20"
        raise ValueError(
            f"`depth` must be 6n + 2 with n >= 1 (valid depths: 8, 14, 20, 26, 32, 38, 44, 50, 56, ...; "
            f"near yours: {nearby}), received {depth}."
        )
    if not isinstance(residual, bool):
        raise TypeError(f"`residual` must be True or False, received {residual!r}.")
    input_shape = check_input_shape("input_shape", input_shape, min_size=8)
    num_classes = _check_num_classes(num_classes)
    if zero_init_residual and not residual:
        raise ValueError(
            "`zero_init_residual=True` only applies to residual networks (`residual=True`): without a "
            "shortcut, a zero-initialised batch norm would cut the signal."
        )
    if weight_decay < 0:
        raise ValueError(f"`weight_decay` must be >= 0, received {weight_decay!r}.")

    blocks_per_stage = (depth - 2) // 6
    regularizer = keras.regularizers.L2(weight_decay) if weight_decay else None
    block_options = dict(batch_norm=batch_norm, batch_norm_momentum=batch_norm_momentum, kernel_regularizer=regularizer)
    if residual:
        block_options["zero_init_residual"] = zero_init_residual
    block_fn = cifar_basic_block if residual else cifar_plain_block

    inputs = keras.Input(shape=input_shape, name="input_layer")
    x = layers.Conv2D(
        DEPTH_FAMILY_FILTERS[0], 3, padding="same", use_bias=not batch_norm, kernel_initializer="he_normal",
        kernel_regularizer=regularizer, name="stem_conv",
    )(inputs)
    if batch_norm:
        x = layers.BatchNormalization(momentum=batch_norm_momentum, name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)

    for stage, filters in enumerate(DEPTH_FAMILY_FILTERS, start=1):
        for block in range(1, blocks_per_stage + 1):
            stride = 2 if stage > 1 and block == 1 else 1
            x = block_fn(x, filters, stride, stage=stage, block=block, **block_options)

    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_regularizer=regularizer, name="predictions")(x)
    # At most 8 layers per block (3n blocks, 3n = (depth - 2) / 2) and a few more around them.
    with _recursion_limit_at_least(4 * depth + 100):
        return keras.Model(inputs, outputs, name=name or f"{'resnet' if residual else 'plain'}{depth}")
