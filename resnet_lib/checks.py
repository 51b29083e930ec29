"""Checks for the book's exercises: they name the learner's mistake instead of printing a float.

One function per exercise, called in the cell after it:

* `check_identity_block(my_identity_block)` (chapter 3),
* `check_convolutional_block(my_convolutional_block)` (chapter 4),
* `check_resnet50(my_resnet50)` (chapter 5),
* `check_training_setup(my_prepare_data, my_compile_model)` (chapter 6).

Each check builds the learner's function on inputs it chooses itself (filter counts that all
differ, so that swapped filters show; sizes of unknown height and width, so that a padding or
stride mistake can be seen in the graph before Keras refuses to add two tensors), walks the graph
of layers, and compares it with the reference in `resnet_lib`: the kinds and order of the layers,
kernel sizes, strides, padding, filter counts, where the shortcut starts and where it is added,
parameter counts and layer names. Then it checks behaviour: with the weights of the reference
copied in (after `analysis.randomize_batch_norm`, so a misplaced batch norm cannot hide), both
must compute the same outputs, and with its branch silenced a block must compute what its
shortcut alone gives. Tolerances are relative; no stored floats are compared, so the checks do
not depend on one version of Keras or TensorFlow.

On success a check prints one line. On a mistake it raises `AssertionError` with a message that
says what is wrong and where (which layer, which path). A half-written solution (one that raises
`NotImplementedError`, returns `None` or returns a layer instead of a tensor) gets a message too,
never an unrelated traceback.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from resnet_lib.analysis import randomize_batch_norm
from resnet_lib.blocks import BOTTLENECK_BN_EPSILON, convolutional_block, identity_block
from resnet_lib.models import RESNET50_STAGES, resnet50
from resnet_lib.weights import transfer_weights

__all__ = [
    "check_convolutional_block",
    "check_identity_block",
    "check_resnet50",
    "check_training_setup",
]


# Every failed check raises a plain AssertionError (that is what graders and nbgrader look for).
_Mistake = AssertionError


def _fail(message: str):
    __tracebackhide__ = True  # IPython and pytest leave this frame out of tracebacks
    raise _Mistake(message) from None


# --------------------------------------------------------------------------------------------
# Calling the learner's function safely
# --------------------------------------------------------------------------------------------

_EXCEPTION_HINTS = (
    ("NotImplementedError", "it is not written yet: replace the `raise NotImplementedError(...)` line with your code."),
    ("too many positional arguments", "a layer got two tensors as separate arguments. `layers.Add` takes one "
     "argument, a list: `layers.Add(...)([shortcut, x])`."),
    ("takes 2 positional", "`layers.Add` takes one argument, a list: `layers.Add(...)([shortcut, x])`, not two tensors."),
    ("Inputs have incompatible shapes", "the two tensors you add must have the same shape. Check the strides, the "
     "padding of the middle convolution (`padding=\"same\"`), and that the last convolution has `filters3` filters."),
    ("only be called on", "a layer must be called on a tensor: write `x = layers.Conv2D(...)(x)`, not "
     "`x = layers.Conv2D(...)` (the layer is then never applied to its input)."),
    ("object is not callable", "a layer must be created and then called: `layers.Conv2D(...)(x)`. Check that every "
     "layer has both pairs of parentheses and that initializers are passed as objects or names."),
    ("already exists", "two layers got the same name: each layer needs its own name, e.g. `conv2_block2_1_bn` "
     "and `conv2_block2_2_bn`."),
    ("must be unique", "two layers got the same name: each layer needs its own name."),
)


def _call(function, description: str, *args, **kwargs):
    """Calls the learner's `function`; turns any exception into a message that names the cause."""
    if not callable(function):
        _fail(f"{description}: expected your function, received {type(function).__name__} {function!r}.")
    name = getattr(function, "__name__", "your function")
    try:
        return function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a message
        text = f"{type(error).__name__}: {error}"
        hint = next((hint for key, hint in _EXCEPTION_HINTS if key in text), None)
        where = traceback.extract_tb(error.__traceback__)
        learner_lines = [frame for frame in where if frame.name == name]
        line = f" (line {learner_lines[-1].lineno} of {name})" if learner_lines else ""
        message = f"{description}: calling {name} raised {text.splitlines()[0][:300]}{line}."
        if isinstance(error, NotImplementedError):
            message = f"{name} is not written yet: {error}" if str(error) else (
                f"{name} is not written yet: it still raises NotImplementedError.")
            hint = "Replace the `raise NotImplementedError(...)` line with your code, run that cell, then this one."
        _fail(message + ("\nHint: " + hint if hint else ""))


def _as_output(value, name: str, what: str = "the block's output tensor"):
    if value is None:
        _fail(f"{name} returned None: it must return {what}. Did you forget `return x` at the end?")
    if isinstance(value, keras.layers.Layer):
        _fail(f"{name} returned a layer ({type(value).__name__}), not a tensor: call the layer on its input, "
              f"e.g. `x = layers.Activation(\"relu\")(x)`, and return the result.")
    if isinstance(value, (tuple, list)):
        _fail(f"{name} returned a {type(value).__name__} of {len(value)} items: it must return one tensor, {what}.")
    if not isinstance(value, keras.KerasTensor):
        _fail(f"{name} returned {type(value).__name__}, not a Keras tensor: build the block with Keras layers "
              "applied to `x` and return the last one's output.")
    return value


