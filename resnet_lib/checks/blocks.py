"""The checks of the block exercises: `check_identity_block` (chapter 3), `check_convolutional_block` (chapter 4).

Each builds the learner's block on inputs it chooses itself (filter counts that all differ, so that
swapped filters show; sizes of unknown height and width, so that a padding or stride mistake can be
seen in the graph before Keras refuses to add two tensors), then reads its graph: where the
addition is, which operand is the branch and which the shortcut, the conv -> batch norm -> ReLU
groups of each path with their kernels, strides, padding and filters, and the single ReLU after the
addition. Then it compares the whole graph with `resnet_lib.identity_block` /
`resnet_lib.convolutional_block` (`match`), and checks behaviour: with the reference's weights
copied in, after `analysis.randomize_batch_norm` so that a misplaced batch norm cannot hide, both
compute the same outputs; with its branch silenced, the block computes what its shortcut alone gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from resnet_lib.analysis import randomize_batch_norm
from resnet_lib.blocks import BOTTLENECK_BN_EPSILON, convolutional_block, identity_block
from resnet_lib.checks._compare import match
from resnet_lib.checks._graph import MERGES, Graph, bn_axis, bn_axis_message, describe, kind
from resnet_lib.checks._learner import (
    LearnerCodeFailed,
    Mistake,
    as_output,
    call,
    check_signature,
    fail,
    fresh_session,
    functional_model,
    well_done,
)
from resnet_lib.weights import transfer_weights

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
    position: int  # in the layer names: f"{prefix}_{position}_conv", `_bn`, `_relu` (0: the projection)


#: How messages name the two paths of a block.
_PATH_NAMES = {"branch": "the main path (the branch F)", "projection": "the projection shortcut"}


def _check_path(path, specs, *, path_name: str, name: str, prefix: str, activation_after: list[bool]):
    """Checks a path of conv -> bn [-> relu] groups against `specs`; messages name the layer.

    `path_name` is "branch" or "projection" (see `_PATH_NAMES`).
    """
    where = _PATH_NAMES[path_name]
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
                 f"`layers.BatchNormalization(epsilon=1.001e-5, name=\"{prefix}_{spec.position}_bn\")`.")
        bn = group[1]
        if after.count("bn") > 1:
            fail(f"{name}: {describe(conv)} on {where} is followed by {after.count('bn')} batch norms; one is enough.")
        relus = after.count("relu")
        last = index == len(specs) - 1
        if relu_expected and relus == 0:
            fail(f"{name}: ReLU missing after {describe(bn)} on {where}: add "
                 f"`layers.Activation(\"relu\", name=\"{prefix}_{spec.position}_relu\")`.")
        if not relu_expected and relus:
            if last and path_name == "branch":
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
        _ConvSpec("the first 1x1 convolution", f1, "filters1", 1, "kernel 1x1", stride, None, 1),
        _ConvSpec("the middle convolution", f2, "filters2", kernel_size, "kernel_size", 1, "same", 2),
        _ConvSpec("the last 1x1 convolution", f3, "filters3", 1, "kernel 1x1", 1, None, 3),
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
    fresh_session()
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
    fresh_session()
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
    _check_path(branch_path, _branch_specs(filters, kernel_size, stride), path_name="branch",
                name=name, prefix=prefix, activation_after=[True, True, False])
    if projection:
        if not shortcut_path:
            fail(f"{name}: the shortcut is the identity, but this block changes the shape: it needs a projection, "
                 f"a 1x1 Conv2D with filters3 filters and strides=stride (`{prefix}_0_conv`) followed by batch norm "
                 f"(`{prefix}_0_bn`).")
        spec = _ConvSpec("the projection", filters[2], "filters3", 1, "kernel 1x1", stride, None, 0)
        _check_path(shortcut_path, [spec], path_name="projection", name=name, prefix=prefix,
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
    fresh_session()
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
    order often cannot be built at all: the learner's code raises (`LearnerCodeFailed`). With all three
    filter counts equal it can; if its graph is right there, the filter counts are what is wrong. If it
    raises there too, the first message stands; a mistake found in the graph there is the one to name.
    """
    __tracebackhide__ = True
    name = getattr(function, "__name__", "your block")
    try:
        _check_block_structure(function, channels=channels, filters=(8, 12, 24), **setting)
    except LearnerCodeFailed as mistake:
        try:
            _check_block_structure(function, channels=24, filters=(24, 24, 24), **setting)
        except LearnerCodeFailed:
            raise mistake from None
        except Mistake as structural:
            raise structural from None
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
    well_done(f"{name} matches resnet_lib.identity_block (layers, shapes, parameters and outputs).")


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
    well_done(f"{name} matches resnet_lib.convolutional_block at strides 1 and 2 "
              "(layers, shapes, parameters and outputs).")


__all__ = ["check_convolutional_block", "check_identity_block"]
