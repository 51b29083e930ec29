"""resnet_lib.checks: the reference solutions pass; every listed mistake fails with a message naming it.

Each wrong implementation below is the reference block with one deliberate mistake, written the
way a learner would write it (keras.layers, the exercise's signature).
"""

import keras
import numpy as np
import pytest
from keras import layers

from resnet_lib import checks

EPS = 1.001e-5


def bottleneck(x, filters, kernel_size, stride, prefix, *, mistake=None, projection=False):
    """The bottleneck block with at most one `mistake` (a string naming it)."""
    filters1, filters2, filters3 = filters
    if mistake == "filters order":
        filters1, filters2, filters3 = filters3, filters2, filters1
    if mistake == "filters 1 and 2 swapped":
        filters1, filters2 = filters2, filters1
    block_input = x
    shortcut = x
    if projection and mistake != "identity shortcut":
        shortcut_stride = 1 if mistake == "no stride on shortcut" else stride
        shortcut = layers.Conv2D(filters3, 1, strides=shortcut_stride, name=f"{prefix}_0_conv")(x)
        if mistake != "no bn on shortcut":
            shortcut = layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_0_bn")(shortcut)

    first_stride = 1 if mistake == "stride on 3x3" else stride
    fused = "relu" if mistake == "relu built into the convolution" else None
    x = layers.Conv2D(filters1, 1, strides=first_stride, activation=fused, name=f"{prefix}_1_conv")(x)
    if fused:
        x = layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_1_bn")(x)
    elif mistake == "relu before bn":
        x = layers.Activation("relu", name=f"{prefix}_1_relu")(x)
        x = layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_1_bn")(x)
    else:
        x = layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_1_bn")(x)
        x = layers.Activation("relu", name=f"{prefix}_1_relu")(x)
    if mistake == "shortcut from inside the branch":
        shortcut = x

    kernel = 3 if mistake == "hard-coded 3" else (1 if mistake == "1x1 middle" else kernel_size)
    padding = "valid" if mistake == "valid padding" else "same"
    middle_stride = stride if mistake == "stride on 3x3" else 1
    x = layers.Conv2D(filters2, kernel, strides=middle_stride, padding=padding, name=f"{prefix}_2_conv")(x)
    if mistake != "no bn on main path":
        x = layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_2_bn")(x)
    x = layers.Activation("relu", name=f"{prefix}_2_relu")(x)

    if mistake == "last convolution never applied":
        x = layers.Conv2D(filters3, 1, name=f"{prefix}_3_conv")
        return layers.Activation("relu", name=f"{prefix}_out")(x + shortcut)
    x = layers.Conv2D(filters3, 1, name=f"{prefix}_3_conv")(x)
    x = layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_3_bn")(x)
    if mistake in ("relu before add", "shortcut added after the activation"):
        x = layers.Activation("relu", name=f"{prefix}_out")(x)
        return layers.Add(name=f"{prefix}_add")([shortcut, x])
    if mistake == "shortcut not used":
        return layers.Activation("relu", name=f"{prefix}_out")(x)
    if mistake == "branch added to itself":
        x = layers.Add(name=f"{prefix}_add")([x, x])
    elif mistake == "add with two arguments":
        x = layers.Add(name=f"{prefix}_add")(shortcut, x)
    elif mistake == "unnamed add":
        x = layers.Add()([shortcut, x])
    else:
        x = layers.Add(name=f"{prefix}_add")([shortcut, x])
    if mistake == "no final relu":
        return x
    if mistake == "no return":
        layers.Activation("relu", name=f"{prefix}_out")(x)
        return None
    del block_input
    return layers.Activation("relu", name=f"{prefix}_out")(x)


def identity_with(mistake=None):
    def my_identity_block(x, filters, kernel_size, stage, block):
        return bottleneck(x, filters, kernel_size, 1, f"conv{stage}_block{block}", mistake=mistake)
    return my_identity_block


def convolutional_with(mistake=None):
    def my_convolutional_block(x, filters, kernel_size, stride, stage, block):
        return bottleneck(x, filters, kernel_size, stride, f"conv{stage}_block{block}", mistake=mistake, projection=True)
    return my_convolutional_block


def test_reference_identity_block_passes(capsys):
    checks.check_identity_block(identity_with(None))
    assert "Well done" in capsys.readouterr().out


def test_reference_convolutional_block_passes(capsys):
    checks.check_convolutional_block(convolutional_with(None))
    assert "Well done" in capsys.readouterr().out