def _model(inputs, outputs, name: str) -> keras.Model:
    try:
        return keras.Model(inputs, outputs)
    except Exception as error:  # noqa: BLE001
        _fail(f"{name}: the returned tensor is not computed from the input `x` ({type(error).__name__}: "
              f"{str(error).splitlines()[0][:200]}). Build every layer on `x` or on tensors computed from it.")


# --------------------------------------------------------------------------------------------
# The graph of a functional model
# --------------------------------------------------------------------------------------------

def _kind(operation) -> str:
    """'input', 'conv', 'bn', 'relu', 'add' or the class name of anything else."""
    if isinstance(operation, layers.InputLayer):
        return "input"
    if isinstance(operation, layers.Conv2D):
        return "conv"
    if isinstance(operation, layers.BatchNormalization):
        return "bn"
    if isinstance(operation, layers.ReLU):
        return "relu"
    if isinstance(operation, layers.Activation):
        return "relu" if getattr(operation.activation, "__name__", "") == "relu" else f"activation {operation.activation.__name__}"
    if isinstance(operation, layers.Add) or type(operation).__name__ == "Add":
        return "add"
    if type(operation).__name__ == "Relu":
        return "relu"
    return type(operation).__name__


def _describe(operation) -> str:
    kind = _kind(operation)
    if kind == "conv":
        k, s = operation.kernel_size, operation.strides
        return (f"`{operation.name}` (Conv2D, {operation.filters} filters, {k[0]}x{k[1]}, stride {s[0]}, "
                f"padding \"{operation.padding}\")")
    names = {"bn": "batch norm", "relu": "ReLU", "add": "addition", "input": "the block's input"}
    return f"`{operation.name}` ({names.get(kind, kind)})"


class _Graph:
    def __init__(self, model: keras.Model, function_name: str):
        self.model = model
        self.input = model.operations[0] if _kind(model.operations[0]) == "input" else None
        self.parents: dict[int, list] = {}
        for operation in model.operations:
            nodes = [node for node in operation._inbound_nodes if node.operation is operation]
            if len(nodes) > 1 and _kind(operation) != "input":
                _fail(f"{function_name}: the layer `{operation.name}` is used {len(nodes)} times. Every position "
                      "in the block needs a layer of its own: create a new layer each time, e.g. "
                      "`layers.BatchNormalization(...)(x)` once per convolution.")
            self.parents[id(operation)] = [t._keras_history.operation for t in nodes[0].input_tensors] if nodes else []
        self.output = model.outputs[0]._keras_history.operation

    def parents_of(self, operation) -> list:
        return self.parents.get(id(operation), [])

    def chain(self, operation, stop=()) -> tuple[list, object]:
        """Follows single-input layers back from `operation` (included); returns (layers in forward order, start)."""
        path = []
        stop_ids = {id(o) for o in stop}
        while _kind(operation) != "input" and id(operation) not in stop_ids:
            parents = self.parents_of(operation)
            if len(parents) != 1:
                break
            path.append(operation)
            operation = parents[0]
        return path[::-1], operation


def _fused_activation(conv) -> str | None:
    name = getattr(conv.activation, "__name__", "linear")
    return None if name == "linear" else name


@dataclass
class _ConvSpec:
    role: str  # e.g. "the first 1x1 convolution"
    filters: int
    filters_name: str
    kernel: int
    kernel_name: str
    stride: int
    padding: str | None  # None: either ("same" and "valid" agree for 1x1)
    suffix: str  # e.g. "_1_conv"


