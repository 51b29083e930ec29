"""Checks for the book's exercises: they name the learner's mistake instead of printing a float.

One function per exercise, called in the cell after it:

* `check_identity_block(my_identity_block)` (chapter 3),
* `check_convolutional_block(my_convolutional_block)` (chapter 4),
* `check_resnet50(my_resnet50)` (chapter 5),
* `check_training_setup(my_prepare_data, my_compile_model)` (chapter 6).

Each check first reads the learner's function signature (the checks pass arguments by position, so
a parameter order such as the deeplearning.ai course's is named before anything is called). It
then builds the learner's function on inputs it chooses itself (filter counts that all differ, so
that swapped filters show; sizes of unknown height and width, so that a padding or stride mistake
can be seen in the graph before Keras refuses to add two tensors), walks the graph of layers
(`resnet_lib._graph`, through Keras' public API only), and compares it with the reference in
`resnet_lib`: kinds of layers, kernel sizes, strides, padding, filter counts, where the shortcut
starts and where it is added, then each layer's inputs, settings and name. The order in which
layers are created and the order of an addition's operands do not matter; operations of
`keras.ops` (such as `x + shortcut`), which cannot be named, are paired by position. Then it checks
behaviour: with the weights of the reference copied in (after `analysis.randomize_batch_norm`, so a
misplaced batch norm cannot hide), both must compute the same outputs, and with its branch silenced
a block must compute what its shortcut alone gives. Tolerances are relative; no stored floats are
compared, so the checks do not depend on one version of Keras or TensorFlow.

On success a check prints one line. On a mistake it raises `AssertionError` with a message that
says what is wrong and where (which layer, which path). A half-written solution (one that raises
`NotImplementedError`, returns `None` or returns a layer instead of a tensor) gets a message too,
never an unrelated traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from resnet_lib._graph import (
    MERGES,
    Graph,
    Mistake,
    as_output,
    bn_axis,
    bn_axis_message,
    call,
    check_signature,
    describe,
    fail,
    functional_model,
    kind,
    match,
    setting_difference,
    spatial_size,
)
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

_IDENTITY_SIGNATURE = ("x", "filters", "kernel_size", "stage", "block")
_CONVOLUTIONAL_SIGNATURE = ("x", "filters", "kernel_size", "stride", "stage", "block")
_COURSE_SIGNATURE = ("X", "f", "filters")  # deeplearning.ai: identity_block(X, f, filters, stage, block), ...
_BLOCK_NAMING = ("Names are f\"conv{stage}_block{block}_...\", as in keras.applications.ResNet50 (e.g. "
                 "`conv3_block2_1_conv`, `conv3_block2_1_bn`, `conv3_block2_1_relu`, `conv3_block2_add`, "
                 "`conv3_block2_out`): weights are copied by name.")


# --------------------------------------------------------------------------------------------
# The paths of a block: branch, shortcut, addition, final ReLU
# --------------------------------------------------------------------------------------------

def _fused_activation(conv) -> str | None:
    """The activation built into a convolution (`Conv2D(..., activation="relu")`), or None if it is linear."""
    name = getattr(conv.activation, "__name__", "linear")
    return None if name == "linear" else name


@dataclass
class _ConvSpec:
    """What one convolution of a block must be, and how to name it in messages."""

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
        if kind(operation) not in ("conv", "bn", "relu"):
            fail(f"{name}: unexpected layer {describe(operation)} on {where}. The path is made of Conv2D, "
                 "BatchNormalization and ReLU Activation layers only.")
    convs = [operation for operation in path if kind(operation) == "conv"]
    if len(convs) != len(specs):
        layout = " -> ".join(describe(o) for o in path) or "nothing"
        expected = ", ".join(spec.role for spec in specs)
        fail(f"{name}: {where} has {len(convs)} convolution(s), expected {len(specs)} ({expected}). "
             f"It is: {layout}.")
    for operation in convs:
        fused = _fused_activation(operation)
        if fused:
            fail(f"{name}: {describe(operation)} on {where} has activation=\"{fused}\" built in, so the "
                 f"{fused} comes before its batch norm. Leave the convolution linear and add "
                 f"`layers.Activation(\"relu\")` after the batch norm.")
    # group the path: each conv, then what follows it up to the next conv
    groups, current = [], None
    for operation in path:
        if kind(operation) == "conv":
            current = [operation]
            groups.append(current)
        elif current is None:
            fail(f"{name}: {describe(operation)} comes before the first convolution on {where}; the path "
                 "starts with a convolution.")
        else:
            current.append(operation)
    for index, (group, spec, relu_expected) in enumerate(zip(groups, specs, activation_after)):
        conv, after = group[0], [kind(o) for o in group[1:]]
        if not after or after[0] != "bn":
            if "bn" in after:
                fail(f"{name}: after {describe(conv)} on {where} the ReLU comes before the batch norm. The "
                     "order is convolution -> batch norm -> ReLU.")
            fail(f"{name}: batch norm missing on {where}: {describe(conv)} is not followed by "
                 f"`layers.BatchNormalization(epsilon=1.001e-5, name=\"{prefix}{spec.suffix[:-5]}_bn\")`.")
        bn = group[1]
        if after.count("bn") > 1:
            fail(f"{name}: {describe(conv)} on {where} is followed by {after.count('bn')} batch norms; one is enough.")
        relus = after.count("relu")
        last = index == len(specs) - 1
        if relu_expected and relus == 0:
            fail(f"{name}: ReLU missing after {describe(bn)} on {where}: add "
                 f"`layers.Activation(\"relu\", name=\"{prefix}{spec.suffix[:-5]}_relu\")`.")
        if not relu_expected and relus:
            if last and where.startswith("the main path"):
                fail(f"{name}: the ReLU is applied to the branch before the addition ({describe(group[-1])}). "
                     "The last batch norm of the branch must feed the addition directly and the ReLU comes after "
                     "the addition: ReLU(F(x) + shortcut), not ReLU(F(x)) + shortcut. With a ReLU there, F(x) >= 0 "
                     "and the block could only ever add to its input.")
            fail(f"{name}: unexpected ReLU {describe(group[-1])} on {where}; no activation belongs there.")
        if relus > 1:
            fail(f"{name}: two ReLUs in a row after {describe(conv)} on {where}.")
        if not np.isclose(bn.epsilon, BOTTLENECK_BN_EPSILON, rtol=1e-3):
            fail(f"{name}: {describe(bn)} has epsilon={bn.epsilon:g}; ResNet50 uses epsilon=1.001e-5 "
                 "(`layers.BatchNormalization(epsilon=1.001e-5, ...)`), or the outputs will not match.")
        kernel, stride = tuple(conv.kernel_size), tuple(conv.strides)
        if kernel != (spec.kernel, spec.kernel):
            fail(f"{name}: {spec.role} {describe(conv)} on {where} has a {kernel[0]}x{kernel[1]} kernel, expected "
                 f"{spec.kernel}x{spec.kernel} ({spec.kernel_name}).")
        if stride != (spec.stride, spec.stride):
            fail(f"{name}: the stride is on the wrong convolution: {spec.role} {describe(conv)} on {where} has "
                 f"stride {stride[0]}, expected {spec.stride}. In ResNet v1 (and keras.applications.ResNet50) the "
                 "stride sits on the first 1x1 convolution of the branch and on the 1x1 projection of the "
                 "shortcut; the other convolutions have stride 1.")
        if spec.padding and conv.padding != spec.padding:
            fail(f"{name}: {spec.role} {describe(conv)} has padding=\"{conv.padding}\": it must be "
                 f"padding=\"{spec.padding}\", or it shrinks the feature map and the addition's shapes differ.")
        if conv.filters != spec.filters:
            fail(f"{name}: {spec.role} {describe(conv)} on {where} has {conv.filters} filters, expected "
                 f"{spec.filters} ({spec.filters_name}). The filters are (filters1, filters2, filters3) for the "
                 "three convolutions of the branch, in that order.")


def _split_addition(graph: Graph, name: str, prefix: str):
    """Finds the addition that ends the block; returns (addition, branch operand, shortcut operand, tail, kinds)."""
    tail, addition = graph.chain(graph.output)
    if kind(addition) in MERGES:
        article = "an" if kind(addition)[0] in "AEIOU" else "a"
        fail(f"{name}: `{addition.name}` is {article} {kind(addition)}: {MERGES[kind(addition)]}. A residual block "
             f"adds the shortcut to the branch, F(x) + shortcut: "
             f"`x = layers.Add(name=\"{prefix}_add\")([shortcut, x])`.")
    additions = [o for o in graph.order if kind(o) == "add"]
    if not additions:
        fail(f"{name}: the shortcut is not used: there is no addition in the block, so it computes ReLU(F(x)), a "
             "plain block. Add the shortcut to the branch: `x = layers.Add(name=...)([shortcut, x])`.")
    if kind(addition) != "add":
        fail(f"{name}: the block's last addition must come right before the final ReLU; found "
             f"{describe(addition)} there instead.")
    operands = graph.parents_of(addition)
    if len(operands) != 2:
        fail(f"{name}: {describe(addition)} adds {len(operands)} tensors; it must add exactly two, "
             "the shortcut and the branch.")
    if operands[0] is operands[1]:
        fail(f"{name}: the shortcut is not used: {describe(addition)} adds the branch to itself "
             f"({describe(operands[0])} twice). Keep the block's input in `shortcut = x` before the branch "
             "overwrites `x`, and add `[shortcut, x]`.")
    lengths = []
    for operand in operands:
        path, start = graph.chain(operand)
        lengths.append(sum(kind(o) == "conv" for o in path) if kind(start) == "input" else -1)
    branch, shortcut = (operands[0], operands[1]) if lengths[0] >= lengths[1] else (operands[1], operands[0])
    tail_kinds = [kind(o) for o in tail]
    return addition, branch, shortcut, tail, tail_kinds


def _check_tail(tail, tail_kinds, branch_path, name):
    """Exactly one ReLU after the addition (and none at the end of the branch instead)."""
    if not tail_kinds:
        if branch_path and kind(branch_path[-1]) == "relu":
            fail(f"{name}: the ReLU is applied before the addition: your block computes ReLU(F(x)) + shortcut. "
                 "ResNet adds first and applies the ReLU to the sum: move the ReLU after the addition.")
        fail(f"{name}: the final ReLU is missing: your block returns the sum F(x) + shortcut. Apply "
             "`layers.Activation(\"relu\", name=f\"{prefix}_out\")` to the sum and return that.")
    if tail_kinds != ["relu"]:
        layout = " -> ".join(describe(o) for o in tail)
        fail(f"{name}: after the addition there must be exactly one ReLU, found: {layout}.")


def _check_shortcut_start(graph, shortcut_path, shortcut_start, branch_ops, name):
    """The shortcut starts at the block's input, not inside the branch."""
    if kind(shortcut_start) != "input":
        inside = any(shortcut_start is o for o in branch_ops)
        where = "inside the branch" if inside else "elsewhere"
        fail(f"{name}: the shortcut does not start at the block's input: it starts from {describe(shortcut_start)} "
             f"{where}. Keep the input with `shortcut = x` before the first layer of the branch overwrites `x`.")


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------