IDENTITY_MISTAKES = {
    "no final relu": "final ReLU is missing",
    "relu before add": "ReLU is applied before the addition",
    "shortcut added after the activation": "ReLU is applied before the addition",
    "shortcut from inside the branch": "shortcut does not start at the block's input: it starts from `conv3_block2_1_relu`",
    "shortcut not used": "the shortcut is not used: there is no addition",
    "branch added to itself": "the shortcut is not used",
    "no bn on main path": "batch norm missing on the main path (the branch F): `conv3_block2_2_conv`",
    "relu before bn": "after `conv3_block2_1_conv` (Conv2D, 8 filters, 1x1, stride 1, padding \"valid\") on the main path "
                      "(the branch F) the ReLU comes before the batch norm",
    "relu built into the convolution": "`conv3_block2_1_conv` (Conv2D, 8 filters, 1x1, stride 1, padding \"valid\") on "
                                       "the main path (the branch F) has activation=\"relu\" built in",
    "filters order": "filters are used in the wrong order",
    "filters 1 and 2 swapped": "the first 1x1 convolution `conv3_block2_1_conv` (Conv2D, 12 filters",
    "hard-coded 3": "has a 3x3 kernel, expected 5x5 (kernel_size)",
    "1x1 middle": "the middle convolution `conv3_block2_2_conv` (Conv2D, 12 filters, 1x1",
    "valid padding": "has padding=\"valid\": it must be padding=\"same\"",
    "no return": "returned None",
    "add with two arguments": "`layers.Add` takes one argument, a list: `layers.Add(...)([shortcut, x])`",
    "unnamed add": "your Add `add` (applied to `block_input` and `conv3_block2_3_bn`) must be named "
                   "`conv3_block2_add`, as in resnet_lib.identity_block.",
    "last convolution never applied": "the layer `conv3_block2_3_conv` is created but never applied: it is passed "
                                      "to `add` (Add) as a layer object instead of a tensor",
}




CONVOLUTIONAL_MISTAKES = {
    "stride on 3x3": "the stride is on the wrong convolution: the first 1x1 convolution `conv4_block1_1_conv`",
    "no stride on shortcut": "the stride is on the wrong convolution: the projection `conv4_block1_0_conv`",
    "no bn on shortcut": "batch norm missing on the projection shortcut: `conv4_block1_0_conv`",
    "no bn on main path": "batch norm missing on the main path",
    "identity shortcut": "the shortcut is the identity, but this block changes the shape",
    "relu before add": "ReLU is applied before the addition",
    "no final relu": "final ReLU is missing",
    "shortcut not used": "the shortcut is not used",
    "filters order": "has 24 filters, expected 8 (filters1). The filters are (filters1, filters2, filters3)",
    "valid padding": "padding=\"same\"",
    "hard-coded 3": "expected 5x5 (kernel_size)",
}


BLOCK_CASES = [("identity", mistake, expected) for mistake, expected in IDENTITY_MISTAKES.items()] + [
    ("convolutional", mistake, expected) for mistake, expected in CONVOLUTIONAL_MISTAKES.items()]


@pytest.mark.parametrize("block, mistake, expected", BLOCK_CASES, ids=[f"{b}: {m}" for b, m, _ in BLOCK_CASES])
def test_block_mistakes_are_named(block, mistake, expected):
    check, build = {"identity": (checks.check_identity_block, identity_with),
                    "convolutional": (checks.check_convolutional_block, convolutional_with)}[block]
    with pytest.raises(AssertionError) as failure:
        check(build(mistake))
    assert expected in str(failure.value)


def test_shared_layer_and_epsilon_are_named():
    def shared(x, filters, kernel_size, stage, block):
        prefix = f"conv{stage}_block{block}"
        norm = layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_bn")
        shortcut = x
        x = layers.Activation("relu")(norm(layers.Conv2D(filters[0], 1)(x)))
        x = layers.Activation("relu")(norm(layers.Conv2D(filters[1], kernel_size, padding="same")(x)))
        x = layers.BatchNormalization(epsilon=EPS)(layers.Conv2D(filters[2], 1)(x))
        return layers.Activation("relu")(layers.Add()([shortcut, x]))

    with pytest.raises(AssertionError, match="is used 2 times"):
        checks.check_identity_block(shared)

    def default_epsilon(x, filters, kernel_size, stage, block):
        prefix = f"conv{stage}_block{block}"
        shortcut = x
        for index, (count, size) in enumerate(zip(filters, (1, kernel_size, 1)), start=1):
            x = layers.Conv2D(count, size, padding="same", name=f"{prefix}_{index}_conv")(x)
            x = layers.BatchNormalization(name=f"{prefix}_{index}_bn")(x)
            if index < 3:
                x = layers.Activation("relu", name=f"{prefix}_{index}_relu")(x)
        x = layers.Add(name=f"{prefix}_add")([shortcut, x])
        return layers.Activation("relu", name=f"{prefix}_out")(x)

    with pytest.raises(AssertionError, match="epsilon=0.001; ResNet50 uses epsilon=1.001e-5"):
        checks.check_identity_block(default_epsilon)