def _check_path(path, specs, *, where: str, name: str, prefix: str, activation_after: list[bool]):
    """Checks a path of conv -> bn [-> relu] groups against `specs`; messages name the layer."""
    for operation in path:
        kind = _kind(operation)
        if kind not in ("conv", "bn", "relu"):
            _fail(f"{name}: unexpected layer {_describe(operation)} on {where}. The path is made of Conv2D, "
                  "BatchNormalization and ReLU Activation layers only.")
    convs = [operation for operation in path if _kind(operation) == "conv"]
    if len(convs) != len(specs):
        layout = " -> ".join(_describe(o) for o in path) or "nothing"
        expected = ", ".join(spec.role for spec in specs)
        _fail(f"{name}: {where} has {len(convs)} convolution(s), expected {len(specs)} ({expected}). "
              f"It is: {layout}.")
    for operation in convs:
        fused = _fused_activation(operation)
        if fused:
            _fail(f"{name}: {_describe(operation)} on {where} has activation=\"{fused}\" built in, so the "
                  f"{fused} comes before its batch norm. Leave the convolution linear and add "
                  f"`layers.Activation(\"relu\")` after the batch norm.")
    # group the path: each conv, then what follows it up to the next conv
    groups, current = [], None
    for operation in path:
        if _kind(operation) == "conv":
            current = [operation]
            groups.append(current)
        elif current is None:
            _fail(f"{name}: {_describe(operation)} comes before the first convolution on {where}; the path "
                  "starts with a convolution.")
        else:
            current.append(operation)
    for index, (group, spec, relu_expected) in enumerate(zip(groups, specs, activation_after)):
        conv, after = group[0], [_kind(o) for o in group[1:]]
        if not after or after[0] != "bn":
            if "bn" in after:
                _fail(f"{name}: after {_describe(conv)} on {where} the ReLU comes before the batch norm. The "
                      "order is convolution -> batch norm -> ReLU.")
            _fail(f"{name}: batch norm missing on {where}: {_describe(conv)} is not followed by "
                  f"`layers.BatchNormalization(epsilon=1.001e-5, name=\"{prefix}{spec.suffix[:-5]}_bn\")`.")
        bn = group[1]
        if after.count("bn") > 1:
            _fail(f"{name}: {_describe(conv)} on {where} is followed by {after.count('bn')} batch norms; one is enough.")
        relus = after.count("relu")
        last = index == len(specs) - 1
        if relu_expected and relus == 0:
            _fail(f"{name}: ReLU missing after {_describe(bn)} on {where}: add "
                  f"`layers.Activation(\"relu\", name=\"{prefix}{spec.suffix[:-5]}_relu\")`.")
        if not relu_expected and relus:
            if last and where.startswith("the main path"):
                _fail(f"{name}: the ReLU is applied to the branch before the addition ({_describe(group[-1])}). "
                      "The last batch norm of the branch must feed the addition directly and the ReLU comes after "
                      "the addition: ReLU(F(x) + shortcut), not ReLU(F(x)) + shortcut. With a ReLU there, F(x) >= 0 "
                      "and the block could only ever add to its input.")
            _fail(f"{name}: unexpected ReLU {_describe(group[-1])} on {where}; no activation belongs there.")
        if relus > 1:
            _fail(f"{name}: two ReLUs in a row after {_describe(conv)} on {where}.")
        if not np.isclose(bn.epsilon, BOTTLENECK_BN_EPSILON, rtol=1e-3):
            _fail(f"{name}: {_describe(bn)} has epsilon={bn.epsilon:g}; ResNet50 uses epsilon=1.001e-5 "
                  "(`layers.BatchNormalization(epsilon=1.001e-5, ...)`), or the outputs will not match.")
        kernel, stride = tuple(conv.kernel_size), tuple(conv.strides)
        if kernel != (spec.kernel, spec.kernel):
            _fail(f"{name}: {spec.role} {_describe(conv)} on {where} has a {kernel[0]}x{kernel[1]} kernel, expected "
                  f"{spec.kernel}x{spec.kernel} ({spec.kernel_name}).")
        if stride != (spec.stride, spec.stride):
            _fail(f"{name}: the stride is on the wrong convolution: {spec.role} {_describe(conv)} on {where} has "
                  f"stride {stride[0]}, expected {spec.stride}. In ResNet v1 (and keras.applications.ResNet50) the "
                  "stride sits on the first 1x1 convolution of the branch and on the 1x1 projection of the "
                  "shortcut; the other convolutions have stride 1.")
        if spec.padding and conv.padding != spec.padding:
            _fail(f"{name}: {spec.role} {_describe(conv)} has padding=\"{conv.padding}\": it must be "
                  f"padding=\"{spec.padding}\", or it shrinks the feature map and the addition's shapes differ.")
        if conv.filters != spec.filters:
            _fail(f"{name}: {spec.role} {_describe(conv)} on {where} has {conv.filters} filters, expected "
                  f"{spec.filters} ({spec.filters_name}). The filters are (filters1, filters2, filters3) for the "
                  "three convolutions of the branch, in that order.")


def _split_addition(graph: _Graph, name: str):
    """Finds the addition that ends the block; returns (addition, branch operand, shortcut operand)."""
    tail, addition = graph.chain(graph.output)
    additions = [o for o in graph.model.operations if _kind(o) == "add"]
    if not additions:
        _fail(f"{name}: the shortcut is not used: there is no addition in the block, so it computes ReLU(F(x)), a "
              "plain block. Add the shortcut to the branch: `x = layers.Add(name=...)([shortcut, x])`.")
    if _kind(addition) != "add":
        _fail(f"{name}: the block's last addition must come right before the final ReLU; found "
              f"{_describe(addition)} there instead.")
    operands = graph.parents_of(addition)
    if len(operands) != 2:
        _fail(f"{name}: {_describe(addition)} adds {len(operands)} tensors; it must add exactly two, "
              "the shortcut and the branch.")
    if operands[0] is operands[1]:
        _fail(f"{name}: the shortcut is not used: {_describe(addition)} adds the branch to itself "
              f"({_describe(operands[0])} twice). Keep the block's input in `shortcut = x` before the branch "
              "overwrites `x`, and add `[shortcut, x]`.")
    lengths = []
    for operand in operands:
        path, start = graph.chain(operand)
        lengths.append(sum(_kind(o) == "conv" for o in path) if _kind(start) == "input" else -1)
    branch, shortcut = (operands[0], operands[1]) if lengths[0] >= lengths[1] else (operands[1], operands[0])
    tail_kinds = [_kind(o) for o in tail]
    return addition, branch, shortcut, tail, tail_kinds


def _check_tail(tail, tail_kinds, branch_path, name):
    if not tail_kinds:
        if branch_path and _kind(branch_path[-1]) == "relu":
            _fail(f"{name}: the ReLU is applied before the addition: your block computes ReLU(F(x)) + shortcut. "
                  "ResNet adds first and applies the ReLU to the sum: move the ReLU after the addition.")
        _fail(f"{name}: the final ReLU is missing: your block returns the sum F(x) + shortcut. Apply "
              "`layers.Activation(\"relu\", name=f\"{prefix}_out\")` to the sum and return that.")
    if tail_kinds != ["relu"]:
        layout = " -> ".join(_describe(o) for o in tail)
        _fail(f"{name}: after the addition there must be exactly one ReLU, found: {layout}.")