def _branch_specs(filters, kernel_size, stride):
    """The three convolutions of the branch: 1x1 with the stride, kernel_size x kernel_size, 1x1."""
    f1, f2, f3 = filters
    return [
        _ConvSpec("the first 1x1 convolution", f1, "filters1", 1, "kernel 1x1", stride, None, "_1_conv"),
        _ConvSpec("the middle convolution", f2, "filters2", kernel_size, "kernel_size", 1, "same", "_2_conv"),
        _ConvSpec("the last 1x1 convolution", f3, "filters3", 1, "kernel 1x1", 1, None, "_3_conv"),
    ]


def _build_block(function, projection: bool, channels, filters, kernel_size, stride, stage, block, spatial=None):
    """Builds the learner's block on a (spatial, spatial, channels) input; returns (model, setting)."""
    name = getattr(function, "__name__", "your block")
    block_input = keras.Input((spatial, spatial, channels), name="block_input")
    args = (block_input, filters, kernel_size, stride, stage, block) if projection else (
        block_input, filters, kernel_size, stage, block)
    setting = f"filters={filters}, kernel_size={kernel_size}" + (f", stride={stride}" if projection else "") + \
        f", on a {'?x?' if spatial is None else f'{spatial}x{spatial}'}x{channels} input"
    try:
        output = as_output(call(function, f"With {setting}", *args), name)
    except Mistake:
        if spatial is None:  # some mistakes only fail on unknown sizes: name them from a concrete build
            _find_batch_norm_axis(function, projection, channels, filters, kernel_size, stride, stage, block)
        raise
    return functional_model(block_input, output, name), setting