def test_keras_ops_and_relu_layers_are_accepted(capsys):
    """Structure, not spelling: `+`, keras.ops.relu and layers.ReLU are the same block."""
    def spelled_differently(x, filters, kernel_size, stage, block):
        prefix = f"conv{stage}_block{block}"
        shortcut = x
        x = layers.ReLU(name=f"{prefix}_1_relu")(layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_1_bn")(
            layers.Conv2D(filters[0], 1, name=f"{prefix}_1_conv")(x)))
        x = layers.ReLU(name=f"{prefix}_2_relu")(layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_2_bn")(
            layers.Conv2D(filters[1], kernel_size, padding="same", name=f"{prefix}_2_conv")(x)))
        x = layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_3_bn")(layers.Conv2D(filters[2], 1, name=f"{prefix}_3_conv")(x))
        x = layers.Add(name=f"{prefix}_add")([x, shortcut])  # operands in the other order
        return layers.Activation("relu", name=f"{prefix}_out")(x)

    checks.check_identity_block(spelled_differently)
    assert "Well done" in capsys.readouterr().out

    def with_ops(x, filters, kernel_size, stage, block):
        prefix = f"conv{stage}_block{block}"
        shortcut = x
        x = layers.Activation("relu", name=f"{prefix}_1_relu")(layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_1_bn")(
            layers.Conv2D(filters[0], 1, name=f"{prefix}_1_conv")(x)))
        x = layers.Activation("relu", name=f"{prefix}_2_relu")(layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_2_bn")(
            layers.Conv2D(filters[1], kernel_size, padding="same", name=f"{prefix}_2_conv")(x)))
        x = layers.BatchNormalization(epsilon=EPS, name=f"{prefix}_3_bn")(layers.Conv2D(filters[2], 1, name=f"{prefix}_3_conv")(x))
        return keras.ops.relu(x + shortcut)

    # keras.ops operations cannot be named: they are paired with the library's layers by position.
    checks.check_identity_block(with_ops)
    assert "Well done" in capsys.readouterr().out


@pytest.mark.parametrize("stub", ["not implemented", "returns layer", "returns nothing", "not a function"])
def test_half_written_solutions_get_a_message_not_a_traceback(stub):
    def not_implemented(x, filters, kernel_size, stage, block):
        raise NotImplementedError("write the identity block: shortcut = x, then 1x1 -> 3x3 -> 1x1")

    def returns_layer(x, filters, kernel_size, stage, block):
        return layers.Activation("relu")

    def returns_nothing(x, filters, kernel_size, stage, block):
        pass

    function = {"not implemented": not_implemented, "returns layer": returns_layer,
                "returns nothing": returns_nothing, "not a function": None}[stub]
    expected = {"not implemented": "not_implemented is not written yet: write the identity block",
                "returns layer": "returned a layer (Activation), not a tensor",
                "returns nothing": "returned None", "not a function": "expected your function"}[stub]
    with pytest.raises(AssertionError) as failure:
        checks.check_identity_block(function)
    assert expected in str(failure.value)
    assert failure.value.__suppress_context__ or failure.value.__context__ is None


# --- correct blocks in other styles ----------------------------------------------------------
# Operand order, creation order, `+`, keras.ops, layers.add, layers.ReLU, padding="same" on 1x1
# convolutions and keyword arguments are not mistakes.

def course_style_convolutional_block(X, filters, kernel_size, stride, stage, block):
    """The deeplearning.ai course's style: X, X_shortcut, the shortcut after the branch, Add()([X, X_shortcut])."""
    F1, F2, F3 = filters
    name_base = "conv" + str(stage) + "_block" + str(block) + "_"
    X_shortcut = X
    X = layers.Conv2D(F1, (1, 1), strides=(stride, stride), padding="valid", name=name_base + "1_conv")(X)
    X = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name_base + "1_bn")(X)
    X = layers.Activation("relu", name=name_base + "1_relu")(X)
    X = layers.Conv2D(F2, (kernel_size, kernel_size), strides=(1, 1), padding="same", name=name_base + "2_conv")(X)
    X = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name_base + "2_bn")(X)
    X = layers.Activation("relu", name=name_base + "2_relu")(X)
    X = layers.Conv2D(F3, (1, 1), strides=(1, 1), padding="valid", name=name_base + "3_conv")(X)
    X = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name_base + "3_bn")(X)
    X_shortcut = layers.Conv2D(F3, (1, 1), strides=(stride, stride), name=name_base + "0_conv")(X_shortcut)
    X_shortcut = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name_base + "0_bn")(X_shortcut)
    X = layers.Add(name=name_base + "add")([X, X_shortcut])
    X = layers.Activation("relu", name=name_base + "out")(X)
    return X


def course_style_identity_block(X, filters, kernel_size, stage, block):
    """Keyword arguments, padding="same" on the 1x1 convolutions, layers.ReLU, Activation(keras.activations.relu)
    and the functional helper layers.add."""
    F1, F2, F3 = filters
    name_base = "conv" + str(stage) + "_block" + str(block) + "_"
    X_shortcut = X
    X = layers.Conv2D(filters=F1, kernel_size=(1, 1), strides=(1, 1), padding="same", name=name_base + "1_conv")(X)
    X = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name_base + "1_bn")(X)
    X = layers.ReLU(name=name_base + "1_relu")(X)
    X = layers.Conv2D(filters=F2, kernel_size=kernel_size, padding="same", name=name_base + "2_conv")(X)
    X = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name_base + "2_bn")(X)
    X = layers.Activation(keras.activations.relu, name=name_base + "2_relu")(X)
    X = layers.Conv2D(filters=F3, kernel_size=1, padding="same", name=name_base + "3_conv")(X)
    X = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name_base + "3_bn")(X)
    X = layers.add([X, X_shortcut], name=name_base + "add")
    return layers.ReLU(name=name_base + "out")(X)