def _check_shortcut_start(graph, shortcut_path, shortcut_start, branch_ops, name):
    if _kind(shortcut_start) != "input":
        inside = any(shortcut_start is o for o in branch_ops)
        where = "inside the branch" if inside else "elsewhere"
        _fail(f"{name}: the shortcut does not start at the block's input: it starts from {_describe(shortcut_start)} "
              f"{where}. Keep the input with `shortcut = x` before the first layer of the branch overwrites `x`.")


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------

def _branch_specs(filters, kernel_size, stride):
    f1, f2, f3 = filters
    return [
        _ConvSpec("the first 1x1 convolution", f1, "filters1", 1, "kernel 1x1", stride, None, "_1_conv"),
        _ConvSpec("the middle convolution", f2, "filters2", kernel_size, "kernel_size", 1, "same", "_2_conv"),
        _ConvSpec("the last 1x1 convolution", f3, "filters3", 1, "kernel 1x1", 1, None, "_3_conv"),
    ]


def _build_block(function, projection: bool, channels, filters, kernel_size, stride, stage, block, spatial=None):
    name = getattr(function, "__name__", "your block")
    block_input = keras.Input((spatial, spatial, channels), name="block_input")
    args = (block_input, filters, kernel_size, stride, stage, block) if projection else (
        block_input, filters, kernel_size, stage, block)
    setting = f"filters={filters}, kernel_size={kernel_size}" + (f", stride={stride}" if projection else "") + \
        f", on a {'?x?' if spatial is None else f'{spatial}x{spatial}'}x{channels} input"
    output = _as_output(_call(function, f"With {setting}", *args), name)
    return _model(block_input, output, name), setting


def _check_block_structure(function, *, projection, channels, filters, kernel_size, stride, stage, block):
    """Builds on a (None, None, channels) input and checks the graph; returns the setting string."""
    name = getattr(function, "__name__", "your block")
    keras.backend.clear_session()
    model, setting = _build_block(function, projection, channels, filters, kernel_size, stride, stage, block)
    graph = _Graph(model, name)
    prefix = f"conv{stage}_block{block}"
    addition, branch, shortcut, tail, tail_kinds = _split_addition(graph, name)
    branch_path, branch_start = graph.chain(branch)
    if _kind(branch_start) != "input":
        _fail(f"{name}: the branch does not start at the block's input (it starts at {_describe(branch_start)}).")
    shortcut_path, shortcut_start = graph.chain(shortcut, stop=branch_path)
    _check_shortcut_start(graph, shortcut_path, shortcut_start, branch_path, name)
    _check_tail(tail, tail_kinds, branch_path, name)
    _check_path(branch_path, _branch_specs(filters, kernel_size, stride), where="the main path (the branch F)",
                name=name, prefix=prefix, activation_after=[True, True, False])
    if projection:
        if not shortcut_path:
            _fail(f"{name}: the shortcut is the identity, but this block changes the shape: it needs a projection, "
                  f"a 1x1 Conv2D with filters3 filters and strides=stride (`{prefix}_0_conv`) followed by batch norm "
                  f"(`{prefix}_0_bn`).")
        spec = _ConvSpec("the projection", filters[2], "filters3", 1, "kernel 1x1", stride, None, "_0_conv")
        _check_path(shortcut_path, [spec], where="the projection shortcut", name=name, prefix=prefix,
                    activation_after=[False])
    elif shortcut_path:
        layout = " -> ".join(_describe(o) for o in shortcut_path)
        _fail(f"{name}: the identity block's shortcut must be the input itself, unchanged; yours goes through {layout}.")
    return setting


def _names(model):
    return {layer.name for layer in model.layers if _kind(layer) != "input"}


