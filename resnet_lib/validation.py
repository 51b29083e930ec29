"""Argument checks shared by the library: loud, specific errors for bad input.

Every message names the argument, shows the value received and, where there is one, says how to
fix it.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import keras


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
