"""Lesion studies (Veit et al., 2016): delete blocks of a trained network at test time and measure it again.

"Residual networks behave like ensembles of relatively shallow networks" (Veit, Wilber and
Belongie, 2016) deletes residual blocks from trained networks, without retraining, and finds that a
ResNet barely notices the loss of any single block, and degrades smoothly as more go, whereas a
plain network (their VGG) falls to chance. Their reading: a ResNet of n blocks is a collection of
2^n paths of different lengths (`path_length_distribution`), and deleting one block removes only
the half of the paths that pass through it.

What deleting a block means here, for the networks of `resnet_lib.build_network`:

* A **residual block** computes ReLU(shortcut(x) + F(x)). Deleted, it computes ReLU(shortcut(x)):
  its branch F is gone and only the shortcut is left, the identity, or at the first block of
  stages 2 and 3 (the *downsampling* blocks) the parameter-free shortcut (every second pixel, new
  channels zero; `ParameterFreeShortcut`). The block's input comes out of a ReLU (the stem's or
  the previous block's), so it is non-negative, the shortcut keeps it so, and the final ReLU then
  changes nothing: a deleted block passes its input on unchanged (downsampled where the block
  downsamples). This is exactly Veit et al.'s y_i = y_{i-1}.
* A **plain block** computes ReLU(F(x)). It gets the same replacement: the identity, or the
  parameter-free downsampling at the two downsampling blocks (a fresh `ParameterFreeShortcut`,
  which has no weights). Veit et al. delete single layers of VGG, where the shapes allow it; this
  is the same idea in the plain twin of the ResNet, so that both networks lose exactly the same
  layers.

Nothing is retrained or re-estimated: every batch norm keeps the moving statistics it learned in
the intact network, and the network runs in inference mode. The layers after a deleted block
therefore see inputs whose statistics differ from those the batch norms expect; in a ResNet the
difference is one branch's contribution to a sum, in a plain network it is the whole signal.

`delete_blocks` returns a `keras.Model` that shares the trained layers (no copy of a weight).
`single_block_lesions` and `random_lesions` do not build one model per lesion (a new model costs a
new trace of its graph): they run one compiled function in which every block chooses, from a
boolean input, between its own output and its shortcut, which gives the same numbers.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re

import keras
import numpy as np

from resnet_lib.layers import ParameterFreeShortcut
from resnet_lib.validation import check_int, describe

_BLOCK_OUTPUT = re.compile(r"^stage(\d+)_block(\d+)_out$")
_BLOCK_LAYER = re.compile(r"^(stage\d+_block\d+)_")
_BLOCK_NAME = re.compile(r"^stage(\d+)_block(\d+)$")

#: Images per forward pass.
DEFAULT_BATCH_SIZE = 512


@dataclasses.dataclass(frozen=True)
class Block:
    """One block of a `build_network` network.

    Attributes:
        stage: the stage, from 1.
        block: the block within its stage, from 1.
        downsampling: whether the block halves the feature map and widens it (the first block of
            stages 2 and 3), so that deleting it leaves the parameter-free shortcut, not the identity.
    """

    stage: int
    block: int
    downsampling: bool

    @property
    def name(self) -> str:
        """The prefix of the block's layer names, e.g. "stage2_block1"."""
        return f"stage{self.stage}_block{self.block}"


