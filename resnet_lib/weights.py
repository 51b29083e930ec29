"""Moving weights between our ResNet50 and `keras.applications.ResNet50`."""

from __future__ import annotations

import os

import keras
import numpy as np

from resnet_lib._network import socket_timeout


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights could not be obtained (no network, or no such file)."""


def transfer_weights(source: keras.Model, target: keras.Model, *, skip=()) -> list[str]:
    """Copies every weight of `source` into the layer of the same name in `target`.

    Both models must have the same weighted layers under the same names with the same weight
    shapes, as `keras.applications.ResNet50` and `resnet_lib.resnet50` do. Batch-norm moving means
    and variances are weights too, so they are copied as well. Nothing is matched by position and
    nothing is skipped silently: any layer without a twin raises.

    Args:
        source: the model to copy from, e.g. `keras.applications.ResNet50(...)`.
        target: the model to copy into, e.g. `resnet_lib.resnet50(...)`.
        skip: names of layers to leave alone in both models (e.g. `("predictions",)` when the
            classifiers differ in their number of classes).

    Returns:
        The names of the layers whose weights were copied, in `target`'s order.

    Raises:
        TypeError: if `source` or `target` is not a `keras.Model`.
        ValueError: if a weighted layer has no twin of the same name, or weight shapes differ.
    """
    for argument, model in (("source", source), ("target", target)):
        if not isinstance(model, keras.Model):
            raise TypeError(f"`{argument}` must be a keras.Model, received {type(model).__name__}.")
    skip = set([skip] if isinstance(skip, str) else skip)

    def weighted_layers(model):
        return {layer.name: layer for layer in model.layers if layer.weights and layer.name not in skip}

    source_layers, target_layers = weighted_layers(source), weighted_layers(target)
    problems = [f"layer {n!r} of `target` has no twin in `source`" for n in target_layers if n not in source_layers]
    problems += [f"layer {n!r} of `source` has no twin in `target`" for n in source_layers if n not in target_layers]
    for layer_name in target_layers.keys() & source_layers.keys():
        source_shapes = [tuple(w.shape) for w in source_layers[layer_name].weights]
        target_shapes = [tuple(w.shape) for w in target_layers[layer_name].weights]
        if source_shapes != target_shapes:
            problems.append(f"layer {layer_name!r}: weight shapes {source_shapes} in `source` vs {target_shapes} in `target`")
    if problems:
        shown = "\n  ".join(sorted(problems)[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise ValueError(
            f"transfer_weights: `source` ({source.name}) and `target` ({target.name}) do not match; "
            f"{len(problems)} problem(s):\n  {shown}{more}\n"
            "Build both with the same input shape and layer names, and pass `skip=` for layers that "
            "differ on purpose (e.g. skip=('predictions',) for a new classifier)."
        )

    copied = []
    for layer_name, layer in target_layers.items():
        layer.set_weights([np.asarray(w) for w in source_layers[layer_name].get_weights()])
        copied.append(layer_name)
    return copied


def load_pretrained_resnet50(weights, *, input_shape, include_top: bool, timeout: float = 30.0) -> keras.Model:
    """Builds `keras.applications.ResNet50` with pretrained weights, failing loudly and quickly.

    Args:
        weights: `"imagenet"` (Keras downloads the file once into ~/.keras/models and reuses it),
            or a path to a weights file of `keras.applications.ResNet50`: with the classifier when
            `include_top`, without it (the `..._notop.h5` file) otherwise.
        input_shape: (height, width, channels) of the model the weights are for; channels must be 3.
        include_top: whether the 1000-class classifier is part of the model.
        timeout: seconds to wait on the network before giving up.

    Raises:
        ValueError: for a `weights` value that is neither "imagenet" nor a path, or a non-RGB input.
        WeightsUnavailableError: when the download fails (e.g. offline) or the file does not exist.
    """
    if not (weights == "imagenet" or isinstance(weights, (str, os.PathLike))):
        raise ValueError(
            f'`weights` must be None, "imagenet" or the path to a ResNet50 weights file, received {weights!r}.'
        )
    if input_shape[-1] != 3:
        raise ValueError(f"Pretrained ResNet50 weights expect 3 input channels, but `input_shape` is {tuple(input_shape)}.")
    if weights != "imagenet" and not os.path.isfile(weights):
        raise WeightsUnavailableError(f"`weights` file {os.fspath(weights)!r} does not exist.")

    # The weights do not depend on the image size (convolutions, then global pooling), so the
    # source is always built at the size the ImageNet weights were trained at.
    try:
        with socket_timeout(timeout):
            return keras.applications.ResNet50(weights=weights, include_top=include_top, input_shape=(224, 224, 3))
    except Exception as error:  # Keras reports download failures with a bare Exception.
        if weights != "imagenet":
            raise
        raise WeightsUnavailableError(
            "Could not download the ImageNet weights of ResNet50 (this needs internet access, e.g. in "
            f"Colab): {error}. Either run this where the internet is reachable, or download "
            "'resnet50_weights_tf_dim_ordering_tf_kernels"
            f"{'' if include_top else '_notop'}.h5' from the Keras applications release elsewhere and pass "
            "its path as `weights=`."
        ) from error
