"""Reading a functional model's graph for the checks, through Keras' public API only.

`Graph` holds the layers and operations of a functional model and their connections, read from
`model.get_config()` (the functional serialization format: each layer's `inbound_nodes`, whose
tensors name the layer that produced them in `keras_history`), so it does not depend on one
version of Keras. `kind`, `describe` and `settings` say what an operation is, in the words of the
messages and in comparable form.
"""

from __future__ import annotations

import keras
from keras import layers

from resnet_lib.checks._learner import fail

# --------------------------------------------------------------------------------------------
# Kinds, descriptions and settings of layers
# --------------------------------------------------------------------------------------------

#: What a merge other than an addition does with the two tensors it receives.
MERGES = {
    "Concatenate": "it stacks the channels of its inputs side by side (the output has the channels of both) "
                   "instead of adding them",
    "Multiply": "it multiplies its inputs elementwise instead of adding them",
    "Subtract": "it subtracts one input from the other instead of adding them",
    "Average": "it averages its inputs, (F(x) + shortcut) / 2: half the sum",
    "Maximum": "it takes the elementwise maximum of its inputs instead of adding them",
    "Minimum": "it takes the elementwise minimum of its inputs instead of adding them",
}


def kind(operation) -> str:
    """'input', 'conv', 'bn', 'relu', 'add', 'activation NAME' or the class name of anything else."""
    class_name = type(operation).__name__
    if isinstance(operation, layers.InputLayer):
        return "input"
    if isinstance(operation, layers.Conv2D):
        return "conv"
    if isinstance(operation, layers.BatchNormalization):
        return "bn"
    if isinstance(operation, layers.ReLU):
        config = operation.get_config()
        plain = not config.get("negative_slope") and config.get("max_value") is None and not config.get("threshold")
        return "relu" if plain else "ReLU with settings"
    if isinstance(operation, layers.Activation):
        activation = getattr(operation.activation, "__name__", str(operation.activation))
        return "relu" if activation == "relu" else f"activation {activation}"
    if class_name == "Add":  # layers.Add, layers.add and keras.ops.add / `+`
        return "add"
    if class_name == "Relu":  # keras.ops.relu
        return "relu"
    return class_name


def describe(operation) -> str:
    """E.g. "`conv3_block2_2_conv` (Conv2D, 12 filters, 3x3, stride 1, padding "same")"."""
    operation_kind = kind(operation)
    if operation_kind == "conv":
        k, s = operation.kernel_size, operation.strides
        return (f"`{operation.name}` (Conv2D, {operation.filters} filters, {k[0]}x{k[1]}, stride {s[0]}, "
                f"padding \"{operation.padding}\")")
    names = {"bn": "batch norm", "relu": "ReLU", "add": "addition", "input": "the block's input"}
    return f"`{operation.name}` ({names.get(operation_kind, operation_kind)})"


def bn_axis(operation) -> int:
    """The axis a batch norm normalises, counted from 0 in a 4-D image tensor (-1 and 3 are both 3)."""
    axis = operation.get_config().get("axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    return axis % 4 if isinstance(axis, int) else axis


def bn_axis_message(owner: str, operation) -> str:
    """The message for a batch norm that does not normalise the channels."""
    axis = operation.get_config().get("axis")
    dimension = {0: "the batch", 1: "the image's rows (its height)", 2: "the image's columns (its width)"}.get(
        bn_axis(operation), f"axis {axis}")
    return (f"{owner}: `{operation.name}` (BatchNormalization) has axis={axis}, which is {dimension}. Batch norm "
            "normalises each channel, and the channels are the last axis: leave the default axis=-1 (or write "
            "axis=3), `layers.BatchNormalization(epsilon=1.001e-5, name=...)`.")


_SETTINGS = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "dilation_rate", "groups", "activation", "use_bias"),
    "BatchNormalization": ("axis", "epsilon", "center", "scale"),
    "ZeroPadding2D": ("padding",),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "GlobalAveragePooling2D": ("keepdims",),
    "Dense": ("units", "activation", "use_bias"),
}


def _plain(value):
    """Lists as tuples (configs differ in which they use) and floats to 4 significant digits."""
    if isinstance(value, (list, tuple)):
        return tuple(_plain(item) for item in value)
    if isinstance(value, float):
        return float(f"{value:.4g}")  # 1.001e-5 and 1.001e-05 are one epsilon; 1e-3 is another
    return value


def settings(operation) -> dict:
    """The settings that change what a layer computes, from its public `get_config()`, in comparable form."""
    if not isinstance(operation, layers.Layer):
        return {}
    class_name = next((c.__name__ for c in type(operation).__mro__ if c.__name__ in _SETTINGS), None)
    if class_name is None:
        return {}
    config = operation.get_config()
    values = {key: _plain(config.get(key)) for key in _SETTINGS[class_name]}
    if class_name == "BatchNormalization":
        values["axis"] = bn_axis(operation)
    if class_name == "Conv2D" and values["kernel_size"] == (1, 1):
        values.pop("padding")  # "same" and "valid" agree for a 1x1 kernel
    if class_name.endswith("Pooling2D") and "strides" in values and values["strides"] is None:
        values["strides"] = values["pool_size"]
    return values


# --------------------------------------------------------------------------------------------
# The graph of a functional model
# --------------------------------------------------------------------------------------------

def _endpoint(value) -> str:
    """The layer name of `input_layers` / `output_layers`: [name, node, tensor], or a list of those."""
    return value[0] if isinstance(value[0], str) else value[0][0]