class _Network:
    """The blocks of a `build_network` model and the layers a lesion needs, found and checked once."""

    def __init__(self, model):
        if not isinstance(model, keras.Model):
            raise TypeError(f"`model` must be a keras.Model made by resnet_lib.build_network, received "
                            f"{type(model).__name__}.")
        self.model = model
        names = {layer.name: layer for layer in model.layers}
        found = sorted((int(m[1]), int(m[2])) for m in map(_BLOCK_OUTPUT.match, names) if m)
        required = [name for name in ("stem_conv", "stem_relu", "predictions") if name not in names]
        if not found or required:
            missing = "no layer named stage{s}_block{b}_out" if not found else f"no layer {required[0]!r}"
            raise ValueError(
                f"`model` {model.name!r} is not a network of resnet_lib.build_network ({missing}). Lesions work on "
                "the plain and residual networks of build_network(depth, residual), whose blocks are named "
                "stage{s}_block{b}_*; build the network with it."
            )
        if len(model.inputs) != 1 or len(model.outputs) != 1 or names["stem_conv"].input is not model.inputs[0] \
                or names["predictions"].output is not model.outputs[0]:
            raise ValueError(
                f"`model` {model.name!r} uses the layers of build_network but is not the network they were built in "
                "(a model made by delete_blocks, or one wrapping the network). Pass the original network; to delete "
                "several blocks, name them all in one call: delete_blocks(network, [...])."
            )

        self.blocks, self.entry, self.exit, self.shortcut, self.residual_flags = [], {}, {}, {}, []
        previous = names["stem_relu"]
        for stage, number in found:
            prefix = f"stage{stage}_block{number}"
            entry, exit_layer = names.get(f"{prefix}_conv1"), names[f"{prefix}_out"]
            if entry is None or entry.input is not previous.output:
                raise ValueError(f"`model` {model.name!r}: block {prefix} does not follow the layout of build_network "
                                 f"(its first layer {prefix}_conv1 should take the output of {previous.name}).")
            downsampling = tuple(entry.input.shape[1:]) != tuple(exit_layer.output.shape[1:])
            residual = f"{prefix}_add" in names
            shortcut = names.get(f"{prefix}_shortcut")
            if downsampling and shortcut is None:  # the plain twin: the same parameter-free downsampling
                shortcut = ParameterFreeShortcut(exit_layer.output.shape[-1], entry.strides[0],
                                                 name=f"{prefix}_shortcut")
            block = Block(stage, number, downsampling)
            self.blocks.append(block)
            self.entry[prefix], self.exit[prefix], self.shortcut[prefix] = entry, exit_layer, shortcut
            self.residual_flags.append(residual)
            previous = exit_layer
        if len(set(self.residual_flags)) != 1:
            raise ValueError(f"`model` {model.name!r} mixes residual and plain blocks; build_network makes one or "
                             "the other.")
        self.residual = self.residual_flags[0]
        self.index = {block.name: index for index, block in enumerate(self.blocks)}

    def block_of(self, layer) -> str | None:
        """The name of the block `layer` belongs to, or None for the stem and the head."""
        match = _BLOCK_LAYER.match(layer.name)
        return match[1] if match and match[1] in self.index else None

    def bypass(self, name: str, block_input, options: dict):
        """What block `name` computes once deleted: ReLU(shortcut(x)), the shortcut being the identity or
        the parameter-free downsampling (the ReLU changes nothing: x >= 0)."""
        shortcut = self.shortcut[name]
        x = block_input if shortcut is None else shortcut(block_input, **options)
        return self.exit[name](x, **options)

    def run(self, inputs, *, deleted=frozenset(), select=None, options=None):
        """Runs the model's own layers, in graph order, on `inputs` (symbolic or not).

        Args:
            inputs: a tensor of images.
            deleted: names of blocks to replace by their bypass; their layers are not called.
            select: optional function (block index, block output, bypass) -> tensor used for every
                block that is not deleted (the compiled lesions choose with it).
            options: keyword arguments of every layer call (e.g. training=False).
        """
        options = options or {}
        tensors = {id(self.model.inputs[0]): inputs}
        for layer in self.model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            block = self.block_of(layer)
            if block in deleted:
                if layer is self.exit[block]:
                    tensors[id(layer.output)] = self.bypass(block, tensors[id(self.entry[block].input)], options)
                continue
            output = layer(keras.tree.map_structure(lambda t: tensors[id(t)], layer.input), **options)
            if select is not None and block is not None and layer is self.exit[block]:
                output = select(self.index[block], output, self.bypass(block, tensors[id(self.entry[block].input)],
                                                                       options))
            tensors[id(layer.output)] = output
        return tensors[id(self.model.outputs[0])]

    def valid_names(self) -> str:
        """The block names, compactly: "stage1_block1 to stage1_block3, stage2_block1 to ...". """
        stages = {}
        for block in self.blocks:
            stages.setdefault(block.stage, []).append(block.name)
        return ", ".join(names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}" for names in stages.values())

    def parse(self, requested) -> list[str]:
        """The names of the blocks `requested` names, in network order; ValueError for anything else."""
        usage = 'Name blocks as "stage2_block3" or (2, 3), in a list: delete_blocks(model, ["stage2_block3", (3, 1)]).'
        if isinstance(requested, (str, Block)) or (
                isinstance(requested, tuple) and len(requested) == 2 and all(isinstance(v, int) for v in requested)):
            requested = [requested]  # one block
        if not hasattr(requested, "__iter__"):
            raise ValueError(f"`blocks` must be a list of blocks, received {describe(requested)}. {usage}")
        names = []
        for entry in requested:
            name = self._name_of(entry, usage)
            if name in names:
                raise ValueError(f"`blocks` names {name} more than once; name each block once.")
            names.append(name)
        return sorted(names, key=self.index.__getitem__)

    def _name_of(self, entry, usage: str) -> str:
        if isinstance(entry, Block):
            name = entry.name
        elif isinstance(entry, str):
            if not _BLOCK_NAME.match(entry):
                raise ValueError(f"`blocks` holds {entry!r}, which is not a block name. {usage} "
                                 f"Valid blocks of {self.model.name!r}: {self.valid_names()}.")
            name = entry
        elif (isinstance(entry, (tuple, list)) and len(entry) == 2
              and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in entry)):
            name = f"stage{int(entry[0])}_block{int(entry[1])}"
        else:
            raise ValueError(f"`blocks` holds {entry!r}, which is neither a name nor a (stage, block) pair. {usage}")
        if name not in self.index:
            raise ValueError(f"`blocks` names {name}, which {self.model.name!r} does not have. Valid blocks: "
                             f"{self.valid_names()}.")
        return name