def ops_identity_block(x, filters, kernel_size, stage, block):
    """keras.ops.relu inside the branch and `branch + x` (keras.ops operations cannot be named)."""
    f1, f2, f3 = filters
    p = f"conv{stage}_block{block}"
    y = layers.Conv2D(f1, 1, name=f"{p}_1_conv")(x)
    y = keras.ops.relu(layers.BatchNormalization(epsilon=EPS, name=f"{p}_1_bn")(y))
    y = layers.Conv2D(f2, kernel_size, padding="same", name=f"{p}_2_conv")(y)
    y = keras.ops.relu(layers.BatchNormalization(epsilon=EPS, name=f"{p}_2_bn")(y))
    y = layers.BatchNormalization(epsilon=EPS, name=f"{p}_3_bn")(layers.Conv2D(f3, 1, name=f"{p}_3_conv")(y))
    return layers.Activation("relu", name=f"{p}_out")(y + x)


def ops_convolutional_block(x, filters, kernel_size, stride, stage, block):
    """The shortcut after the branch, keras.ops.add and keras.ops.relu at the end."""
    f1, f2, f3 = filters
    p = f"conv{stage}_block{block}"
    y = layers.Conv2D(f1, 1, strides=stride, name=f"{p}_1_conv")(x)
    y = layers.Activation("relu", name=f"{p}_1_relu")(layers.BatchNormalization(epsilon=EPS, name=f"{p}_1_bn")(y))
    y = layers.Conv2D(f2, kernel_size, padding="same", name=f"{p}_2_conv")(y)
    y = layers.Activation("relu", name=f"{p}_2_relu")(layers.BatchNormalization(epsilon=EPS, name=f"{p}_2_bn")(y))
    y = layers.BatchNormalization(epsilon=EPS, name=f"{p}_3_bn")(layers.Conv2D(f3, 1, name=f"{p}_3_conv")(y))
    shortcut = layers.Conv2D(f3, 1, strides=stride, name=f"{p}_0_conv")(x)
    shortcut = layers.BatchNormalization(epsilon=EPS, name=f"{p}_0_bn")(shortcut)
    return keras.ops.relu(keras.ops.add(shortcut, y))


@pytest.mark.parametrize("function", [course_style_identity_block, course_style_convolutional_block,
                                      ops_convolutional_block], ids=lambda function: function.__name__)
def test_blocks_in_other_styles_pass(function, capsys):
    """(ops_identity_block is checked by test_the_graph_is_read_from_the_public_config_also_for_keras_ops and,
    through looped_resnet50, by the ResNet50 check; `with_ops` above is the same style.)"""
    check = checks.check_identity_block if "identity" in function.__name__ else checks.check_convolutional_block
    check(function)
    assert capsys.readouterr().out.startswith(f"Well done: {function.__name__} matches")


# --- block mistakes written in learners' own styles -------------------------------------------

def merged_with(merge):
    """The block with another merge layer where the addition belongs, e.g. layers.Concatenate."""
    def my_identity_block(x, filters, kernel_size, stage, block):
        f1, f2, f3 = filters
        p = f"conv{stage}_block{block}"
        shortcut = x
        x = layers.Conv2D(f1, 1, name=f"{p}_1_conv")(x)
        x = layers.Activation("relu", name=f"{p}_1_relu")(layers.BatchNormalization(epsilon=EPS, name=f"{p}_1_bn")(x))
        x = layers.Conv2D(f2, kernel_size, padding="same", name=f"{p}_2_conv")(x)
        x = layers.Activation("relu", name=f"{p}_2_relu")(layers.BatchNormalization(epsilon=EPS, name=f"{p}_2_bn")(x))
        x = layers.BatchNormalization(epsilon=EPS, name=f"{p}_3_bn")(layers.Conv2D(f3, 1, name=f"{p}_3_conv")(x))
        x = getattr(layers, merge)(name=f"{p}_add")([shortcut, x])
        return layers.Activation("relu", name=f"{p}_out")(x)
    return my_identity_block


def normalised_over(axis):
    """The block with BatchNormalization(axis=axis) everywhere."""
    def my_identity_block(x, filters, kernel_size, stage, block):
        f1, f2, f3 = filters
        p = f"conv{stage}_block{block}"
        shortcut = x
        x = layers.Conv2D(f1, 1, name=f"{p}_1_conv")(x)
        x = layers.BatchNormalization(axis=axis, epsilon=EPS, name=f"{p}_1_bn")(x)
        x = layers.Activation("relu", name=f"{p}_1_relu")(x)
        x = layers.Conv2D(f2, kernel_size, padding="same", name=f"{p}_2_conv")(x)
        x = layers.BatchNormalization(axis=axis, epsilon=EPS, name=f"{p}_2_bn")(x)
        x = layers.Activation("relu", name=f"{p}_2_relu")(x)
        x = layers.Conv2D(f3, 1, name=f"{p}_3_conv")(x)
        x = layers.BatchNormalization(axis=axis, epsilon=EPS, name=f"{p}_3_bn")(x)
        x = layers.Add(name=f"{p}_add")([shortcut, x])
        return layers.Activation("relu", name=f"{p}_out")(x)
    return my_identity_block


def identity_block(X, f, filters, stage, block):
    """The course's signature: kernel size f first (the body is irrelevant: the check stops before calling it)."""
    F1, F2, F3 = filters
    return X


