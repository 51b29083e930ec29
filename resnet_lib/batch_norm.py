"""Fast batch norm without changing the model: the fused kernel in training, folding for inference.

A reader's model keeps Keras' own `BatchNormalization` layers (the same weights, names and saved
files as `keras.applications.ResNet50`); this module only changes how they are computed:

- `batch_norm_kernel(model)` is a context manager in which, on TensorFlow on a CPU, every batch norm of
  `model` trains through TensorFlow's fused kernel (`resnet_lib.layers.fused_training_step`): one kernel
  forward, one backward, instead of Keras' separate moment, scale and shift ops. `resnet_lib.train`
  enters it by default (its argument `batch_norm_kernel`); elsewhere (a GPU, JAX, PyTorch) Keras' own
  layer runs. The two agree to float32 round-off, not bit for bit.
- `fold_batch_norm(model)` is a copy for inference in which each batch norm that follows a convolution
  is folded into that convolution's kernel and bias: one operation instead of two.
- `with_fused_batch_norm(model)` is a copy whose batch norms are `FusedBatchNormalization` layers, for
  code that must carry the fused kernel in the model itself.
"""

from __future__ import annotations

import contextlib
import functools

import keras
import numpy as np

from resnet_lib.layers import (FoldedBatchNormalization, FusedBatchNormalization, fused_training_step, fusion_problem,
                               require_tensorflow_backend)
from resnet_lib.validation import describe

#: The values of `batch_norm_kernel` (and of `resnet_lib.train`'s argument of the same name).
KERNELS = ("auto", "fused", "keras")


def _batch_norms(model: keras.Model) -> list:
    """Every `keras.layers.BatchNormalization` of `model`, nested models included, in layer order."""
    found, stack = [], list(reversed(model.layers))
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        stack.extend(reversed(getattr(layer, "layers", [])))
    return found


def _keras_batch_norms(model: keras.Model) -> list:
    """The batch norms of `model` that compute with Keras' own layer (not already `FusedBatchNormalization`)."""
    return [layer for layer in _batch_norms(model) if not isinstance(layer, FusedBatchNormalization)]


def _input_rank(layer) -> int | None:
    try:
        return len(layer.input.shape)
    except (AttributeError, ValueError):  # never called, or called on several inputs
        return None


def _why_keras() -> str | None:
    """Why `auto` keeps Keras' batch norm here, or None when the fused kernel is the faster choice."""
    if keras.backend.backend() != "tensorflow":
        return f"Keras runs on {keras.backend.backend()!r}; the fused kernel is TensorFlow's"
    import tensorflow as tf

    if tf.config.list_logical_devices("GPU"):
        return "a GPU is visible, where Keras' own layer runs on cuDNN"
    if tf.distribute.has_strategy():
        return "a distribution strategy is in scope"
    return None


def default_kernel() -> str:
    """The kernel "auto" picks for a model whose batch norms can all be fused: "fused" on TensorFlow on a
    CPU, "keras" elsewhere. The experiments store it in their recipes, so results made with one kernel are
    never mixed with results made with the other."""
    return "keras" if _why_keras() else "fused"


