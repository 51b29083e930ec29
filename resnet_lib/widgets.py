"""The depth explorer (chapter 7): plain vs residual training across depths, as a widget.

Every figure the controls can ask for is drawn in advance (PNGs at twice their display size, for
high-density screens) and kept in nested `ipywidgets.Stack`s; the controls switch the stacks with
`widgets.jslink`, which runs in the browser. So the explorer works the same with a kernel
(Jupyter, Colab) and on the static website, where no Python can run. With a kernel,
`DepthExplorer.training_panel()` adds a button that trains the chosen network now and draws its
curve next to the precomputed ones.

Each view shows two panels of `PANEL_WIDTH` CSS pixels in a box that wraps: side by side in the
website's text column (688 px at a 1280 px window), one below the other on a phone (358 px at
390 px), both at full size. The figures are drawn at 72 points per displayed inch, so a font of
`n` points is `n` CSS pixels on screen (`FIGURE_STYLE`: no text below 10 px).

    explorer = DepthExplorer(load_sweep())
    explorer                    # display it
    explorer.training_panel()   # with a kernel: "train this depth now"
"""

from __future__ import annotations

import io
import time

from resnet_lib import sweep as sweeps

#: The options of the plain/residual/both control, each with the kinds of network it shows (`sweep.KINDS`).
KIND_OPTIONS = {**{kind: (kind,) for kind in sweeps.KINDS}, "both": sweeps.KINDS}
VIEWS = ("learning curves", "gradient norms")

#: Display width of every panel, in CSS pixels: two side by side (with their 2 px margins) fit the
#: website's 688 px text column, and one fits a phone's 358 px column without shrinking.
PANEL_WIDTH = 336
#: Display size (width, height) in CSS pixels of each panel, by name: "curves" (metric per epoch),
#: "finals" (last epoch against depth), "gradients" (per-layer gradient norms of one kind).
PANEL_SIZES = {"curves": (PANEL_WIDTH, 264), "finals": (PANEL_WIDTH, 264), "gradients": (PANEL_WIDTH, 264)}
#: Margins (left, right, top, bottom) of each panel's Axes, in CSS pixels: fixed, so the axes never
#: move when a control switches figures. Top: the legend row (and title); right of "curves": depth labels.
PANEL_MARGINS = {"curves": (50, 24, 24, 40), "finals": (50, 10, 24, 40), "gradients": (52, 10, 44, 40)}
#: Matplotlib style of the explorer's figures, in points = CSS pixels at display size (the legend and
#: the depth labels are "small": 5/6 of font.size).
FIGURE_STYLE = {"font.size": 12.5, "axes.labelsize": 12, "axes.titlesize": 12.5, "xtick.labelsize": 11.5,
                "ytick.labelsize": 11.5, "savefig.facecolor": "white", "figure.facecolor": "white"}
#: Colours of the palette each PNG is reduced to (lines, bands and anti-aliased text need no more).
PNG_COLORS = 64


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


def panel_axes(name: str):
    """A new figure of the panel `name` (a key of `PANEL_SIZES`) and its Axes, at the fixed margins.

    The figure measures `PANEL_SIZES[name]` / 72 inches, so at 72 dpi it has one pixel per CSS pixel
    of its display size and a font of n points is n pixels; it is not registered with pyplot (it is
    never shown by a notebook on its own).

    Returns:
        The matplotlib Axes; its figure is `ax.figure`.

    Raises:
        ValueError: `name` is not a key of `PANEL_SIZES`.
    """
    from matplotlib.figure import Figure

    if name not in PANEL_SIZES:
        raise ValueError(f"`name` must be one of the panels {list(PANEL_SIZES)}, received {name!r}.")
    (width, height), (left, right, top, bottom) = PANEL_SIZES[name], PANEL_MARGINS[name]
    figure = Figure(figsize=(width / 72, height / 72), dpi=72)
    return figure.add_axes((left / width, bottom / height, 1 - (left + right) / width, 1 - (top + bottom) / height))