def convolutional_block(X, f, filters, stage, block, s=2):
    """The course's (older) signature, stride last with a default."""
    return X


def my_convolutional_block(X, f, filters, s, stage, block):
    """The course's order, with the stride before stage and block."""
    return X


def one_relu_layer(x, filters, kernel_size, stage, block):
    """One Activation("relu") object applied three times."""
    f1, f2, f3 = filters
    p = f"conv{stage}_block{block}"
    relu = layers.Activation("relu")
    shortcut = x
    x = relu(layers.BatchNormalization(epsilon=EPS, name=f"{p}_1_bn")(layers.Conv2D(f1, 1, name=f"{p}_1_conv")(x)))
    x = layers.Conv2D(f2, kernel_size, padding="same", name=f"{p}_2_conv")(x)
    x = relu(layers.BatchNormalization(epsilon=EPS, name=f"{p}_2_bn")(x))
    x = layers.BatchNormalization(epsilon=EPS, name=f"{p}_3_bn")(layers.Conv2D(f3, 1, name=f"{p}_3_conv")(x))
    return relu(layers.Add(name=f"{p}_add")([shortcut, x]))


STYLE_MISTAKES = [
    (merged_with("Concatenate"), "my_identity_block: `conv3_block2_add` is a Concatenate: it stacks the channels of "
     "its inputs side by side (the output has the channels of both) instead of adding them. A residual block adds the "
     "shortcut to the branch, F(x) + shortcut: `x = layers.Add(name=\"conv3_block2_add\")([shortcut, x])`."),
    (merged_with("Multiply"), "`conv3_block2_add` is a Multiply: it multiplies its inputs elementwise"),
    (merged_with("Average"), "`conv3_block2_add` is an Average: it averages its inputs, (F(x) + shortcut) / 2"),
    (normalised_over(1), "my_identity_block: `conv3_block2_1_bn` (BatchNormalization) has axis=1, which is the "
     "image's rows (its height). Batch norm normalises each channel, and the channels are the last axis: leave the "
     "default axis=-1 (or write axis=3)"),
    (normalised_over(2), "`conv3_block2_1_bn` (BatchNormalization) has axis=2, which is the image's columns"),
    (identity_block, "identity_block takes its parameters in the order of the deeplearning.ai course: "
     "identity_block(X, f, filters, stage, block). This book's exercise is identity_block(x, filters, kernel_size, "
     "stage, block), and the check passes the arguments in that order, so your `f` would receive the filter counts"),
    (convolutional_block, "convolutional_block takes its parameters in the order of the deeplearning.ai course: "
     "convolutional_block(X, f, filters, stage, block, s=2). This book's exercise is convolutional_block(x, filters, "
     "kernel_size, stride, stage, block)"),
    (my_convolutional_block, "order of the deeplearning.ai course: my_convolutional_block(X, f, filters, s, stage, "
     "block)"),
    (one_relu_layer, "one_relu_layer: the layer `activation` (Activation) is used 3 times. Every position needs a "
     "layer of its own, with its own name: create a new layer each time, e.g. `layers.Activation(\"relu\", "
     "name=f\"{prefix}_1_relu\")(x)` after each batch norm"),
]


@pytest.mark.parametrize("function, expected", STYLE_MISTAKES,
                         ids=[f"{function.__name__}-{index}" for index, (function, _) in enumerate(STYLE_MISTAKES)])
def test_block_mistakes_in_learners_styles_are_named(function, expected):
    check = checks.check_convolutional_block if "convolutional" in function.__name__ else checks.check_identity_block
    with pytest.raises(AssertionError) as failure:
        check(function)
    assert expected in str(failure.value)


# --- ResNet50 ---------------------------------------------------------------------------------

