"""resnet_lib.checks: the reference solutions pass; every listed mistake fails with a message naming it.

Each wrong implementation below is the reference block with one deliberate mistake, written the
way a learner would write it (keras.layers, the exercise's signature).
"""

import keras
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

    # The structure is right; only the two parameter-free names are missing, and the message says so.
    with pytest.raises(AssertionError, match=r"layer names differ.*Missing: \['conv3_block2_add', 'conv3_block2_out'\]"):
        checks.check_identity_block(with_ops)


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


# --- ResNet50 ---------------------------------------------------------------------------------

def resnet50_with(mistake=None):
    import resnet_lib

    def my_resnet50(input_shape, num_classes):
        inputs = keras.Input(shape=input_shape, name="input_layer")
        x = layers.ZeroPadding2D(padding=3, name="conv1_pad")(inputs)
        x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
        x = layers.BatchNormalization(epsilon=EPS, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
        x = layers.ZeroPadding2D(padding=1, name="pool1_pad")(x)
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
                    x = resnet_lib.identity_block(x, filters, stage=stage, block=block)
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        activation = "linear" if mistake == "no softmax" else "softmax"
        classes = 6 if mistake == "hard-coded classes" else num_classes
        outputs = layers.Dense(classes, activation=activation, name="predictions")(x)
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
])
def test_resnet50_mistakes_are_named(mistake, expected):
    with pytest.raises(AssertionError) as failure:
        checks.check_resnet50(resnet50_with(mistake))
    assert expected in str(failure.value)


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
    def my_compile_model(model, learning_rate, steps):
        schedule = (learning_rate if mistake == "constant learning rate"
                    else keras.optimizers.schedules.CosineDecay(learning_rate, steps))
        loss = {"from logits": keras.losses.CategoricalCrossentropy(from_logits=True),
                "sparse loss": "sparse_categorical_crossentropy", "mse": "mean_squared_error"}.get(
                    mistake, "categorical_crossentropy")
        metrics = [] if mistake == "no accuracy" else ["accuracy"]
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=metrics)
    return my_compile_model


def test_reference_training_setup_passes(capsys):
    checks.check_training_setup(prepare_with(None), compile_with(None))
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
    """The sample messages on the teachers' page are what the checks print today."""
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
    assert set(samples) == produced
