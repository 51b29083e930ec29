"""The engine behind `resnet_lib.checks`: calling the learner's code, reading a model's graph, comparing graphs.

Three parts, each used by every check:

* **Calling the learner's code** (`check_signature`, `call`, `as_output`, `functional_model`): any
  exception becomes an `AssertionError` whose message names the cause and the learner's line,
  never an unrelated traceback. A layer object passed where a tensor belongs (`x = layers.Conv2D(...)`
  without `(x)`) is recognised by the object itself, found in the traceback, not by Keras' wording.
* **The graph** (`Graph`): the layers and operations of a functional model and their connections,
  read from `model.get_config()` (the functional serialization format: each layer's `inbound_nodes`,
  whose tensors name the layer that produced them in `keras_history`). Only Keras' public API is
  used, so the engine does not depend on one version of Keras.
* **Comparison** (`match`): pairs the learner's graph with the reference's by connectivity (each
  operation's inputs, as a set for an addition), kind, settings and names; the order in which the
  layers were created and the order of an addition's operands do not matter.
"""

from __future__ import annotations

import inspect
import traceback

import keras
from keras import layers

# Every failed check raises a plain AssertionError (that is what graders and nbgrader look for).
Mistake = AssertionError


def fail(message: str):
    """Raises the learner-facing `AssertionError` with `message`, without the chained exception."""
    __tracebackhide__ = True  # IPython and pytest leave this frame out of tracebacks
    raise Mistake(message) from None


# --------------------------------------------------------------------------------------------
# Calling the learner's code
# --------------------------------------------------------------------------------------------

#: Other names a learner may give each of the book's parameters; a name of another role shows a
#: parameter in the wrong position (the checks pass the arguments by position).
PARAMETER_ROLES = {
    "x": {"x", "inputs", "input", "input_tensor", "tensor", "a_prev"},
    "filters": {"filters", "filter", "nb_filter", "nb_filters", "n_filters", "num_filters"},
    "kernel_size": {"kernel_size", "f", "kernel", "k", "ksize"},
    "stride": {"stride", "strides", "s"},
    "stage": {"stage"},
    "block": {"block"},
    "input_shape": {"input_shape", "shape"},
    "num_classes": {"num_classes", "classes", "n_classes", "nb_classes"},
}

#: What the check passes for each of the book's parameters, for messages.
ROLE_DESCRIPTIONS = {
    "x": "the input tensor",
    "filters": "the filter counts, e.g. (8, 12, 24)",
    "kernel_size": "the kernel size, e.g. 3",
    "stride": "the stride",
    "stage": "the stage number",
    "block": "the block number",
}

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _role(parameter_name: str) -> str | None:
    """The book's parameter that `parameter_name` usually stands for, or None."""
    return next((role for role, names in PARAMETER_ROLES.items() if parameter_name.lower() in names), None)


def check_signature(function, book: tuple[str, ...], *, course: tuple[str, ...] | None = None) -> None:
    """Fails if `function` cannot take the book's arguments, by position, in the book's order.

    The checks call the learner's function positionally, so parameter names do not matter; their
    number does, and so do names that reveal another order (e.g. the kernel size first).

    Args:
        function: the learner's function.
        book: the book's parameter names, e.g. `("x", "filters", "kernel_size", "stage", "block")`.
        course: the deeplearning.ai course's parameter names for the same exercise, if it has one;
            a learner who uses them is told that this is the course's order.
    """
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins and some callables have no signature: nothing to check
        return
    name = getattr(function, "__name__", "your function")
    theirs = f"{name}{signature}"
    ours = f"{name}({', '.join(book)})"
    try:
        signature.bind(*book)
    except TypeError:
        fail(f"{name} takes the parameters {theirs}, but the exercise's function is {ours}: the check calls "
             f"it with {len(book)} arguments in this order. Change the first line to `def {ours}:`.")
    positional = [p.name for p in signature.parameters.values() if p.kind in _POSITIONAL][:len(book)]
    roles = [_role(given) if _role(given) in book else None for given in positional]
    # A name of another role is misplaced only if that role's own position does not hold it too
    # (`(x, f, kernel_size, ...)` uses f for the filters; `(X, f, filters, ...)` uses it for the kernel size).
    misplaced = [(given, wanted) for given, role, wanted in zip(positional, roles, book)
                 if role is not None and role != wanted
                 and not (book.index(role) < len(roles) and roles[book.index(role)] == role)]
    if not misplaced:
        return
    given, wanted = misplaced[0]
    wanted = ROLE_DESCRIPTIONS.get(wanted, f"the argument `{wanted}`")
    course_like = course and [p.lower() for p in positional[:len(course)]] == [p.lower() for p in course]
    origin = "the order of the deeplearning.ai course" if course_like else "another order"
    fail(f"{name} takes its parameters in {origin}: {theirs}. This book's exercise is {ours}, and the check "
         f"passes the arguments in that order, so your `{given}` would receive {wanted}. Change the first line "
         f"to `def {ours}:` (the names may differ; the order may not).")