def resnet50_with(mistake=None):
    import resnet_lib

    def my_resnet50(input_shape, num_classes):
        inputs = keras.Input(shape=input_shape, name="input_layer")
        x = layers.ZeroPadding2D(padding=3, name="conv1_pad")(inputs)
        if mistake == "stem convolution never applied":  # the walkthrough's slip
            x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")
        else:
            x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
        x = layers.BatchNormalization(epsilon=EPS, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
        if mistake != "no pool1_pad":
            x = layers.ZeroPadding2D(padding=1, name="pool1_pad")(x)
        if mistake != "no max pool":
            x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        for stage, filters, blocks, stride in resnet_lib.RESNET50_STAGES:
            if mistake == "stride 2 in stage 2" and stage == 2:
                stride = 2
            if mistake == "5 blocks in stage 4" and stage == 4:
                blocks = 5
            x = resnet_lib.convolutional_block(x, filters, stride=stride, stage=stage, block=1)
            for block in range(2, blocks + 1):
                if mistake == "projection everywhere":
                    x = resnet_lib.convolutional_block(x, filters, stride=1, stage=stage, block=block)
                else:
                    kernel_size = 5 if mistake == "5x5 in conv3_block2" and (stage, block) == (3, 2) else 3
                    x = resnet_lib.identity_block(x, filters, kernel_size, stage=stage, block=block)
        x = layers.GlobalAveragePooling2D(name=None if mistake == "unnamed pooling" else "avg_pool")(x)
        activation = "linear" if mistake == "no softmax" else "softmax"
        classes = 6 if mistake == "hard-coded classes" else num_classes
        outputs = layers.Dense(classes, activation=activation,
                               name=None if mistake == "unnamed classifier" else "predictions")(x)
        return keras.Model(inputs, outputs, name="my_resnet50")

    return my_resnet50


def test_reference_resnet50_passes(capsys):
    checks.check_resnet50(resnet50_with(None))
    assert "23,600,006 parameters" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, expected", [
    ("stride 2 in stage 2", "stage conv2 ends at 8x8x256, expected 16x16x256"),
    ("5 blocks in stage 4", "stage conv4 has blocks [1, 2, 3, 4, 5], expected blocks 1 to 6"),
    ("no softmax", "must have activation=\"softmax\""),
    ("projection everywhere", "blocks [2, 3] of stage conv2 have a projection shortcut"),
    ("hard-coded classes", "use the arguments instead of fixed numbers"),
    ("stem convolution never applied", "my_resnet50: `conv1_conv` (Conv2D) is created but never applied (line "),
    ("no max pool", "my_resnet50: the stem has no `pool1_pool`: after `pool1_pad` comes `layers.MaxPooling2D(3, "
     "strides=2, name=\"pool1_pool\")`. Without it, stage conv2 receives maps of 34x34x64 instead of 16x16x64."),
    ("no pool1_pad", "my_resnet50: the stem has no `pool1_pad`: after `conv1_relu` comes `layers.ZeroPadding2D("
     "padding=1, name=\"pool1_pad\")`. Without it, stage conv2 receives maps of 15x15x64 instead of 16x16x64."),
    ("unnamed pooling", "my_resnet50: your GlobalAveragePooling2D is named `global_average_pooling2d`; name it "
     "`avg_pool`"),
    ("unnamed classifier", "my_resnet50: your Dense is named `dense`; name it `predictions`"),
    ("5x5 in conv3_block2", "my_resnet50: `conv3_block2_2_conv` (Conv2D) has kernel_size=(5, 5); the library's "
     "`conv3_block2_2_conv` has kernel_size=(3, 3)."),
])
def test_resnet50_mistakes_are_named(mistake, expected):
    with pytest.raises(AssertionError) as failure:
        checks.check_resnet50(resnet50_with(mistake))
    assert expected in str(failure.value)


def written_out_resnet50(input_shape, num_classes):
    """Stages written out, an input named "images", Model(inputs=..., outputs=...), the course-style blocks."""
    X_input = keras.Input(shape=input_shape, name="images")
    X = layers.ZeroPadding2D((3, 3), name="conv1_pad")(X_input)
    X = layers.Conv2D(64, (7, 7), strides=(2, 2), name="conv1_conv")(X)
    X = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name="conv1_bn")(X)
    X = layers.Activation("relu", name="conv1_relu")(X)
    X = layers.ZeroPadding2D(padding=(1, 1), name="pool1_pad")(X)
    X = layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool1_pool")(X)
    X = course_style_convolutional_block(X, [64, 64, 256], 3, 1, 2, 1)
    X = course_style_identity_block(X, [64, 64, 256], 3, 2, 2)
    X = course_style_identity_block(X, [64, 64, 256], 3, 2, 3)
    X = course_style_convolutional_block(X, [128, 128, 512], 3, 2, 3, 1)
    X = course_style_identity_block(X, [128, 128, 512], 3, 3, 2)
    X = course_style_identity_block(X, [128, 128, 512], 3, 3, 3)
    X = course_style_identity_block(X, [128, 128, 512], 3, 3, 4)
    X = course_style_convolutional_block(X, [256, 256, 1024], 3, 2, 4, 1)
    for block in range(2, 7):
        X = course_style_identity_block(X, [256, 256, 1024], 3, 4, block)
    X = course_style_convolutional_block(X, [512, 512, 2048], 3, 2, 5, 1)
    X = course_style_identity_block(X, [512, 512, 2048], 3, 5, 2)
    X = course_style_identity_block(X, [512, 512, 2048], 3, 5, 3)
    X = layers.GlobalAveragePooling2D(name="avg_pool")(X)
    X = layers.Dense(num_classes, activation="softmax", name="predictions")(X)
    return keras.Model(inputs=X_input, outputs=X, name="ResNet50")


def looped_resnet50(input_shape, num_classes):
    """A loop over the stages, an unnamed input, layers.ReLU, and blocks built with keras.ops."""
    import resnet_lib

    inputs = keras.Input(input_shape)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=EPS, name="conv1_bn")(x)
    x = layers.ReLU(name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, 2, name="pool1_pool")(x)
    for stage, filters, blocks, stride in resnet_lib.RESNET50_STAGES:
        x = ops_convolutional_block(x, filters, 3, stride, stage, 1)
        for block in range(2, blocks + 1):
            x = ops_identity_block(x, filters, 3, stage, block)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax", name="predictions")(x))


@pytest.mark.slow  # two more ResNet50s checked in full (test_reference_resnet50_passes stays in the quick tier)
@pytest.mark.parametrize("function", [written_out_resnet50, looped_resnet50], ids=lambda function: function.__name__)
def test_resnet50_in_other_styles_passes(function, capsys):
    """The order in which layers are created, an addition's operand order and the input's name do not matter."""
    checks.check_resnet50(function)
    assert capsys.readouterr().out.startswith(f"Well done: {function.__name__} builds ResNet50")


