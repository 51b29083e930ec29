"""Argument checks shared by the library: loud, specific errors for bad input.

Every message names the argument, shows the value received and, where there is one, says how to
fix it.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import keras
import numpy as np


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Returns `value` if it is an integer (not a bool) of at least `minimum`.

    Raises:
        TypeError: if `value` is not an integer.
        ValueError: if `value` is below `minimum`.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, received {value!r} of type {type(value).__name__}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be at least {minimum}, received {value!r}.")
    return int(value)


def check_filters(name: str, filters: Any, count: int) -> tuple[int, ...]:
    """Returns `filters` (a list, tuple or 1-D array) as a tuple of `count` positive integers."""
    if hasattr(filters, "tolist") and getattr(filters, "ndim", None) == 1:  # a NumPy array
        filters = filters.tolist()
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence):
        raise TypeError(
            f"`{name}` must be a sequence of {count} positive integers such as (64, 64, 256), "
            f"received {filters!r}."
        )
    if len(filters) != count:
        raise ValueError(f"`{name}` must have {count} entries, received {len(filters)}: {tuple(filters)!r}.")
    return tuple(check_int(f"{name}[{i}]", f, minimum=1) for i, f in enumerate(filters))


def check_kernel_size(name: str, kernel_size: Any) -> int:
    """Returns `kernel_size` if it is a positive odd integer (so that `padding="same"` is symmetric)."""
    kernel_size = check_int(name, kernel_size, minimum=1)
    if kernel_size % 2 == 0:
        raise ValueError(f"`{name}` must be odd so that 'same' padding is symmetric, received {kernel_size}.")
    return kernel_size


def check_image_tensor(name: str, x: Any) -> None:
    """Checks that `x` is a symbolic Keras tensor of shape (batch, height, width, channels)."""
    if not isinstance(x, keras.KerasTensor):
        raise TypeError(
            f"`{name}` must be a symbolic Keras tensor, e.g. `keras.Input((64, 64, 3))` or the output of a "
            f"layer; received {type(x).__name__}. Blocks build models with the Functional API."
        )
    if len(x.shape) != 4:
        raise ValueError(
            f"`{name}` must have rank 4, (batch, height, width, channels); received shape {tuple(x.shape)}."
        )
    if x.shape[-1] is None:
        raise ValueError(f"`{name}` must have a known channel count; received shape {tuple(x.shape)}.")
    if keras.config.image_data_format() != "channels_last":
        raise ValueError(
            "resnet_lib builds channels-last models, but keras.config.image_data_format() is "
            f"{keras.config.image_data_format()!r}; call keras.config.set_image_data_format('channels_last')."
        )


def check_input_shape(name: str, input_shape: Any, *, min_size: int) -> tuple[int, int, int]:
    """Returns `input_shape` as (height, width, channels), each a positive integer, height/width >= min_size."""
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise TypeError(
            f"`{name}` must be a tuple (height, width, channels) such as (64, 64, 3), received {input_shape!r}."
        )
    if len(input_shape) != 3:
        raise ValueError(
            f"`{name}` must have rank 3, (height, width, channels) without the batch axis; received "
            f"{tuple(input_shape)!r} of length {len(input_shape)}."
        )
    height, width, channels = (check_int(f"{name}[{i}]", v, minimum=1) for i, v in enumerate(input_shape))
    if height < min_size or width < min_size:
        raise ValueError(
            f"`{name}` must be at least {min_size}x{min_size} pixels, received {height}x{width}: the network "
            f"halves the feature map several times. Resize your images (e.g. load_dataset(..., image_size={min_size}))."
        )
    return height, width, channels


def describe(value: Any) -> str:
    """A short description of `value` for error messages: "an ndarray of shape (360, 32, 32, 3)", "a list of 3 items"."""
    if value is None:
        return "None"
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" or kind == "ndarray" else "a"
    if isinstance(value, (list, tuple, dict)):
        return f"{article} {kind} of {len(value)} item{'' if len(value) == 1 else 's'}"
    shape = getattr(value, "shape", None)
    if shape is not None:
        try:
            return f"{article} {kind} of shape {tuple(shape)}"
        except TypeError:  # a shape that is not iterable
            pass
    return f"{article} {kind}"


_IMAGES = "images of shape (n, height, width, channels)"


def check_numeric_array(name: str, value: Any, expected: str, *, ragged_hint: str = "") -> np.ndarray:
    """Returns `value` as a NumPy array of booleans, integers or floats (no copy if it already is one).

    Args:
        name: the argument's name, for the message.
        value: what the caller passed.
        expected: what the array should hold, e.g. "images of shape (n, height, width, channels)".
        ragged_hint: a sentence added when `value` is ragged (items of different shapes), saying
            how to fix it.

    Raises:
        ValueError: if `value` cannot be made into one array (ragged nesting) or its dtype is not
            numeric (object, strings, complex numbers).
    """
    hint = f" {ragged_hint}" if ragged_hint else ""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # NumPy refuses ragged nesting
        raise ValueError(
            f"`{name}` must be a numeric array of {expected}, but {describe(value)} could not be made into one "
            f"array: its items differ in shape or type.{hint}"
        ) from error
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"`{name}` must be a numeric array of {expected}, received {describe(value)} and dtype {array.dtype}."
            + (hint if array.dtype == object else "")
        )
    return array


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def check_images(name: str, images: Any, *, input_shape: Sequence | None = None) -> np.ndarray:
    """Returns `images` as a non-empty, finite, numeric array of shape (n, height, width, channels).

    Args:
        name: the argument's name, for the message.
        images: what the caller passed.
        input_shape: if given, (height, width, channels) the images must have; `None` entries
            match any size (e.g. a model's input shape without the batch axis).

    Raises:
        ValueError: naming `name`, for anything else.
    """
    array = check_numeric_array(
        name, images, _IMAGES,
        ragged_hint="Are the images of different sizes? Resize them to one size and stack them with np.stack.",
    )
    if array.ndim != 4:
        hint = " Add a channel axis with x[..., None]." if array.ndim == 3 else ""
        raise ValueError(f"`{name}` must be {_IMAGES}, received shape {array.shape}.{hint}")
    if len(array) == 0:
        raise ValueError(f"`{name}` holds no images (shape {array.shape}); pass at least one.")
    if input_shape is not None and any(
        expected is not None and expected != actual for expected, actual in zip(input_shape, array.shape[1:])
    ):
        expected_shape = tuple(input_shape)
        raise ValueError(
            f"`{name}` holds images of shape {array.shape[1:]}, but the model takes {expected_shape}. Resize them "
            "(e.g. load_dataset(..., image_size=..., channels=...)) or build the model for your images."
        )
    if array.dtype.kind == "f" and not np.isfinite(np.sum(array, dtype=np.float64)):
        index = _first(~np.isfinite(array.reshape(len(array), -1)).all(axis=1))
        raise ValueError(f"`{name}` must hold finite pixel values, found NaN or infinity in image {index}.")
    return array


def check_labels(name: str, labels: Any, *, num_classes: int | None = None) -> np.ndarray:
    """Returns `labels` as an array of integer class labels, (n,), or one-hot rows, (n, classes).

    Integer labels may be stored as floats if they are whole numbers (3.0); one-hot rows may also
    be soft labels, as long as they are non-negative and sum to 1.

    Args:
        name: the argument's name, for the message.
        labels: what the caller passed.
        num_classes: the model's number of outputs, if known: integer labels must lie in
            0..num_classes - 1 and one-hot rows must be num_classes wide.

    Raises:
        ValueError: naming `name`, the offending value and its index.
    """
    forms = "integer class labels of shape (n,) or one-hot labels of shape (n, classes)"
    array = check_numeric_array(
        name, labels, forms, ragged_hint="Give every image one integer label, or every image a one-hot row."
    )
    if array.ndim not in (1, 2):
        raise ValueError(f"`{name}` must be {forms}, received shape {array.shape}.")
    if len(array) == 0:
        raise ValueError(f"`{name}` holds no labels (shape {array.shape}); pass one per image.")
    outputs = f" (the model has {num_classes} outputs)" if num_classes is not None else ""

    if array.ndim == 1:
        values = f"in 0..{num_classes - 1}" if num_classes is not None else ">= 0"
        not_whole = ~np.isfinite(array) | (array != np.round(array)) if array.dtype.kind == "f" else None
        bad = array < 0
        if num_classes is not None:
            bad |= array >= num_classes
        if not_whole is not None:
            bad |= not_whole
        if bad.any():
            index = _first(bad)
            hint = ""
            whole = not_whole is None or not not_whole.any()
            if num_classes is not None and whole and array.min() == 1 and array.max() == num_classes:
                hint = f" The labels run 1..{num_classes}: subtract 1 so that they count from 0."
            raise ValueError(
                f"`{name}` must hold integer class labels {values}{outputs}, found {array[index].item()!r} at "
                f"index {index}.{hint}"
            )
        return array

    width = array.shape[1]
    if num_classes is not None and width != num_classes:
        if width == 1:
            hint = "Integer labels of shape (n, 1) must be flattened to (n,): y.reshape(-1)."
        else:
            hint = f"One-hot labels need one column per class: keras.utils.to_categorical(labels, {num_classes})."
        raise ValueError(
            f"`{name}` holds one-hot labels {width} wide (shape {array.shape}), but the model has {num_classes} "
            f"outputs. {hint}"
        )
    rows = array.astype(np.float64, copy=False)
    bad = ~np.isfinite(rows).all(axis=1) | (rows < 0).any(axis=1) | (np.abs(rows.sum(axis=1) - 1) > 1e-3)
    if bad.any():
        index = _first(bad)
        row = np.array2string(array[index], threshold=12, precision=3)
        raise ValueError(f"`{name}` must hold one-hot rows, non-negative and summing to 1, found {row} at index {index}.")
    return array