#: Hints for exceptions raised inside the learner's code, keyed by part of the exception's text.
EXCEPTION_HINTS = (
    ("too many positional arguments", "a layer got two tensors as separate arguments. `layers.Add` takes one "
     "argument, a list: `layers.Add(...)([shortcut, x])`."),
    ("takes 2 positional", "`layers.Add` takes one argument, a list: `layers.Add(...)([shortcut, x])`, not two "
     "tensors."),
    ("Inputs have incompatible shapes", "the two tensors you add must have the same shape. Check the strides, the "
     "padding of the middle convolution (`padding=\"same\"`), and that the last convolution has `filters3` filters."),
    ("object is not callable", "a layer must be created and then called: `layers.Conv2D(...)(x)`. Check that every "
     "layer has both pairs of parentheses and that initializers are passed as objects or names."),
    ("already exists", "two layers got the same name: each layer needs its own name, e.g. `conv2_block2_1_bn` "
     "and `conv2_block2_2_bn`."),
    ("must be unique", "two layers got the same name: each layer needs its own name."),
)


def _frames(error: BaseException) -> list:
    """The frames of the exception's traceback, outermost first."""
    frames, entry = [], error.__traceback__
    while entry is not None:
        frames.append(entry.tb_frame)
        entry = entry.tb_next
    return frames


def _values(container, depth: int = 2):
    """The values of a frame's locals, and of the lists, tuples and dicts among them, `depth` levels down."""
    for value in container:
        yield value
        if depth > 1 and isinstance(value, (list, tuple)):
            yield from _values(value, depth - 1)
        elif depth > 1 and isinstance(value, dict):
            yield from _values(value.values(), depth - 1)


def layer_passed_as_tensor(error: BaseException):
    """The layer object that the learner's code passed where Keras expected a tensor, or None.

    Looks for the object itself, not for a wording (which changes between Keras versions): a layer
    among the locals of the traceback's frames (the learner's variables and the arguments the failing
    Keras call received) whose representation, `<Conv2D name=conv1_conv, built=False>`, the exception
    shows as the value it could not use. The layer being called is the `self` of its frame and is
    left out.

    Returns:
        `(layer, applied)`, where `applied` is False for a layer that was never called, or None.
    """
    frames = _frames(error)
    busy = {id(frame.f_locals.get("self")) for frame in frames}
    text = str(error)
    for frame in frames:
        for value in _values(list(frame.f_locals.values())):
            if (isinstance(value, layers.Layer) and not isinstance(value, keras.Model) and id(value) not in busy
                    and repr(value) in text):
                return value, value.built
    return None


def _unapplied_message(name: str, layer, applied: bool, line: str) -> str:
    what = (f"`{layer.name}` ({type(layer).__name__}) is passed on as a layer object where a tensor was expected"
            if applied else f"`{layer.name}` ({type(layer).__name__}) is created but never applied")
    return (f"{name}: {what}{line}: the next layer received the layer itself instead of its output. Create a layer "
            f"and call it on its input in one line, `x = layers.{type(layer).__name__}(...)(x)`, not "
            f"`x = layers.{type(layer).__name__}(...)`.")