# --- training set-up --------------------------------------------------------------------------

def prepare_with(mistake=None):
    def my_prepare_data(images, labels, num_classes):
        if mistake == "not normalised":
            x = images.astype("float32")
        elif mistake == "batch maximum":
            x = images.astype("float32") / images.max()
        else:
            x = images.astype("float32") / 255.0
        if mistake == "integer labels":
            return x, labels
        if mistake == "classes guessed":
            return x, keras.utils.to_categorical(labels)
        return x, keras.utils.to_categorical(labels, num_classes)
    return my_prepare_data


def compile_with(mistake=None):
    schedules = keras.optimizers.schedules

    def my_compile_model(model, learning_rate, steps):
        schedule = schedules.CosineDecay(learning_rate, steps)
        if mistake == "constant learning rate":
            schedule = learning_rate
        elif mistake == "linear decay":
            schedule = schedules.PolynomialDecay(learning_rate, steps, end_learning_rate=0.0)
        elif mistake == "exponential decay":
            schedule = schedules.ExponentialDecay(learning_rate, decay_steps=steps, decay_rate=0.01)
        elif mistake == "piecewise constant":
            schedule = schedules.PiecewiseConstantDecay([steps // 2], [learning_rate, learning_rate / 10])
        elif mistake == "cosine over twice the steps":
            schedule = schedules.CosineDecay(learning_rate, 2 * steps)
        optimizer = keras.optimizers.Adam(schedule)
        if mistake == "SGD with momentum":
            optimizer = keras.optimizers.SGD(schedule, momentum=0.9)
        elif mistake == "AdamW":
            optimizer = keras.optimizers.AdamW(schedule)
        loss = {"from logits": keras.losses.CategoricalCrossentropy(from_logits=True),
                "sparse loss": "sparse_categorical_crossentropy", "mse": "mean_squared_error"}.get(
                    mistake, "categorical_crossentropy")
        metrics = {"no accuracy": [], "acc": ["acc"], "CategoricalAccuracy": [keras.metrics.CategoricalAccuracy()],
                   "keras.metrics.Accuracy": [keras.metrics.Accuracy()],
                   "sparse accuracy": [keras.metrics.SparseCategoricalAccuracy()]}.get(mistake, ["accuracy"])
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return my_compile_model


def test_reference_training_setup_passes(capsys):
    checks.check_training_setup(prepare_with(None), compile_with(None))
    assert "Well done" in capsys.readouterr().out


@pytest.mark.parametrize("metric", ["acc", "CategoricalAccuracy"])
def test_accuracy_spellings_are_accepted(metric):
    """metrics=["acc"] (which Keras reports as "acc", not "accuracy") and CategoricalAccuracy() are right too.

    Only the compile step is checked here: the training run of check_training_setup does not depend on the metric.
    """
    from resnet_lib.checks.training_setup import check_compile_model

    check_compile_model(compile_with(metric))


def prepare_in_float64(images, labels, num_classes):
    """NumPy's own conventions: float64 pixels (images / 255.0) and one-hot rows of an identity matrix."""
    return images / 255.0, np.eye(num_classes)[labels]


class HandWrittenCosine(keras.optimizers.schedules.LearningRateSchedule):
    """A learner's own cosine decay (Keras' CosineDecay written out)."""

    def __init__(self, rate, steps):
        self.rate, self.steps = rate, steps

    def __call__(self, step):
        step = keras.ops.minimum(keras.ops.cast(step, "float32"), self.steps)
        return self.rate * 0.5 * (1 + keras.ops.cos(np.pi * step / self.steps))

    def get_config(self):
        return {"rate": self.rate, "steps": self.steps}


def compile_with_objects(model, learning_rate, steps):
    """Loss and metric objects, a hand-written schedule, keyword arguments."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=HandWrittenCosine(learning_rate, steps)),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=False),
                  metrics=[keras.metrics.CategoricalAccuracy(name="acc")])
    return model


def compile_with_functions(model, learning_rate, steps):
    """The loss as a function, the metric as its string name, CosineDecay by keyword with alpha spelled out."""
    schedule = keras.optimizers.schedules.CosineDecay(initial_learning_rate=learning_rate, decay_steps=steps, alpha=0.0)
    model.compile(keras.optimizers.Adam(schedule), loss=keras.losses.categorical_crossentropy,
                  metrics=["categorical_accuracy"])


@pytest.mark.parametrize("prepare, compile_model", [(prepare_in_float64, compile_with_objects),
                                                    (prepare_in_float64, compile_with_functions)],
                         ids=["objects", "functions"])
def test_training_setups_in_other_conventions_pass(prepare, compile_model, capsys):
    """The audit of issue 25: float64 pixels, identity-matrix one-hot labels, loss and metric objects or
    functions, a hand-written cosine: all right, all accepted (they were already; kept so)."""
    checks.check_training_setup(prepare, compile_model)
    assert "Well done" in capsys.readouterr().out


@pytest.mark.parametrize("prepare_mistake, compile_mistake, expected", [
    ("not normalised", None, "x is not normalised"),
    ("batch maximum", None, "divided by the largest pixel of these images (200), not by 255"),
    ("integer labels", None, "integer labels. With categorical cross-entropy the labels must be one-hot"),
    ("classes guessed", None, "class 9 does not occur here"),
    (None, "constant learning rate", "the learning rate is a constant"),
    (None, "from logits", "from_logits=True"),
    (None, "sparse loss", "\"sparse_categorical_crossentropy\" expects integer labels"),
    (None, "mse", "Use loss=\"categorical_crossentropy\""),
    (None, "no accuracy", "no accuracy metric"),
    (None, "SGD with momentum", "my_compile_model: the optimizer is SGD (momentum=0.9); the exercise asks for Adam: "
     "`keras.optimizers.Adam(schedule)`"),
    (None, "AdamW", "my_compile_model: the optimizer is AdamW, Adam with decoupled weight decay (weight_decay=0.004)"),
    (None, "linear decay", "my_compile_model: your schedule is PolynomialDecay, not a cosine decay: at step 10 of 40 "
     "the rate is 0.0075, where the cosine decay gives 0.008536 = learning_rate * (1 + cos(pi * 10 / 40)) / 2."),
    (None, "exponential decay", "your schedule is ExponentialDecay, not a cosine decay: at step 10 of 40"),
    (None, "piecewise constant", "your schedule is PiecewiseConstantDecay, not a cosine decay: at step 20 of 40 "
     "the rate is 0.01"),
    (None, "cosine over twice the steps", "your CosineDecay does not go from learning_rate to 0 over `steps` steps"),
    (None, "keras.metrics.Accuracy", "my_compile_model: the metric `accuracy` is keras.metrics.Accuracy, which "
     "counts predictions exactly equal to the labels"),
    (None, "sparse accuracy", "['SparseCategoricalAccuracy']: a sparse accuracy expects integer labels"),
])
def test_training_setup_mistakes_are_named(prepare_mistake, compile_mistake, expected):
    with pytest.raises(AssertionError) as failure:
        checks.check_training_setup(prepare_with(prepare_mistake), compile_with(compile_mistake))
    assert expected in str(failure.value)


def test_checks_leave_no_random_state_dependence():
    """Two runs of a check on the same wrong block give the same message (nothing depends on luck)."""
    messages = []
    for _ in range(2):
        with pytest.raises(AssertionError) as failure:
            checks.check_identity_block(identity_with("no final relu"))
        messages.append(str(failure.value))
    assert messages[0] == messages[1]


def test_the_teachers_page_quotes_real_messages():
    """The sample messages on the teachers' page are what the checks print today (wrapped to the page's
    88 columns: compared word for word)."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "book" / "teachers.md").read_text()
    samples = re.findall(r"```text\n(.*?)\n```", page.split("## Sample messages")[1], re.DOTALL)
    assert len(samples) == 4
    produced = set()
    for mistake in ("relu before add", "shortcut from inside the branch", "no bn on main path"):
        with pytest.raises(AssertionError) as failure:
            checks.check_identity_block(identity_with(mistake))
        produced.add(str(failure.value))
    with pytest.raises(AssertionError) as failure:
        checks.check_convolutional_block(convolutional_with("stride on 3x3"))
    produced.add(str(failure.value))
    def words(text):
        return " ".join(text.split())

    assert {words(sample) for sample in samples} == {words(message) for message in produced}


# --- the checks use Keras' public API only ------------------------------------------------------

def private_attributes(source: str) -> list[str]:
    """Attributes with one leading underscore read in `source` (`x._inbound_nodes`; `__name__` is fine)."""
    import ast

    return sorted({node.attr for node in ast.walk(ast.parse(source))
                   if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")})


def test_the_checks_use_no_private_keras_attributes():
    from pathlib import Path

    # The scan finds what the checks used to read ...
    assert private_attributes("layer._inbound_nodes\nt._keras_history.operation\nmodel.optimizer._learning_rate") == [
        "_inbound_nodes", "_keras_history", "_learning_rate"]
    # ... and no module of the checks reads anything private (their own helpers are imported by name, not
    # read as attributes).
    modules = sorted(Path(checks.__file__).parent.glob("*.py"))
    assert {module.name for module in modules} >= {"__init__.py", "_graph.py", "blocks.py", "resnet50.py",
                                                   "training_setup.py"}
    for module in modules:
        assert private_attributes(module.read_text()) == [], module.name


def test_the_graph_is_read_from_the_public_config_also_for_keras_ops():
    """`x + shortcut` and keras.ops.relu are operations of the graph, with their inputs, on every Keras version."""
    from resnet_lib.checks._graph import Graph

    block_input = keras.Input((None, None, 24), name="block_input")
    model = keras.Model(block_input, ops_identity_block(block_input, (8, 12, 24), 3, stage=3, block=2))
    graph = Graph(model, "ops_identity_block")
    addition = graph.parents_of(graph.output)[0]
    assert type(addition).__name__ == "Add" and not isinstance(addition, layers.Layer)
    assert sorted(o.name for o in graph.parents_of(addition)) == ["block_input", "conv3_block2_3_bn"]
    assert [o.name for o in graph.order][:2] == ["block_input", "conv3_block2_1_conv"]