def blocks(model: keras.Model) -> list[Block]:
    """The blocks of a `build_network` network, input to output.

    Args:
        model: a plain or residual network of `resnet_lib.build_network`.

    Returns:
        One `Block` (stage, block, downsampling; `.name` is e.g. "stage2_block1") per block: (depth - 2) / 2 of them.

    Raises:
        TypeError: `model` is not a keras.Model.
        ValueError: `model` is not a network of `build_network` (e.g. ResNet50, or a model made by
            `delete_blocks`); the message says why.
    """
    return list(_Network(model).blocks)


def delete_blocks(model: keras.Model, blocks) -> keras.Model:
    """The network with the given blocks replaced by their shortcuts (see the module's docstring).

    The new model calls the trained model's own layers again, in graph order, on a new input: the
    weights are shared, not copied (training one trains the other). The blocks that are deleted
    leave their layers out; the plain network's downsampling blocks are replaced by a new
    `ParameterFreeShortcut` (which has no weights).

    Args:
        model: a plain or residual network of `resnet_lib.build_network`, the original one (not a
            model returned by this function: name all the blocks to delete in one call).
        blocks: the blocks to delete: a list of names ("stage2_block3") or (stage, block) pairs or
            `Block`s, or a single one of these; an empty list deletes nothing.

    Returns:
        A `keras.Model` mapping the same images to the same number of class probabilities, named
        `<model name>_lesioned`.

    Raises:
        TypeError: `model` is not a keras.Model.
        ValueError: `model` is not a network of `build_network`; or `blocks` names a block that
            does not exist, names one twice, or is not a list of names or pairs. The message lists
            the valid blocks.
    """
    from resnet_lib.models import _recursion_limit_at_least

    network = _Network(model)
    deleted = frozenset(network.parse(blocks))
    inputs = keras.Input(shape=model.inputs[0].shape[1:], name="input_layer")
    with _recursion_limit_at_least(4 * len(model.layers) + 100):
        outputs = network.run(inputs, deleted=deleted)
        return keras.Model(inputs, outputs, name=f"{model.name}_lesioned")


