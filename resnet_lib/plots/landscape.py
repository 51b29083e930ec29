"""The landscape study's figures (chapter 8): loss and accuracy surfaces, interpolation, lesions."""

from __future__ import annotations

import numpy as np

from resnet_lib.plots._axes import KIND_COLORS, axes_or_new, log_axis, sweep_kinds, value_limits

#: Accuracy of guessing on the digits' test set (ten classes of equal size).
CHANCE_ACCURACY = 0.1
#: Colour map of the loss surfaces (low loss dark) and of the accuracy surfaces (high accuracy dark).
SURFACE_COLORMAPS = {"loss": "viridis", "accuracy": "Greens"}
NONCONVEX_COLOR = "#ff4f8b"


def _compact_number(value, _position=None) -> str:
    """A log axis's tick label, short and without a superscript: ... 1e-4, 1e-3, then 0.01, 0.1, 1, 10, 100,
    then 1e3, 1e4 ... (at most four characters for a decade: the colour bar's labels fit the figure's margin)."""
    if value <= 0:
        return ""
    if 1e-2 <= value < 999.5:
        return f"{value:g}"
    exponent = int(np.floor(np.log10(value) + 1e-9))
    mantissa = value / 10.0 ** exponent
    return f"1e{exponent}" if abs(mantissa - 1) < 1e-6 else f"{mantissa:g}e{exponent}"


def _landscape_kind(kind) -> str:
    """`kind` if it is one of the study's kinds ("plain", "residual"), else a ValueError naming it."""
    from resnet_lib import sweep as sweeps

    if kind not in sweeps.KINDS:
        raise ValueError(f"`kind` must be one of {sweeps.KINDS}, received {kind!r}.")
    return kind


def _landscape_title(ax, title, default: str, *, above_legend: bool = False) -> None:
    """Sets the panel's title, left-aligned at the style's title size: `default` if `title` is None or True,
    none if False, else the string `title` (raised by a row if a legend sits in a row above the Axes)."""
    if title is False:
        return
    ax.set_title(default if title is None or title is True else str(title), loc="left", fontweight="bold",
                 pad=20 if above_legend else None)


def _check_levels(levels) -> np.ndarray:
    levels = np.asarray(levels, dtype=float)
    if levels.ndim != 1 or levels.size < 2 or not np.all(np.isfinite(levels)) or not np.all(levels > 0) or not (
            np.all(np.diff(levels) > 0)):
        raise ValueError(f"`levels` must be at least two positive, increasing losses, received {levels!r}.")
    return levels


#: Contour levels per decade of loss, unless a count is asked for.
LEVELS_PER_DECADE = 3


