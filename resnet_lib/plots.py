"""The book's figures: learning curves, gradient norms, confusion matrices, image grids.

Each function draws on a given matplotlib `Axes` (or makes one) and returns it, so chapters can
combine panels.
"""

from __future__ import annotations

import math

import numpy as np


def _axes(ax, figsize=(6, 4)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, layout="constrained")[1]


def plot_histories(histories: dict, metric: str = "loss", *, ax=None, title: str | None = None, log: bool = False):
    """One curve per run: `metric` per epoch, e.g. "loss", "val_loss", "accuracy", "val_accuracy".

    Args:
        histories: {label: history dict as returned by `resnet_lib.train`}.
        metric: which list of each history to plot.
        ax: matplotlib Axes to draw on (default: a new figure).
        title: the panel's title.
        log: logarithmic y axis.
    """
    if not histories:
        raise ValueError("`histories` is empty: pass {label: history}.")
    missing = [label for label, history in histories.items() if metric not in history]
    if missing:
        raise ValueError(f"`metric` {metric!r} is not in the histories of {missing}; they have {sorted(next(iter(histories.values())))}.")
    ax = _axes(ax)
    for label, history in histories.items():
        values = history[metric]
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=str(label))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_gradient_norms(norms: dict, *, ax=None, title: str | None = None):
    """Gradient norm per layer, from input (left) to output (right), on a log scale.

    Args:
        norms: {label: {layer name: norm}} as returned by `resnet_lib.gradient_norms`.
    """
    if not norms:
        raise ValueError("`norms` is empty: pass {label: gradient_norms(...)}.")
    ax = _axes(ax)
    for label, per_layer in norms.items():
        values = np.array(list(per_layer.values()), dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=str(label))
    ax.set_yscale("log")
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel("gradient norm of the kernel")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def confusion_matrix(labels, predictions, num_classes: int) -> np.ndarray:
    """Counts: entry [i, j] is the number of images of class i predicted as class j
    (`sklearn.metrics.confusion_matrix` over the classes 0 .. num_classes - 1)."""
    from sklearn.metrics import confusion_matrix as count

    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(f"`labels` {labels.shape} and `predictions` {predictions.shape} must have the same shape.")
    for name, values in (("labels", labels), ("predictions", predictions)):  # scikit-learn would drop them silently
        outside = values[(values < 0) | (values >= num_classes) | (values != np.round(values))]
        if outside.size:
            raise ValueError(f"`{name}` must be classes 0..{num_classes - 1}, found {outside[0].item()!r}.")
    return count(labels, predictions, labels=np.arange(num_classes))


def plot_confusion_matrix(labels, predictions, class_names, *, ax=None, title: str | None = None):
    """The confusion matrix as a heat map with the counts written in (`sklearn.metrics.ConfusionMatrixDisplay`);
    empty cells are left blank, so the mistakes stand out."""
    from sklearn.metrics import ConfusionMatrixDisplay

    matrix = confusion_matrix(labels, predictions, len(class_names))
    ax = _axes(ax, figsize=(5, 4.5))
    display = ConfusionMatrixDisplay(matrix, display_labels=list(class_names)).plot(
        ax=ax, cmap="Blues", colorbar=False, values_format="d", text_kw={"fontsize": "small"})
    for text in display.text_[matrix == 0]:
        text.remove()
    ax.set(xlabel="predicted class", ylabel="true class")
    if title:
        ax.set_title(title)
    return ax


def show_images(images, titles=None, *, columns: int = 8, size: float = 1.4):
    """A grid of images (n, height, width, channels) with optional titles; returns the figure."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"`images` must be a non-empty batch (n, height, width, channels), received shape {images.shape}.")
    rows = math.ceil(len(images) / columns)
    columns = min(columns, len(images))
    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + 0.3 * (titles is not None)),
                                squeeze=False, layout="constrained")
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(images):
            image = images[index]
            ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray" if image.shape[-1] == 1 else None)
            if titles is not None:
                ax.set_title(str(titles[index]), fontsize="small")
    return figure


# --- the depth sweep (chapter 7) -----------------------------------------------------------------

KIND_COLORS = {"plain": "tab:red", "residual": "tab:blue"}


def _sweep_kinds(kinds) -> tuple[str, ...]:
    """`kinds` as a tuple of the sweep's kinds ("plain", "residual"); a single name is accepted."""
    from resnet_lib import sweep as sweeps

    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if not kinds or any(kind not in sweeps.KINDS for kind in kinds):
        raise ValueError(f"`kinds` must be a non-empty subset of {sweeps.KINDS}, received {kinds!r}.")
    return kinds


def _checked_request(sweep: dict, kinds, depth: int, metric: str) -> tuple[str, ...]:
    """Validates a plot request before any figure is made: the sweep, `kinds` (returned as a tuple),
    and that the sweep has `depth` and `metric` (`sweep.curves` raises a ValueError naming them)."""
    from resnet_lib import sweep as sweeps

    sweeps.validate_sweep(sweep)
    kinds = _sweep_kinds(kinds)
    sweeps.curves(sweep, kinds[0], depth, metric)
    return kinds


