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
"""

from __future__ import annotations

import io
import time

import numpy as np

from resnet_lib import sweep as sweeps

#: The options of the plain/residual/both control, each with the kinds of network it shows (`sweep.KINDS`).
KIND_OPTIONS = {**{kind: (kind,) for kind in sweeps.KINDS}, "both": sweeps.KINDS}
VIEWS = ("learning curves", "gradient norms")
#: The landscape explorer's views.
LANDSCAPE_VIEWS = ("loss surface", "interpolation", "lesions")

#: Display width of every panel, in CSS pixels: two side by side (with their 2 px margins) fit the
#: website's 688 px text column, and one fits a phone's 358 px column without shrinking.
PANEL_WIDTH = 336
#: Display size (width, height) in CSS pixels of each panel, by name: "curves" (metric per epoch),
#: "finals" (last epoch against depth), "gradients" (per-layer gradient norms of one kind).
PANEL_SIZES = {"curves": (PANEL_WIDTH, 264), "finals": (PANEL_WIDTH, 264), "gradients": (PANEL_WIDTH, 264)}
#: Margins (left, right, top, bottom) of each panel's Axes, in CSS pixels: fixed, so the axes never
#: move when a control switches figures. Top: the legend row (and title); right of "curves": depth labels.
PANEL_MARGINS = {"curves": (50, 24, 24, 40), "finals": (50, 10, 24, 40), "gradients": (52, 10, 44, 40)}
#: The landscape explorer's panels, as `PANEL_SIZES`: "surface" (a loss or accuracy surface, its Axes
#: square with the colour bar right of them), "interpolation" (loss or accuracy from the initial to the
#: trained weights), "lesions" (accuracy after deleting blocks). All as tall, so switching views
#: never moves what is below the explorer.
LANDSCAPE_PANEL_SIZES = {"surface": (PANEL_WIDTH, 292), "interpolation": (PANEL_WIDTH, 292),
                         "lesions": (PANEL_WIDTH, 292)}
#: Margins of the landscape panels' Axes, as `PANEL_MARGINS`. Right of "surface": the colour bar and its
#: labels; top of "surface": the title and the non-convex points' legend; of "lesions": two legend rows.
LANDSCAPE_PANEL_MARGINS = {"surface": (56, 54, 26, 40), "interpolation": (54, 10, 24, 40),
                           "lesions": (50, 10, 44, 40)}
#: Matplotlib style of the explorer's figures, in points = CSS pixels at display size (the legend and
#: the depth labels are "small": 5/6 of font.size).
FIGURE_STYLE = {"font.size": 12.5, "axes.labelsize": 12, "axes.titlesize": 12.5, "xtick.labelsize": 11.5,
                "ytick.labelsize": 11.5, "savefig.facecolor": "white", "figure.facecolor": "white"}
#: Colours of the palette each PNG is reduced to (lines, bands and anti-aliased text need no more).
PNG_COLORS = 64
#: The palette of the landscape explorer's surfaces: some 30 contour bands of the colour map, and the colour
#: bar's, lose their order in 64 colours.
SURFACE_PNG_COLORS = 128


def figure_to_png(figure, dpi: int = 72, colors: int = 256) -> bytes:
    """The figure as PNG bytes, reduced to a palette of `colors` colours to keep pages small; closes it.

    Args:
        figure: a matplotlib Figure (from pyplot or `matplotlib.figure.Figure`).
        dpi: pixels per inch of the PNG: width in pixels = figure width in inches * dpi.
        colors: size of the palette, 2 to 256.

    Returns:
        The PNG file's bytes.

    Raises:
        ValueError: `colors` is outside 2 .. 256.
    """
    import matplotlib.pyplot as plt
    from PIL import Image

    if not 2 <= colors <= 256:
        raise ValueError(f"`colors` must be 2 to 256 (a PNG palette), received {colors!r}.")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    small = io.BytesIO()
    image.save(small, format="png", optimize=True)
    return small.getvalue()


def figure_html(png: bytes, alt: str, size: tuple[int, int]) -> str:
    """An <img> of the PNG, with its alt text, displayed at `size` (CSS pixels) and never wider than its box.

    Args:
        png: the PNG's bytes (drawn at `pixel_ratio` times `size`).
        alt: what the figure shows, for readers who cannot see it (a screen reader reads it).
        size: (width, height) of the panel in CSS pixels.
    """
    import base64
    import html

    width, height = size
    source = base64.b64encode(png).decode("ascii")
    return (f'<img src="data:image/png;base64,{source}" alt="{html.escape(alt, quote=True)}" width="{width}" '
            f'height="{height}" style="max-width: 100%; height: auto; display: block">')


def figure_png(widget) -> bytes:
    """The PNG bytes of an explorer figure (`figure_html`'s widget)."""
    import base64
    import re

    return base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', widget.value).group(1))


def figure_alt(widget) -> str:
    """The alt text of an explorer figure (`figure_html`'s widget)."""
    import html
    import re

    return html.unescape(re.search(r' alt="([^"]*)"', widget.value).group(1))


def panel_axes(name: str):
    """A new figure of the panel `name` (a key of `PANEL_SIZES` or `LANDSCAPE_PANEL_SIZES`) and its Axes,
    at the fixed margins.

    The figure measures `PANEL_SIZES[name]` / 72 inches, so at 72 dpi it has one pixel per CSS pixel
    of its display size and a font of n points is n pixels; it is not registered with pyplot (it is
    never shown by a notebook on its own).

    Returns:
        The matplotlib Axes; its figure is `ax.figure`.

    Raises:
        ValueError: `name` is not a key of `PANEL_SIZES` or `LANDSCAPE_PANEL_SIZES`.
    """
    from matplotlib.figure import Figure

    sizes, margins = {**PANEL_SIZES, **LANDSCAPE_PANEL_SIZES}, {**PANEL_MARGINS, **LANDSCAPE_PANEL_MARGINS}
    if name not in sizes:
        raise ValueError(f"`name` must be one of the panels {list(PANEL_SIZES)} (depth explorer) or "
                         f"{list(LANDSCAPE_PANEL_SIZES)} (landscape explorer), received {name!r}.")
    (width, height), (left, right, top, bottom) = sizes[name], margins[name]
    figure = Figure(figsize=(width / 72, height / 72), dpi=72)
    return figure.add_axes((left / width, bottom / height, 1 - (left + right) / width, 1 - (top + bottom) / height))


#: Style of every control's description: one width, so that the controls line up.
CONTROL_LABEL = {"description_width": "66px"}
#: Layout of a row of toggle buttons: the description beside its buttons, right-aligned like the others'
#: (ipywidgets 8 puts it on a line of its own), the buttons below it only where the row is too narrow.
CONTROL_ROW = {"display": "flex", "flex_flow": "row wrap", "align_items": "center", "max_width": "100%"}


def _kernel_free(widgets, kernel_free, name: str) -> bool:
    """Whether an explorer is drawn in advance and switched in the browser (True) or switched by Python.

    `kernel_free=None` picks by what the installed ipywidgets can do: True from ipywidgets 8 (its Stack
    widget), False before. `kernel_free=True` with ipywidgets 7 raises a RuntimeError that says what to do.
    """
    if kernel_free is None:
        return hasattr(widgets, "Stack")
    if kernel_free not in (True, False):
        raise ValueError(f"`kernel_free` must be True, False or None (pick by the ipywidgets version), "
                         f"received {kernel_free!r}.")
    if kernel_free and not hasattr(widgets, "Stack"):
        raise RuntimeError(
            f"{name}(kernel_free=True) needs ipywidgets 8 or newer (its Stack widget), but this kernel runs "
            f"ipywidgets {widgets.__version__}. Leave out `kernel_free` (the explorer then switches its figures "
            "from Python), or run `pip install 'ipywidgets>=8'` and restart the kernel."
        )
    return kernel_free


def _toggle_buttons(widgets, options, value, description: str, button_width: str, *, disabled: bool = False):
    """ToggleButtons in the explorers' style: description beside the buttons (`CONTROL_ROW`)."""
    toggle = widgets.ToggleButtons(options=options, value=value, description=description, disabled=disabled,
                                   style={**CONTROL_LABEL, "button_width": button_width},
                                   layout=widgets.Layout(**CONTROL_ROW))
    toggle.add_class("widget-inline-hbox")  # ipywidgets' style of a description beside its control
    return toggle


class _PrerenderedExplorer:
    """What the explorers share: their pre-drawn PNGs, the leaves of their stacks, the shared Layouts.

    A subclass sets `_css_class` (on the top VBox, beside the common "resnet-explorer"; its images get
    `_css_class + "-figure"` and "resnet-explorer-figure"), `_panel_sizes`
    (the Layout of each panel's image) and `_share_images` (one Image widget for equal PNGs of a panel).
    """

    _css_class = "resnet-depth-explorer"
    _panel_sizes = PANEL_SIZES
    _share_images = False

    @staticmethod
    def _check_pixel_ratio(pixel_ratio) -> int:
        if pixel_ratio not in (1, 2, 3):
            raise ValueError(f"`pixel_ratio` must be 1, 2 or 3 (PNG pixels per CSS pixel), received {pixel_ratio!r}.")
        return pixel_ratio

    def _make_layouts(self, widgets) -> None:
        # One Layout (and caption style) shared by all the widgets of a role: each is a model in the page's
        # widget state, and hundreds of identical copies would weigh about half a megabyte.
        self._layouts = {name: widgets.Layout(width=f"{size[0]}px", max_width="100%", height="auto", margin="2px",
                                              flex="0 1 auto") for name, size in self._panel_sizes.items()}
        self._layouts.update(
            # The panels side by side where both fit, one below the other where not (a phone).
            panels=widgets.Layout(display="flex", flex_flow="row wrap", align_items="flex-start", overflow="visible"),
            caption=widgets.Layout(max_width="680px"), leaf=widgets.Layout(), stack=widgets.Layout())
        try:
            from ipywidgets.widgets.widget_string import HTMLStyle  # ipywidgets 8, not exported by its top level
        except ImportError:  # ipywidgets 7: an HTML widget has no style of its own
            self._caption_style = {}
        else:
            self._caption_style = {"style": HTMLStyle()}
        self._image_widgets: dict[tuple[str, bytes], object] = {}

    def _png(self, figure, colors: int = PNG_COLORS) -> bytes:
        return figure_to_png(figure, dpi=72 * self.pixel_ratio, colors=colors)

    def _images(self, pngs, names, alts):
        """The panels' figures: one HTML widget each, an <img> of the PNG with its alt text (ipywidgets' Image
        widget has no alt attribute, and a figure without one is invisible to a screen reader)."""
        import ipywidgets as widgets

        images = []
        for png, name, alt in zip(pngs, names, alts):
            key = (name, png, alt)
            image = self._image_widgets.get(key) if self._share_images else None
            if image is None:
                image = widgets.HTML(figure_html(png, alt, self._panel_sizes[name]), layout=self._layouts[name])
                image.add_class(f"{self._css_class}-figure")
                image.add_class("resnet-explorer-figure")  # what book/_static/book.css styles in both explorers
                if self._share_images:
                    self._image_widgets[key] = image
            images.append(image)
        return widgets.Box(images, layout=self._layouts["panels"])

    def _leaf(self, pngs, names, caption: str, alts):
        """A view's figures (PNG bytes of the panels `names`, keys of `_panel_sizes`, with their alt texts)
        above their caption."""
        import ipywidgets as widgets

        text = widgets.HTML(f"<small>{caption}</small>", layout=self._layouts["caption"], **self._caption_style)
        return widgets.VBox([self._images(pngs, names, alts), text], layout=self._layouts["leaf"])

    # --- live mode: one view on screen, switched by Python ------------------------------------------

    def _selection(self) -> tuple:
        """The view the controls ask for, as a hashable key (a subclass's)."""
        raise NotImplementedError

    def _draw(self, selection: tuple) -> tuple:
        """(PNG bytes of the panels, their names in `_panel_sizes`, caption, alt texts of the panels) of a
        `_selection()` (a subclass's)."""
        raise NotImplementedError

    def _live_view(self, controls):
        """The live leaf: the view of the controls' current values, redrawn from Python when one changes.

        Each view is drawn the first time it is asked for and kept (`_drawn`), so going back is instant.
        """
        self._drawn: dict[tuple, tuple] = {}
        self._live_leaf = self._leaf(*self._drawn_view(self._selection()))
        for control in controls:
            control.observe(self._show_selection, names="value")
        return self._live_leaf

    def _drawn_view(self, selection: tuple) -> tuple:
        if selection not in self._drawn:
            self._drawn[selection] = self._draw(selection)
        return self._drawn[selection]

    def _show_selection(self, _change=None) -> None:
        """Puts the view the controls now ask for on screen (live mode)."""
        pngs, names, caption, alts = self._drawn_view(self._selection())
        images, text = self._live_leaf.children
        for image, png, name, alt in zip(images.children, pngs, names, alts):
            image.layout = self._layouts[name]
            image.value = figure_html(png, alt, self._panel_sizes[name])
        text.value = f"<small>{caption}</small>"

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


class DepthExplorer(_PrerenderedExplorer):
    """Depth slider, plain/residual/both, metric and view controls over the sweep's figures.

    Args:
        sweep: from `resnet_lib.sweep.load_sweep()`.
        depth: the depth shown first (default: 20 if the sweep has it, else the smallest).
        pixel_ratio: PNG pixels per displayed CSS pixel, each way (1, 2 or 3): 2 is sharp on
            high-density (retina, phone) screens; 1 makes lighter pages, blurry on those screens.
        progress: show a progress bar while the figures are drawn.
        kernel_free: True: every view drawn now and switched in the browser, without a kernel (the
            website; ipywidgets 8 or newer). False: one view on screen, the next drawn from Python when a
            control changes (needs a running kernel; any ipywidgets from 7.7). None: True with ipywidgets
            8 or newer, False before (Colab ships 7.7).

    Attributes:
        depth, kind, metric, view: the control widgets (`depth.value` is the chosen depth).
        kernel_free: the mode in use.
        widget: the whole explorer, an `ipywidgets.VBox` with the CSS class "resnet-depth-explorer".
        live: {(kind, depth): history} of the networks trained with `train_now`.

    Raises:
        RuntimeError: `kernel_free=True` with ipywidgets older than 8 (no Stack).
        ValueError: `depth` is not one of the sweep's depths, `pixel_ratio` is not 1, 2 or 3, or the
            sweep is broken (`sweep.validate_sweep`).
    """

    def __init__(self, sweep: dict, *, depth: int | None = None, pixel_ratio: int = 2, progress: bool = True,
                 kernel_free: bool | None = None):
        import ipywidgets as widgets

        self.kernel_free = _kernel_free(widgets, kernel_free, "DepthExplorer")
        self.sweep, self.pixel_ratio = sweeps.validate_sweep(sweep), self._check_pixel_ratio(pixel_ratio)
        self.depths = sweeps.depths(sweep)
        if depth is None:
            depth = 20 if 20 in self.depths else self.depths[0]
        if depth not in self.depths:
            raise ValueError(f"`depth` must be one of the sweep's depths {self.depths}, received {depth!r}.")
        self.live: dict[tuple[str, int], dict] = {}
        self._controls(widgets, depth)
        self._make_layouts(widgets)
        if self.kernel_free:
            self._views = self._prerendered_views(widgets, depth, progress)
        else:
            self._views = self._live_view([self.depth, self.kind, self.metric, self.view])
            self.view.observe(self._disable_unused_controls, names="value")

        controls = widgets.VBox([self.depth, *self._control_rows, self.view],
                                layout=widgets.Layout(max_width="100%"))
        self.widget = widgets.VBox([controls, self._views], layout=widgets.Layout(max_width="100%"))
        self.widget.add_class("resnet-depth-explorer")
        self.widget.add_class("resnet-explorer")

    def _prerendered_views(self, widgets, depth: int, progress: bool):
        """Every view drawn now, in nested Stacks that `jslink`s switch in the browser (kernel-free mode)."""
        self._curve_leaves: dict[tuple[str, str, int], widgets.VBox] = {}
        self._gradient_leaves: dict[int, widgets.VBox] = {}
        from tqdm.auto import tqdm

        bar = tqdm(total=len(sweeps.METRICS) * len(KIND_OPTIONS) * len(self.depths) + len(self.depths),
                   desc="drawing the explorer's figures", disable=not progress)
        depth_stacks, kind_stacks = [], []
        for metric in sweeps.METRICS:
            by_kind = []
            for kind in KIND_OPTIONS:
                leaves = []
                for d in self.depths:
                    leaf = self._leaf(*self._draw((VIEWS[0], metric, kind, d)))
                    self._curve_leaves[(metric, kind, d)] = leaf
                    leaves.append(leaf)
                    bar.update(1)
                stack = widgets.Stack(leaves, selected_index=self.depths.index(depth), layout=self._layouts["stack"])
                depth_stacks.append(stack)
                by_kind.append(stack)
            kind_stacks.append(widgets.Stack(by_kind, selected_index=self.kind.index, layout=self._layouts["stack"]))
        curves = widgets.Stack(kind_stacks, selected_index=self.metric.index, layout=self._layouts["stack"])
        gradient_leaves = []
        for d in self.depths:
            leaf = self._leaf(*self._draw((VIEWS[1], None, None, d)))
            self._gradient_leaves[d] = leaf
            gradient_leaves.append(leaf)
            bar.update(1)
        bar.close()
        gradients = widgets.Stack(gradient_leaves, selected_index=self.depths.index(depth),
                                  layout=self._layouts["stack"])
        depth_stacks.append(gradients)
        views = widgets.Stack([curves, gradients], selected_index=self.view.index)

        # The links run in the browser: they need no kernel. Selection widgets link `index`, and every
        # link joins two traits of the same type (an index to a Stack's selected_index).
        link = widgets.jslink
        self._links = [link((self.depth, "index"), (stack, "selected_index")) for stack in depth_stacks]
        self._links += [link((self.kind, "index"), (stack, "selected_index")) for stack in kind_stacks]
        self._links.append(link((self.metric, "index"), (curves, "selected_index")))
        self._links.append(link((self.view, "index"), (views, "selected_index")))
        # The gradient view ignores the networks and metric controls: there the rows show disabled
        # copies, which keep the live controls' choice (linked) and come back with the learning curves.
        self._links += [link((live, "index"), (copy, "index"))
                        for live, copy in ((self.kind, self._kind_copy), (self.metric, self._metric_copy))]
        self._links += [link((self.view, "index"), (row, "selected_index")) for row in self._control_rows]
        return views

    def _controls(self, widgets, depth: int) -> None:
        """The control widgets; kernel-free, also the rows that swap the networks and metric controls for
        disabled copies in the gradient view (live, the controls themselves are disabled there)."""
        label = CONTROL_LABEL
        self.depth = widgets.SelectionSlider(options=self.depths, value=depth, description="depth",
                                             continuous_update=True, style=label,
                                             layout=widgets.Layout(width="100%", max_width="460px"))
        self.kind = _toggle_buttons(widgets, list(KIND_OPTIONS), "both", "networks", "84px")
        metric_options = {"options": [(sweeps.METRIC_LABELS[m], m) for m in sweeps.METRICS], "value": "loss",
                          "description": "metric", "style": label}
        self.metric = widgets.Dropdown(**metric_options, layout=widgets.Layout(width="280px", max_width="100%"))
        self.view = _toggle_buttons(widgets, VIEWS, VIEWS[0], "view", "128px")
        if not self.kernel_free:
            self._control_rows = [self.kind, self.metric]
            return
        self._kind_copy = _toggle_buttons(widgets, list(KIND_OPTIONS), "both", "networks", "84px", disabled=True)
        self._metric_copy = widgets.Dropdown(**metric_options, disabled=True,
                                             layout=widgets.Layout(width="280px", max_width="100%"))
        # Row i of the view: child 0 (the live control) for the learning curves, child 1 (disabled) for gradients.
        self._control_rows = [widgets.Stack([self.kind, self._kind_copy], selected_index=0),
                              widgets.Stack([self.metric, self._metric_copy], selected_index=0)]

    def _disable_unused_controls(self, _change=None) -> None:
        """Live mode: the networks and metric controls are disabled in the gradient view, which ignores them."""
        self.kind.disabled = self.metric.disabled = self.view.value == VIEWS[1]

    def _selection(self) -> tuple:
        if self.view.value == VIEWS[1]:
            return (VIEWS[1], None, None, self.depth.value)
        return (VIEWS[0], self.metric.value, self.kind.value, self.depth.value)

    def _draw(self, selection: tuple) -> tuple:
        view, metric, kind, depth = selection
        if view == VIEWS[1]:
            return (self.gradient_pngs(depth), ("gradients", "gradients"), self._gradient_caption(depth),
                    self.gradient_alts(depth))
        return (self.curve_pngs(metric, kind, depth), ("curves", "finals"), self._caption(metric, kind, depth),
                self.curve_alts(metric, kind, depth))

    # --- what the figures show, in words (their alt texts) ----------------------------------------

    def curve_alts(self, metric: str, kind: str, depth: int) -> tuple[str, str]:
        """The alt texts of `curve_figures`: what each panel plots, for which networks, and its numbers."""
        label, seeds = sweeps.METRIC_LABELS[metric], len(sweeps.seeds(self.sweep))
        kinds = KIND_OPTIONS[kind]
        networks = " and ".join(f"{name}-{depth}" for name in kinds)
        ends = "; ".join(f"{name}-{depth} ends at {sweeps.final_values(self.sweep, name, metric)[depth].mean():.3g}"
                         for name in kinds)
        epochs = len(sweeps.curves(self.sweep, kinds[0], depth, metric)[0])
        curves = (f"Line chart of the {label} per epoch, epochs 1 to {epochs}, of {networks}, mean of {seeds} seeds "
                  f"with their range as a band; the other depths as thin labelled lines. {ends}.")
        trained = [f"{name}-{depth} trained just now ends at {history[metric][-1]:.3g}"
                   for name, history in self._live_for(depth).items() if name in kinds]
        if trained:
            curves += " Dotted: " + "; ".join(trained) + "."
        finals = []
        for name in kinds:
            values = sweeps.final_values(self.sweep, name, metric)
            finals.append(f"{name}: " + ", ".join(f"{d} layers {values[d].mean():.3g}" for d in self.depths))
        finals_text = (f"Chart of the {label} at the last epoch against depth, {self.depths[0]} to {self.depths[-1]} "
                       f"layers, mean and range of {seeds} seeds, depth {depth} marked. " + "; ".join(finals) + ".")
        return curves, finals_text

    def gradient_alts(self, depth: int) -> tuple[str, str]:
        """The alt texts of `gradient_figures`, one per kind: the range of the gradient norms before and after."""
        alts = []
        for name in sweeps.KINDS:
            before, after = (sweeps.recorded_gradient_norms(self.sweep, name, depth, when).mean(axis=0)
                             for when in ("initial", "final"))
            alts.append(f"Chart of the gradient norm of each of the {before.size} convolution and dense kernels of "
                        f"{name}-{depth}, input layer on the left, mean of the seeds, at initialisation (dashed) and "
                        f"after training (solid). At initialisation: first layer {before[0]:.2g}, last {before[-1]:.2g}, "
                        f"largest {before.max():.2g}. After training: first layer {after[0]:.2g}, last "
                        f"{after[-1]:.2g}, largest {after.max():.2g}.")
        return tuple(alts)

    # --- figures ---------------------------------------------------------------------------------

    def _live_for(self, depth: int) -> dict:
        return {kind: history for (kind, d), history in self.live.items() if d == depth}

    def curve_figures(self, metric: str, kind: str, depth: int) -> tuple:
        """The two learning-curve panels for one setting of the controls, as matplotlib Figures.

        Args:
            metric: one of `sweep.METRICS`.
            kind: one of `KIND_OPTIONS` ("plain", "residual", "both").
            depth: one of the sweep's depths.

        Returns:
            (curves, finals): `metric` per epoch, and at the last epoch against depth; each of
            `PANEL_SIZES[name]` / 72 inches (points = CSS pixels at display size).

        Raises:
            ValueError: `metric`, `kind` or `depth` is not one the controls offer.
        """
        import matplotlib

        from resnet_lib.plots import plot_depth_sweep_curves, plot_depth_sweep_finals

        if kind not in KIND_OPTIONS:
            raise ValueError(f"`kind` must be one of {list(KIND_OPTIONS)}, received {kind!r}.")
        kinds = KIND_OPTIONS[kind]
        with matplotlib.rc_context(FIGURE_STYLE):
            curves = plot_depth_sweep_curves(self.sweep, depth, kinds, metric, ax=panel_axes("curves"),
                                             live=self._live_for(depth), title=False, legend_above=True)
            finals = plot_depth_sweep_finals(self.sweep, depth, kinds, metric, ax=panel_axes("finals"),
                                             title=False, legend_above=True)
        return curves.figure, finals.figure

    def gradient_figures(self, depth: int) -> tuple:
        """The per-layer gradient-norm panels of one depth, plain and residual, as matplotlib Figures.

        Args:
            depth: one of the sweep's depths.

        Returns:
            (plain, residual), each of `PANEL_SIZES["gradients"]` / 72 inches, with the same y-limits.
        """
        import matplotlib

        from resnet_lib.plots import plot_sweep_gradient_norms

        with matplotlib.rc_context(FIGURE_STYLE):
            return tuple(plot_sweep_gradient_norms(self.sweep, depth, (kind,), ax=panel_axes("gradients"),
                                                   title=f"{kind}-{depth}", legend_above=True).figure
                         for kind in sweeps.KINDS)

    def curve_pngs(self, metric: str, kind: str, depth: int) -> tuple[bytes, bytes]:
        """`curve_figures` as PNG bytes, `pixel_ratio` times their display size each way."""
        return tuple(self._png(figure) for figure in self.curve_figures(metric, kind, depth))

    def gradient_pngs(self, depth: int) -> tuple[bytes, bytes]:
        """`gradient_figures` as PNG bytes, `pixel_ratio` times their display size each way."""
        return tuple(self._png(figure) for figure in self.gradient_figures(depth))

    def _caption(self, metric, kind, depth) -> str:
        seeds = len(sweeps.seeds(self.sweep))
        parts = []
        for name in KIND_OPTIONS[kind]:
            finals = sweeps.final_values(self.sweep, name, metric)[depth]
            parts.append(f"{name}-{depth} ends at {finals.mean():.3g} (seeds: {', '.join(f'{v:.3g}' for v in finals)})")
        return (f"{sweeps.METRIC_LABELS[metric].capitalize()} per epoch at depth {depth}, mean of {seeds} seeds "
                f"(band: their range), against the other depths (thin, labelled); second panel: the last epoch "
                f"against depth. " + "; ".join(parts) + ".")

    def _gradient_caption(self, depth) -> str:
        return (f"Gradient norm of every convolution and dense kernel of the plain and residual network of depth "
                f"{depth}, input layer on the left, at initialisation (dashed) and after training (solid); both "
                f"panels share their y-axis. The networks and metric controls apply to the learning curves.")

    def refresh(self, depth: int) -> None:
        """Draws the learning-curve panels of `depth` again (after `train_now` added a curve)."""
        if not self.kernel_free:  # live: forget the views of `depth`, draw the one on screen again
            self._drawn = {key: value for key, value in self._drawn.items()
                           if not (key[0] == VIEWS[0] and key[3] == depth)}
            self._show_selection()
            return
        for metric in sweeps.METRICS:
            for kind in KIND_OPTIONS:
                leaf = self._curve_leaves[(metric, kind, depth)]
                curves_image = leaf.children[0].children[0]
                curves_image.value = figure_html(self._png(self.curve_figures(metric, kind, depth)[0]),
                                                 self.curve_alts(metric, kind, depth)[0], self._panel_sizes["curves"])
                leaf.children[1].value = f"<small>{self._caption(metric, kind, depth)}</small>"

    # --- live training (needs a kernel) --------------------------------------------------------

    def train_now(self, kind: str | None = None, depth: int | None = None, *, epochs: int | None = None,
                  progress: bool = True) -> dict[str, dict]:
        """Trains the chosen network(s) now with the sweep's recipe and seed 0, and adds the curves.

        Args:
            kind: "plain", "residual" or "both"; default: what the controls show.
            depth: default: the slider's depth.
            epochs: fewer epochs than the recipe, for a quick look (same schedule, cut short).
            progress: show a progress bar.

        Returns:
            {kind: history} of the networks trained, each with its `wall_seconds`.
        """
        from resnet_lib.experiments import train_sweep_network

        kind = self.kind.value if kind is None else kind
        depth = self.depth.value if depth is None else depth
        if kind not in KIND_OPTIONS:
            raise ValueError(f"`kind` must be one of {list(KIND_OPTIONS)}, received {kind!r}.")
        if depth not in self.depths:
            raise ValueError(f"`depth` must be one of the sweep's depths {self.depths}, received {depth!r}.")
        trained = {}
        for name in KIND_OPTIONS[kind]:
            history = train_sweep_network(self.sweep["recipe"], name, depth, seed=0, progress=progress,
                                          epochs=epochs)
            self.live[(name, depth)] = history
            trained[name] = history
        self.refresh(depth)
        return trained

    def training_panel(self, *, epochs: int | None = None):
        """A "train this depth now" button with a progress bar (useful only with a running kernel).

        Args:
            epochs: train for fewer epochs than the sweep's recipe (default: the recipe's).
        """
        import ipywidgets as widgets

        button = widgets.Button(description="train this depth now", icon="play", button_style="primary",
                                layout=widgets.Layout(width="220px"))
        status = widgets.HTML("Trains the depth and networks chosen above with the sweep's recipe (seed 0); "
                              "the new curve appears dotted.")
        output = widgets.Output()

        def on_click(_):
            button.disabled = True
            start = time.perf_counter()
            status.value = f"training {self.kind.value} at depth {self.depth.value} …"
            try:
                with output:
                    output.clear_output()
                    trained = self.train_now(epochs=epochs)
                finals = ", ".join(f"{name}: final training loss {h['loss'][-1]:.3g}" for name, h in trained.items())
                status.value = f"done in {time.perf_counter() - start:.0f} s — {finals}."
            except Exception as error:  # show it where the reader is looking, then re-raise
                status.value = f"<b>training failed:</b> {type(error).__name__}: {error}"
                raise
            finally:
                button.disabled = False

        button.on_click(on_click)
        return widgets.VBox([widgets.HBox([button, status]), output])


class LandscapeExplorer(_PrerenderedExplorer):
    """Depth, plain/residual/both, seed and view controls over the landscape study's figures (chapter 8).

    Three views, two panels each: "loss surface" (both kinds: the plain and the residual network's
    loss surface; one kind: its loss and its accuracy surface), "interpolation" (loss and accuracy
    from the initial to the trained weights) and "lesions" (test accuracy after deleting single
    blocks, and k random blocks). Every loss surface of a depth shares its contour levels
    (`plots.loss_surface_levels`), every interpolation panel of a depth its y-limits.

    Args:
        study: from `resnet_lib.landscape_study.load_landscape_study()`.
        depth: the depth shown first (default: 56 if the study has it, else the deepest).
        seed: the seed shown first (default: the study's first).
        pixel_ratio: PNG pixels per displayed CSS pixel, each way (1, 2 or 3), as in `DepthExplorer`.
        progress: show a progress bar while the figures are drawn.
        kernel_free: as in `DepthExplorer`: True draws every view now and switches them in the browser,
            False draws each view from Python when the controls ask for it, None picks by ipywidgets.

    Attributes:
        depth, kind, seed, view: the control widgets (`depth.value` is the chosen depth).
        kernel_free: the mode in use.
        widget: the whole explorer, an `ipywidgets.VBox` with the CSS class "resnet-landscape-explorer".
        levels: {depth: the loss surfaces' contour levels}.

    Raises:
        RuntimeError: `kernel_free=True` with ipywidgets older than 8 (no Stack).
        ValueError: `depth` or `seed` is not one of the study's, `pixel_ratio` is not 1, 2 or 3, or the
            study is broken (`landscape_study.validate_landscape_study`).
    """

    _css_class = "resnet-landscape-explorer"
    _panel_sizes = LANDSCAPE_PANEL_SIZES
    _share_images = True  # a network's loss surface shows with both kinds and with its own: one Image

    def __init__(self, study: dict, *, depth: int | None = None, seed: int | None = None, pixel_ratio: int = 2,
                 progress: bool = True, kernel_free: bool | None = None):
        import ipywidgets as widgets

        from resnet_lib import landscape_study
        from resnet_lib.plots import loss_surface_levels

        self.kernel_free = _kernel_free(widgets, kernel_free, "LandscapeExplorer")
        self.study = landscape_study.validate_landscape_study(study)
        self.pixel_ratio = self._check_pixel_ratio(pixel_ratio)
        self.depths, self.seeds = landscape_study.depths(study), landscape_study.seeds(study)
        if depth is None:
            depth = 56 if 56 in self.depths else self.depths[-1]
        if depth not in self.depths:
            raise ValueError(f"`depth` must be one of the study's depths {self.depths}, received {depth!r}.")
        if seed is None:
            seed = self.seeds[0]
        if seed not in self.seeds:
            raise ValueError(f"`seed` must be one of the study's seeds {self.seeds}, received {seed!r}.")
        self.levels = {d: loss_surface_levels(study, d) for d in self.depths}
        self.depth = _toggle_buttons(widgets, self.depths, depth, "depth", "56px")
        self.kind = _toggle_buttons(widgets, list(KIND_OPTIONS), "both", "networks", "84px")
        self.seed = _toggle_buttons(widgets, self.seeds, seed, "seed", "56px")
        self.view = _toggle_buttons(widgets, LANDSCAPE_VIEWS, LANDSCAPE_VIEWS[0], "view", "112px")
        self._make_layouts(widgets)

        if self.kernel_free:
            self._views = self._prerendered_views(widgets, progress)
        else:
            self._views = self._live_view([self.depth, self.kind, self.seed, self.view])
        controls = widgets.VBox([self.depth, self.kind, self.seed, self.view], layout=widgets.Layout(max_width="100%"))
        self.widget = widgets.VBox([controls, self._views], layout=widgets.Layout(max_width="100%"))
        self.widget.add_class(self._css_class)
        self.widget.add_class("resnet-explorer")

    def _prerendered_views(self, widgets, progress: bool):
        """Every view drawn now, in nested Stacks that `jslink`s switch in the browser (kernel-free mode)."""
        from tqdm.auto import tqdm

        self._leaves: dict[tuple[str, str, int, int], widgets.VBox] = {}
        bar = tqdm(total=len(LANDSCAPE_VIEWS) * len(KIND_OPTIONS) * len(self.depths) * len(self.seeds),
                   desc="drawing the explorer's figures", disable=not progress)

        def leaf(view, kind, d, s):
            self._leaves[(view, kind, d, s)] = self._leaf(*self._draw((view, kind, d, s)))
            bar.update(1)
            return self._leaves[(view, kind, d, s)]

        # Outermost first: a Stack per choice of the controls above it, its children the next control's choices.
        levels = [(self.view, LANDSCAPE_VIEWS), (self.kind, list(KIND_OPTIONS)), (self.depth, self.depths),
                  (self.seed, self.seeds)]
        stacks: list[tuple[object, object]] = []  # (control, Stack it switches)

        def tree(level: int, chosen: tuple):
            control, values = levels[level]
            children = [tree(level + 1, (*chosen, value)) if level + 1 < len(levels) else leaf(*chosen, value)
                        for value in values]
            stack = widgets.Stack(children, selected_index=control.index, layout=self._layouts["stack"])
            stacks.append((control, stack))
            return stack

        views = tree(0, ())
        bar.close()
        # The links run in the browser: they need no kernel (see `DepthExplorer`).
        self._links = [widgets.jslink((control, "index"), (stack, "selected_index")) for control, stack in stacks]
        return views

    def _selection(self) -> tuple:
        return (self.view.value, self.kind.value, self.depth.value, self.seed.value)

    def _draw(self, selection: tuple) -> tuple:
        view, kind, depth, seed = selection
        pngs, name, caption, alts = {
            "loss surface": (self.surface_pngs, "surface", self._surface_caption, self.surface_alts),
            "interpolation": (self.interpolation_pngs, "interpolation", self._interpolation_caption,
                              self.interpolation_alts),
            "lesions": (self.lesion_pngs, "lesions", self._lesion_caption, self.lesion_alts)}[view]
        return pngs(kind, depth, seed), (name, name), caption(kind, depth, seed), alts(kind, depth, seed)

    # --- what the figures show, in words (their alt texts) ----------------------------------------

    def surface_alts(self, kind: str, depth: int, seed: int) -> tuple[str, str]:
        """The alt texts of `surface_figures`."""
        def loss(name):
            share = 100 * self._network(name, depth, seed)["nonconvexity"]["grid"]
            return (f"Contour map of the loss of {name}-{depth}, seed {seed}, around its trained weights along two "
                    f"random filter-normalised directions, log colour scale shared by the depth's networks. Loss at "
                    f"the centre {self._centre(name, depth, seed, 'loss'):.3g}; non-convex points, marked with dots: "
                    f"{share:.1f} % of the grid.")

        kinds = self._kinds(kind, depth, seed)
        if len(kinds) == 2:
            return loss(kinds[0]), loss(kinds[1])
        accuracy = 100 * self._centre(kinds[0], depth, seed, "accuracy")
        return loss(kinds[0]), (f"Contour map of the accuracy of {kinds[0]}-{depth}, seed {seed}, around its trained "
                                f"weights along the same two directions; {accuracy:.1f} % at the centre.")

    def interpolation_alts(self, kind: str, depth: int, seed: int) -> tuple[str, str]:
        """The alt texts of `interpolation_figures`."""
        from resnet_lib import landscape_study

        alts = []
        for metric, scale, unit in (("loss", 1, ""), ("accuracy", 100, " %")):
            parts = []
            for name in self._kinds(kind, depth, seed):
                curve = landscape_study.interpolation_curve(self.study, name, depth, seed)
                start, end = (scale * float(curve[metric][np.argmin(np.abs(curve["t"] - t))]) for t in (0.0, 1.0))
                parts.append(f"{name}-{depth} {start:.3g}{unit} at t = 0 and {end:.3g}{unit} at t = 1")
            alts.append(f"Line chart of the {metric} on the weights (1 − t) · initial + t · trained, seed {seed}, t from "
                        f"{curve['t'][0]:g} to {curve['t'][-1]:g}: " + "; ".join(parts) + ".")
        return tuple(alts)

    def lesion_alts(self, kind: str, depth: int, seed: int) -> tuple[str, str]:
        """The alt texts of `lesion_figures`."""
        from resnet_lib import landscape_study

        single, random = [], []
        for name in self._kinds(kind, depth, seed):
            drops = landscape_study.single_block_drops(self.study, name, depth, seed)
            single.append(f"{name}-{depth}: intact {100 * drops['intact_accuracy']:.1f} %, median drop "
                          f"{np.median(drops['drop']):.1f} points, largest {drops['drop'].max():.1f}")
            curve = landscape_study.random_lesion_curve(self.study, name, depth, seed)
            random.append(f"{name}-{depth} {100 * curve['mean'][0]:.1f} % with {curve['k'][0]} blocks deleted, "
                          f"{100 * curve['mean'][-1]:.1f} % with {curve['k'][-1]}")
        return (f"Chart of the test accuracy after deleting one block at a time, seed {seed}, downsampling blocks "
                f"hollow. " + "; ".join(single) + ".",
                f"Line chart of the test accuracy after deleting k random blocks, mean and range over the draws, seed "
                f"{seed}: " + "; ".join(random) + ".")

    # --- figures ---------------------------------------------------------------------------------

    def _kinds(self, kind: str, depth: int, seed: int) -> tuple[str, ...]:
        """The kinds of network `kind` (a key of `KIND_OPTIONS`) shows, once the request is checked."""
        if kind not in KIND_OPTIONS:
            raise ValueError(f"`kind` must be one of {list(KIND_OPTIONS)}, received {kind!r}.")
        if depth not in self.depths:
            raise ValueError(f"`depth` must be one of the study's depths {self.depths}, received {depth!r}.")
        if seed not in self.seeds:
            raise ValueError(f"`seed` must be one of the study's seeds {self.seeds}, received {seed!r}.")
        return KIND_OPTIONS[kind]

    def surface_figures(self, kind: str, depth: int, seed: int) -> tuple:
        """The two loss-surface panels for one setting of the controls, as matplotlib Figures.

        Args:
            kind: one of `KIND_OPTIONS` ("plain", "residual", "both").
            depth: one of the study's depths.
            seed: one of the study's seeds.

        Returns:
            "both": (plain's loss surface, residual's); one kind: (its loss surface, its accuracy
            surface). Each of `LANDSCAPE_PANEL_SIZES["surface"]` / 72 inches; the loss surfaces drawn
            with `self.levels[depth]`.

        Raises:
            ValueError: `kind`, `depth` or `seed` is not one the controls offer.
        """
        import matplotlib

        from resnet_lib.plots import plot_accuracy_surface, plot_loss_surface

        kinds = self._kinds(kind, depth, seed)
        with matplotlib.rc_context(FIGURE_STYLE):
            losses = [plot_loss_surface(self.study, name, depth, seed, ax=panel_axes("surface"),
                                        levels=self.levels[depth]).figure for name in kinds]
            if len(kinds) == 2:
                return tuple(losses)
            accuracy = plot_accuracy_surface(self.study, kinds[0], depth, seed, ax=panel_axes("surface"))
        return losses[0], accuracy.figure

    def interpolation_figures(self, kind: str, depth: int, seed: int) -> tuple:
        """The two interpolation panels, (loss, accuracy) against t, as matplotlib Figures.

        Args:
            kind: one of `KIND_OPTIONS`; depth, seed: as in `surface_figures`.

        Returns:
            (loss, accuracy), each of `LANDSCAPE_PANEL_SIZES["interpolation"]` / 72 inches.
        """
        import matplotlib

        from resnet_lib.plots import plot_interpolation

        kinds = self._kinds(kind, depth, seed)
        with matplotlib.rc_context(FIGURE_STYLE):
            return tuple(plot_interpolation(self.study, kinds, depth, seed, metric=metric, title=False,
                                            ax=panel_axes("interpolation")).figure
                         for metric in ("loss", "accuracy"))

    def lesion_figures(self, kind: str, depth: int, seed: int) -> tuple:
        """The two lesion panels, (single blocks, random blocks), as matplotlib Figures.

        Args:
            kind: one of `KIND_OPTIONS`; depth, seed: as in `surface_figures`.

        Returns:
            (single, random), each of `LANDSCAPE_PANEL_SIZES["lesions"]` / 72 inches.
        """
        import matplotlib

        from resnet_lib.plots import plot_random_lesions, plot_single_block_lesions

        kinds = self._kinds(kind, depth, seed)
        with matplotlib.rc_context(FIGURE_STYLE):
            return tuple(plot(self.study, kinds, depth, seed, ax=panel_axes("lesions"), title=False).figure
                         for plot in (plot_single_block_lesions, plot_random_lesions))

    def surface_pngs(self, kind: str, depth: int, seed: int) -> tuple[bytes, bytes]:
        """`surface_figures` as PNG bytes, `pixel_ratio` times their display size each way."""
        return tuple(self._png(figure, SURFACE_PNG_COLORS) for figure in self.surface_figures(kind, depth, seed))

    def interpolation_pngs(self, kind: str, depth: int, seed: int) -> tuple[bytes, bytes]:
        """`interpolation_figures` as PNG bytes, `pixel_ratio` times their display size each way."""
        return tuple(self._png(figure) for figure in self.interpolation_figures(kind, depth, seed))

    def lesion_pngs(self, kind: str, depth: int, seed: int) -> tuple[bytes, bytes]:
        """`lesion_figures` as PNG bytes, `pixel_ratio` times their display size each way."""
        return tuple(self._png(figure) for figure in self.lesion_figures(kind, depth, seed))

    # --- captions --------------------------------------------------------------------------------

    def _network(self, kind, depth, seed) -> dict:
        from resnet_lib import landscape_study

        return landscape_study.network(self.study, kind, depth, seed)

    def _surface_caption(self, kind, depth, seed) -> str:
        kinds = KIND_OPTIONS[kind]
        shares = [100 * self._network(name, depth, seed)["nonconvexity"]["grid"] for name in kinds]
        centres = [self._centre(name, depth, seed, "loss") for name in kinds]
        if len(kinds) == 2:
            return (f"Loss around the trained weights (+) of plain-{depth} and residual-{depth}, seed {seed}, along "
                    f"two random filter-normalised directions; log colours, one scale for both. Non-convex points "
                    f"(dots): {shares[0]:.1f} % and {shares[1]:.1f} % of the grid. Loss at the centre: "
                    f"{centres[0]:.3g} and {centres[1]:.3g}.")
        accuracy = self._centre(kinds[0], depth, seed, "accuracy")
        return (f"Loss (left, log colours; dots: non-convex points) and accuracy (right; dashed: chance) of "
                f"{kind}-{depth}, seed {seed}, around its trained weights (+) along two random directions. "
                f"Non-convex: {shares[0]:.1f} % of the grid. At the centre: loss {centres[0]:.3g}, accuracy "
                f"{100 * accuracy:.1f} %.")

    def _centre(self, kind, depth, seed, metric) -> float:
        from resnet_lib import landscape_study

        surface = landscape_study.surface(self.study, kind, depth, seed, metric)
        return float(surface["values"][np.argmin(np.abs(surface["alphas"])), np.argmin(np.abs(surface["betas"]))])

    def _interpolation_caption(self, kind, depth, seed) -> str:
        from resnet_lib import landscape_study

        parts = []
        for name in KIND_OPTIONS[kind]:
            curve = landscape_study.interpolation_curve(self.study, name, depth, seed)
            start, end = (float(curve["loss"][np.argmin(np.abs(curve["t"] - t))]) for t in (0.0, 1.0))
            highest = float(curve["loss"][(curve["t"] >= 0) & (curve["t"] <= 1)].max())
            parts.append(f"{name}-{depth} {start:.3g} at t = 0, {end:.3g} at t = 1 (highest between: {highest:.3g})")
        return (f"Loss and accuracy on the surface's images at the weights (1 − t) · initial + t · trained, seed "
                f"{seed}; t beyond 0 and 1 continues the line. Loss: " + "; ".join(parts) + ".")

    def _lesion_caption(self, kind, depth, seed) -> str:
        from resnet_lib import landscape_study

        parts = []
        for name in KIND_OPTIONS[kind]:
            drops = landscape_study.single_block_drops(self.study, name, depth, seed)
            parts.append(f"{name}-{depth} {np.median(drops['drop']):.1f} points (intact "
                         f"{100 * drops['intact_accuracy']:.1f} %)")
        return (f"Test accuracy after deleting one block (left; hollow: downsampling blocks) or k random blocks "
                f"(right; mean, band: range over the draws), seed {seed}. Median drop over the non-downsampling "
                f"blocks: " + "; ".join(parts) + ".")