def _find_batch_norm_axis(function, projection, channels, filters, kernel_size, stride, stage, block) -> None:
    """Fails naming a batch norm over another axis than the channels, if a build on a concrete size shows one.

    A batch norm over the height or width has one weight per row or column: Keras cannot create it for
    images of unknown size, and says so in terms of variables, not of the learner's layer.
    """
    keras.backend.clear_session()
    try:
        model, _ = _build_block(function, projection, channels, filters, kernel_size, stride, stage, block, spatial=9)
    except Mistake:
        return
    name = getattr(function, "__name__", "your block")
    for layer in model.layers:
        if kind(layer) == "bn" and bn_axis(layer) != 3:
            fail(bn_axis_message(name, layer))


def _check_block_structure(function, *, projection, channels, filters, kernel_size, stride, stage, block):
    """Builds on a (None, None, channels) input and checks the graph; returns the setting string."""
    name = getattr(function, "__name__", "your block")
    keras.backend.clear_session()
    model, setting = _build_block(function, projection, channels, filters, kernel_size, stride, stage, block)
    graph = Graph(model, name)
    prefix = f"conv{stage}_block{block}"
    addition, branch, shortcut, tail, tail_kinds = _split_addition(graph, name, prefix)
    branch_path, branch_start = graph.chain(branch)
    if kind(branch_start) != "input":
        fail(f"{name}: the branch does not start at the block's input (it starts at {describe(branch_start)}).")
    shortcut_path, shortcut_start = graph.chain(shortcut, stop=branch_path)
    _check_shortcut_start(graph, shortcut_path, shortcut_start, branch_path, name)
    _check_tail(tail, tail_kinds, branch_path, name)
    _check_path(branch_path, _branch_specs(filters, kernel_size, stride), where="the main path (the branch F)",
                name=name, prefix=prefix, activation_after=[True, True, False])
    if projection:
        if not shortcut_path:
            fail(f"{name}: the shortcut is the identity, but this block changes the shape: it needs a projection, "
                 f"a 1x1 Conv2D with filters3 filters and strides=stride (`{prefix}_0_conv`) followed by batch norm "
                 f"(`{prefix}_0_bn`).")
        spec = _ConvSpec("the projection", filters[2], "filters3", 1, "kernel 1x1", stride, None, "_0_conv")
        _check_path(shortcut_path, [spec], where="the projection shortcut", name=name, prefix=prefix,
                    activation_after=[False])
    elif shortcut_path:
        layout = " -> ".join(describe(o) for o in shortcut_path)
        fail(f"{name}: the identity block's shortcut must be the input itself, unchanged; yours goes through {layout}.")
    return setting


