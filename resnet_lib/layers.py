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
