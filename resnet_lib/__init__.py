"""resnet_lib: the tested library behind the book "Residual Networks in Keras".

Blocks (`identity_block`, `convolutional_block`, `basic_block`, ...), whole networks (`resnet50`,
`build_network`), weight transfer from `keras.applications.ResNet50`, data loading with an offline
default, and seeded training helpers.
"""

from resnet_lib.blocks import (
    basic_block,
    convolutional_block,
    identity_block,
    imagenet_basic_block,
    plain_basic_block,
    plain_bottleneck_block,
)
from resnet_lib.data import Dataset, DatasetUnavailableError, load_dataset
from resnet_lib.layers import ParameterFreeShortcut
from resnet_lib.models import RESNET50_STAGES, basic_resnet, build_network, resnet50, valid_depths
from resnet_lib.training import (
    gradient_norms,
    load_history,
    save_history,
    set_seed,
    train,
)
from resnet_lib.weights import WeightsUnavailableError, load_pretrained_resnet50, transfer_weights

__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "DatasetUnavailableError",
    "ParameterFreeShortcut",
    "RESNET50_STAGES",
    "WeightsUnavailableError",
    "basic_block",
    "basic_resnet",
    "build_network",
    "convolutional_block",
    "gradient_norms",
    "identity_block",
    "imagenet_basic_block",
    "load_dataset",
    "load_history",
    "load_pretrained_resnet50",
    "plain_basic_block",
    "plain_bottleneck_block",
    "resnet50",
    "save_history",
    "set_seed",
    "train",
    "transfer_weights",
    "valid_depths",
]