# ---------------------------------------------------------------------------------------------------
# Measuring lesions
# ---------------------------------------------------------------------------------------------------


def _compiled_lesion_evaluation(network: _Network, x: np.ndarray, y: np.ndarray, batch_size: int):
    """A function keep -> (mean loss, accuracy) on (x, y), `keep` a boolean array with one entry per
    block (False: deleted); compiled once for every lesion."""
    import tensorflow as tf

    from resnet_lib.landscape import compiled_evaluation

    def forward(images, keep):
        def select(index, output, bypass):
            return tf.where(keep[index], output, bypass)  # picks one of the two, exactly

        return network.run(images, select=select, options={"training": False})

    evaluate = compiled_evaluation(forward, x, y, batch_size, [tf.TensorSpec((len(network.blocks),), tf.bool)])
    return lambda keep: evaluate(tf.constant(np.asarray(keep, dtype=bool)))


def _prepare(model, x, y, batch_size):
    from resnet_lib.training import _check_data

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"Lesion studies need the TensorFlow backend, but Keras uses {keras.backend.backend()!r}.")
    network = _Network(model)
    x, y = _check_data(model, x, y, "x", "y")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    return network, _compiled_lesion_evaluation(network, np.asarray(x, np.float32), y, batch_size)


def single_block_lesions(model: keras.Model, x, y, *, batch_size: int = DEFAULT_BATCH_SIZE) -> dict:
    """Accuracy and loss of the network with each single block deleted (Veit et al., 2016, Figure 3).

    Args:
        model: a trained plain or residual network of `resnet_lib.build_network`.
        x: images, (n, height, width, channels), e.g. the test set.
        y: labels, (n,) integers or (n, classes) one-hot.
        batch_size: images per forward pass.

    Returns:
        {"blocks": [name, ...], "downsampling": [bool, ...], "accuracy": [...], "loss": [...]}, one
        entry per block in network order (the network without that block), plus "intact_accuracy"
        and "intact_loss" of the whole network; accuracies in [0, 1], losses the mean cross-entropy
        (as `model.evaluate` computes it, from the logits behind the softmax).
    """
    network, evaluate = _prepare(model, x, y, batch_size)
    count = len(network.blocks)
    intact_loss, intact_accuracy = evaluate(np.ones(count, bool))
    losses, accuracies = [], []
    for index in range(count):
        keep = np.ones(count, bool)
        keep[index] = False
        loss, accuracy = evaluate(keep)
        losses.append(loss)
        accuracies.append(accuracy)
    return {"blocks": [block.name for block in network.blocks],
            "downsampling": [block.downsampling for block in network.blocks],
            "accuracy": accuracies, "loss": losses,
            "intact_accuracy": intact_accuracy, "intact_loss": intact_loss}


def _check_k_values(k_values, count: int) -> list[int]:
    if isinstance(k_values, (str, bytes)) or not hasattr(k_values, "__iter__"):
        raise ValueError(f"`k_values` must be a list of block counts in 0..{count}, received {describe(k_values)}.")
    checked = []
    for k in k_values:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= count:
            raise ValueError(f"`k_values` must hold whole numbers of blocks in 0..{count} (the network has {count} "
                             f"blocks), received {k!r}.")
        if int(k) in checked:
            raise ValueError(f"`k_values` lists {int(k)} more than once.")
        checked.append(int(k))
    if not checked:
        raise ValueError(f"`k_values` is empty; give the numbers of blocks to delete, e.g. range(0, {count + 1}).")
    return checked


