"""The depth explorer (chapter 7): plain vs residual training across depths, as a widget.

Every figure the controls can ask for is drawn in advance (small PNGs) and kept in nested
`ipywidgets.Stack`s; the controls switch the stacks with `widgets.jslink`, which runs in the
browser. So the explorer works the same with a kernel (Jupyter, Colab) and on the static website,
where no Python can run. With a kernel, `DepthExplorer.training_panel()` adds a button that trains
the chosen network now and draws its curve next to the precomputed ones.

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


def figure_to_png(figure, dpi: int = 72) -> bytes:
    """The figure as PNG bytes, reduced to a 256-colour palette to keep pages small; closes it."""
    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small = io.BytesIO()
    image.save(small, format="png", optimize=True)
    return small.getvalue()


class DepthExplorer:
    """Depth slider, plain/residual/both, metric and view controls over the sweep's figures.

    Args:
        sweep: from `resnet_lib.sweep.load_sweep()`.
        depth: the depth shown first (default: 20 if the sweep has it, else the smallest).
        dpi: resolution of the pre-drawn figures.
        progress: show a progress bar while the figures are drawn.

    Attributes:
        depth, kind, metric, view: the control widgets (`depth.value` is the chosen depth).
        widget: the whole explorer, an `ipywidgets.VBox`.
        live: {(kind, depth): history} of the networks trained with `train_now`.
    """

    def __init__(self, sweep: dict, *, depth: int | None = None, dpi: int = 72, progress: bool = True):
        import ipywidgets as widgets

        if not hasattr(widgets, "Stack"):
            raise RuntimeError(
                f"DepthExplorer needs ipywidgets 8 or newer (its Stack widget), but this kernel runs ipywidgets "
                f"{widgets.__version__}. Run `pip install 'ipywidgets>=8'` (installing resnet-lib does it), then "
                "restart the kernel (in Colab: Runtime > Restart session) and run the chapter again."
            )
        self.sweep, self.dpi = sweeps.validate_sweep(sweep), dpi
        self.depths = sweeps.depths(sweep)
        if depth is None:
            depth = 20 if 20 in self.depths else self.depths[0]
        if depth not in self.depths:
            raise ValueError(f"`depth` must be one of the sweep's depths {self.depths}, received {depth!r}.")
        self.live: dict[tuple[str, int], dict] = {}

        label = {"description_width": "70px"}
        self.depth = widgets.SelectionSlider(options=self.depths, value=depth, description="depth",
                                             continuous_update=True, style=label,
                                             layout=widgets.Layout(width="460px"))
        self.kind = widgets.ToggleButtons(options=list(KIND_OPTIONS), value="both",
                                          description="networks", style={**label, "button_width": "90px"})
        self.metric = widgets.Dropdown(options=[(sweeps.METRIC_LABELS[m], m) for m in sweeps.METRICS], value="loss",
                                       description="metric", style=label, layout=widgets.Layout(width="280px"))
        self.view = widgets.ToggleButtons(options=VIEWS, value=VIEWS[0], description="view",
                                          style={**label, "button_width": "130px"})

        self._curve_leaves: dict[tuple[str, str, int], widgets.VBox] = {}
        self._gradient_leaves: dict[int, widgets.VBox] = {}
        jobs = [(m, k, d) for m in sweeps.METRICS for k in KIND_OPTIONS for d in self.depths]
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs) + len(self.depths), desc="drawing the explorer's figures", disable=not progress)
        depth_stacks = []
        metric_stacks = []
        for metric in sweeps.METRICS:
            kind_stacks = []
            for kind in KIND_OPTIONS:
                leaves = []
                for d in self.depths:
                    leaf = self._curve_leaf(metric, kind, d)
                    self._curve_leaves[(metric, kind, d)] = leaf
                    leaves.append(leaf)
                    bar.update(1)
                stack = widgets.Stack(leaves, selected_index=self.depths.index(depth))
                depth_stacks.append(stack)
                kind_stacks.append(stack)
            stack = widgets.Stack(kind_stacks, selected_index=self._kind_index())
            metric_stacks.append(stack)
        self._kind_stacks = metric_stacks
        curves = widgets.Stack(metric_stacks, selected_index=list(sweeps.METRICS).index(self.metric.value))
        gradient_leaves = []
        for d in self.depths:
            leaf = self._gradient_leaf(d)
            self._gradient_leaves[d] = leaf
            gradient_leaves.append(leaf)
            bar.update(1)
        bar.close()
        gradients = widgets.Stack(gradient_leaves, selected_index=self.depths.index(depth))
        depth_stacks.append(gradients)
        self._views = widgets.Stack([curves, gradients], selected_index=0)

        # The links run in the browser: they need no kernel. Selection widgets link `index`.
        self._links = [widgets.jslink((self.depth, "index"), (stack, "selected_index")) for stack in depth_stacks]
        self._links += [widgets.jslink((self.kind, "index"), (stack, "selected_index")) for stack in metric_stacks]
        self._links.append(widgets.jslink((self.metric, "index"), (curves, "selected_index")))
        self._links.append(widgets.jslink((self.view, "index"), (self._views, "selected_index")))

        controls = widgets.VBox([self.depth, self.kind, self.metric, self.view])
        self.widget = widgets.VBox([controls, self._views], layout=widgets.Layout(max_width="820px"))

    def _kind_index(self) -> int:
        return list(KIND_OPTIONS).index(self.kind.value)

    # --- figures ---------------------------------------------------------------------------------

    def _live_for(self, depth: int) -> dict:
        return {kind: history for (kind, d), history in self.live.items() if d == depth}

    def curve_png(self, metric: str, kind: str, depth: int) -> bytes:
        """The learning-curve figure for one setting of the controls, as PNG bytes."""
        from resnet_lib.plots import plot_depth_sweep

        kinds = KIND_OPTIONS[kind]
        axes = plot_depth_sweep(self.sweep, depth, kinds, metric, live=self._live_for(depth))
        return figure_to_png(axes[0].figure, self.dpi)

    def gradient_png(self, depth: int) -> bytes:
        """The per-layer gradient-norm figure for one depth, as PNG bytes."""
        from resnet_lib.plots import plot_sweep_gradient_norms

        ax = plot_sweep_gradient_norms(self.sweep, depth)
        return figure_to_png(ax.figure, self.dpi)

    def _caption(self, metric, kind, depth) -> str:
        seeds = len(sweeps.seeds(self.sweep))
        parts = []
        for name in KIND_OPTIONS[kind]:
            finals = sweeps.final_values(self.sweep, name, metric)[depth]
            parts.append(f"{name}-{depth} ends at {finals.mean():.3g} (seeds: {', '.join(f'{v:.3g}' for v in finals)})")
        return (f"{sweeps.METRIC_LABELS[metric].capitalize()} per epoch at depth {depth}, mean of {seeds} seeds, "
                f"against the other depths; right: the last epoch against depth. " + "; ".join(parts) + ".")

    def _leaf(self, png: bytes, caption: str):
        import ipywidgets as widgets

        # No tooltip: the html-manager's ImageView crashes on one (it expects a description).
        image = widgets.Image(value=png, format="png", layout=widgets.Layout(width="100%"))
        text = widgets.HTML(f"<small>{caption}</small>")
        return widgets.VBox([image, text])

    def _curve_leaf(self, metric, kind, depth):
        return self._leaf(self.curve_png(metric, kind, depth), self._caption(metric, kind, depth))

    def _gradient_leaf(self, depth):
        caption = (f"Gradient norm of every convolution and dense kernel of the plain and residual network of depth "
                   f"{depth}, input layer on the left, at initialisation (dashed) and after training (solid).")
        return self._leaf(self.gradient_png(depth), caption)

    def refresh(self, depth: int) -> None:
        """Draws the learning-curve figures of `depth` again (after `train_now` added a curve)."""
        for metric in sweeps.METRICS:
            for kind in KIND_OPTIONS:
                leaf = self._curve_leaves[(metric, kind, depth)]
                leaf.children[0].value = self.curve_png(metric, kind, depth)
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