def call(function, description: str, *args, **kwargs):
    """Calls the learner's `function`; turns any exception into a message that names the cause.

    Args:
        function: the learner's function.
        description: the inputs, for the message, e.g. "With filters=(8, 12, 24), ...".
        *args: passed on to `function`.
        **kwargs: passed on to `function`.

    Returns:
        What `function` returned.
    """
    if not callable(function):
        fail(f"{description}: expected your function, received {type(function).__name__} {function!r}.")
    name = getattr(function, "__name__", "your function")
    try:
        return function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a message
        where = traceback.extract_tb(error.__traceback__)
        learner_lines = [frame for frame in where if frame.name == name]
        line = f" (line {learner_lines[-1].lineno} of {name})" if learner_lines else ""
        if isinstance(error, NotImplementedError):
            message = f"{name} is not written yet: {error}" if str(error) else (
                f"{name} is not written yet: it still raises NotImplementedError.")
            fail(message + "\nHint: Replace the lines `# YOUR CODE HERE` and `raise NotImplementedError(...)` with "
                 "your code (the `# Hint:` comment above them says where to start), run that cell, then this one.")
        culprit = layer_passed_as_tensor(error)
        if culprit is not None:
            fail(_unapplied_message(name, *culprit, line))
        text = f"{type(error).__name__}: {error}"
        hint = next((hint for key, hint in EXCEPTION_HINTS if key in text), None)
        message = f"{description}: calling {name} raised {text.splitlines()[0][:300]}{line}."
        fail(message + ("\nHint: " + hint if hint else ""))


def as_output(value, name: str, what: str = "the block's output tensor"):
    """Fails unless the learner's function returned one Keras tensor; returns it."""
    if value is None:
        fail(f"{name} returned None: it must return {what}. Did you forget `return x` at the end?")
    if isinstance(value, layers.Layer):
        fail(f"{name} returned a layer ({type(value).__name__}), not a tensor: call the layer on its input, "
             f"e.g. `x = layers.Activation(\"relu\")(x)`, and return the result.")
    if isinstance(value, (tuple, list)):
        fail(f"{name} returned a {type(value).__name__} of {len(value)} items: it must return one tensor, {what}.")
    if not isinstance(value, keras.KerasTensor):
        fail(f"{name} returned {type(value).__name__}, not a Keras tensor: build the block with Keras layers "
             "applied to `x` and return the last one's output.")
    return value


def functional_model(inputs, outputs, name: str) -> keras.Model:
    """`keras.Model(inputs, outputs)`, or a message if the output is not computed from the input."""
    try:
        return keras.Model(inputs, outputs)
    except Exception as error:  # noqa: BLE001
        fail(f"{name}: the returned tensor is not computed from the input `x` ({type(error).__name__}: "
             f"{str(error).splitlines()[0][:200]}). Build every layer on `x` or on tensors computed from it.")


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


# --------------------------------------------------------------------------------------------
# Comparing two graphs
# --------------------------------------------------------------------------------------------

def _same_inputs(kind_name: str, ours: list[str], theirs: list[str]) -> bool:
    return sorted(ours) == sorted(theirs) if kind_name == "add" else ours == theirs


def _listing(names) -> str:
    return " and ".join(f"`{name}`" for name in names) or "nothing"


def setting_difference(owner: str, operation, counterpart) -> str | None:
    """A message naming the first setting in which `operation` differs from `counterpart`, or None."""
    ours, theirs = settings(operation), settings(counterpart)
    for key, value in theirs.items():
        if ours.get(key) != value:
            if key == "axis" and kind(operation) == "bn":
                return bn_axis_message(owner, operation)
            return (f"{owner}: `{operation.name}` ({type(operation).__name__}) has {key}={ours.get(key)!r}; the "
                    f"library's `{counterpart.name}` has {key}={value!r}.")
    return None