def _compare_with_reference(function, reference_function, *, projection, input_shape, filters, kernel_size, stride,
                            stage, block):
    """Same names, shape, parameters; then same outputs with the reference's weights; then the silenced branch."""
    name = getattr(function, "__name__", "your block")
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    height, width, channels = input_shape
    model, setting = _build_block(function, projection, channels, filters, kernel_size, stride, stage, block,
                                  spatial=height)
    reference_input = keras.Input(input_shape, name="reference_input")
    kwargs = {"stride": stride} if projection else {}
    reference = keras.Model(reference_input, reference_function(
        reference_input, filters, kernel_size, stage=stage, block=block, **kwargs))

    if tuple(model.output.shape) != tuple(reference.output.shape):
        _fail(f"{name}: with {setting} your block outputs shape {tuple(model.output.shape)[1:]}, expected "
              f"{tuple(reference.output.shape)[1:]}.")
    missing, unexpected = _names(reference) - _names(model), _names(model) - _names(reference)
    if missing or unexpected:
        _fail(f"{name}: layer names differ from the library's (they must match for weights to be copied by name). "
              f"Missing: {sorted(missing)}. Unexpected: {sorted(unexpected)}. Names are "
              f"f\"conv{{stage}}_block{{block}}_...\", e.g. conv{stage}_block{block}_1_conv.")
    for layer in reference.layers:
        if not layer.weights:
            continue
        ours = model.get_layer(layer.name)
        if [tuple(w.shape) for w in ours.weights] != [tuple(w.shape) for w in layer.weights]:
            detail = "has no bias (use_bias=False)" if _kind(layer) == "conv" and len(ours.weights) < len(layer.weights) else ""
            _fail(f"{name}: `{layer.name}` has weights of shapes {[tuple(w.shape) for w in ours.weights]}, expected "
                  f"{[tuple(w.shape) for w in layer.weights]}{'; it ' + detail if detail else ''}.")
    if model.count_params() != reference.count_params():
        _fail(f"{name}: {model.count_params():,} parameters, expected {reference.count_params():,}.")

    randomize_batch_norm(reference, seed=1)
    transfer_weights(reference, model)
    rng = np.random.default_rng(2)
    images = rng.normal(size=(3, *input_shape)).astype("float32")
    ours = keras.ops.convert_to_numpy(model(images, training=False))
    expected = keras.ops.convert_to_numpy(reference(images, training=False))
    difference = float(np.abs(ours - expected).max())
    if difference > 1e-4 * (1.0 + float(np.abs(expected).max())):
        _fail(f"{name}: with the library's weights copied in, your block computes different numbers (largest "
              f"difference {difference:.3g}). Layer kinds and order match, so look for a setting: batch norm "
              "epsilon=1.001e-5 and its default axis, the activation functions, and that every layer is applied "
              "to the right tensor.")

    # Constructed input: silence the branch (gamma = beta = 0 in its last batch norm); the block must then
    # compute ReLU(shortcut(x)). Negative inputs show whether the ReLU really comes after the addition.
    for candidate in (model, reference):
        last_bn = candidate.get_layer(f"conv{stage}_block{block}_3_bn")
        gamma, beta, mean, variance = last_bn.get_weights()
        last_bn.set_weights([np.zeros_like(gamma), np.zeros_like(beta), mean, variance])
    silenced = keras.ops.convert_to_numpy(model(images, training=False))
    if projection:
        expected_silenced = keras.ops.convert_to_numpy(reference(images, training=False))
        what = "ReLU(BN(W_s x)), the projection alone"
    else:
        expected_silenced = np.maximum(images, 0.0)
        what = "ReLU(x)"
    difference = float(np.abs(silenced - expected_silenced).max())
    if difference > 1e-4 * (1.0 + float(np.abs(expected_silenced).max())):
        _fail(f"{name}: with its branch silenced (gamma = beta = 0 in the last batch norm) the block must compute "
              f"{what}; yours differs by up to {difference:.3g}.")
    return difference


def _check_structure_and_filters(function, *, channels, **setting):
    """The structure check with filters (8, 12, 24); if Keras cannot even build that, it tells filter mistakes apart.

    Keras refuses to add tensors of different shapes, so a block that uses the filter counts in the wrong
    order often cannot be built at all. With all three filter counts equal it can; if its graph is right
    there, the filter counts are what is wrong.
    """
    __tracebackhide__ = True
    name = getattr(function, "__name__", "your block")
    try:
        _check_block_structure(function, channels=channels, filters=(8, 12, 24), **setting)
    except _Mistake as mistake:
        if "raised" not in str(mistake):
            raise
        try:
            _check_block_structure(function, channels=24, filters=(24, 24, 24), **setting)
        except _Mistake as structural:
            raise (mistake if "raised" in str(structural) else structural) from None
        stride = f" and stride {setting['stride']}" if setting["projection"] else ""
        _fail(f"{name}: the filters are used in the wrong order. With filters=(8, 12, 24){stride} on a "
              f"{channels}-channel input, building the block failed ({str(mistake).splitlines()[0]}), while with "
              "(24, 24, 24) it is right. The branch's three convolutions take filters1, filters2 and filters3, in "
              "that order; the last one (and a projection shortcut) has filters3 filters.")


def check_identity_block(function) -> None:
    """Checks the learner's identity block of chapter 3 against `resnet_lib.identity_block`.

    Args:
        function: `my_identity_block(x, filters, kernel_size, stage, block)`, returning the output tensor.

    Raises:
        AssertionError: with a message naming the mistake, e.g. the final ReLU missing or applied before
            the addition, a shortcut taken from inside the branch or not used, batch norm missing, filters
            in the wrong order, the middle convolution's kernel size or padding.
    """
    name = getattr(function, "__name__", "your block")
    common = dict(projection=False, kernel_size=3, stride=1, stage=3, block=2)
    _check_structure_and_filters(function, channels=24, **common)
    _check_block_structure(function, channels=24, filters=(8, 12, 24), **{**common, "kernel_size": 5})
    _compare_with_reference(function, identity_block, projection=False, input_shape=(7, 7, 24), filters=(8, 12, 24),
                            kernel_size=3, stride=1, stage=3, block=2)
    keras.backend.clear_session()
    print(f"Well done: {name} matches resnet_lib.identity_block (layers, shapes, parameters and outputs).")


def check_convolutional_block(function) -> None:
    """Checks the learner's convolutional block of chapter 4 against `resnet_lib.convolutional_block`.

    Args:
        function: `my_convolutional_block(x, filters, kernel_size, stride, stage, block)`.

    Raises:
        AssertionError: with a message naming the mistake, e.g. the stride on the wrong convolution, batch
            norm missing on the main path or on the projection shortcut, an identity shortcut, the final
            ReLU missing or before the addition, filters in the wrong order.
    """
    name = getattr(function, "__name__", "your block")
    for stride in (2, 1):
        _check_structure_and_filters(function, channels=16, projection=True, kernel_size=3, stride=stride, stage=4,
                                     block=1)
    _check_block_structure(function, channels=16, filters=(8, 12, 24), projection=True, kernel_size=5, stride=2,
                           stage=4, block=1)
    for stride, size in ((2, 9), (1, 6)):
        _compare_with_reference(function, convolutional_block, projection=True, input_shape=(size, size, 16),
                                filters=(8, 12, 24), kernel_size=3, stride=stride, stage=4, block=1)
    keras.backend.clear_session()
    print(f"Well done: {name} matches resnet_lib.convolutional_block at strides 1 and 2 "
          "(layers, shapes, parameters and outputs).")


