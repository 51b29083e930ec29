"""The book's figures, one module per subject; this package gathers their public names.

Each function draws on a given matplotlib `Axes` (or makes one) and returns it, so chapters can
combine panels.

* `training`: any training run (chapters 1 to 6): learning curves, gradient norms, confusion
  matrices, image grids;
* `depth_sweep`: the depth sweep (chapter 7): curves against depth, last epochs, gradient norms;
* `landscape`: the landscape study (chapter 8): loss and accuracy surfaces, interpolation, lesions;
* `_axes`: what they share (a new Axes when none is given, the kinds' colours, log axes, limits).
"""

from resnet_lib.plots._axes import KIND_COLORS
from resnet_lib.plots.depth_sweep import (
    depth_sweep_limits,
    plot_depth_sweep,
    plot_depth_sweep_curves,
    plot_depth_sweep_finals,
    plot_sweep_gradient_norms,
    sweep_gradient_norm_limits,
)
from resnet_lib.plots.landscape import (
    CHANCE_ACCURACY,
    LEVELS_PER_DECADE,
    NONCONVEX_COLOR,
    SURFACE_COLORMAPS,
    interpolation_limits,
    loss_surface_levels,
    plot_accuracy_surface,
    plot_interpolation,
    plot_loss_surface,
    plot_random_lesions,
    plot_single_block_lesions,
    plot_surface_contours,
)
from resnet_lib.plots.training import (
    confusion_matrix,
    plot_confusion_matrix,
    plot_gradient_norms,
    plot_histories,
    show_images,
)

__all__ = [
    "CHANCE_ACCURACY",
    "KIND_COLORS",
    "LEVELS_PER_DECADE",
    "NONCONVEX_COLOR",
    "SURFACE_COLORMAPS",
    "confusion_matrix",
    "depth_sweep_limits",
    "interpolation_limits",
    "loss_surface_levels",
    "plot_accuracy_surface",
    "plot_confusion_matrix",
    "plot_depth_sweep",
    "plot_depth_sweep_curves",
    "plot_depth_sweep_finals",
    "plot_gradient_norms",
    "plot_histories",
    "plot_interpolation",
    "plot_loss_surface",
    "plot_random_lesions",
    "plot_single_block_lesions",
    "plot_surface_contours",
    "plot_sweep_gradient_norms",
    "show_images",
    "sweep_gradient_norm_limits",
]