def _logarithmic_levels(values, count: int | None = None) -> np.ndarray:
    """Levels spaced evenly in log10 from the decade below the smallest positive value to the decade above
    the largest one: `count` of them, or (None) `LEVELS_PER_DECADE` per decade."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    low, high = (np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))) if values.size else (-2.0, 1.0)
    high = max(high, low + 1)
    return np.logspace(low, high, int(LEVELS_PER_DECADE * (high - low)) + 1 if count is None else count)


def loss_surface_levels(study: dict, depth: int | None = None, count: int | None = None) -> np.ndarray:
    """Contour levels for the loss surfaces, shared by every kind and seed of `depth` (or of every depth).

    The losses span from about 0.01 (the centre of a trained residual network) to millions (the
    edge of a plain one's grid), so the levels are evenly spaced in log10, from the decade below the
    smallest loss to the decade above the largest: panels drawn with them share one colour scale.

    Args:
        study: from `resnet_lib.landscape_study.load_landscape_study()`.
        depth: one of the study's depths (None: all of them).
        count: how many levels (at least 2); None: `LEVELS_PER_DECADE` per decade, so that the
            levels of every depth are a third of a decade apart (the ends included).

    Returns:
        The levels, (count,), increasing losses.

    Raises:
        ValueError: `depth` is not in the study, or `count` is not None or a whole number >= 2.
    """
    from resnet_lib import landscape_study

    if count is not None and (isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 2):
        raise ValueError(f"`count` must be None or a whole number >= 2, received {count!r}.")
    study_depths = landscape_study.depths(study)
    if depth is not None and depth not in study_depths:
        raise ValueError(f"`depth` must be one of the study's depths {study_depths} or None, received {depth!r}.")
    values = [landscape_study.surface(study, kind, d, seed)["values"].ravel()
              for kind in landscape_study.KINDS for d in ([depth] if depth is not None else study_depths)
              for seed in landscape_study.seeds(study)]
    return _logarithmic_levels(np.concatenate(values), count)


def _surface_colorbar(ax, contours, ticks, labels, title: str):
    """A colour bar just right of the Axes (an inset: the Axes keep their size), titled above its top."""
    bar_axes = ax.inset_axes((1.03, 0.0, 0.05, 1.0))
    bar = ax.figure.colorbar(contours, cax=bar_axes, ticks=ticks)
    bar.ax.set_yticklabels(labels)
    bar.ax.minorticks_off()
    bar.ax.set_title(title, fontsize="small", loc="left", pad=10)  # points: above the top tick label
    return bar


def _surface_frame(ax, surface: dict) -> None:
    """The trained weights marked at the centre, the axes' labels and limits of a surface panel."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    ax.plot([0], [0], marker="+", markersize=11, markeredgewidth=2, color="white", linestyle="none")
    ax.plot([0], [0], marker="+", markersize=8, markeredgewidth=1, color="black", linestyle="none")
    ax.set_xlim(surface["alphas"][0], surface["alphas"][-1])
    ax.set_ylim(surface["betas"][0], surface["betas"][-1])
    ax.set_xlabel("direction 1")
    ax.set_ylabel("direction 2")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(FixedLocator([-1, -0.5, 0, 0.5, 1]))
        axis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}".replace("-", "−")))


def plot_surface_contours(alphas, betas, loss, *, ax=None, levels=None, nonconvex_tolerance: float | None = 0.01,
                          title=None, colorbar: bool = True):
    """A loss surface as filled contours of log10(loss), e.g. one just computed by `landscape.loss_surface`.

    Thin contour lines at the same levels; the centre (alpha = beta = 0, the trained weights) marked
    "+"; the interior points where the surface curves downwards (`resnet_lib.landscape.nonconvex_points`)
    as dots, with a legend entry above the Axes.

    Args:
        alphas: (n,) increasing, evenly spaced coordinates along the first direction.
        betas: (m,) coordinates along the second direction.
        loss: (n, m) losses, `loss[i, j]` at (alphas[i], betas[j]), as `loss_surface` returns them.
        ax: the matplotlib Axes to draw on (default: a new figure).
        levels: the contour levels, increasing positive losses (default: fitted to this surface).
        nonconvex_tolerance: the tolerance of `nonconvex_points`; None draws no dots.
        title: the panel's title (None or False: none).
        colorbar: draw the colour scale right of the Axes (an inset: leave about 60 points of margin).

    Returns:
        The Axes.

    Raises:
        ValueError: the shapes do not match, or `levels` are not increasing positive losses.
    """
    from matplotlib.colors import LogNorm

    from resnet_lib import landscape

    alphas, betas = np.asarray(alphas, dtype=float), np.asarray(betas, dtype=float)
    values = np.asarray(loss, dtype=float)
    if values.shape != (len(alphas), len(betas)):
        raise ValueError(f"`loss` must have shape (len(alphas), len(betas)) = ({len(alphas)}, {len(betas)}), "
                         f"received {values.shape}.")
    levels = _logarithmic_levels(values) if levels is None else _check_levels(levels)
    ax = axes_or_new(ax, figsize=(4.6, 4))
    norm = LogNorm(levels[0], levels[-1])
    shown = np.clip(np.where(np.isfinite(values), values, levels[-1]), levels[0], levels[-1])
    contours = ax.contourf(alphas, betas, shown.T, levels=levels, norm=norm, cmap=SURFACE_COLORMAPS["loss"])
    ax.contour(alphas, betas, shown.T, levels=levels, colors="black", linewidths=0.4, alpha=0.45)
    _surface_frame(ax, {"alphas": alphas, "betas": betas})
    if nonconvex_tolerance is not None:
        rows, columns = np.nonzero(landscape.nonconvex_points(values, alphas, betas, tolerance=nonconvex_tolerance))
        ax.plot(alphas[1:-1][rows], betas[1:-1][columns], linestyle="none", marker="o", markersize=3,
                markerfacecolor=NONCONVEX_COLOR, markeredgecolor="black", markeredgewidth=0.4, label="non-convex",
                gid="nonconvex")
        ax.legend(fontsize="small", loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, borderaxespad=0.2,
                  borderpad=0.0, handletextpad=0.2, handlelength=1.0)
    if colorbar:
        decades = np.arange(np.ceil(np.log10(levels[0]) - 1e-9), np.floor(np.log10(levels[-1]) + 1e-9) + 1)
        step = max(1, int(np.ceil(len(decades) / 6)))
        ticks = 10.0 ** decades[::step]
        _surface_colorbar(ax, contours, ticks, [_compact_number(tick) for tick in ticks], "loss")
    if title:
        _landscape_title(ax, title, "", above_legend=nonconvex_tolerance is not None)
    return ax