def _compare_with_reference(function, reference_function, *, projection, input_shape, filters, kernel_size, stride,
                            stage, block):
    """Same connections, settings and names; then the same outputs with the reference's weights; then the silenced
    branch."""
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
        fail(f"{name}: with {setting} your block outputs shape {tuple(model.output.shape)[1:]}, expected "
             f"{tuple(reference.output.shape)[1:]}.")
    match(Graph(model, name), Graph(reference, f"resnet_lib.{reference_function.__name__}"), owner=name,
          library=f"resnet_lib.{reference_function.__name__}", naming=_BLOCK_NAMING)
    for layer in reference.layers:
        if not layer.weights:
            continue
        ours = model.get_layer(layer.name)
        if [tuple(w.shape) for w in ours.weights] != [tuple(w.shape) for w in layer.weights]:
            fail(f"{name}: `{layer.name}` has weights of shapes {[tuple(w.shape) for w in ours.weights]}, expected "
                 f"{[tuple(w.shape) for w in layer.weights]}.")
    if model.count_params() != reference.count_params():
        fail(f"{name}: {model.count_params():,} parameters, expected {reference.count_params():,}.")

    randomize_batch_norm(reference, seed=1)
    transfer_weights(reference, model)
    rng = np.random.default_rng(2)
    images = rng.normal(size=(3, *input_shape)).astype("float32")
    ours = keras.ops.convert_to_numpy(model(images, training=False))
    expected = keras.ops.convert_to_numpy(reference(images, training=False))
    difference = float(np.abs(ours - expected).max())
    if difference > 1e-4 * (1.0 + float(np.abs(expected).max())):
        fail(f"{name}: with the library's weights copied in, your block computes different numbers (largest "
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
        fail(f"{name}: with its branch silenced (gamma = beta = 0 in the last batch norm) the block must compute "
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
    except Mistake as mistake:
        if "raised" not in str(mistake):
            raise
        try:
            _check_block_structure(function, channels=24, filters=(24, 24, 24), **setting)
        except Mistake as structural:
            raise (mistake if "raised" in str(structural) else structural) from None
        stride = f" and stride {setting['stride']}" if setting["projection"] else ""
        fail(f"{name}: the filters are used in the wrong order. With filters=(8, 12, 24){stride} on a "
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
            in the wrong order, the middle convolution's kernel size or padding, the parameters in
            another order than the book's.
    """
    name = getattr(function, "__name__", "your block")
    if callable(function):
        check_signature(function, _IDENTITY_SIGNATURE, course=_COURSE_SIGNATURE)
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
    if callable(function):
        check_signature(function, _CONVOLUTIONAL_SIGNATURE, course=_COURSE_SIGNATURE)
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

#: The stem of ResNet50, layer by layer, as the learner writes it.
_STEM = {
    "conv1_pad": "layers.ZeroPadding2D(padding=3, name=\"conv1_pad\")",
    "conv1_conv": "layers.Conv2D(64, 7, strides=2, name=\"conv1_conv\")",
    "conv1_bn": "layers.BatchNormalization(epsilon=1.001e-5, name=\"conv1_bn\")",
    "conv1_relu": "layers.Activation(\"relu\", name=\"conv1_relu\")",
    "pool1_pad": "layers.ZeroPadding2D(padding=1, name=\"pool1_pad\")",
    "pool1_pool": "layers.MaxPooling2D(3, strides=2, name=\"pool1_pool\")",
}
_STEM_LAYOUT = " -> ".join(f"`{code}`" for code in _STEM.values())
_HEAD = ("`layers.GlobalAveragePooling2D(name=\"avg_pool\")`, then "
         "`layers.Dense(num_classes, activation=\"softmax\", name=\"predictions\")`")
_RESNET50_NAMING = ("The stem and head are named as in keras.applications.ResNet50 (`conv1_pad`, `conv1_conv`, "
                    "`conv1_bn`, `conv1_relu`, `pool1_pad`, `pool1_pool`, `avg_pool`, `predictions`) and the blocks' "
                    "layers f\"conv{stage}_block{block}_...\": weights are copied by name.")


def _check_stem(graph: Graph, reference: Graph, name: str) -> None:
    """Compares the layers from the input to the first block, in order, with the library's stem.

    Names the first layer that is missing, of another kind, set differently or named differently, and
    the size of the maps that stage conv2 would then receive.
    """
    ours, expected = graph.forward_chain(graph.input), reference.forward_chain(reference.input)
    size = spatial_size(ours[-1] if ours else graph.input)
    for index, counterpart in enumerate(expected):
        operation = ours[index] if index < len(ours) else None
        if operation is None or kind(operation) != kind(counterpart):
            previous = f"`{ours[index - 1].name}`" if index else "the input"
            later = [kind(o) for o in expected[index + 1:]]
            if operation is None or kind(operation) in later:
                sizes = (f" Without it, stage conv2 receives maps of {size} instead of {spatial_size(expected[-1])}."
                         if size != spatial_size(expected[-1]) else "")
                fail(f"{name}: the stem has no `{counterpart.name}`: after {previous} comes "
                     f"`{_STEM[counterpart.name]}`.{sizes} The stem is {_STEM_LAYOUT}.")
            fail(f"{name}: layer {index + 1} of the stem, after {previous}, is {describe(operation)} "
                 f"({type(operation).__name__}); it should be `{_STEM[counterpart.name]}`. The stem is {_STEM_LAYOUT}.")
        difference = setting_difference(name, operation, counterpart)
        if difference:
            fail(f"{difference} In the stem it is `{_STEM[counterpart.name]}`.")
        if isinstance(operation, layers.Layer) and operation.name != counterpart.name:
            fail(f"{name}: your {type(operation).__name__} `{operation.name}` in the stem must be named "
                 f"`{counterpart.name}`: `{_STEM[counterpart.name]}`. {_RESNET50_NAMING}")
    if len(ours) > len(expected):
        fail(f"{name}: after `pool1_pool` your stem continues with {describe(ours[len(expected)])}; stage conv2 "
             f"starts right after the max pool. The stem is {_STEM_LAYOUT}.")


def _check_stages(model: keras.Model, reference: keras.Model, name: str) -> None:
    """The blocks of each stage (found by the names of their last convolutions) and the size at each stage's end."""
    names = {layer.name for layer in model.layers}
    for stage, filters, blocks, stride in RESNET50_STAGES:
        present = sorted(int(match_.group(1)) for match_ in (re.fullmatch(rf"conv{stage}_block(\d+)_3_conv", n)
                                                              for n in names) if match_)
        if not present and stage == 2:
            fail(f"{name}: no layer is named like the blocks of stage conv2 (e.g. `conv2_block1_3_conv`). Call your "
                 "blocks with stage=2, 3, 4, 5 and block=1, 2, ...; they name their layers f\"conv{stage}_block"
                 "{block}_...\".")
        if present != list(range(1, blocks + 1)):
            fail(f"{name}: stage conv{stage} has blocks {present}, expected blocks 1 to {blocks}: one convolutional "
                 f"block (block 1) and {blocks - 1} identity blocks. The stages have 3, 4, 6 and 3 blocks.")
        if f"conv{stage}_block1_0_conv" not in names:
            fail(f"{name}: the first block of stage conv{stage} must be a convolutional block (with a projection "
                 f"shortcut `conv{stage}_block1_0_conv`): it changes the number of channels.")
        extra = [b for b in range(2, blocks + 1) if f"conv{stage}_block{b}_0_conv" in names]
        if extra:
            fail(f"{name}: blocks {extra} of stage conv{stage} have a projection shortcut; after the first block "
                 "the shape stays the same and the blocks are identity blocks.")
        got = model.get_layer(f"conv{stage}_block{blocks}_3_conv")
        expected = reference.get_layer(f"conv{stage}_block{blocks}_3_conv")
        if tuple(got.output.shape) != tuple(expected.output.shape):
            used = model.get_layer(f"conv{stage}_block1_0_conv").strides[0]
            hint = f" The first block of stage conv{stage} halves the map with stride 2." if stride == 2 else ""
            if used != stride:
                hint = (f" Its convolutional block has stride {used}; it must have stride {stride}.")
                if stage == 2:
                    hint += (" The stem's strided convolution and max pool have already reduced the image by 4, "
                             "and stride 2 here halves every later feature map again (a known error of the blog "
                             "walkthrough).")
            fail(f"{name}: stage conv{stage} ends at {spatial_size(got)}, expected {spatial_size(expected)} "
                 f"(filters {filters}, first stride {stride}).{hint}")


def _check_head(graph: Graph, name: str) -> None:
    """`avg_pool`, a GlobalAveragePooling2D, then `predictions`, a softmax Dense; unnamed ones are found by kind."""
    model = graph.model
    ours = {layer.name: layer for layer in model.layers}
    for layer_name, layer_class in (("avg_pool", layers.GlobalAveragePooling2D), ("predictions", layers.Dense)):
        layer = ours.get(layer_name)
        if layer is None:
            same_kind = [other for other in model.layers if isinstance(other, layer_class)]
            if same_kind:
                fail(f"{name}: your {layer_class.__name__} is named `{same_kind[-1].name}`; name it `{layer_name}`, "
                     f"as in keras.applications.ResNet50: the head is {_HEAD}.")
            path, _ = graph.chain(graph.output)
            layout = " -> ".join(f"{describe(o)} ({type(o).__name__})" for o in path[1:]) or "nothing"
            fail(f"{name}: the head has no {layer_class.__name__}: after the last block comes {layout}. ResNet50's "
                 f"head is {_HEAD}.")
        if not isinstance(layer, layer_class):
            fail(f"{name}: the head is `{layer_name}`, a {layer_class.__name__}; found {type(layer).__name__}.")
    head = ours["predictions"]
    if getattr(head.activation, "__name__", "") != "softmax":
        fail(f"{name}: the last Dense layer `predictions` must have activation=\"softmax\", so the model outputs "
             f"class probabilities; it has \"{getattr(head.activation, '__name__', head.activation)}\".")


def check_resnet50(function) -> None:
    """Checks the learner's `my_resnet50(input_shape, num_classes)` of chapter 5 against `resnet_lib.resnet50`.

    Checks the stem layer by layer, the number of blocks and the feature-map size of every stage (a
    stride-2 stage 2 is caught by name), the head, then every layer's inputs, settings and name (not
    the order in which the layers were created), the parameter count, and that with the reference's
    weights both predict the same; then that `input_shape` and `num_classes` are really used.

    Raises:
        AssertionError: with a message naming the stage, block or layer that differs.
    """
    name = getattr(function, "__name__", "your model")
    if callable(function):
        check_signature(function, ("input_shape", "num_classes"))
    keras.backend.clear_session()
    model = call(function, "With input_shape=(64, 64, 3), num_classes=6", (64, 64, 3), 6)
    if model is None:
        fail(f"{name} returned None: it must return the model, `keras.Model(inputs, outputs)`.")
    if not isinstance(model, keras.Model):
        fail(f"{name} returned {type(model).__name__}: it must return a keras.Model built with "
             "`keras.Model(inputs, outputs)`.")
    if isinstance(model, keras.Sequential) or not model.inputs:
        fail(f"{name} returned a {type(model).__name__} without functional inputs: a residual network's shortcuts "
             "need the functional API, `inputs = keras.Input(shape=input_shape)`, layers called on tensors, then "
             "`keras.Model(inputs, outputs)`.")
    reference = resnet50(input_shape=(64, 64, 3), num_classes=6)
    if tuple(model.input.shape)[1:] != (64, 64, 3):
        fail(f"{name}: the model's input has shape {tuple(model.input.shape)[1:]}, expected (64, 64, 3) = input_shape.")
    graph, reference_graph = Graph(model, name), Graph(reference, "resnet_lib.resnet50")
    _check_stem(graph, reference_graph, name)
    _check_stages(model, reference, name)
    _check_head(graph, name)
    if model.output.shape[-1] != 6:
        fail(f"{name}: with num_classes=6 the model outputs {model.output.shape[-1]} values per image.")
    match(graph, reference_graph, owner=name, library="resnet_lib.resnet50", naming=_RESNET50_NAMING)
    if model.count_params() != reference.count_params():
        fail(f"{name}: {model.count_params():,} parameters, expected {reference.count_params():,}.")
    randomize_batch_norm(reference, seed=0)
    transfer_weights(reference, model)
    images = np.random.default_rng(0).uniform(0, 1, size=(4, 64, 64, 3)).astype("float32")
    difference = float(np.abs(keras.ops.convert_to_numpy(model(images, training=False))
                              - keras.ops.convert_to_numpy(reference(images, training=False))).max())
    if difference > 1e-4:
        fail(f"{name}: with the library's weights copied in, the predictions differ by up to {difference:.3g}. The "
             "layers, their connections and shapes match, so check that each block gets the previous block's "
             "output and that no layer is applied twice.")
    keras.backend.clear_session()
    other = call(function, "With input_shape=(32, 32, 1), num_classes=3", (32, 32, 1), 3)
    if not isinstance(other, keras.Model) or tuple(other.input.shape)[1:] != (32, 32, 1) or other.output.shape[-1] != 3:
        fail(f"{name}: with input_shape=(32, 32, 1) and num_classes=3 the model must take 32x32x1 images and "
             "output 3 probabilities: use the arguments instead of fixed numbers.")
    keras.backend.clear_session()
    print(f"Well done: {name} builds ResNet50 with {reference.count_params():,} parameters, the library's layers and "
          "stage sizes, and the same predictions.")


# --------------------------------------------------------------------------------------------
# Training set-up (chapter 6)
# --------------------------------------------------------------------------------------------

def _check_prepare(prepare_data) -> None:
    """Scaling by 255 (not by the batch's largest pixel) and one-hot labels with `num_classes` columns."""
    name = getattr(prepare_data, "__name__", "your function")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 201, size=(12, 4, 4, 3), dtype=np.uint8)  # the largest pixel is 200, not 255
    images[0, 0, 0, 0] = 0
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2])  # class 9 never occurs
    result = call(prepare_data, "With 12 images of 4x4x3 pixels and 10 classes", images.copy(), labels.copy(), 10)
    if result is None:
        fail(f"{name} returned None: it must return the pair `(x, y)`. Did you forget `return x, y`?")
    if not isinstance(result, tuple) or len(result) != 2:
        fail(f"{name} must return a pair `(x, y)`, received {type(result).__name__}.")
    x, y = (np.asarray(part) for part in result)
    if x.shape != images.shape:
        fail(f"{name}: x has shape {x.shape}, expected the images' shape {images.shape}.")
    if not np.issubdtype(x.dtype, np.floating):
        fail(f"{name}: x has dtype {x.dtype}; convert to float32 before dividing, "
             "`images.astype(\"float32\") / 255.0`.")
    expected = images.astype("float32") / 255.0
    if float(x.max()) > 1.0 + 1e-6:
        fail(f"{name}: x is not normalised: its largest value is {float(x.max()):g}. Divide by 255 so that pixels "
             "lie in [0, 1].")
    if not np.allclose(x, expected, atol=1e-6):
        if np.allclose(x, images / images.max(), atol=1e-6):
            fail(f"{name}: x is divided by the largest pixel of these images ({images.max()}), not by 255. The "
                 "scale must not depend on the batch: the test images must be scaled exactly like the training images.")
        fail(f"{name}: x should be images / 255 (values in [0, 1]); it differs by up to "
             f"{float(np.abs(x - expected).max()):.3g}.")
    if y.ndim == 1:
        fail(f"{name}: y has shape {y.shape}: integer labels. With categorical cross-entropy the labels must be "
             "one-hot, shape (number of images, num_classes): `keras.utils.to_categorical(labels, num_classes)`.")
    if y.shape != (len(labels), 10):
        fail(f"{name}: y has shape {y.shape}, expected {(len(labels), 10)}. Pass num_classes to "
             "`keras.utils.to_categorical`: without it, the number of classes is guessed from the largest label "
             "present, and class 9 does not occur here.")
    if not (np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1) and np.array_equal(y.argmax(axis=1), labels)):
        fail(f"{name}: y is not the one-hot encoding of the labels (one 1 per row, at the label's position).")


