"""Checks for the book's exercises: they name the learner's mistake instead of printing a float.

One function per exercise, called in the cell after it (`from resnet_lib import checks`):

* `checks.check_identity_block(my_identity_block)` (chapter 3) and
  `checks.check_convolutional_block(my_convolutional_block)` (chapter 4), in `checks/blocks.py`,
* `checks.check_resnet50(my_resnet50)` (chapter 5), in `checks/resnet50.py`,
* `checks.check_training_setup(my_prepare_data, my_compile_model)` (chapter 6), in
  `checks/training_setup.py`,
* `checks.check_loss_along(my_loss_along)` (chapter 8), in `checks/landscape.py`.

Each check first reads the learner's function signature (the checks pass arguments by position, so
a parameter order such as the deeplearning.ai course's is named before anything is called). It
then builds the learner's function on inputs it chooses itself, reads the graph of layers
(`checks/_graph.py`, through Keras' public API only) and compares it with the reference in
`resnet_lib` (`checks/_compare.py`): kinds of layers, kernel sizes, strides, padding, filter
counts, where the shortcut starts and where it is added, then each layer's inputs, settings and
name. The order in which layers are created and the order of an addition's operands do not
matter; operations of `keras.ops` (such as `x + shortcut`), which cannot be named, are paired by
position. Then it checks behaviour on constructed inputs. Tolerances are relative; no stored floats
are compared, so the checks do not depend on one version of Keras or TensorFlow.

On success a check prints one line. On a mistake it raises `AssertionError` with a message that
says what is wrong and where (which layer, which path). A half-written solution (one that raises
`NotImplementedError`, returns `None` or returns a layer instead of a tensor) gets a message too,
never an unrelated traceback (`checks/_learner.py` calls the learner's code).
"""

from resnet_lib.checks.blocks import check_convolutional_block, check_identity_block
from resnet_lib.checks.landscape import check_loss_along
from resnet_lib.checks.resnet50 import check_resnet50
from resnet_lib.checks.training_setup import check_training_setup

__all__ = [
    "check_convolutional_block",
    "check_identity_block",
    "check_loss_along",
    "check_resnet50",
    "check_training_setup",
]