def plot_loss_surface(study: dict, kind: str, depth: int, seed: int, *, ax=None, levels=None,
                      show_nonconvex: bool = True, title=None, colorbar: bool = True):
    """The loss surface of one network of the study around its trained weights (Li et al., 2018).

    The loss on the study's images at weights + alpha * direction 1 + beta * direction 2 (two random,
    filter-normalised directions) over the study's grid, drawn by `plot_surface_contours`; the
    non-convex points use the study's tolerance.

    Args:
        study: from `resnet_lib.landscape_study.load_landscape_study()`.
        kind: "plain" or "residual".
        depth: one of the study's depths.
        seed: one of the study's seeds.
        ax: the matplotlib Axes to draw on (default: a new figure).
        levels: the contour levels, (n,) increasing positive losses, e.g. `loss_surface_levels(study, depth)`
            so that several panels share one colour scale (default: levels fitted to this surface).
        show_nonconvex: mark the non-convex points (and add them to a legend above the Axes).
        title: the panel's title (None: the network, e.g. "plain-56, seed 0"; False: none).
        colorbar: draw the colour scale right of the Axes (an inset: leave about 60 points of margin).

    Returns:
        The Axes.

    Raises:
        ValueError: `kind`, `depth` or `seed` is not in the study, or `levels` are not increasing positive losses.
    """
    from resnet_lib import landscape_study

    surface = landscape_study.surface(study, _landscape_kind(kind), depth, seed, "loss")
    tolerance = study["recipe"]["nonconvexity"]["tolerance"] if show_nonconvex else None
    ax = plot_surface_contours(surface["alphas"], surface["betas"], surface["values"], ax=ax, levels=levels,
                               nonconvex_tolerance=tolerance, title=False, colorbar=colorbar)
    _landscape_title(ax, title, f"{kind}-{depth}, seed {seed}")
    return ax


