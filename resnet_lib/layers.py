"""The library's custom layers: the parameter-free shortcut, and batch norm on TensorFlow's fused kernel.

`ParameterFreeShortcut` is the shortcut of He et al. (2016), option A. When a residual stage halves the
feature map and doubles the channels, the identity shortcut no longer fits. Option A keeps the shortcut
free of parameters: it takes every `stride`-th pixel and pads the new channels with zeros. That keeps
plain and residual networks of the same depth at *exactly* the same parameter count, which makes their
comparison fair. It is a registered Keras layer rather than a `Lambda`, so models that use it save to
`.keras` and load back with `safe_mode=True`.

`fused_training_step` is one training step of a batch norm through TensorFlow's fused kernel, the
fast path `resnet_lib.batch_norm` switches on; `FusedBatchNormalization` is a layer that always takes it.
"""

from __future__ import annotations

import keras
from keras import ops

from resnet_lib.validation import check_int


@keras.saving.register_keras_serializable(package="resnet_lib")
class ParameterFreeShortcut(keras.layers.Layer):
    """Subsamples by `stride` and zero-pads the channels up to `filters`.

    Input shape: (batch, height, width, channels).
    Output shape: (batch, ceil(height / stride), ceil(width / stride), filters), which matches a
    3x3 convolution with `strides=stride` and `padding="same"`.

    Args:
        filters: channel count of the output; at least the input's channel count.
        stride: subsampling factor along height and width.
    """

    def __init__(self, filters: int, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters, minimum=1)
        self.stride = check_int("stride", stride, minimum=1)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels > self.filters:
            raise ValueError(
                f"ParameterFreeShortcut can only add channels: the input has {channels} channels but "
                f"`filters` is {self.filters}."
            )
        super().build(input_shape)

    def call(self, inputs):
        x = inputs[:, :: self.stride, :: self.stride, :] if self.stride > 1 else inputs
        extra = self.filters - inputs.shape[-1]
        if extra:
            x = ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])
        return x

    def compute_output_shape(self, input_shape):
        def shrink(size):
            return None if size is None else -(-size // self.stride)

        batch, height, width, _ = input_shape
        return (batch, shrink(height), shrink(width), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "stride": self.stride}


#: The smallest epsilon TensorFlow's fused batch-norm kernel takes (`tf.compat.v1.nn.fused_batch_norm` silently
#: raises smaller ones to it; the layer refuses them instead).
FUSED_MIN_EPSILON = 1.001e-5


def require_tensorflow_backend(what: str) -> None:
    """Raises a ValueError that names `what` unless Keras runs on TensorFlow (the fused kernel is TensorFlow's)."""
    if keras.backend.backend() != "tensorflow":
        raise ValueError(f"{what} runs TensorFlow's fused kernel; Keras' backend is "
                         f"{keras.backend.backend()!r}. Use keras.layers.BatchNormalization there.")


@keras.saving.register_keras_serializable(package="resnet_lib")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` whose training step runs TensorFlow's fused kernel.

    Keras 3 computes batch norm in training from generic ops: the batch's moments (reductions), then
    element-wise scaling, each with its own gradient, each reading and writing the activations again.
    TensorFlow's fused kernel (`FusedBatchNormV3`, oneDNN's on CPU)
    does the forward pass in one kernel and the backward pass in another. Everything else is Keras':
    the same weights and configuration, inference (`training=False`) by `BatchNormalization.call`
    itself, and the same moving-statistics update (`momentum`, the *biased* batch variance, as Keras
    uses; the kernel returns the unbiased one, which is rescaled by (n - 1) / n). Training outputs
    equal Keras' to float32 round-off, not bit for bit (the sums run in another order).

    Input shape: (batch, height, width, channels), channels last. Output shape: the same.

    Only for the TensorFlow backend, float32, `axis=-1`, and without `renorm`, `synchronized` or
    masks: anything else is refused when the layer is made or built.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        require_tensorflow_backend("FusedBatchNormalization")
        self._refuse(fusion_problem(self))

    def build(self, input_shape):
        self._refuse(fusion_problem(self, len(input_shape)), f" (input shape {tuple(input_shape)})")
        super().build(input_shape)

    @staticmethod
    def _refuse(problem: str | None, where: str = "") -> None:
        if problem is not None:
            raise ValueError(f"FusedBatchNormalization cannot run TensorFlow's fused kernel: {problem}{where}. "
                             "Use keras.layers.BatchNormalization.")

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            raise ValueError("FusedBatchNormalization takes no mask; use keras.layers.BatchNormalization.")
        if not (training and self.trainable):
            return super().call(inputs, training=training)
        return fused_training_step(self, inputs)


def fusion_problem(layer: keras.layers.BatchNormalization, input_rank: int | None = None) -> str | None:
    """Why `layer` cannot train with TensorFlow's fused kernel, or None if it can.

    The kernel takes float32, channels-last 4-D inputs (axis=-1), epsilon >= `FUSED_MIN_EPSILON`, and
    neither `renorm` nor `synchronized`; `input_rank` is checked when given.
    """
    if getattr(layer, "renorm", False) or getattr(layer, "synchronized", False):
        return f"{layer.name!r} uses {'renorm' if layer.renorm else 'synchronized'}=True"
    if layer.epsilon < FUSED_MIN_EPSILON:
        return f"{layer.name!r} has epsilon={layer.epsilon}, below the kernel's minimum {FUSED_MIN_EPSILON}"
    if input_rank is not None and input_rank != 4:
        return f"{layer.name!r} gets {input_rank}-D inputs, not 4-D (batch, height, width, channels)"
    if layer.axis not in (-1, 3):
        return f"{layer.name!r} normalizes axis {layer.axis}, not the channels of channels-last inputs (axis=-1)"
    if layer.compute_dtype != "float32":
        return f"{layer.name!r} computes in {layer.compute_dtype}, not float32"
    return None


def fused_training_step(layer: keras.layers.BatchNormalization, inputs):
    """`layer`'s training-mode batch norm of `inputs` through TensorFlow's fused kernel (`FusedBatchNormV3`).

    Normalizes with the batch's statistics, scales by `gamma` and shifts by `beta`, and moves the layer's
    moving statistics as Keras does (`momentum`, the *biased* batch variance; the kernel returns the unbiased
    one, rescaled here by (n - 1) / n). Equal to Keras' own training step to float32 round-off.

    Args:
        layer: a built `keras.layers.BatchNormalization` that `fusion_problem` accepts.
        inputs: (batch, height, width, channels) float32.

    Returns:
        The normalized inputs, same shape.
    """
    import tensorflow as tf

    channels = inputs.shape[-1]
    gamma = layer.gamma if layer.scale else tf.ones((channels,), inputs.dtype)
    beta = layer.beta if layer.center else tf.zeros((channels,), inputs.dtype)
    outputs, mean, unbiased_variance = tf.compat.v1.nn.fused_batch_norm(
        inputs, gamma, beta, epsilon=layer.epsilon, data_format="NHWC", is_training=True)
    count = tf.cast(tf.size(inputs) // channels, inputs.dtype)  # values per channel: batch x height x width
    # One factor, then one product: rounded alike whether the batch size is known when the step is traced
    # (and TensorFlow folds the factor into a constant) or not.
    biased = (count - 1.0) / count
    variance = unbiased_variance * biased
    layer.moving_mean.assign(layer.moving_mean * layer.momentum + mean * (1.0 - layer.momentum))
    layer.moving_variance.assign(layer.moving_variance * layer.momentum + variance * (1.0 - layer.momentum))
    return outputs


@keras.saving.register_keras_serializable(package="resnet_lib")
class FoldedBatchNormalization(keras.layers.Layer):
    """Stands where a batch norm was folded into the convolution before it (`resnet_lib.batch_norm.fold_batch_norm`).

    It passes its input through unchanged and takes the same call arguments as the batch norm it
    replaces (`training`, `mask`), so the model's graph and layer names stay those of the original.

    Input shape: any. Output shape: the same.
    """

    def call(self, inputs, training=None, mask=None):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
