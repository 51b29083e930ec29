"""The book's explorers, as widgets: the depth explorer (chapter 7) and the landscape explorer (chapter 8).

`DepthExplorer`: plain vs residual training across depths (learning curves, gradient norms).
`LandscapeExplorer`: why residual networks train (loss surfaces, Li et al. 2018; the loss along the
line from the initial to the trained weights; lesion studies, Veit et al. 2016).

Each works in one of two ways (`kernel_free`):

* **kernel-free** (the default with ipywidgets 8 or newer, and what the website shows): every figure
  the controls can ask for is drawn in advance (PNGs at twice their display size, for high-density
  screens) and kept in nested `ipywidgets.Stack`s; the controls switch the stacks with
  `widgets.jslink`, which runs in the browser. It works with a kernel and on the static website,
  where no Python can run.
* **live** (the default with ipywidgets 7, which Colab ships, and `kernel_free=False` anywhere): one
  view is on screen, and Python draws the next one when a control changes (each view once, then kept).
  It needs a running kernel, starts at once, and works with any ipywidgets from 7.7.

With a kernel, `DepthExplorer.training_panel()` adds a button that trains the chosen network now and
draws its curve next to the precomputed ones.

Each view shows two panels of `PANEL_WIDTH` CSS pixels in a box that wraps: side by side in the
website's text column (688 px at a 1280 px window), one below the other on a phone (358 px at
390 px), both at full size. The figures are drawn at 72 points per displayed inch, so a font of
`n` points is `n` CSS pixels on screen (`FIGURE_STYLE`: no text below 10 px).

    explorer = DepthExplorer(load_sweep())
    explorer                    # display it
    explorer.training_panel()   # with a kernel: "train this depth now"

    LandscapeExplorer(load_landscape_study())   # depth, networks, seed and view controls

The package, one module per job (this file only gathers their public names): `depth_explorer` and
`landscape_explorer`, one explorer each; `_explorer`, what they share (controls, modes, the pre-drawn
views); `_figures`, a figure as a small PNG in an <img> with its alt text, at the panels' fixed sizes.
"""

from resnet_lib.widgets._explorer import CONTROL_LABEL, CONTROL_ROW, KIND_OPTIONS
from resnet_lib.widgets._figures import (
    FIGURE_STYLE,
    LANDSCAPE_PANEL_MARGINS,
    LANDSCAPE_PANEL_SIZES,
    PANEL_MARGINS,
    PANEL_SIZES,
    PANEL_WIDTH,
    PNG_COLORS,
    SURFACE_PNG_COLORS,
    figure_alt,
    figure_html,
    figure_png,
    figure_to_png,
    panel_axes,
)
from resnet_lib.widgets.depth_explorer import VIEWS, DepthExplorer
from resnet_lib.widgets.landscape_explorer import LANDSCAPE_VIEWS, LandscapeExplorer

__all__ = [
    "CONTROL_LABEL",
    "CONTROL_ROW",
    "DepthExplorer",
    "FIGURE_STYLE",
    "KIND_OPTIONS",
    "LANDSCAPE_PANEL_MARGINS",
    "LANDSCAPE_PANEL_SIZES",
    "LANDSCAPE_VIEWS",
    "LandscapeExplorer",
    "PANEL_MARGINS",
    "PANEL_SIZES",
    "PANEL_WIDTH",
    "PNG_COLORS",
    "SURFACE_PNG_COLORS",
    "VIEWS",
    "figure_alt",
    "figure_html",
    "figure_png",
    "figure_to_png",
    "panel_axes",
]