class DepthExplorer:
    """Depth slider, plain/residual/both, metric and view controls over the sweep's figures.

    Args:
        sweep: from `resnet_lib.sweep.load_sweep()`.
        depth: the depth shown first (default: 20 if the sweep has it, else the smallest).
        pixel_ratio: PNG pixels per displayed CSS pixel, each way (1, 2 or 3): 2 is sharp on
            high-density (retina, phone) screens; 1 makes lighter pages, blurry on those screens.
        progress: show a progress bar while the figures are drawn.

    Attributes:
        depth, kind, metric, view: the control widgets (`depth.value` is the chosen depth).
        widget: the whole explorer, an `ipywidgets.VBox` with the CSS class "resnet-depth-explorer".
        live: {(kind, depth): history} of the networks trained with `train_now`.

    Raises:
        RuntimeError: ipywidgets is older than 8 (no Stack); the message says how to upgrade.
        ValueError: `depth` is not one of the sweep's depths, `pixel_ratio` is not 1, 2 or 3, or the
            sweep is broken (`sweep.validate_sweep`).
    """

    def __init__(self, sweep: dict, *, depth: int | None = None, pixel_ratio: int = 2, progress: bool = True):
        import ipywidgets as widgets

        if not hasattr(widgets, "Stack"):
            raise RuntimeError(
                f"DepthExplorer needs ipywidgets 8 or newer (its Stack widget), but this kernel runs ipywidgets "
                f"{widgets.__version__}. Run `pip install 'ipywidgets>=8'` (installing resnet-lib does it), then "
                "restart the kernel (in Colab: Runtime > Restart session) and run the chapter again."
            )
        if pixel_ratio not in (1, 2, 3):
            raise ValueError(f"`pixel_ratio` must be 1, 2 or 3 (PNG pixels per CSS pixel), received {pixel_ratio!r}.")
        self.sweep, self.pixel_ratio = sweeps.validate_sweep(sweep), pixel_ratio
        self.depths = sweeps.depths(sweep)
        if depth is None:
            depth = 20 if 20 in self.depths else self.depths[0]
        if depth not in self.depths:
            raise ValueError(f"`depth` must be one of the sweep's depths {self.depths}, received {depth!r}.")
        self.live: dict[tuple[str, int], dict] = {}
        self._controls(widgets, depth)
        # One Layout (and caption style) shared by all the widgets of a role: each is a model in the page's
        # widget state, and hundreds of identical copies would weigh about half a megabyte.
        self._layouts = {name: widgets.Layout(width=f"{size[0]}px", max_width="100%", height="auto", margin="2px",
                                              flex="0 1 auto") for name, size in PANEL_SIZES.items()}
        self._layouts.update(
            # The panels side by side where both fit, one below the other where not (a phone).
            panels=widgets.Layout(display="flex", flex_flow="row wrap", align_items="flex-start", overflow="visible"),
            caption=widgets.Layout(max_width="680px"), leaf=widgets.Layout(), stack=widgets.Layout())
        from ipywidgets.widgets.widget_string import HTMLStyle  # not exported by ipywidgets' top level

        self._caption_style = HTMLStyle()

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
                    leaf = self._leaf(self.curve_pngs(metric, kind, d), ("curves", "finals"),
                                      self._caption(metric, kind, d))
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
            leaf = self._leaf(self.gradient_pngs(d), ("gradients", "gradients"), self._gradient_caption(d))
            self._gradient_leaves[d] = leaf
            gradient_leaves.append(leaf)
            bar.update(1)
        bar.close()
        gradients = widgets.Stack(gradient_leaves, selected_index=self.depths.index(depth),
                                  layout=self._layouts["stack"])
        depth_stacks.append(gradients)
        self._views = widgets.Stack([curves, gradients], selected_index=self.view.index)

        # The links run in the browser: they need no kernel. Selection widgets link `index`, and every
        # link joins two traits of the same type (an index to a Stack's selected_index).
        link = widgets.jslink
        self._links = [link((self.depth, "index"), (stack, "selected_index")) for stack in depth_stacks]
        self._links += [link((self.kind, "index"), (stack, "selected_index")) for stack in kind_stacks]
        self._links.append(link((self.metric, "index"), (curves, "selected_index")))
        self._links.append(link((self.view, "index"), (self._views, "selected_index")))
        # The gradient view ignores the networks and metric controls: there the rows show disabled
        # copies, which keep the live controls' choice (linked) and come back with the learning curves.
        self._links += [link((live, "index"), (copy, "index"))
                        for live, copy in ((self.kind, self._kind_copy), (self.metric, self._metric_copy))]
        self._links += [link((self.view, "index"), (row, "selected_index")) for row in self._control_rows]

        controls = widgets.VBox([self.depth, *self._control_rows, self.view],
                                layout=widgets.Layout(max_width="100%"))
        self.widget = widgets.VBox([controls, self._views], layout=widgets.Layout(max_width="100%"))
        self.widget.add_class("resnet-depth-explorer")

    def _controls(self, widgets, depth: int) -> None:
        """The control widgets, and the rows that swap the networks and metric controls for disabled copies."""
        label = {"description_width": "66px"}
        # A toggle's description beside its buttons, right-aligned like the others' (ipywidgets 8 puts it on
        # a line of its own), the buttons below it only where the row is too narrow.
        row = {"display": "flex", "flex_flow": "row wrap", "align_items": "center", "max_width": "100%"}
        self.depth = widgets.SelectionSlider(options=self.depths, value=depth, description="depth",
                                             continuous_update=True, style=label,
                                             layout=widgets.Layout(width="100%", max_width="460px"))
        kind_options = {"options": list(KIND_OPTIONS), "value": "both", "description": "networks",
                        "style": {**label, "button_width": "84px"}}
        self.kind = widgets.ToggleButtons(**kind_options, layout=widgets.Layout(**row))
        self._kind_copy = widgets.ToggleButtons(**kind_options, disabled=True, layout=widgets.Layout(**row))
        metric_options = {"options": [(sweeps.METRIC_LABELS[m], m) for m in sweeps.METRICS], "value": "loss",
                          "description": "metric", "style": label}
        self.metric = widgets.Dropdown(**metric_options, layout=widgets.Layout(width="280px", max_width="100%"))
        self._metric_copy = widgets.Dropdown(**metric_options, disabled=True,
                                             layout=widgets.Layout(width="280px", max_width="100%"))
        self.view = widgets.ToggleButtons(options=VIEWS, value=VIEWS[0], description="view",
                                          style={**label, "button_width": "128px"}, layout=widgets.Layout(**row))
        for toggle in (self.kind, self._kind_copy, self.view):
            toggle.add_class("widget-inline-hbox")  # ipywidgets' style of a description beside its control
        # Row i of the view: child 0 (the live control) for the learning curves, child 1 (disabled) for gradients.
        self._control_rows = [widgets.Stack([self.kind, self._kind_copy], selected_index=0),
                              widgets.Stack([self.metric, self._metric_copy], selected_index=0)]

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

    def _png(self, figure) -> bytes:
        return figure_to_png(figure, dpi=72 * self.pixel_ratio, colors=PNG_COLORS)

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

    def _images(self, pngs, names):
        import ipywidgets as widgets

        images = []
        for png, name in zip(pngs, names):
            # No tooltip: the html-manager's ImageView crashes on one (it expects a description).
            image = widgets.Image(value=png, format="png", layout=self._layouts[name])
            image.add_class("resnet-depth-explorer-figure")
            images.append(image)
        return widgets.Box(images, layout=self._layouts["panels"])

    def _leaf(self, pngs, names, caption: str):
        """A view's figures (PNG bytes of the panels `names`, keys of `PANEL_SIZES`) above their caption."""
        import ipywidgets as widgets

        text = widgets.HTML(f"<small>{caption}</small>", layout=self._layouts["caption"], style=self._caption_style)
        return widgets.VBox([self._images(pngs, names), text], layout=self._layouts["leaf"])

    def refresh(self, depth: int) -> None:
        """Draws the learning-curve panels of `depth` again (after `train_now` added a curve)."""
        for metric in sweeps.METRICS:
            for kind in KIND_OPTIONS:
                leaf = self._curve_leaves[(metric, kind, depth)]
                curves_image = leaf.children[0].children[0]
                curves_image.value = self._png(self.curve_figures(metric, kind, depth)[0])
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

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