def choose_kernel(model: keras.Model, kernel: str = "auto") -> str:
    """The batch-norm kernel `model` trains with: "fused" or "keras".

    Args:
        model: a `keras.Model`.
        kernel: "auto" (the fused kernel on TensorFlow on a CPU, where it is faster; Keras' layer
            elsewhere or when the model has no batch norm the kernel can take), "fused" (insist:
            an error where it cannot run) or "keras".

    Raises:
        ValueError: `kernel` is not one of `KERNELS`; with "fused", the reason it cannot run (another
            backend, no batch norm, a batch norm the kernel cannot take).
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {describe(model)}.")
    if kernel not in KERNELS:
        raise ValueError(f"batch_norm_kernel must be one of {KERNELS}, received {kernel!r}.")
    if kernel == "keras":
        return "keras"
    if kernel == "fused":
        require_tensorflow_backend("batch_norm_kernel='fused'")
    elif _why_keras() is not None:
        return "keras"
    layers = _keras_batch_norms(model)
    problems = [problem for layer in layers if (problem := fusion_problem(layer, _input_rank(layer)))]
    if kernel == "fused" and (problems or not layers):
        reason = "; ".join(problems) if problems else f"model {model.name!r} has no BatchNormalization layer"
        raise ValueError(f"batch_norm_kernel='fused' cannot run: {reason}. Use 'auto' or 'keras'.")
    return "fused" if layers and not problems else "keras"


def _fused_call(layer, keras_call, inputs, training=None, mask=None):
    if training and layer.trainable and mask is None and len(inputs.shape) == 4:
        return fused_training_step(layer, inputs)
    return keras_call(inputs, training=training, mask=mask)


@contextlib.contextmanager
def batch_norm_kernel(model: keras.Model, kernel: str = "auto"):
    """Within the block, `model`'s batch norms train with the kernel `choose_kernel(model, kernel)` picks.

    With "fused", each `keras.layers.BatchNormalization` of the model runs `fused_training_step` when it
    is called in training mode; inference, and everything else about the layer (weights, configuration,
    saving), stays Keras'. The model's compiled training step is dropped on entry and on exit, so that
    `fit` traces it with the kernel in force.

        with resnet_lib.batch_norm.batch_norm_kernel(model) as kernel:
            model.fit(x, y)        # kernel is "fused" on TensorFlow on a CPU

    Args:
        model: a `keras.Model`.
        kernel: "auto", "fused" or "keras" (see `choose_kernel`).

    Yields:
        "fused" or "keras": the kernel in force.
    """
    chosen = choose_kernel(model, kernel)
    if chosen == "keras":
        yield chosen
        return
    patched = _keras_batch_norms(model)
    for layer in patched:
        if "call" in vars(layer):
            raise RuntimeError(f"batch norm {layer.name!r} is already inside a batch_norm_kernel block.")
        layer.call = functools.partial(_fused_call, layer, layer.call)
    model.train_function = None
    try:
        yield chosen
    finally:
        for layer in patched:
            del layer.call
        model.train_function = None


def with_fused_batch_norm(model: keras.Model) -> keras.Model:
    """A copy of `model` whose batch norms are `FusedBatchNormalization` layers; weights copied across.

    Every `keras.layers.BatchNormalization` becomes a `resnet_lib.layers.FusedBatchNormalization` with the
    same configuration and weights; every other layer is cloned as it is. It trains like `model` inside
    `batch_norm_kernel(model, "fused")`; use it where the kernel must travel with the model (a saved
    file then names `FusedBatchNormalization`, which needs resnet_lib to load).

    Args:
        model: a Functional or Sequential Keras model (TensorFlow backend), such as `resnet_lib.resnet50(...)`.

    Returns:
        A new, uncompiled model with the same inputs, outputs, layer names and weights: compile it.

    Raises:
        ValueError: `model` is not a Keras model, Keras does not run on TensorFlow, the model has no batch
            norm, or one of them cannot be fused (see `FusedBatchNormalization`).
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {describe(model)}.")
    require_tensorflow_backend("with_fused_batch_norm")  # before cloning, which would wrap the error in a TypeError
    if not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers):
        raise ValueError(f"model {model.name!r} has no BatchNormalization layer: there is nothing to fuse.")

    def clone(layer):
        if type(layer) is keras.layers.BatchNormalization:
            return FusedBatchNormalization.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    fused = keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        fused.get_layer(layer.name).set_weights(layer.get_weights())
    return fused


def _producer(layer):
    """The layer whose output is `layer`'s only input, or None."""
    nodes = getattr(layer, "_inbound_nodes", [])
    if len(nodes) != 1 or len(nodes[0].input_tensors) != 1:
        return None
    return nodes[0].input_tensors[0]._keras_history.operation


