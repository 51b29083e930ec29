"""The one custom layer of the library: the parameter-free shortcut of He et al. (2016), option A.

When a residual stage halves the feature map and doubles the channels, the identity shortcut no
longer fits. Option A of the paper keeps the shortcut free of parameters: it takes every
`stride`-th pixel and pads the new channels with zeros. That keeps plain and residual networks of
the same depth at *exactly* the same parameter count, which makes their comparison fair.

It is a registered Keras layer rather than a `Lambda`, so models that use it save to `.keras`
and load back with `safe_mode=True`.
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
        for option in ("renorm", "synchronized"):
            if getattr(self, option):
                raise ValueError(f"FusedBatchNormalization does not support {option}=True; "
                                 "use keras.layers.BatchNormalization.")
        if self.epsilon < FUSED_MIN_EPSILON:
            raise ValueError(f"FusedBatchNormalization needs epsilon >= {FUSED_MIN_EPSILON} (TensorFlow's "
                             f"fused kernel), got epsilon={self.epsilon}.")

    def build(self, input_shape):
        if len(input_shape) != 4 or self.axis not in (-1, 3):
            raise ValueError(f"FusedBatchNormalization takes 4-D channels-last inputs (axis=-1); got input "
                             f"shape {tuple(input_shape)} and axis={self.axis}.")
        if self.compute_dtype != "float32":
            raise ValueError(f"FusedBatchNormalization computes in float32; the layer's dtype policy computes "
                             f"in {self.compute_dtype}. Use keras.layers.BatchNormalization with mixed precision.")
        super().build(input_shape)

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            raise ValueError("FusedBatchNormalization takes no mask; use keras.layers.BatchNormalization.")
        if not (training and self.trainable):
            return super().call(inputs, training=training)
        import tensorflow as tf

        channels = inputs.shape[-1]
        gamma = self.gamma if self.scale else tf.ones((channels,), inputs.dtype)
        beta = self.beta if self.center else tf.zeros((channels,), inputs.dtype)
        outputs, mean, unbiased_variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, gamma, beta, epsilon=self.epsilon, data_format="NHWC", is_training=True)
        count = tf.cast(tf.size(inputs) // channels, inputs.dtype)  # values per channel: batch x height x width
        variance = unbiased_variance * (count - 1.0) / count
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return outputs