# --------------------------------------------------------------------------------------------
# ResNet50
# --------------------------------------------------------------------------------------------

def _size(tensor) -> str:
    return "x".join(str(d) for d in tuple(tensor.shape)[1:])


def check_resnet50(function) -> None:
    """Checks the learner's `my_resnet50(input_shape, num_classes)` of chapter 5 against `resnet_lib.resnet50`.

    Checks the stem, the number of blocks and the feature-map size of every stage (a stride-2 stage 2
    is caught by name), the head, the parameter count and layer names, and that with the reference's
    weights both predict the same; then that `input_shape` and `num_classes` are really used.

    Raises:
        AssertionError: with a message naming the stage, block or layer that differs.
    """
    name = getattr(function, "__name__", "your model")
    keras.backend.clear_session()
    model = _call(function, "With input_shape=(64, 64, 3), num_classes=6", (64, 64, 3), 6)
    if model is None:
        _fail(f"{name} returned None: it must return the model, `keras.Model(inputs, outputs)`.")
    if not isinstance(model, keras.Model):
        _fail(f"{name} returned {type(model).__name__}: it must return a keras.Model built with "
              "`keras.Model(inputs, outputs)`.")
    reference = resnet50(input_shape=(64, 64, 3), num_classes=6)
    if tuple(model.input.shape)[1:] != (64, 64, 3):
        _fail(f"{name}: the model's input has shape {tuple(model.input.shape)[1:]}, expected (64, 64, 3) = input_shape.")
    ours = {layer.name: layer for layer in model.layers}

    stem = ours.get("conv1_conv")
    if stem is None:
        _fail(f"{name}: no layer named `conv1_conv`: the stem is ZeroPadding2D(3) `conv1_pad`, then a 7x7 Conv2D "
              "with 64 filters and stride 2 `conv1_conv`, batch norm `conv1_bn`, ReLU `conv1_relu`, "
              "ZeroPadding2D(1) `pool1_pad` and a 3x3 MaxPooling2D with stride 2 `pool1_pool`.")
    if (stem.filters, tuple(stem.kernel_size), tuple(stem.strides)) != (64, (7, 7), (2, 2)):
        _fail(f"{name}: the stem's convolution {_describe(stem)} must have 64 filters, a 7x7 kernel and stride 2.")
    for stage, filters, blocks, stride in RESNET50_STAGES:
        present = sorted(int(layer.split("_block")[1].split("_")[0]) for layer in ours
                         if layer.startswith(f"conv{stage}_block") and layer.endswith("_out"))
        if present != list(range(1, blocks + 1)):
            _fail(f"{name}: stage conv{stage} has blocks {present}, expected blocks 1 to {blocks}: one convolutional "
                  f"block (block 1) and {blocks - 1} identity blocks. The stages have 3, 4, 6 and 3 blocks.")
        if f"conv{stage}_block1_0_conv" not in ours:
            _fail(f"{name}: the first block of stage conv{stage} must be a convolutional block (with a projection "
                  f"shortcut `conv{stage}_block1_0_conv`): it changes the number of channels.")
        extra = [b for b in range(2, blocks + 1) if f"conv{stage}_block{b}_0_conv" in ours]
        if extra:
            _fail(f"{name}: blocks {extra} of stage conv{stage} have a projection shortcut; after the first block "
                  "the shape stays the same and the blocks are identity blocks.")
        got = model.get_layer(f"conv{stage}_block{blocks}_out").output
        expected = reference.get_layer(f"conv{stage}_block{blocks}_out").output
        if tuple(got.shape) != tuple(expected.shape):
            first = model.get_layer(f"conv{stage}_block1_out").output
            hint = ""
            if stage == 2 and tuple(first.shape)[1] != 16:
                hint = (" Stage 2's convolutional block must have stride 1: the stem's strided convolution and max "
                        "pool have already reduced the image by 4, and stride 2 here halves every later feature "
                        "map again (a known error of the blog walkthrough).")
            elif stride == 2:
                hint = f" The first block of stage conv{stage} halves the map with stride 2."
            _fail(f"{name}: stage conv{stage} ends at {_size(got)}, expected {_size(expected)} "
                  f"(filters {filters}, first stride {stride}).{hint}")
    for layer_name, kind in (("avg_pool", layers.GlobalAveragePooling2D), ("predictions", layers.Dense)):
        if not isinstance(ours.get(layer_name), kind):
            _fail(f"{name}: the head is `{layer_name}`, a {kind.__name__}; found "
                  f"{type(ours[layer_name]).__name__ if layer_name in ours else 'no such layer'}.")
    head = ours["predictions"]
    if getattr(head.activation, "__name__", "") != "softmax":
        _fail(f"{name}: the last Dense layer `predictions` must have activation=\"softmax\", so the model outputs "
              f"class probabilities; it has \"{getattr(head.activation, '__name__', head.activation)}\".")
    if model.output.shape[-1] != 6:
        _fail(f"{name}: with num_classes=6 the model outputs {model.output.shape[-1]} values per image.")
    our_names = [layer.name for layer in model.layers[1:]]
    reference_names = [layer.name for layer in reference.layers[1:]]
    if our_names != reference_names:
        missing = [n for n in reference_names if n not in set(our_names)]
        unexpected = [n for n in our_names if n not in set(reference_names)]
        _fail(f"{name}: layer names differ from resnet_lib.resnet50's. Missing: {missing[:8]}. Unexpected: "
              f"{unexpected[:8]}." if missing or unexpected else
              f"{name}: the same layers, but in a different order; first difference: "
              f"{next((a, b) for a, b in zip(our_names, reference_names) if a != b)} (yours, expected).")
    if model.count_params() != reference.count_params():
        _fail(f"{name}: {model.count_params():,} parameters, expected {reference.count_params():,}.")
    randomize_batch_norm(reference, seed=0)
    transfer_weights(reference, model)
    images = np.random.default_rng(0).uniform(0, 1, size=(4, 64, 64, 3)).astype("float32")
    difference = float(np.abs(keras.ops.convert_to_numpy(model(images, training=False))
                              - keras.ops.convert_to_numpy(reference(images, training=False))).max())
    if difference > 1e-4:
        _fail(f"{name}: with the library's weights copied in, the predictions differ by up to {difference:.3g}. The "
              "layers and shapes match, so check the stem's padding and pooling and that each block gets the "
              "previous block's output.")
    keras.backend.clear_session()
    other = _call(function, "With input_shape=(32, 32, 1), num_classes=3", (32, 32, 1), 3)
    if not isinstance(other, keras.Model) or tuple(other.input.shape)[1:] != (32, 32, 1) or other.output.shape[-1] != 3:
        _fail(f"{name}: with input_shape=(32, 32, 1) and num_classes=3 the model must take 32x32x1 images and "
              "output 3 probabilities: use the arguments instead of fixed numbers.")
    keras.backend.clear_session()
    print(f"Well done: {name} builds ResNet50 with {reference.count_params():,} parameters, the library's layers and "
          "stage sizes, and the same predictions.")