class _Matcher:
    """Pairs the operations of `ours` with those of `reference` (see `match`)."""

    def __init__(self, ours: Graph, reference: Graph, owner: str, library: str, naming: str):
        self.ours, self.reference, self.owner, self.library, self.naming = ours, reference, owner, library, naming
        self.pairs = {ours.input.name: reference.input.name}
        self.taken = {reference.input.name}

    def candidates(self, operation, inputs: list[str]) -> list:
        """Unpaired operations of the reference with the same kind and inputs, those with equal settings first."""
        found = [r for r in self.reference.order if r.name not in self.taken and kind(r) == kind(operation)
                 and _same_inputs(kind(r), inputs, self.reference.parent_names[r.name])]
        return sorted(found, key=lambda r: settings(r) != settings(operation))

    def missing_between(self, ours_input: str, reference_input: str) -> list:
        """Reference layers on the single-input chain from `ours_input` to `reference_input`, if there is one."""
        chain, current = [], self.reference.get(reference_input)
        while current is not None and current.name != ours_input and len(chain) < 8:
            chain.append(current)
            parents = self.reference.parents_of(current)
            current = parents[0] if len(parents) == 1 else None
        return chain[::-1] if current is not None else []

    def input_difference(self, operation, counterpart, inputs: list[str]) -> str:
        theirs = self.reference.parent_names[counterpart.name]
        ours_names = [o.name for o in self.ours.parents_of(operation)]
        if len(inputs) == len(theirs) == 1:
            missing = self.missing_between(inputs[0], theirs[0])
            if missing:
                return (f"{self.owner}: {describe(missing[0])} is missing: in {self.library} it comes between "
                        f"`{inputs[0]}` and `{counterpart.name}`, and yours applies `{operation.name}` to "
                        f"`{ours_names[0]}` directly.")
        return (f"{self.owner}: `{operation.name}` receives {_listing(ours_names)}; in {self.library} "
                f"`{counterpart.name}` receives {_listing(theirs)}.")

    def unexpected(self, operation, inputs: list[str]) -> str:
        ours_names = _listing(o.name for o in self.ours.parents_of(operation))
        following = [child for child in self.reference.children_of(self.reference.get(inputs[0]))
                     if child.name not in self.taken] if inputs else []
        there = (f"; there, {_listing(inputs)} feeds {', '.join(describe(c) for c in following)}" if following
                 else "")
        return (f"{self.owner}: {describe(operation)}, applied to {ours_names}, has no counterpart in "
                f"{self.library}{there}.")

    def pair(self, operation) -> None:
        inputs = [self.pairs[parent] for parent in self.ours.parent_names[operation.name]]
        nameable = isinstance(operation, layers.Layer)  # keras.ops operations (and `+`) cannot be named
        counterpart = self.reference.get(operation.name) if nameable else None
        if counterpart is not None and counterpart.name in self.taken:
            counterpart = None
        if counterpart is None:
            found = self.candidates(operation, inputs)
            if not found:
                fail(self.unexpected(operation, inputs))
            counterpart = found[0]
            if nameable:
                fail(f"{self.owner}: your {type(operation).__name__} `{operation.name}` (applied to "
                     f"{_listing(o.name for o in self.ours.parents_of(operation))}) must be named "
                     f"`{counterpart.name}`, as in {self.library}. {self.naming}")
        if kind(operation) != kind(counterpart):
            fail(f"{self.owner}: `{operation.name}` is a {type(operation).__name__} ({kind(operation)}); in "
                 f"{self.library} `{counterpart.name}` is a {type(counterpart).__name__} ({kind(counterpart)}).")
        if not _same_inputs(kind(operation), inputs, self.reference.parent_names[counterpart.name]):
            fail(self.input_difference(operation, counterpart, inputs))
        difference = setting_difference(self.owner, operation, counterpart)
        if difference:
            fail(difference)
        self.pairs[operation.name] = counterpart.name
        self.taken.add(counterpart.name)


def match(ours: Graph, reference: Graph, *, owner: str, library: str, naming: str = "") -> dict[str, str]:
    """Pairs every operation of `ours` with one of `reference`, or fails naming the first difference.

    Operations are visited inputs first, so the first difference found is where the two networks
    part, not one of its consequences. Each operation must have the kind, settings and inputs of its
    counterpart (the inputs of an addition in any order); a Keras layer must also have its name (the
    names are how weights are copied), while a keras.ops operation, which cannot be named, is
    paired by position.

    Args:
        ours: the learner's graph.
        reference: the library's graph.
        owner: the learner's function name, to start messages with.
        library: how to call the reference in messages, e.g. "resnet_lib.resnet50".
        naming: a sentence on the naming scheme, added to messages about a name.

    Returns:
        The reference's name for each of the learner's operations.
    """
    matcher = _Matcher(ours, reference, owner, library, naming)
    for operation in ours.order:
        if operation is not ours.input:
            matcher.pair(operation)
    for counterpart in reference.order:
        if counterpart.name not in matcher.taken:
            fail(f"{owner}: your network has nothing in place of {describe(counterpart)}, which {library} applies to "
                 f"{_listing(reference.parent_names[counterpart.name])}.")
    if matcher.pairs[ours.output.name] != reference.output.name:
        fail(f"{owner}: your model's output is `{ours.output.name}`; in {library} it is `{reference.output.name}`.")
    return matcher.pairs


def spatial_size(operation) -> str:
    """E.g. "16x16x64", the shape of the operation's output without the batch axis."""
    return "x".join(str(d) for d in tuple(operation.output.shape)[1:])


__all__ = ["Graph", "Mistake", "as_output", "bn_axis", "bn_axis_message", "call", "check_signature", "describe",
           "fail", "functional_model", "kind", "match", "setting_difference", "settings", "spatial_size"]