def plot_accuracy_surface(study: dict, kind: str, depth: int, seed: int, *, ax=None, title=None,
                          colorbar: bool = True):
    """The accuracy surface of one network: `plot_loss_surface`'s grid coloured by accuracy (%) on the
    same images, in steps of 10 points, the chance level (10 %) as a dashed contour.

    Args:
        study: from `resnet_lib.landscape_study.load_landscape_study()`.
        kind: "plain" or "residual".
        depth: one of the study's depths.
        seed: one of the study's seeds.
        ax: the matplotlib Axes to draw on (default: a new figure).
        title: the panel's title (None: e.g. "plain-56: accuracy"; False: none).
        colorbar: draw the colour scale right of the Axes.

    Returns:
        The Axes.

    Raises:
        ValueError: `kind`, `depth` or `seed` is not in the study.
    """
    from resnet_lib import landscape_study

    surface = landscape_study.surface(study, _landscape_kind(kind), depth, seed, "accuracy")
    ax = axes_or_new(ax, figsize=(4.6, 4))
    percent = 100.0 * np.where(np.isfinite(surface["values"]), surface["values"], 0.0)
    levels = np.linspace(0, 100, 11)
    contours = ax.contourf(surface["alphas"], surface["betas"], percent.T, levels=levels,
                           cmap=SURFACE_COLORMAPS["accuracy"])
    ax.contour(surface["alphas"], surface["betas"], percent.T, levels=[100 * CHANCE_ACCURACY], colors="black",
               linewidths=0.8, linestyles="--")
    _surface_frame(ax, surface)
    if colorbar:
        ticks = np.arange(0, 101, 20)
        _surface_colorbar(ax, contours, ticks, [f"{tick:g}" for tick in ticks], "acc. %")
    _landscape_title(ax, title, f"{kind}-{depth}: accuracy")
    return ax


def interpolation_limits(study: dict, depth: int, metric: str = "loss") -> tuple[float, float]:
    """The y-limits of the interpolation panels of `depth`: the same for plain, residual and both and every seed.

    Losses: a log axis that fits every curve between the initial (t = 0) and the trained (t = 1)
    weights, and beyond them up to 100 times the highest loss between them (past the ends a plain
    network's loss runs to 1e10 and more). Accuracies: 0 to 100 %.

    Raises:
        ValueError: `metric` is not "loss" or "accuracy", or `depth` is not in the study.
    """
    from resnet_lib import landscape_study

    if metric not in ("loss", "accuracy"):
        raise ValueError(f"`metric` must be 'loss' or 'accuracy', received {metric!r}.")
    if metric == "accuracy":
        return (0.0, 102.0)
    curves = [landscape_study.interpolation_curve(study, kind, depth, seed)
              for kind in landscape_study.KINDS for seed in landscape_study.seeds(study)]
    between = [curve["loss"][(curve["t"] >= -1e-9) & (curve["t"] <= 1 + 1e-9)] for curve in curves]
    cap = 100 * max(np.nanmax(values) for values in between)
    limits = value_limits([np.minimum(curve["loss"], cap) for curve in curves], log=True)
    return limits or (0.01, 10.0)


