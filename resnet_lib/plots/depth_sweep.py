"""The depth sweep's figures (chapter 7): learning curves against depth, last epochs, per-layer gradient norms."""

from __future__ import annotations

import numpy as np

from resnet_lib.plots._axes import KIND_COLORS, axes_or_new, log_axis, sweep_kinds, value_limits


def _checked_request(sweep: dict, kinds, depth: int, metric: str) -> tuple[str, ...]:
    """Validates a plot request before any figure is made: the sweep, `kinds` (returned as a tuple),
    and that the sweep has `depth` and `metric` (`sweep.curves` raises a ValueError naming them)."""
    from resnet_lib import sweep as sweeps

    sweeps.validate_sweep(sweep)
    kinds = sweep_kinds(kinds)
    sweeps.curves(sweep, kinds[0], depth, metric)
    return kinds


def depth_sweep_limits(sweep: dict, metric: str = "loss", *, last_epoch: bool = False,
                       live: dict | None = None) -> tuple[float, float]:
    """The y-limits of the depth-sweep panels of `metric`: the same for plain, residual and both.

    They fit every depth and seed of *both* kinds (and the `live` curves), so switching between
    plain, residual and both, or between depths, never rescales the axis.

    Args:
        sweep: from `resnet_lib.sweep.load_sweep()`.
        metric: "loss", "accuracy", "val_loss" or "val_accuracy"; losses use a log axis.
        last_epoch: the limits of the right panel (the last epoch against depth) instead of the
            curves' (every epoch).
        live: optional {kind: history} of networks trained just now, with lists per epoch.

    Returns:
        (bottom, top), in the metric's units.

    Raises:
        ValueError: `metric` is not one of the sweep's metrics.
    """
    from resnet_lib import sweep as sweeps

    values = [sweeps.curves(sweep, kind, depth, metric) for kind in sweeps.KINDS for depth in sweeps.depths(sweep)]
    if last_epoch:
        values = [curves[:, -1:] for curves in values]
    else:
        values += [history[metric] for history in (live or {}).values() if metric in history]
    limits = value_limits(values, log=metric.endswith("loss"))
    return limits if limits is not None else ((0.1, 10.0) if metric.endswith("loss") else (0.0, 1.0))


def _spread(positions, gap: float, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Moves labels as little as possible (least squares) so that no two are closer than `gap`.

    Args:
        positions: the labels' wished positions, (n,), in any unit (here: fractions of the axes' height).
        gap: the smallest distance between two labels, same unit.
        low, high: the range the labels should stay in where there is room for them all.

    Returns:
        The positions, (n,), in the order given.
    """
    positions = np.asarray(positions, dtype=float)
    count = len(positions)
    if count == 0:
        return positions
    order = np.argsort(positions, kind="stable")
    steps = gap * np.arange(count)
    blocks: list[list[float]] = []  # [sum, count]: pool adjacent violators (an isotonic least-squares fit)
    for value in positions[order] - steps:
        blocks.append([value, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, number = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += number
    placed = np.concatenate([np.full(number, total / number) for total, number in blocks]) + steps
    placed = np.maximum(np.minimum(placed, high - steps[::-1]), low + steps)
    result = np.empty(count)
    result[order] = placed
    return result


def _label_line_ends(ax, ends, fontsize="small") -> list:
    """Writes each label just right of its line's end, moved up or down where labels would overlap.

    Args:
        ax: the Axes, with its scale and limits already set.
        ends: [(x, y, text, color)] in data coordinates; points that are not finite (or not positive,
            on a log axis) get no label.
        fontsize: of the labels, in points or a relative size ("small").

    Returns:
        The Text artists.
    """
    from matplotlib import transforms
    from matplotlib.font_manager import FontProperties

    log = ax.get_yscale() == "log"
    ends = [end for end in ends if np.isfinite(end[1]) and (end[1] > 0 or not log)]
    if not ends:
        return []
    figure = ax.figure
    if figure.get_layout_engine() is not None:
        figure.draw_without_rendering()  # the Axes' final height, after the layout
    height_points = ax.get_window_extent().height * 72 / figure.dpi
    size_points = FontProperties(size=fontsize).get_size_in_points()
    to_axes = ax.transScale + ax.transLimits  # data -> fraction of the Axes
    wished = [to_axes.transform((x, y))[1] for x, y, _, _ in ends]
    gap = 1.1 * size_points / max(height_points, 1.0)  # a line of text, as a fraction of the Axes' height
    placed = _spread(wished, gap, gap / 2, 1 - gap / 2)
    beside = transforms.blended_transform_factory(ax.transData, ax.transAxes) + transforms.ScaledTranslation(
        3 / 72, 0, figure.dpi_scale_trans)
    return [ax.text(x, fraction, text, color=color, fontsize=fontsize, va="center", ha="left", transform=beside,
                    clip_on=False)
            for (x, _, text, color), fraction in zip(ends, placed)]


def _band(ax, epochs, values, color, label, linewidth, alpha):
    """Mean curve over seeds with the min-max range shaded."""
    ax.plot(epochs, np.nanmean(values, axis=0), color=color, linewidth=linewidth, label=label, alpha=alpha)
    if len(values) > 1 and linewidth > 1:
        ax.fill_between(epochs, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=color, alpha=0.2,
                        linewidth=0)


def _title(ax, title, default: str, *, above_legend: bool = False) -> None:
    """Sets the panel's title: `default` (at 9 points) if `title` is True, none if False, else the string
    `title` at the style's title size (left-aligned above the legend row if `above_legend`)."""
    if title is True:
        ax.set_title(default, fontsize=9)
    elif title:
        ax.set_title(str(title), loc="left", fontweight="bold",
                     pad=20 if above_legend else None)  # points: room for a legend row under it


