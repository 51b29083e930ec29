"""The depth explorer (chapter 7): plain vs residual training across depths, learning curves and gradient norms.

`DepthExplorer(load_sweep())` shows the sweep's figures under a depth slider and the networks,
metric and view controls; with a kernel, `training_panel()` trains the chosen network now and draws
its curve beside the precomputed ones.
"""

from __future__ import annotations

import time

from resnet_lib import sweep as sweeps
from resnet_lib.widgets._explorer import (
    CONTROL_LABEL,
    KIND_OPTIONS,
    PrerenderedExplorer,
    is_kernel_free,
    toggle_buttons,
)
from resnet_lib.widgets._figures import FIGURE_STYLE, figure_html, panel_axes

#: The depth explorer's views.
VIEWS = ("learning curves", "gradient norms")


class DepthExplorer(PrerenderedExplorer):
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

        self.kernel_free = is_kernel_free(widgets, kernel_free, "DepthExplorer")
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
        self.kind = toggle_buttons(widgets, list(KIND_OPTIONS), "both", "networks", "84px")
        metric_options = {"options": [(sweeps.METRIC_LABELS[m], m) for m in sweeps.METRICS], "value": "loss",
                          "description": "metric", "style": label}
        self.metric = widgets.Dropdown(**metric_options, layout=widgets.Layout(width="280px", max_width="100%"))
        self.view = toggle_buttons(widgets, VIEWS, VIEWS[0], "view", "128px")
        if not self.kernel_free:
            self._control_rows = [self.kind, self.metric]
            return
        self._kind_copy = toggle_buttons(widgets, list(KIND_OPTIONS), "both", "networks", "84px", disabled=True)
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

        from resnet_lib.plots.depth_sweep import plot_depth_sweep_curves, plot_depth_sweep_finals

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

        from resnet_lib.plots.depth_sweep import plot_sweep_gradient_norms

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
        from resnet_lib.experiments.depth_sweep import train_sweep_network

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