# --------------------------------------------------------------------------------------------
# Training set-up (chapter 6)
# --------------------------------------------------------------------------------------------

def _check_prepare(prepare_data) -> None:
    name = getattr(prepare_data, "__name__", "your function")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 201, size=(12, 4, 4, 3), dtype=np.uint8)  # the largest pixel is 200, not 255
    images[0, 0, 0, 0] = 0
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2])  # class 9 never occurs
    result = _call(prepare_data, "With 12 images of 4x4x3 pixels and 10 classes", images.copy(), labels.copy(), 10)
    if result is None:
        _fail(f"{name} returned None: it must return the pair `(x, y)`. Did you forget `return x, y`?")
    if not isinstance(result, tuple) or len(result) != 2:
        _fail(f"{name} must return a pair `(x, y)`, received {type(result).__name__}.")
    x, y = (np.asarray(part) for part in result)
    if x.shape != images.shape:
        _fail(f"{name}: x has shape {x.shape}, expected the images' shape {images.shape}.")
    if not np.issubdtype(x.dtype, np.floating):
        _fail(f"{name}: x has dtype {x.dtype}; convert to float32 before dividing, `images.astype(\"float32\") / 255.0`.")
    expected = images.astype("float32") / 255.0
    if float(x.max()) > 1.0 + 1e-6:
        _fail(f"{name}: x is not normalised: its largest value is {float(x.max()):g}. Divide by 255 so that pixels "
              "lie in [0, 1].")
    if not np.allclose(x, expected, atol=1e-6):
        if np.allclose(x, images / images.max(), atol=1e-6):
            _fail(f"{name}: x is divided by the largest pixel of these images ({images.max()}), not by 255. The "
                  "scale must not depend on the batch: the test images must be scaled exactly like the training images.")
        _fail(f"{name}: x should be images / 255 (values in [0, 1]); it differs by up to "
              f"{float(np.abs(x - expected).max()):.3g}.")
    if y.ndim == 1:
        _fail(f"{name}: y has shape {y.shape}: integer labels. With categorical cross-entropy the labels must be "
              "one-hot, shape (number of images, num_classes): `keras.utils.to_categorical(labels, num_classes)`.")
    if y.shape != (len(labels), 10):
        _fail(f"{name}: y has shape {y.shape}, expected {(len(labels), 10)}. Pass num_classes to "
              "`keras.utils.to_categorical`: without it, the number of classes is guessed from the largest label "
              "present, and class 9 does not occur here.")
    if not (np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1) and np.array_equal(y.argmax(axis=1), labels)):
        _fail(f"{name}: y is not the one-hot encoding of the labels (one 1 per row, at the label's position).")


