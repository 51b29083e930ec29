"""Measuring models: multiply-adds, trainable parameters, layer tables, and randomised batch norms.

The chapters use these to compare blocks and networks by their cost, and to check that two models
compute the same function (which needs batch norms that are not the identity).
"""

from __future__ import annotations

from typing import Callable, Mapping

import keras
import numpy as np

from resnet_lib.validation import check_int

_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def _check_model(model) -> None:
    """Raises unless `model` is a built keras.Model, whose layers have known shapes and weights."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model, received {model!r} of type {type(model).__name__}.")
    if not model.built:
        raise ValueError(
            f"`model` {model.name!r} is not built, so its layers have no shapes or weights yet; give it an "
            "input shape first, e.g. start it with keras.Input((224, 224, 3))."
        )


def _layers(model: keras.Model):
    """Yields (qualified name, layer) for every layer, descending into nested models as "outer/inner"."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            for inner_name, inner_layer in _layers(layer):
                yield f"{layer.name}/{inner_name}", inner_layer
        else:
            yield layer.name, layer


def multiply_adds_per_layer(model: keras.Model) -> dict[str, int]:
    """Multiply-adds of one forward pass of one example, per convolution and dense layer.

    A convolution does one multiply-add per kernel weight for every output position: for a
    `Conv2D` that is H_out * W_out * kh * kw * (C_in / groups) * C_out. A `Dense` layer does
    C_in * C_out per position (a single one for the usual input of shape (batch, C_in)). Biases,
    batch norm, activations, pooling and additions are left out; next to the convolutions they are
    cheap. Layers of nested models are included under the name "outer/inner".

    Args:
        model: a built `keras.Model` whose layers have fixed output shapes (apart from the batch axis).

    Returns:
        {layer name: multiply-adds} for the `Conv1D`, `Conv2D`, `Conv3D` and `Dense` layers of
        `model`, in the order of `model.layers`.

    Raises:
        TypeError: if `model` is not a `keras.Model`.
        ValueError: if `model` is not built, or a counted layer's output shape has an unknown size.
    """
    _check_model(model)
    counts = {}
    for name, layer in _layers(model):
        if not isinstance(layer, (*_CONVOLUTIONS, keras.layers.Dense)):
            continue
        output_shape = tuple(layer.output.shape)
        if getattr(layer, "data_format", "channels_last") == "channels_first":
            positions = output_shape[2:]
        else:
            positions = output_shape[1:-1]
        if None in positions:
            raise ValueError(
                f"`model` layer {name!r} has output shape {output_shape} with unknown sizes; build the model "
                "on a fixed input shape, e.g. keras.Input((224, 224, 3)), to count its multiply-adds."
            )
        counts[name] = int(np.prod(positions, dtype=np.int64)) * int(np.prod(layer.kernel.shape, dtype=np.int64))
    return counts


def multiply_adds(model: keras.Model) -> int:
    """Multiply-adds of one forward pass of one example: the sum of `multiply_adds_per_layer(model)`.

    Args:
        model: a built `keras.Model` whose layers have fixed output shapes (apart from the batch axis).

    Returns:
        The number of multiply-adds of all convolution and dense layers, e.g. 3,857,973,248 for
        ResNet50 on a 224x224x3 image with 1000 classes.

    Raises:
        TypeError: if `model` is not a `keras.Model`.
        ValueError: if `model` is not built, or a counted layer's output shape has an unknown size.
    """
    return sum(multiply_adds_per_layer(model).values())


def trainable_parameters(model: keras.Model) -> int:
    """The number of trainable parameters of `model`: weights that the gradient updates.

    Unlike `model.count_params()`, this leaves out non-trainable weights such as the moving means
    and variances of batch norms, and the weights of frozen layers.

    Args:
        model: a built `keras.Model`.

    Returns:
        The total size of `model.trainable_weights`, e.g. 11,689,512 for `resnet_lib.resnet18()`.

    Raises:
        TypeError: if `model` is not a `keras.Model`.
        ValueError: if `model` is not built.
    """
    _check_model(model)
    return sum(int(np.prod(weight.shape, dtype=np.int64)) for weight in model.trainable_weights)