def foldable_pairs(model: keras.Model) -> dict[str, str]:
    """{convolution name: batch norm name} for each batch norm `fold_batch_norm` folds into the convolution before it.

    A pair qualifies when the batch norm normalizes the channels (axis -1) of a `keras.layers.Conv2D`
    without activation, and both are called once, the batch norm being the convolution's only consumer.
    """
    pairs = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization) or layer.axis not in (-1, 3):
            continue  # a Conv2D's output is 4-D: axis 3 is its channels
        conv = _producer(layer)
        if (type(conv) is keras.layers.Conv2D and conv.activation is keras.activations.linear
                and len(conv._inbound_nodes) == 1 and len(conv._outbound_nodes) == 1):
            pairs[conv.name] = layer.name
    return pairs


def folded_weights(conv: keras.layers.Conv2D, norm: keras.layers.BatchNormalization) -> list[np.ndarray]:
    """[kernel, bias] of the convolution that computes `norm(conv(x))` at inference in one step.

    At inference the batch norm is the affine map y = gamma * (z - mean) / sqrt(variance + epsilon) + beta
    of the convolution's output z = x * kernel + bias, so with s = gamma / sqrt(variance + epsilon) per
    output channel: kernel' = kernel * s, bias' = (bias - mean) * s + beta (computed in float64).
    """
    def values(variable, default):
        return np.asarray(variable, dtype=np.float64) if variable is not None else default

    channels = conv.filters
    gamma = values(norm.gamma if norm.scale else None, np.ones(channels))
    beta = values(norm.beta if norm.center else None, np.zeros(channels))
    mean, variance = values(norm.moving_mean, None), values(norm.moving_variance, None)
    bias = values(conv.bias if conv.use_bias else None, np.zeros(channels))
    scale = gamma / np.sqrt(variance + norm.epsilon)
    kernel = np.asarray(conv.kernel, dtype=np.float64) * scale
    dtype = keras.backend.standardize_dtype(conv.kernel.dtype)
    return [kernel.astype(dtype), ((bias - mean) * scale + beta).astype(dtype)]


def fold_batch_norm(model: keras.Model) -> keras.Model:
    """A copy of `model` for inference, each batch norm after a convolution folded into that convolution.

    The copy's convolutions carry the folded kernel and bias (`folded_weights`) and its folded batch
    norms become `resnet_lib.layers.FoldedBatchNormalization` layers of the same name, which pass their input on; every other layer is cloned with its
    weights. Its outputs equal `model(x, training=False)` to float32 round-off, and it infers faster on
    a CPU: one convolution with a bias instead of a convolution and four element-wise passes. It cannot
    train like the original (the batch norms are gone): keep training `model`, fold again afterwards.

    Args:
        model: a Functional or Sequential `keras.Model`, e.g. `resnet_lib.resnet50(...)`.

    Returns:
        A new, uncompiled model with the same inputs and outputs.

    Raises:
        ValueError: `model` is not a Keras model, or has no batch norm that can be folded (`foldable_pairs`).
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {describe(model)}.")
    pairs = foldable_pairs(model)
    if not pairs:
        raise ValueError(f"model {model.name!r} has no batch norm directly after a convolution: nothing to fold.")
    norms = set(pairs.values())

    def clone(layer):
        if layer.name in norms:
            return FoldedBatchNormalization(name=layer.name)
        config = layer.get_config()
        if layer.name in pairs:
            config["use_bias"] = True
        return layer.__class__.from_config(config)

    folded = keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        if layer.name in pairs:
            folded.get_layer(layer.name).set_weights(folded_weights(layer, model.get_layer(pairs[layer.name])))
        elif layer.name not in norms:
            folded.get_layer(layer.name).set_weights(layer.get_weights())
    return folded
