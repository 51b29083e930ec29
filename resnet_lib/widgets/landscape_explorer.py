"""The landscape explorer (chapter 8): why residual networks train, in loss surfaces, interpolations and lesions.

`LandscapeExplorer(load_landscape_study())` shows the study's figures (loss surfaces, Li et al.
2018; the loss along the line from the initial to the trained weights; lesion studies, Veit et al.
2016) under depth, networks, seed and view controls.
"""

from __future__ import annotations

import numpy as np

from resnet_lib.widgets._explorer import KIND_OPTIONS, PrerenderedExplorer, is_kernel_free, toggle_buttons
from resnet_lib.widgets._figures import FIGURE_STYLE, LANDSCAPE_PANEL_SIZES, SURFACE_PNG_COLORS, panel_axes

#: The landscape explorer's views.
LANDSCAPE_VIEWS = ("loss surface", "interpolation", "lesions")


class LandscapeExplorer(PrerenderedExplorer):
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
        from resnet_lib.plots.landscape import loss_surface_levels

        self.kernel_free = is_kernel_free(widgets, kernel_free, "LandscapeExplorer")
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
        self._surface_png_cache: dict[tuple[str, int, int, str], bytes] = {}
        self.depth = toggle_buttons(widgets, self.depths, depth, "depth", "56px")
        self.kind = toggle_buttons(widgets, list(KIND_OPTIONS), "both", "networks", "84px")
        self.seed = toggle_buttons(widgets, self.seeds, seed, "seed", "56px")
        self.view = toggle_buttons(widgets, LANDSCAPE_VIEWS, LANDSCAPE_VIEWS[0], "view", "112px")
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

        from resnet_lib.plots.landscape import plot_accuracy_surface, plot_loss_surface

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

        from resnet_lib.plots.landscape import plot_interpolation

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

        from resnet_lib.plots.landscape import plot_random_lesions, plot_single_block_lesions

        kinds = self._kinds(kind, depth, seed)
        with matplotlib.rc_context(FIGURE_STYLE):
            return tuple(plot(self.study, kinds, depth, seed, ax=panel_axes("lesions"), title=False).figure
                         for plot in (plot_single_block_lesions, plot_random_lesions))

    def surface_pngs(self, kind: str, depth: int, seed: int) -> tuple[bytes, bytes]:
        """`surface_figures` as PNG bytes, `pixel_ratio` times their display size each way.

        A network's loss surface shows both with "both" and with its own kind: it is drawn once and kept
        (`_surface_png`), which spares a third of the surfaces' drawing when every view is drawn."""
        kinds = self._kinds(kind, depth, seed)
        if len(kinds) == 2:
            return tuple(self._surface_png(name, depth, seed, "loss") for name in kinds)
        return self._surface_png(kinds[0], depth, seed, "loss"), self._surface_png(kinds[0], depth, seed, "accuracy")

    def _surface_png(self, name: str, depth: int, seed: int, metric: str) -> bytes:
        """The PNG of one network's loss or accuracy surface, as `surface_figures` draws it, drawn once."""
        import matplotlib

        from resnet_lib.plots.landscape import plot_accuracy_surface, plot_loss_surface

        key = (name, depth, seed, metric)
        if key not in self._surface_png_cache:
            with matplotlib.rc_context(FIGURE_STYLE):
                if metric == "loss":
                    ax = plot_loss_surface(self.study, name, depth, seed, ax=panel_axes("surface"),
                                           levels=self.levels[depth])
                else:
                    ax = plot_accuracy_surface(self.study, name, depth, seed, ax=panel_axes("surface"))
            self._surface_png_cache[key] = self._png(ax.figure, SURFACE_PNG_COLORS)
        return self._surface_png_cache[key]

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