def _rate(value) -> float:
    return float(keras.ops.convert_to_numpy(value))


def _check_optimizer(optimizer, name: str) -> None:
    """Adam, as asked: not SGD or RMSprop, and not AdamW (Adam with weight decay, a subclass of Adam)."""
    class_name = type(optimizer).__name__
    config = optimizer.get_config()
    if isinstance(optimizer, keras.optimizers.AdamW):
        fail(f"{name}: the optimizer is AdamW, Adam with decoupled weight decay (weight_decay="
             f"{config.get('weight_decay'):g}), which shrinks every weight a little at each step. The exercise asks "
             "for plain Adam: `keras.optimizers.Adam(schedule)`.")
    if not isinstance(optimizer, keras.optimizers.Adam):
        details = f" (momentum={config['momentum']:g})" if config.get("momentum") else ""
        fail(f"{name}: the optimizer is {class_name}{details}; the exercise asks for Adam: "
             "`keras.optimizers.Adam(schedule)`, with the cosine schedule as its learning rate.")
    if config.get("weight_decay"):
        fail(f"{name}: your Adam has weight_decay={config['weight_decay']:g}; the exercise asks for Adam without "
             "weight decay: `keras.optimizers.Adam(schedule)`.")


def _check_schedule(optimizer, name: str, learning_rate: float, steps: int) -> None:
    """The rate at steps 0, T/4, T/2, 3T/4 and T must follow learning_rate * (1 + cos(pi t / T)) / 2.

    The rate is read through the optimizer's public `learning_rate` at chosen values of its
    `iterations`, so any schedule, the library's or the learner's own, is evaluated as training would.
    """
    try:
        serialized = optimizer.get_config().get("learning_rate")
    except Exception:  # noqa: BLE001 - a learning rate Keras cannot serialize: evaluate it all the same
        serialized = None
    if isinstance(serialized, (int, float)):
        fail(f"{name}: the learning rate is a constant ({_rate(optimizer.learning_rate):g}). The recipe decays it "
             "along a cosine to zero over the run: `keras.optimizers.schedules.CosineDecay(learning_rate, steps)`.")
    schedule = serialized.get("class_name", "a schedule") if isinstance(serialized, dict) else type(serialized).__name__
    rates = {}
    try:
        for step in (0, steps // 4, steps // 2, 3 * steps // 4, steps):
            optimizer.iterations.assign(step)
            rates[step] = _rate(optimizer.learning_rate)
    finally:
        optimizer.iterations.assign(0)
    if not np.isclose(rates[0], learning_rate, rtol=1e-3):
        fail(f"{name}: the learning rate starts at {rates[0]:g}, but learning_rate={learning_rate:g} was asked for "
             f"(your schedule is {schedule}).")
    cosine = {step: learning_rate * (1 + np.cos(np.pi * step / steps)) / 2 for step in rates}
    step = max(rates, key=lambda s: abs(rates[s] - cosine[s]))
    if abs(rates[step] - cosine[step]) <= 1e-3 * learning_rate:
        return
    found = (f"at step {step} of {steps} the rate is {rates[step]:.4g}, where the cosine decay gives "
             f"{cosine[step]:.4g} = learning_rate * (1 + cos(pi * {step} / {steps})) / 2")
    if schedule != "CosineDecay":
        fail(f"{name}: your schedule is {schedule}, not a cosine decay: {found}. Use "
             "`keras.optimizers.schedules.CosineDecay(learning_rate, steps)`.")
    if step == steps:
        fail(f"{name}: after `steps` steps the learning rate is still {rates[step]:g}; it should have decayed to 0 "
             "(give the schedule `steps` as its decay_steps, and leave alpha at 0).")
    fail(f"{name}: your CosineDecay does not go from learning_rate to 0 over `steps` steps: {found}. Use "
         "`keras.optimizers.schedules.CosineDecay(learning_rate, steps)`: decay_steps=steps, no warm-up, alpha=0.")


def _metric_class(model, metric_name: str) -> str | None:
    """The class of the compiled metric called `metric_name`, from the public compile config, if it is an object."""
    def search(entry):
        if isinstance(entry, dict):
            if entry.get("config", {}).get("name") == metric_name and "class_name" in entry:
                return entry["class_name"]
            entries = entry.values()
        elif isinstance(entry, (list, tuple)):
            entries = entry
        else:
            return None
        return next((found for found in map(search, entries) if found), None)
    return search((model.get_compile_config() or {}).get("metrics"))


def _check_accuracy(model, results: dict, name: str) -> None:
    """An accuracy metric ("accuracy", "acc", CategoricalAccuracy, ...) that reports 0.5 on half-right predictions."""
    accuracies = {key: value for key, value in results.items() if key != "loss" and "acc" in key.lower()}
    if not accuracies:
        others = [key for key in results if key != "loss"]
        listed = f" (your metrics: {others})" if others else ""
        fail(f"{name}: no accuracy metric{listed}: add metrics=[\"accuracy\"] so that fit and evaluate report it.")
    if any(np.isclose(value, 0.5, atol=1e-6) for value in accuracies.values()):
        return
    key, value = next(iter(accuracies.items()))
    metric_class = _metric_class(model, key)
    if metric_class == "Accuracy":
        fail(f"{name}: the metric `{key}` is keras.metrics.Accuracy, which counts predictions exactly equal to the "
             f"labels: a softmax probability never equals a one-hot 1, so it reports {value:g} where half of the "
             "predictions are right. Use metrics=[\"accuracy\"] (the string: Keras then picks the accuracy for "
             "one-hot labels) or keras.metrics.CategoricalAccuracy().")
    described = f"`{key}` ({metric_class})" if metric_class else f"`{key}`"
    fail(f"{name}: the accuracy metric {described} reports {value:g} where half of the predictions are right; use "
         "metrics=[\"accuracy\"] (which matches one-hot labels to the softmax output).")


def _explain_evaluation_failure(model, name: str, error: Exception) -> None:
    """Fails naming the sparse loss or metric that made `evaluate` fail on one-hot labels."""
    compiled = (model.get_compile_config() or {})
    failure = f"evaluating with one-hot labels failed ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
    if "sparse" in str(compiled.get("loss")).lower():
        fail(f"{name}: {failure}. With one-hot labels the loss is \"categorical_crossentropy\"; "
             "\"sparse_categorical_crossentropy\" expects integer labels.")
    metrics = [entry.get("class_name", entry) if isinstance(entry, dict) else entry
               for entry in compiled.get("metrics") or []]
    if "sparse" in str(metrics).lower():
        fail(f"{name}: {failure}. Your metrics are {metrics}: a sparse accuracy expects integer labels. With one-hot "
             "labels use metrics=[\"accuracy\"] or keras.metrics.CategoricalAccuracy().")
    fail(f"{name}: {failure}. With one-hot labels use loss=\"categorical_crossentropy\" and metrics=[\"accuracy\"].")


def _check_compile(compile_model) -> None:
    """Adam with a cosine decay, categorical cross-entropy on probabilities, and accuracy, on a constructed model."""
    name = getattr(compile_model, "__name__", "your function")
    keras.backend.clear_session()
    inputs = keras.Input((2,), name="features")
    outputs = layers.Dense(3, activation="softmax", name="probabilities")(inputs)
    model = keras.Model(inputs, outputs)
    returned = call(compile_model, "With a small softmax model, learning_rate=0.01 and steps=40", model, 0.01, 40)
    if returned is not None and returned is not model:
        fail(f"{name} returned a different model; compile the model it receives (and return it, or nothing).")
    if not getattr(model, "compiled", False) or model.optimizer is None:
        fail(f"{name}: the model is not compiled: call `model.compile(optimizer=..., loss=..., metrics=[...])`.")
    _check_optimizer(model.optimizer, name)
    _check_schedule(model.optimizer, name, 0.01, 40)

    loss_config = model.loss.get_config() if isinstance(model.loss, keras.losses.Loss) else {}
    if loss_config.get("from_logits"):
        # Keras' TensorFlow backend quietly undoes this mistake when the softmax is in the graph, so the
        # loss value cannot show it; other backends and eager code compute a wrong loss.
        fail(f"{name}: the loss treats the model's softmax probabilities as logits (from_logits=True). The "
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
        _explain_evaluation_failure(model, name, error)
    loss = results.get("loss")
    if loss is None or not np.isclose(loss, expected_loss, rtol=1e-3):
        from_logits = float(keras.ops.convert_to_numpy(keras.losses.categorical_crossentropy(
            one_hot, probabilities[None].repeat(4, 0), from_logits=True)).mean())
        if loss is not None and np.isclose(loss, from_logits, rtol=1e-3):
            fail(f"{name}: the loss treats the model's softmax probabilities as logits (from_logits=True). The "
                 "model already ends in a softmax: use from_logits=False, the default.")
        fail(f"{name}: on predictions (0.7, 0.2, 0.1) and labels (0, 0, 1, 2) the loss is {loss}, but categorical "
             f"cross-entropy gives {expected_loss:.4f}. Use loss=\"categorical_crossentropy\".")
    _check_accuracy(model, results, name)


def check_training_setup(prepare_data, compile_model) -> None:
    """Checks the chapter-6 exercise: preparing images and labels, and compiling a classifier.

    Args:
        prepare_data: `my_prepare_data(images, labels, num_classes)` returning `(x, y)`: float pixels in
            [0, 1] (divided by 255) and one-hot labels of shape (n, num_classes).
        compile_model: `my_compile_model(model, learning_rate, steps)`, compiling `model` with Adam and a
            cosine decay from `learning_rate` to 0 over `steps` steps, categorical cross-entropy and accuracy.

    Raises:
        AssertionError: naming the mistake (no normalisation, scaling by the batch's maximum, integer
            labels, a wrong number of classes, another optimizer than Adam, a constant learning rate or
            another schedule than the cosine, the wrong loss or `from_logits`, no accuracy or one that
            counts wrongly), checked on constructed inputs with known answers.
    """
    for function, parameters in ((prepare_data, ("images", "labels", "num_classes")),
                                 (compile_model, ("model", "learning_rate", "steps"))):
        if callable(function):
            check_signature(function, parameters)
    _check_prepare(prepare_data)
    _check_compile(compile_model)
    # Behaviour: the two together train a small softmax classifier on separable points.
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, size=240)
    centres = np.array([[40, 40], [200, 60], [120, 220]])
    points = np.clip(centres[labels] + rng.normal(0, 12, size=(240, 2)), 0, 255).astype(np.uint8)
    x, y = call(prepare_data, "With 240 two-pixel images", points.reshape(240, 1, 1, 2), labels, 3)
    inputs = keras.Input((1, 1, 2))
    hidden = layers.Dense(16, activation="relu")(layers.Flatten()(inputs))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(hidden))
    call(compile_model, "Training a small classifier", model, 0.05, 8 * 8)
    history = model.fit(x, y, batch_size=30, epochs=8, verbose=0)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    if not last < 0.7 * first:
        fail(f"With your preparation and compile set-up a small classifier does not learn three separable "
             f"clusters: the loss went from {first:.3f} to {last:.3f} in 8 epochs.")
    keras.backend.clear_session()
    print(f"Well done: data preparation and compile set-up are right, and a small classifier trained with them "
          f"goes from loss {first:.2f} to {last:.2f}.")