def _sources(argument, tensors: list, loose_layers: list) -> None:
    """Collects the tensors (`keras_history` entries) and the layer objects serialized in a call's arguments."""
    if isinstance(argument, (list, tuple)):
        for item in argument:
            _sources(item, tensors, loose_layers)
    elif isinstance(argument, dict):
        if argument.get("class_name") == "__keras_tensor__":
            tensors.append(argument["config"]["keras_history"][0])
        elif "class_name" in argument and "layers" in str(argument.get("module", "")):
            loose_layers.append(argument.get("config", {}).get("name", argument["class_name"]))
        else:
            for item in argument.values():
                _sources(item, tensors, loose_layers)


def _topological(parent_names: dict, by_name: dict, output) -> list:
    """The operations that lead to `output`, each after its inputs (inputs visited in argument order)."""
    order, seen, stack = [], set(), [(output.name, False)]
    while stack:
        name, expanded = stack.pop()
        if expanded:
            order.append(by_name[name])
        elif name not in seen:
            seen.add(name)
            stack.append((name, True))
            stack.extend((parent, False) for parent in reversed(parent_names[name]) if parent not in seen)
    return order


_EXAMPLES = {
    "bn": "`layers.BatchNormalization(epsilon=1.001e-5, name=...)(x)` once per convolution",
    "relu": "`layers.Activation(\"relu\", name=f\"{prefix}_1_relu\")(x)` after each batch norm, and "
            "`layers.Activation(\"relu\", name=f\"{prefix}_out\")(x)` after the addition",
    "conv": "`layers.Conv2D(filters1, 1, name=f\"{prefix}_1_conv\")(x)` for each convolution",
}


class Graph:
    """The layers and operations of a functional model, connected as `model.get_config()` describes them.

    Operations are the model's own objects (`model.operations`); connections come from the
    serialization format, which Keras keeps stable for saving models. Building a graph fails (with a
    message for `owner`) if a layer object is used more than once, or is passed to a layer without
    having been applied.

    Attributes:
        model: the model.
        input: its input layer.
        output: the operation that computes its output.
        order: the operations that lead to the output, each after its inputs.
    """

    def __init__(self, model: keras.Model, owner: str):
        self.model = model
        try:
            config = model.get_config()
            entries = config["layers"]
            inbound = {entry["name"]: entry["inbound_nodes"] for entry in entries}
        except Exception as error:  # noqa: BLE001
            fail(f"{owner}: cannot read the model's layers ({type(error).__name__}: {str(error)[:200]}). Build it "
                 "with the functional API: layers called on tensors, then `keras.Model(inputs, outputs)`.")
        self.by_name = {operation.name: operation for operation in model.operations}
        self.parent_names: dict[str, list[str]] = {}
        for name, calls in inbound.items():
            operation = self.by_name[name]
            if len(calls) > 1 and kind(operation) != "input":
                example = _EXAMPLES.get(kind(operation), f"`layers.{type(operation).__name__}(...)(x)` at each place")
                fail(f"{owner}: the layer `{name}` ({type(operation).__name__}) is used {len(calls)} times. Every "
                     f"position needs a layer of its own, with its own name: create a new layer each time, e.g. "
                     f"{example}.")
            tensors, loose_layers = [], []
            if calls:
                _sources(calls[0], tensors, loose_layers)
            if loose_layers:
                fail(f"{owner}: the layer `{loose_layers[0]}` is created but never applied: it is passed to "
                     f"`{name}` ({type(operation).__name__}) as a layer object instead of a tensor. Call each "
                     "layer on its input: `x = layers.Conv2D(...)(x)`, not `x = layers.Conv2D(...)`.")
            self.parent_names[name] = tensors
        self.input = self.by_name[_endpoint(config["input_layers"])]
        self.output = self.by_name[_endpoint(config["output_layers"])]
        self.order = _topological(self.parent_names, self.by_name, self.output)
        self.child_names: dict[str, list[str]] = {operation.name: [] for operation in self.order}
        for operation in self.order:
            for parent in self.parent_names[operation.name]:
                self.child_names.setdefault(parent, []).append(operation.name)

    def get(self, name: str):
        """The operation called `name`, or None."""
        return self.by_name.get(name)

    def parents_of(self, operation) -> list:
        """The operations whose outputs `operation` receives, in the order of its arguments."""
        return [self.by_name[name] for name in self.parent_names.get(operation.name, [])]

    def children_of(self, operation) -> list:
        """The operations that receive `operation`'s output."""
        return [self.by_name[name] for name in self.child_names.get(operation.name, [])]

    def chain(self, operation, stop=()) -> tuple[list, object]:
        """Follows single-input layers back from `operation` (included); returns (layers in forward order, start)."""
        path = []
        stop_names = {o.name for o in stop}
        while kind(operation) != "input" and operation.name not in stop_names:
            parents = self.parents_of(operation)
            if len(parents) != 1:
                break
            path.append(operation)
            operation = parents[0]
        return path[::-1], operation

    def forward_chain(self, operation) -> list:
        """The operations after `operation` as long as each has exactly one consumer (`operation` excluded)."""
        path = []
        children = self.children_of(operation)
        while len(children) == 1 and len(self.parents_of(children[0])) == 1:
            path.append(children[0])
            children = self.children_of(children[0])
        return path


def spatial_size(operation) -> str:
    """E.g. "16x16x64", the shape of the operation's output without the batch axis."""
    return "x".join(str(d) for d in tuple(operation.output.shape)[1:])


__all__ = ["MERGES", "Graph", "bn_axis", "bn_axis_message", "describe", "kind", "settings", "spatial_size"]