def _legend(ax, above: bool, **options):
    """The Axes' legend: in a row just above the Axes (`above`), or inside it at `options["loc"]`."""
    if above:
        handles, _ = ax.get_legend_handles_labels()
        options = {**options, "loc": "lower left", "bbox_to_anchor": (0.0, 1.0), "ncols": max(len(handles), 1),
                   "frameon": False, "borderaxespad": 0.2, "handlelength": 1.6, "columnspacing": 1.0,
                   "borderpad": 0.0, "handletextpad": 0.5}
    return ax.legend(fontsize="small", **options)


def plot_depth_sweep_curves(sweep: dict, depth: int, kinds=("plain", "residual"), metric: str = "loss", *, ax=None,
                            live: dict | None = None, title: bool | str = True, legend_above: bool = False):
    """The left panel of `plot_depth_sweep`: `metric` per epoch, `depth` highlighted against the other depths.

    Every depth of the sweep is a thin line labelled with its depth at its end; `depth` is a thick
    line (mean over seeds) with the seeds' min-max range shaded. The y-limits are those of
    `depth_sweep_limits`: the same whichever `kinds` and `depth` are shown.

    Args:
        sweep: from `resnet_lib.sweep.load_sweep()`.
        depth: the depth to highlight, one of the sweep's depths.
        kinds: which of "plain" and "residual" to show.
        metric: "loss", "accuracy", "val_loss" or "val_accuracy"; losses on a log axis.
        ax: the matplotlib Axes to draw on (default: a new figure).
        live: optional {kind: history} of networks of this depth trained just now, drawn dotted.
        title: True: the default title (small); False: none; a string: that title, left-aligned.
        legend_above: the legend in a row above the Axes (where it hides no line) instead of inside.

    Returns:
        The Axes.

    Raises:
        ValueError: `kinds`, `depth` or `metric` is not in the sweep.
    """
    from resnet_lib import sweep as sweeps

    kinds = _checked_request(sweep, kinds, depth, metric)
    ax = axes_or_new(ax, figsize=(5.5, 3.6))
    log = metric.endswith("loss")
    ends = []  # the other depths' line ends, labelled with their depth
    trained_now = False  # a live curve is drawn: the legend explains the dotted line once
    for kind in kinds:
        color = KIND_COLORS[kind]
        for other in sweeps.depths(sweep):
            values = sweeps.curves(sweep, kind, other, metric)
            epochs = np.arange(1, values.shape[1] + 1)
            chosen = other == depth
            _band(ax, epochs, values, color, f"{kind}-{other}" if chosen else None,
                  2.4 if chosen else 0.8, 1.0 if chosen else 0.35)
            if not chosen:
                ends.append((epochs[-1], np.nanmean(values[:, -1]), str(other), color))
        for live_kind, history in (live or {}).items():
            if live_kind == kind and metric in history:
                values = history[metric]
                ax.plot(np.arange(1, len(values) + 1), values, color=color, linestyle=":", linewidth=2,
                        marker="o", markersize=3)
                trained_now = True
    limits = depth_sweep_limits(sweep, metric, live=live)
    if log:
        log_axis(ax, limits)
    else:
        ax.set_ylim(limits)
    ax.set_xlim(0.6, epochs[-1] + 0.4)
    ax.grid(alpha=0.3, which="both" if log else "major")
    ax.set_xlabel("epoch")
    ax.set_ylabel(sweeps.METRIC_LABELS[metric])
    _title(ax, title, f"depth {depth} (thick; band: range over seeds) and the other depths (thin)")
    if trained_now:
        from matplotlib.lines import Line2D

        ax.add_line(Line2D([], [], color="black", linestyle=":", linewidth=2, marker="o", markersize=3,
                           label="trained just now"))
    _legend(ax, legend_above, loc="lower left" if log else "lower right")  # where no line runs
    _label_line_ends(ax, ends)
    return ax


