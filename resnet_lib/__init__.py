"""resnet_lib: the tested library behind the book "Residual Networks in Keras".

Blocks (`identity_block`, `convolutional_block`, `cifar_basic_block`, ...), whole networks
(`resnet50`, `resnet18`, `resnet34`, `build_network`), weight transfer from
`keras.applications.ResNet50`, data loading with an offline default, and seeded training helpers.
"""

import os as _os
from typing import TYPE_CHECKING as _TYPE_CHECKING

from resnet_lib._startup import quiet_start_up as _quiet_start_up

# TensorFlow leaves its oneDNN kernels off on CPUs without AVX-512, where they make ResNet training
# several times faster (bench/training_options.py). The variable is read when TensorFlow is first
# imported, so this only takes effect if resnet_lib is imported first; `resnet_lib.train` warns
# otherwise. An explicit TF_ENABLE_ONEDNN_OPTS=0 is respected.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

# The public names are imported when first used (PEP 562), not with the package: `python -m
# resnet_lib.experiments --help`, or a mistaken argument, is answered at once, without importing Keras
# and TensorFlow (some 8 seconds). A command imports them once its arguments are checked, with
# TensorFlow's C++ start-up notices, which no setting turns off, filtered out of its output
# (resnet_lib/_startup.py); so does the first use of a name here within a command.
_EXPORTS = {
    **dict.fromkeys(["batch_norm_kernel", "fold_batch_norm"], "resnet_lib.batch_norm"),
    **dict.fromkeys(["cifar_basic_block", "cifar_plain_block", "convolutional_block", "identity_block",
                     "imagenet_basic_block", "plain_bottleneck_block"], "resnet_lib.blocks"),
    **dict.fromkeys(["Dataset", "DatasetUnavailableError", "load_dataset"], "resnet_lib.data"),
    "ParameterFreeShortcut": "resnet_lib.layers",
    **dict.fromkeys(["RESNET50_STAGES", "build_network", "imagenet_stem", "resnet18", "resnet34", "resnet50",
                     "valid_depths"], "resnet_lib.models"),
    **dict.fromkeys(["gradient_norms", "load_history", "save_history", "set_seed", "train"], "resnet_lib.training"),
    **dict.fromkeys(["WeightsUnavailableError", "load_pretrained_resnet50", "transfer_weights"], "resnet_lib.weights"),
}

if _TYPE_CHECKING:  # what the names are, for editors and type checkers
    from resnet_lib import results
    from resnet_lib.batch_norm import batch_norm_kernel, fold_batch_norm
    from resnet_lib.blocks import (cifar_basic_block, cifar_plain_block, convolutional_block, identity_block,
                                   imagenet_basic_block, plain_bottleneck_block)
    from resnet_lib.data import Dataset, DatasetUnavailableError, load_dataset
    from resnet_lib.layers import ParameterFreeShortcut
    from resnet_lib.models import (RESNET50_STAGES, build_network, imagenet_stem, resnet18, resnet34, resnet50,
                                   valid_depths)
    from resnet_lib.training import gradient_norms, load_history, save_history, set_seed, train
    from resnet_lib.weights import WeightsUnavailableError, load_pretrained_resnet50, transfer_weights


def __getattr__(name: str):
    """A public name (`_EXPORTS`) or a module of the package (`resnet_lib.results`), imported on first use."""
    import importlib
    import importlib.util

    if name in _EXPORTS:
        with _quiet_start_up():
            value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        with _quiet_start_up():
            value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "DatasetUnavailableError",
    "ParameterFreeShortcut",
    "RESNET50_STAGES",
    "WeightsUnavailableError",
    "batch_norm_kernel",
    "build_network",
    "cifar_basic_block",
    "cifar_plain_block",
    "convolutional_block",
    "fold_batch_norm",
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