def randomize_batch_norm(model: keras.Model, seed: int = 0) -> list[str]:
    """Gives every batch norm of `model` random, reproducible scales, shifts and moving statistics.

    A freshly built batch norm (gamma 1, beta 0, moving mean 0, moving variance 1) is almost the
    identity at inference, so a comparison of two models would not notice a batch norm in the wrong
    place. After this call each one draws, per channel, gamma from U(0.5, 1.5), beta from
    N(0, 0.2), the moving mean from N(0, 0.2) and the moving variance from U(0.5, 2.0). Layers built
    with `scale=False` or `center=False` have no gamma or beta and keep none. Batch norms of nested
    models are included.

    Args:
        model: a built `keras.Model`; its batch norms are changed in place.
        seed: a non-negative integer; the same seed gives the same values for the same model.

    Returns:
        The names of the batch-norm layers that were changed, in the order of `model.layers`.

    Raises:
        TypeError: if `model` is not a `keras.Model` or `seed` is not an integer.
        ValueError: if `model` is not built or `seed` is negative.
    """
    _check_model(model)
    random_generator = np.random.default_rng(check_int("seed", seed, minimum=0))
    changed = []
    for name, layer in _layers(model):
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        shape = tuple(layer.moving_mean.shape)
        new_weights = {
            "gamma": random_generator.uniform(0.5, 1.5, shape),
            "beta": random_generator.normal(0.0, 0.2, shape),
            "moving_mean": random_generator.normal(0.0, 0.2, shape),
            "moving_variance": random_generator.uniform(0.5, 2.0, shape),
        }
        for attribute, values in new_weights.items():
            variable = getattr(layer, attribute, None)
            if variable is not None:
                variable.assign(values.astype(variable.dtype))
        changed.append(name)
    return changed


def _layer_type(layer: keras.layers.Layer) -> str:
    """The table's "kind" column: the layer's class, with the kernel size and any stride of a convolution, or an
    activation's function."""
    kind = type(layer).__name__
    if isinstance(layer, _CONVOLUTIONS):
        kind += " " + "x".join(str(size) for size in layer.kernel_size)
        strides = tuple(layer.strides)
        if any(stride != 1 for stride in strides):
            kind += f", stride {strides[0] if len(set(strides)) == 1 else 'x'.join(map(str, strides))}"
    elif isinstance(layer, keras.layers.Activation):
        kind += f" ({layer.get_config()['activation']})"
    return kind


def _output_shape(layer: keras.layers.Layer) -> str:
    shapes = [str(tuple(tensor.shape[1:])) for tensor in keras.tree.flatten(layer.output)]
    return ", ".join(shapes)


def layer_table(
    model: keras.Model, *, extra_columns: Mapping[str, Callable[[keras.layers.Layer], str]] | None = None
) -> str:
    """A text table of `model.layers`: name, kind, output shape and parameters, then the totals.

    The kind is the layer's class, with the kernel size and stride of convolutions
    ("Conv2D 3x3, stride 2") and the function of activations ("Activation (relu)"). Output shapes
    leave out the batch axis. The last line gives the number of parameters and how many of them
    are trainable. Columns are as wide as their longest entry, two spaces apart.

    Args:
        model: a built `keras.Model`.
        extra_columns: {heading: function of a layer returning a string}, columns to add after the
            layer name, e.g. `{"path": lambda layer: "shortcut" if "_0_" in layer.name else "branch"}`.

    Returns:
        The table, one line per layer after a heading line, without a trailing newline.

    Raises:
        TypeError: if `model` is not a `keras.Model`, or `extra_columns` is not a mapping of
            callables.
        ValueError: if `model` is not built.
    """
    _check_model(model)
    extra_columns = {} if extra_columns is None else extra_columns
    if not isinstance(extra_columns, Mapping) or not all(callable(column) for column in extra_columns.values()):
        raise TypeError(
            "`extra_columns` must be a mapping {heading: function of a layer returning a string}, "
            f"received {extra_columns!r}."
        )
    headings = ["layer", *extra_columns, "kind", "output shape", "params"]
    rows = [
        [layer.name, *(str(column(layer)) for column in extra_columns.values()), _layer_type(layer),
         _output_shape(layer), f"{layer.count_params():,}"]
        for layer in model.layers
    ]
    widths = [max(len(row[index]) for row in [headings, *rows]) for index in range(len(headings))]

    def line(cells):
        text = [cell.ljust(width) for cell, width in zip(cells[:-1], widths)]
        return "  ".join([*text, cells[-1].rjust(widths[-1])])

    total = f"total: {model.count_params():,} parameters, of which {trainable_parameters(model):,} trainable"
    return "\n".join([line(headings), *(line(row) for row in rows), total])