def lesion_subsets(count: int, k: int, samples: int, generator: np.random.Generator) -> tuple[list[tuple], bool]:
    """The sets of `k` of `count` blocks to delete: all of them if there are at most `samples`,
    otherwise `samples` different ones drawn at random from `generator`.

    Returns:
        (subsets, exhaustive): each subset a sorted tuple of block indices; `exhaustive` True when
        every subset of size k is there.
    """
    total = math.comb(count, k)
    if total <= samples:
        return list(itertools.combinations(range(count), k)), True
    chosen = set()
    while len(chosen) < samples:
        chosen.add(tuple(sorted(generator.choice(count, size=k, replace=False).tolist())))
    return sorted(chosen), False


def random_lesions(model: keras.Model, x, y, k_values, samples: int = 20, seed: int = 0, *,
                   batch_size: int = DEFAULT_BATCH_SIZE) -> dict:
    """Accuracy after deleting k blocks at random, for each k (Veit et al., 2016, Figure 5a).

    For each k, `samples` different sets of k blocks are drawn at random (from
    `numpy.random.default_rng(seed)`, for the k values in the order given); where there are no
    more than `samples` such sets, every one of them is evaluated instead (k = 0 is the intact
    network, k = 1 every single block), and the row says `exhaustive`.

    Args:
        model: a trained plain or residual network of `resnet_lib.build_network`.
        x: images, (n, height, width, channels).
        y: labels, (n,) integers or (n, classes) one-hot.
        k_values: the numbers of blocks to delete, each in 0..number of blocks, no repeats.
        samples: sets of blocks per k, at least 1.
        seed: seed of the draws, >= 0.
        batch_size: images per forward pass.

    Returns:
        {"k": [...], "mean": [...], "min": [...], "max": [...], "std": [...] (accuracies over the
        sets), "samples": [sets evaluated], "exhaustive": [bool], "accuracies": [[one per set], ...],
        "num_blocks": int}, one entry per k in the order of `k_values`.
    """
    network, evaluate = _prepare(model, x, y, batch_size)
    count = len(network.blocks)
    k_values = _check_k_values(k_values, count)
    samples = check_int("samples", samples, minimum=1)
    generator = np.random.default_rng(check_int("seed", seed, minimum=0))
    result = {"k": k_values, "mean": [], "min": [], "max": [], "std": [], "samples": [], "exhaustive": [],
              "accuracies": [], "num_blocks": count}
    for k in k_values:
        subsets, exhaustive = lesion_subsets(count, k, samples, generator)
        accuracies = []
        for subset in subsets:
            keep = np.ones(count, bool)
            keep[list(subset)] = False
            accuracies.append(evaluate(keep)[1])
        result["accuracies"].append(accuracies)
        for key, value in (("mean", np.mean(accuracies)), ("min", np.min(accuracies)), ("max", np.max(accuracies)),
                           ("std", np.std(accuracies))):
            result[key].append(float(value))
        result["samples"].append(len(subsets))
        result["exhaustive"].append(exhaustive)
    return result


def path_length_distribution(n: int) -> dict:
    """How many of the 2^n paths through n residual blocks pass through k of the branches (Veit et al., Figure 6a).

    Each block offers two ways, its branch or its shortcut, so there are 2^n paths; C(n, k) of them
    go through exactly k branches (k = 0: the path of shortcuts only). The counts are exact integers
    (`math.comb`); the shares are C(n, k) / 2^n, a binomial distribution with mean n / 2.

    Args:
        n: the number of blocks, >= 0; (depth - 2) / 2 for `build_network(depth)`, e.g. 27 at depth 56.

    Returns:
        {"length": [0, ..., n], "paths": [C(n, 0), ..., C(n, n)] (ints, summing to 2^n),
        "share": [C(n, k) / 2^n, ...] (floats, summing to 1)}.
    """
    n = check_int("n", n, minimum=0)
    paths = [math.comb(n, k) for k in range(n + 1)]
    total = 2**n
    return {"length": list(range(n + 1)), "paths": paths, "share": [count / total for count in paths]}
