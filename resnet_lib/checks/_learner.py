"""Calling the learner's code for the checks: any exception becomes a message that names its cause.

* `check_signature` reads the learner's parameters before anything is called: the checks pass
  arguments by position, so a parameter order such as the deeplearning.ai course's is named first.
* `call` runs the learner's function; any exception becomes an `AssertionError` whose message names
  the cause and the learner's line, never an unrelated traceback. A layer object passed where a
  tensor belongs (`x = layers.Conv2D(...)` without `(x)`) is recognised by the object itself, found
  in the traceback, not by Keras' wording. An exception of the learner's code itself raises
  `LearnerCodeFailed`, so that a check can tell it apart from a mistake it found in the graph.
* `as_output` and `functional_model` accept what the learner returned, or say what is wrong with it.
"""

from __future__ import annotations

import inspect
import textwrap
import traceback

import keras
from keras import layers

# Every failed check raises a plain AssertionError (that is what graders and nbgrader look for).
Mistake = AssertionError


class LearnerCodeFailed(Mistake):
    """The learner's function raised an exception (Keras refused an argument, two shapes, ...).

    Raised by `call` in place of the exception, with a message that names it. A check that builds
    the learner's function on several inputs can catch this type to tell "your code crashed here"
    from a mistake found in the graph, without reading its own messages.
    """


def fresh_session() -> None:
    """Resets Keras' global state (layer-name counters: unnamed layers get predictable names) before a
    check builds a model, without a full garbage collection, which takes about half a second once
    TensorFlow is loaded. A check ends with `keras.backend.clear_session()`, which collects once.
    """
    keras.backend.clear_session(free_memory=False)


def fail(message: str, mistake: type[Mistake] = Mistake):
    """Raises the learner-facing `AssertionError` (or `mistake`, a subclass) with `message`, unchained."""
    __tracebackhide__ = True  # IPython and pytest leave this frame out of tracebacks
    raise mistake(message) from None


#: The width of a chapter's code column on the website: longer printed lines would scroll sideways.
LINE_WIDTH = 88


def well_done(message: str) -> None:
    """Prints a passed check's "Well done: `message`", wrapped to the book's line width."""
    print(textwrap.fill(f"Well done: {message}", LINE_WIDTH, break_on_hyphens=False))


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
        fail(message + ("\nHint: " + hint if hint else ""), LearnerCodeFailed)


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


__all__ = ["LearnerCodeFailed", "Mistake", "as_output", "call", "check_signature", "fail", "fresh_session",
           "functional_model", "well_done"]
