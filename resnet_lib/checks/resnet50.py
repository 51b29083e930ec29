"""The check of the ResNet50 exercise (chapter 5): `check_resnet50`.

It reads the stem layer by layer, the blocks of each stage by their names and the size of the maps
each stage ends with (a stride-2 stage 2, a known error of a blog walkthrough, is named as such),
and the head; then compares the whole graph with `resnet_lib.resnet50` (`match`), the parameter
count, and the predictions with the reference's weights copied in; then that `input_shape` and
`num_classes` are really used.
"""

from __future__ import annotations

import re

import keras
import numpy as np
from keras import layers

from resnet_lib.analysis import randomize_batch_norm
from resnet_lib.checks._compare import match, setting_difference
from resnet_lib.checks._graph import Graph, describe, kind, spatial_size
from resnet_lib.checks._learner import call, check_signature, fail, fresh_session, well_done
from resnet_lib.models import RESNET50_STAGES, resnet50
from resnet_lib.weights import transfer_weights

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


_REFERENCE: list = []  # [(model, its Graph)] once a check has built it


def _reference() -> tuple:
    """`resnet_lib.resnet50(input_shape=(64, 64, 3), num_classes=6)` and its `Graph`, built by the first check
    and kept for the next ones: building it takes about a second, a fifth of a check. A check changes nothing
    in it but its batch-norm weights, which it sets itself (`randomize_batch_norm`, seed 0) before using them."""
    if not _REFERENCE:
        reference = resnet50(input_shape=(64, 64, 3), num_classes=6)
        _REFERENCE.append((reference, Graph(reference, "resnet_lib.resnet50")))
    return _REFERENCE[0]


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
    fresh_session()
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
    reference, reference_graph = _reference()
    if tuple(model.input.shape)[1:] != (64, 64, 3):
        fail(f"{name}: the model's input has shape {tuple(model.input.shape)[1:]}, expected (64, 64, 3) = input_shape.")
    graph = Graph(model, name)
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
    fresh_session()
    # Only this second model's shapes are read: built in a StatelessScope, its layers create their weights without
    # drawing their 23.6 million initial values (0.4 s of a check).
    with keras.StatelessScope():
        other = call(function, "With input_shape=(32, 32, 1), num_classes=3", (32, 32, 1), 3)
    if not isinstance(other, keras.Model) or tuple(other.input.shape)[1:] != (32, 32, 1) or other.output.shape[-1] != 3:
        fail(f"{name}: with input_shape=(32, 32, 1) and num_classes=3 the model must take 32x32x1 images and "
             "output 3 probabilities: use the arguments instead of fixed numbers.")
    keras.backend.clear_session()
    well_done(f"{name} builds ResNet50 with {reference.count_params():,} parameters, the library's layers and "
              "stage sizes, and the same predictions.")


__all__ = ["check_resnet50"]