def plot_interpolation(study: dict, kinds, depth: int, seed: int, *, metric: str = "loss", ax=None, title=None):
    """The loss or accuracy along the straight line from the initial to the trained weights.

    At t, every weight is (1 - t) * initial + t * trained (batch-norm statistics likewise), for t
    from -0.25 to 1.25: t = 0 and t = 1 are marked by vertical lines labelled "initial" and
    "trained" above the Axes. One line per kind, in the depth sweep's colours (`KIND_COLORS`); the
    y-limits (`interpolation_limits`) are the same for every kind and seed of `depth`.

    Args:
        study: from `resnet_lib.landscape_study.load_landscape_study()`.
        kinds: which of "plain" and "residual" to show (a name or a sequence).
        depth: one of the study's depths.
        seed: one of the study's seeds.
        metric: "loss" (log axis) or "accuracy" (%, with the chance level dotted).
        ax: the matplotlib Axes to draw on (default: a new figure).
        title: the panel's title (None: e.g. "depth 56, seed 0"; False: none).

    Returns:
        The Axes.

    Raises:
        ValueError: `kinds` or `metric` is not one offered, or `depth` or `seed` is not in the study.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter

    from resnet_lib import landscape_study

    if metric not in ("loss", "accuracy"):
        raise ValueError(f"`metric` must be 'loss' or 'accuracy', received {metric!r}.")
    kinds = sweep_kinds(kinds)
    curves = {kind: landscape_study.interpolation_curve(study, kind, depth, seed) for kind in kinds}
    limits = interpolation_limits(study, depth, metric)
    ax = axes_or_new(ax, figsize=(5, 3.6))
    for kind, curve in curves.items():
        values = curve[metric] if metric == "loss" else 100.0 * curve[metric]
        ax.plot(curve["t"], values, color=KIND_COLORS[kind], marker="o", markersize=2.5, linewidth=1.8, label=kind)
    for t in (0.0, 1.0):
        ax.axvline(t, color="grey", linestyle="--", linewidth=1)
    if metric == "loss":
        log_axis(ax, limits)
        ax.yaxis.set_major_formatter(FuncFormatter(_compact_number))
        ax.set_ylabel("loss")
    else:
        ax.axhline(100 * CHANCE_ACCURACY, color="grey", linestyle=":", linewidth=1.5, label="chance")
        ax.set_ylim(limits)
        ax.set_ylabel("accuracy (%)")
    ax.set_xlim(-0.28, 1.28)
    ax.xaxis.set_major_locator(FixedLocator([0.0, 0.5, 1.0]))
    ax.xaxis.set_minor_locator(FixedLocator([-0.25, 0.25, 0.75, 1.25]))
    ax.set_xlabel("t, from initial (0) to trained (1)")
    ends = ax.secondary_xaxis("top")
    ends.xaxis.set_major_locator(FixedLocator([0.0, 1.0]))
    ends.set_xticklabels(["initial", "trained"], fontsize="small")
    ends.tick_params(length=0, pad=2)
    ax.grid(alpha=0.3, which="both" if metric == "loss" else "major")
    ax.legend(fontsize="small", loc="lower left" if metric == "loss" else "upper left", handlelength=1.6,
              borderaxespad=0.3, framealpha=0.9)  # where no curve runs: t < 0 is never below chance's loss
    _landscape_title(ax, title, f"depth {depth}, seed {seed}", above_legend=True)
    return ax


def _lesion_legend(ax, rows):
    """A legend of up to two rows just above the Axes: `rows` are lists of labels of the Axes' artists."""
    import itertools

    handles = dict(zip(*reversed(ax.get_legend_handles_labels())))
    columns = list(itertools.zip_longest(*rows))
    order = [label for column in columns for label in column if label is not None]
    return ax.legend([handles[label] for label in order], order, fontsize="small", loc="lower left",
                     bbox_to_anchor=(0.0, 1.0), ncols=len(columns), frameon=False, borderaxespad=0.2,
                     handlelength=1.6, columnspacing=1.0, borderpad=0.0, handletextpad=0.5)


