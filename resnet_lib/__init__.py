"""resnet_lib: the tested library behind the book "Residual Networks in Keras".

Blocks (`identity_block`, `convolutional_block`, `cifar_basic_block`, ...), whole networks
(`resnet50`, `resnet18`, `resnet34`, `build_network`), weight transfer from
`keras.applications.ResNet50`, data loading with an offline default, and seeded training helpers.
"""

import os as _os

from resnet_lib._startup import quiet_start_up as _quiet_start_up

# TensorFlow leaves its oneDNN kernels off on CPUs without AVX-512, where they make ResNet training
# several times faster (bench/training_options.py). The variable is read when TensorFlow is first
# imported, so this only takes effect if resnet_lib is imported first; `resnet_lib.train` warns
# otherwise. An explicit TF_ENABLE_ONEDNN_OPTS=0 is respected.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

# `python -m resnet_lib.<command>`: TensorFlow's C++ start-up notices, which no setting turns off, are
# filtered out of the command's output while Keras (and so TensorFlow) is imported (resnet_lib/_startup.py).
with _quiet_start_up():
    from resnet_lib.blocks import (  # noqa: E402
        cifar_basic_block,
        cifar_plain_block,
        convolutional_block,
        identity_block,
        imagenet_basic_block,
        plain_bottleneck_block,
    )
    from resnet_lib import results  # noqa: E402  (the precomputed results the chapters load)
    from resnet_lib.data import Dataset, DatasetUnavailableError, load_dataset  # noqa: E402
    from resnet_lib.layers import ParameterFreeShortcut  # noqa: E402
    from resnet_lib.models import (  # noqa: E402
        RESNET50_STAGES,
        build_network,
        imagenet_stem,
        resnet18,
        resnet34,
        resnet50,
        valid_depths,
    )
    from resnet_lib.training import (  # noqa: E402
        gradient_norms,
        load_history,
        save_history,
        set_seed,
        train,
    )
    from resnet_lib.weights import WeightsUnavailableError, load_pretrained_resnet50, transfer_weights  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "DatasetUnavailableError",
    "ParameterFreeShortcut",
    "RESNET50_STAGES",
    "WeightsUnavailableError",
    "build_network",
    "cifar_basic_block",
    "cifar_plain_block",
    "convolutional_block",
    "gradient_norms",
    "identity_block",
    "imagenet_basic_block",
    "imagenet_stem",
    "load_dataset",
    "load_history",
    "load_pretrained_resnet50",
    "plain_bottleneck_block",
    "resnet18",
    "resnet34",
    "resnet50",
    "results",
    "save_history",
    "set_seed",
    "train",
    "transfer_weights",
    "valid_depths",
]