def _value_limits(values, log: bool, margin: float = 0.05) -> tuple[float, float] | None:
    """(bottom, top) of an axis that shows every finite value (every positive one, on a log axis) with
    `margin` of the range to spare at each end, measured in decades on a log axis; None if there is none."""
    values = np.concatenate([np.asarray(v, dtype=float).ravel() for v in values]) if len(values) else np.array([])
    values = values[np.isfinite(values) & (values > 0)] if log else values[np.isfinite(values)]
    if values.size == 0:
        return None
    low, high = (np.log10(values.min()), np.log10(values.max())) if log else (values.min(), values.max())
    pad = margin * (high - low) if high > low else (0.5 if log else max(abs(high) * 0.05, 0.05))
    low, high = low - pad, high + pad
    return (10 ** low, 10 ** high) if log else (float(low), float(high))


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
    limits = _value_limits(values, log=metric.endswith("loss"))
    return limits if limits is not None else ((0.1, 10.0) if metric.endswith("loss") else (0.0, 1.0))


def _plain_number(value, _position=None) -> str:
    """A log axis's tick label without a superscript (small superscripts are hard to read): 0.01, 0.1, 1, 10,
    and 1e-05 or 1e+04 outside 0.001 .. 1000."""
    if value <= 0:
        return ""
    return f"{value:g}" if 1e-3 <= value <= 1e3 else f"{value:.0e}"


def _log_axis(ax, limits: tuple[float, float]) -> None:
    """A log y axis from `limits` (bottom, top) labelled with plain numbers: every decade, and 2 and 5
    times each where the axis spans fewer than three decades; the other minor ticks unlabelled."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.set_ylim(limits)
    few_decades = np.log10(limits[1] / limits[0]) < 3
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if few_decades else (1.0,)))
    ax.yaxis.set_major_formatter(FuncFormatter(_plain_number))
    ax.yaxis.set_minor_formatter(NullFormatter())


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
    ax = _axes(ax, figsize=(5.5, 3.6))
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
        _log_axis(ax, limits)
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
    ax = _axes(ax, figsize=(3.5, 3.6))
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
        _log_axis(ax, limits)
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
    return _value_limits(values, log=True) or (1e-3, 1e1)


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
    kinds = _sweep_kinds(kinds)
    ax = _axes(ax, figsize=(9, 3.6))
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
    _log_axis(ax, sweep_gradient_norm_limits(sweep, depth))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layer numbers: 1, 5, 10, never 2.5
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel("gradient norm of the kernel")
    name = f"{kinds[0]}-{depth}" if len(kinds) == 1 else f"depth {depth}"
    _title(ax, title, f"gradient norms per layer, {name}", above_legend=legend_above)
    ax.grid(alpha=0.3, which="both")
    _legend(ax, legend_above, ncols=2)
    return ax


# --- the landscape study (chapter 8) -------------------------------------------------------------

#: Accuracy of guessing on the digits' test set (ten classes of equal size).
CHANCE_ACCURACY = 0.1
#: Colour map of the loss surfaces (low loss dark) and of the accuracy surfaces (high accuracy dark).
SURFACE_COLORMAPS = {"loss": "viridis", "accuracy": "Greens"}
NONCONVEX_COLOR = "#ff4f8b"


def _compact_number(value, _position=None) -> str:
    """A log axis's tick label, short and without a superscript: 0.01, 0.1, 1, 10, 100, then 1e3, 1e4 ..."""
    if value <= 0:
        return ""
    if 1e-3 <= value < 999.5:
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
    ax = _axes(ax, figsize=(4.6, 4))
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
    ax = _axes(ax, figsize=(4.6, 4))
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


def _at(t: np.ndarray, values: np.ndarray, point: float) -> float:
    """The value at the coefficient nearest to `point`."""
    return float(values[np.argmin(np.abs(t - point))])


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
    limits = _value_limits([np.minimum(curve["loss"], cap) for curve in curves], log=True)
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
    kinds = _sweep_kinds(kinds)
    curves = {kind: landscape_study.interpolation_curve(study, kind, depth, seed) for kind in kinds}
    limits = interpolation_limits(study, depth, metric)
    ax = _axes(ax, figsize=(5, 3.6))
    for kind, curve in curves.items():
        values = curve[metric] if metric == "loss" else 100.0 * curve[metric]
        ax.plot(curve["t"], values, color=KIND_COLORS[kind], marker="o", markersize=2.5, linewidth=1.8, label=kind)
    for t in (0.0, 1.0):
        ax.axvline(t, color="grey", linestyle="--", linewidth=1)
    if metric == "loss":
        _log_axis(ax, limits)
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

    kinds = _sweep_kinds(kinds)
    lesions = {kind: landscape_study.network(study, kind, depth, seed)["single_block_lesions"] for kind in kinds}
    ax = _axes(ax, figsize=(5, 3.6))
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

    kinds = _sweep_kinds(kinds)
    curves = {kind: landscape_study.random_lesion_curve(study, kind, depth, seed) for kind in kinds}
    ax = _axes(ax, figsize=(5, 3.6))
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