def plot_single_block_lesions(study: dict, kinds, depth: int, seed: int, *, ax=None, title=None):
    """Test accuracy after deleting one block at a time (Veit et al., 2016), block by block in network order.

    Each deletion keeps the block's shortcut (a plain block is replaced by the identity), so the
    network still runs; the two downsampling blocks (hollow markers) also lose their change of
    feature-map size. Dashed lines: each kind's intact accuracy; dotted: chance (10 %).

    Args:
        study: from `resnet_lib.landscape_study.load_landscape_study()`.
        kinds: which of "plain" and "residual" to show.
        depth: one of the study's depths.
        seed: one of the study's seeds.
        ax: the matplotlib Axes to draw on (default: a new figure).
        title: the panel's title (None: e.g. "depth 56, seed 0"; False: none).

    Returns:
        The Axes; the hollow markers of each kind are one line with the gid "downsampling".

    Raises:
        ValueError: `kinds` is not a subset of the study's kinds, or `depth` or `seed` is not in the study.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    from resnet_lib import landscape_study

    kinds = sweep_kinds(kinds)
    lesions = {kind: landscape_study.network(study, kind, depth, seed)["single_block_lesions"] for kind in kinds}
    ax = axes_or_new(ax, figsize=(5, 3.6))
    for kind, lesion in lesions.items():
        color = KIND_COLORS[kind]
        accuracy = 100.0 * np.array(lesion["accuracy"], dtype=float)
        blocks = np.arange(1, len(accuracy) + 1)
        downsampling = np.array(lesion["downsampling"], dtype=bool)
        ax.axhline(100 * lesion["intact_accuracy"], color=color, linestyle="--", linewidth=1.2)
        ax.plot(blocks, accuracy, color=color, linewidth=0.8, alpha=0.5)
        ax.plot(blocks[~downsampling], accuracy[~downsampling], color=color, linestyle="none", marker="o",
                markersize=4, label=kind)
        ax.plot(blocks[downsampling], accuracy[downsampling], color=color, linestyle="none", marker="o",
                markersize=6, markerfacecolor="white", markeredgewidth=1.5, gid="downsampling")
    ax.axhline(100 * CHANCE_ACCURACY, color="grey", linestyle=":", linewidth=1.5, label="chance")
    ax.add_line(Line2D([], [], color="black", linestyle="--", linewidth=1.2, label="intact"))
    ax.add_line(Line2D([], [], color="black", linestyle="none", marker="o", markersize=6, markerfacecolor="white",
                       markeredgewidth=1.5, label="downsampling block"))
    ax.set_ylim(0, 104)
    ax.set_xlim(0.2, len(accuracy) + 0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("deleted block (input → output)")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    _lesion_legend(ax, [[*kinds, "chance"], ["intact", "downsampling block"]])
    _landscape_title(ax, title, f"depth {depth}, seed {seed}", above_legend=True)
    return ax


def plot_random_lesions(study: dict, kinds, depth: int, seed: int, *, ax=None, title=None):
    """Test accuracy after deleting k blocks drawn at random (Veit et al., 2016): mean over the draws,
    min-max range shaded, chance (10 %) dotted; k = 0 is the intact network.

    Args:
        study: from `resnet_lib.landscape_study.load_landscape_study()`.
        kinds: which of "plain" and "residual" to show.
        depth: one of the study's depths.
        seed: one of the study's seeds.
        ax: the matplotlib Axes to draw on (default: a new figure).
        title: the panel's title (None: e.g. "depth 56, seed 0"; False: none).

    Returns:
        The Axes.

    Raises:
        ValueError: `kinds` is not a subset of the study's kinds, or `depth` or `seed` is not in the study.
    """
    from matplotlib.ticker import MaxNLocator

    from resnet_lib import landscape_study

    kinds = sweep_kinds(kinds)
    curves = {kind: landscape_study.random_lesion_curve(study, kind, depth, seed) for kind in kinds}
    ax = axes_or_new(ax, figsize=(5, 3.6))
    for kind, curve in curves.items():
        color = KIND_COLORS[kind]
        ax.fill_between(curve["k"], 100 * curve["min"], 100 * curve["max"], color=color, alpha=0.2, linewidth=0)
        ax.plot(curve["k"], 100 * curve["mean"], color=color, marker="o", markersize=4, linewidth=1.8, label=kind)
    ax.axhline(100 * CHANCE_ACCURACY, color="grey", linestyle=":", linewidth=1.5, label="chance")
    largest = max(int(curve["k"].max()) for curve in curves.values())
    ax.set_ylim(0, 104)
    ax.set_xlim(-0.4, largest + 0.4)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("blocks deleted at random, k")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    _lesion_legend(ax, [[*kinds, "chance"]])
    _landscape_title(ax, title, f"depth {depth}, seed {seed}", above_legend=True)
    return ax