def plot_depth_sweep_finals(sweep: dict, depth: int, kinds=("plain", "residual"), metric: str = "loss", *, ax=None,
                            title: bool | str = True, legend_above: bool = False):
    """The right panel of `plot_depth_sweep`: `metric` at the last epoch against depth, `depth` marked.

    Mean over seeds, with the seeds' range as error bars; the y-limits are those of
    `depth_sweep_limits(..., last_epoch=True)`: the same whichever `kinds` and `depth` are shown.

    Args:
        sweep: from `resnet_lib.sweep.load_sweep()`.
        depth: the depth to mark with a dashed line, one of the sweep's depths.
        kinds: which of "plain" and "residual" to show.
        metric: "loss", "accuracy", "val_loss" or "val_accuracy"; losses on a log axis.
        ax: the matplotlib Axes to draw on (default: a new figure).
        title: True: the default title (small); False: none; a string: that title, left-aligned.
        legend_above: the legend in a row above the Axes instead of inside.

    Returns:
        The Axes.

    Raises:
        ValueError: `kinds`, `depth` or `metric` is not in the sweep.
    """
    from resnet_lib import sweep as sweeps

    kinds = _checked_request(sweep, kinds, depth, metric)
    ax = axes_or_new(ax, figsize=(3.5, 3.6))
    all_depths = sweeps.depths(sweep)
    for kind in kinds:
        finals = sweeps.final_values(sweep, kind, metric)
        means = np.array([np.nanmean(finals[d]) for d in all_depths])
        low = means - np.array([np.nanmin(finals[d]) for d in all_depths])
        high = np.array([np.nanmax(finals[d]) for d in all_depths]) - means
        ax.errorbar(all_depths, means, yerr=(low, high), color=KIND_COLORS[kind], marker="o", markersize=4, capsize=3,
                    label=kind)
    ax.axvline(depth, color="grey", linestyle="--", linewidth=1)
    log = metric.endswith("loss")
    limits = depth_sweep_limits(sweep, metric, last_epoch=True)
    if log:
        log_axis(ax, limits)
    else:
        ax.set_ylim(limits)
    ax.grid(alpha=0.3, which="both" if log else "major")
    ax.set_xlabel("depth (weighted layers)")
    ax.set_ylabel(f"{sweeps.METRIC_LABELS[metric]}, last epoch")
    ax.set_xticks(all_depths)
    _title(ax, title, "end of training vs depth")
    _legend(ax, legend_above)
    return ax