def _check_compile(compile_model) -> None:
    name = getattr(compile_model, "__name__", "your function")
    keras.backend.clear_session()
    inputs = keras.Input((2,), name="features")
    outputs = layers.Dense(3, activation="softmax", name="probabilities")(inputs)
    model = keras.Model(inputs, outputs)
    returned = _call(compile_model, "With a small softmax model, learning_rate=0.01 and steps=40",
                     model, 0.01, 40)
    if returned is not None and returned is not model:
        _fail(f"{name} returned a different model; compile the model it receives (and return it, or nothing).")
    if not getattr(model, "compiled", False) or model.optimizer is None:
        _fail(f"{name}: the model is not compiled: call `model.compile(optimizer=..., loss=..., metrics=[...])`.")
    schedule = model.optimizer._learning_rate
    if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        _fail(f"{name}: the learning rate is a constant ({float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)):g}). "
              "The recipe decays it along a cosine to zero over the run: "
              "`keras.optimizers.schedules.CosineDecay(learning_rate, steps)`.")
    start, end = (float(keras.ops.convert_to_numpy(schedule(step))) for step in (0, 40))
    if not np.isclose(start, 0.01, rtol=1e-3):
        _fail(f"{name}: the learning rate starts at {start:g}, but learning_rate=0.01 was asked for.")
    if end > 1e-3 * start:
        _fail(f"{name}: after `steps` steps the learning rate is still {end:g}; it should have decayed to 0 "
              "(give the schedule `steps` as its decay_steps).")

    loss_config = model.loss.get_config() if isinstance(model.loss, keras.losses.Loss) else {}
    if loss_config.get("from_logits"):
        # Keras' TensorFlow backend quietly undoes this mistake when the softmax is in the graph, so the
        # loss value cannot show it; other backends and eager code compute a wrong loss.
        _fail(f"{name}: the loss treats the model's softmax probabilities as logits (from_logits=True). The "
              "model already ends in a softmax: use from_logits=False, the default.")

    # Constructed predictions: kernel 0 and bias log(p) make the model output p for every input.
    probabilities = np.array([0.7, 0.2, 0.1], dtype="float32")
    model.get_layer("probabilities").set_weights([np.zeros((2, 3), "float32"), np.log(probabilities)])
    features = np.zeros((4, 2), "float32")
    labels = np.array([0, 0, 1, 2])
    one_hot = np.eye(3, dtype="float32")[labels]
    expected_loss = float(-np.log(probabilities[labels]).mean())
    try:
        results = model.evaluate(features, one_hot, verbose=0, return_dict=True)
    except Exception as error:  # noqa: BLE001
        _fail(f"{name}: evaluating with one-hot labels failed ({type(error).__name__}: "
              f"{str(error).splitlines()[0][:200]}). With one-hot labels the loss is \"categorical_crossentropy\"; "
              "\"sparse_categorical_crossentropy\" expects integer labels.")
    loss = results.get("loss")
    if loss is None or not np.isclose(loss, expected_loss, rtol=1e-3):
        from_logits = float(keras.ops.convert_to_numpy(keras.losses.categorical_crossentropy(
            one_hot, probabilities[None].repeat(4, 0), from_logits=True)).mean())
        if loss is not None and np.isclose(loss, from_logits, rtol=1e-3):
            _fail(f"{name}: the loss treats the model's softmax probabilities as logits (from_logits=True). The "
                  "model already ends in a softmax: use from_logits=False, the default.")
        _fail(f"{name}: on predictions (0.7, 0.2, 0.1) and labels (0, 0, 1, 2) the loss is {loss}, but categorical "
              f"cross-entropy gives {expected_loss:.4f}. Use loss=\"categorical_crossentropy\".")
    accuracy = next((value for key, value in results.items() if "accuracy" in key), None)
    if accuracy is None:
        _fail(f"{name}: no accuracy metric: add metrics=[\"accuracy\"] so that fit and evaluate report it.")
    if not np.isclose(accuracy, 0.5, atol=1e-6):
        _fail(f"{name}: the accuracy metric reports {accuracy:g} where half of the predictions are right; use "
              "metrics=[\"accuracy\"] (which matches one-hot labels to the softmax output).")


def check_training_setup(prepare_data, compile_model) -> None:
    """Checks the chapter-6 exercise: preparing images and labels, and compiling a classifier.

    Args:
        prepare_data: `my_prepare_data(images, labels, num_classes)` returning `(x, y)`: float pixels in
            [0, 1] (divided by 255) and one-hot labels of shape (n, num_classes).
        compile_model: `my_compile_model(model, learning_rate, steps)`, compiling `model` with Adam and a
            cosine decay from `learning_rate` to 0 over `steps` steps, categorical cross-entropy and accuracy.

    Raises:
        AssertionError: naming the mistake (no normalisation, scaling by the batch's maximum, integer
            labels, a wrong number of classes, a constant learning rate, the wrong loss or `from_logits`,
            no accuracy), checked on constructed inputs with known answers.
    """
    _check_prepare(prepare_data)
    _check_compile(compile_model)
    # Behaviour: the two together train a small softmax classifier on separable points.
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, size=240)
    centres = np.array([[40, 40], [200, 60], [120, 220]])
    points = np.clip(centres[labels] + rng.normal(0, 12, size=(240, 2)), 0, 255).astype(np.uint8)
    x, y = _call(prepare_data, "With 240 two-pixel images", points.reshape(240, 1, 1, 2), labels, 3)
    inputs = keras.Input((1, 1, 2))
    hidden = layers.Dense(16, activation="relu")(layers.Flatten()(inputs))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(hidden))
    _call(compile_model, "Training a small classifier", model, 0.05, 8 * 8)
    history = model.fit(x, y, batch_size=30, epochs=8, verbose=0)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    if not last < 0.7 * first:
        _fail(f"With your preparation and compile set-up a small classifier does not learn three separable "
              f"clusters: the loss went from {first:.3f} to {last:.3f} in 8 epochs.")
    keras.backend.clear_session()
    print(f"Well done: data preparation and compile set-up are right, and a small classifier trained with them "
          f"goes from loss {first:.2f} to {last:.2f}.")