def plot_depth_sweep(sweep: dict, depth: int, kinds=("plain", "residual"), metric: str = "loss", *, axes=None,
                     live: dict | None = None):
    """The depth explorer's figure: one depth highlighted against all the others, plain vs residual.

    Left panel (`plot_depth_sweep_curves`): `metric` per epoch; every depth of the sweep as a thin
    line, `depth` as a thick line (mean over seeds) with the seeds' min-max range shaded. Right
    panel (`plot_depth_sweep_finals`): `metric` at the last epoch against depth (mean, with the
    seeds' range as error bars), `depth` marked. Both y-axes fit both kinds, so the panels of
    plain, residual and both compare directly.

    Args:
        sweep: from `resnet_lib.sweep.load_sweep()`.
        depth: the depth to highlight.
        kinds: which of "plain" and "residual" to show.
        metric: "loss", "accuracy", "val_loss" or "val_accuracy".
        axes: two matplotlib Axes (default: a new figure, 9 x 3.6 inches).
        live: optional {kind: history} of networks of this depth trained just now, drawn dotted.

    Returns:
        The two Axes.

    Raises:
        ValueError: `kinds`, `depth` or `metric` is not in the sweep, or `axes` is not two Axes.
    """
    kinds = _checked_request(sweep, kinds, depth, metric)
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.subplots(1, 2, figsize=(9, 3.6), width_ratios=(1.6, 1), layout="constrained")[1]
    axes = list(np.ravel(axes)) if not isinstance(axes, (list, tuple)) else list(axes)
    if len(axes) != 2:
        raise ValueError(f"`axes` must be two matplotlib Axes (for example `plt.subplots(1, 2)[1]`), received "
                         f"{len(axes)}.")
    curves_ax, finals_ax = axes
    plot_depth_sweep_finals(sweep, depth, kinds, metric, ax=finals_ax)  # first: the layout then knows both panels
    plot_depth_sweep_curves(sweep, depth, kinds, metric, ax=curves_ax, live=live)
    return curves_ax, finals_ax


def sweep_gradient_norm_limits(sweep: dict, depth: int) -> tuple[float, float]:
    """The y-limits of the gradient-norm panels of `depth`: they fit plain and residual, at initialisation
    and after training (nonzero norms; range over seeds), so the two kinds' panels compare directly.

    Returns:
        (bottom, top): gradient norms, on a log axis.
    """
    from resnet_lib import sweep as sweeps

    values = [sweeps.recorded_gradient_norms(sweep, kind, depth, when) for kind in sweeps.KINDS
              for when in ("initial", "final")]
    return value_limits(values, log=True) or (1e-3, 1e1)


def plot_sweep_gradient_norms(sweep: dict, depth: int, kinds=("plain", "residual"), *, ax=None,
                              title: bool | str = True, legend_above: bool = False):
    """Per-layer gradient norms of the plain and residual network of `depth`, at initialisation
    (dashed) and after training (solid); geometric mean over seeds with the range shaded.

    Exact zeros (the kernels inside zero-initialised residual branches get no gradient at the very
    first step) cannot be drawn on a log scale and are left out of the lines. The y-limits
    (`sweep_gradient_norm_limits`) fit both kinds, so a panel of one kind compares with the other's.

    Args:
        sweep: from `resnet_lib.sweep.load_sweep()`.
        depth: one of the sweep's depths.
        kinds: which of "plain" and "residual" to show.
        ax: the matplotlib Axes to draw on (default: a new figure).
        title: True: the default title (small); False: none; a string: that title, left-aligned.
        legend_above: the legend in a row above the Axes instead of inside.

    Returns:
        The Axes.

    Raises:
        ValueError: `kinds` or `depth` is not in the sweep.
    """
    from matplotlib.ticker import MaxNLocator

    from resnet_lib import sweep as sweeps

    sweeps.validate_sweep(sweep)
    kinds = sweep_kinds(kinds)
    ax = axes_or_new(ax, figsize=(9, 3.6))
    for kind in kinds:
        for when, style in (("initial", "--"), ("final", "-")):
            norms = sweeps.recorded_gradient_norms(sweep, kind, depth, when)
            layers = np.arange(1, norms.shape[1] + 1)
            positive = [column[column > 0] for column in norms.T]  # per layer, the seeds' nonzero norms
            mean, low, high = (np.array([f(c) if c.size else np.nan for c in positive])
                               for f in (lambda c: np.exp(np.log(c).mean()), np.min, np.max))
            moment = "at initialisation" if when == "initial" else "after training"
            ax.plot(layers, mean, linestyle=style, color=KIND_COLORS[kind], marker=".",
                    label=f"{kind}, {moment}" if len(kinds) > 1 else moment)
            ax.fill_between(layers, low, high, color=KIND_COLORS[kind], alpha=0.12, linewidth=0)
    log_axis(ax, sweep_gradient_norm_limits(sweep, depth))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layer numbers: 1, 5, 10, never 2.5
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel("gradient norm of the kernel")
    name = f"{kinds[0]}-{depth}" if len(kinds) == 1 else f"depth {depth}"
    _title(ax, title, f"gradient norms per layer, {name}", above_legend=legend_above)
    ax.grid(alpha=0.3, which="both")
    _legend(ax, legend_above, ncols=2)
    return ax
