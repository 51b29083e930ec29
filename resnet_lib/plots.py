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


def _band(ax, epochs, values, color, label, linewidth, alpha):
    """Mean curve over seeds with the min-max range shaded."""
    ax.plot(epochs, np.nanmean(values, axis=0), color=color, linewidth=linewidth, label=label, alpha=alpha)
    if len(values) > 1 and linewidth > 1:
        ax.fill_between(epochs, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=color, alpha=0.2,
                        linewidth=0)


def plot_depth_sweep(sweep: dict, depth: int, kinds=("plain", "residual"), metric: str = "loss", *, axes=None,
                     live: dict | None = None):
    """The depth explorer's figure: one depth highlighted against all the others, plain vs residual.

    Left panel: `metric` per epoch; every depth of the sweep as a thin line, `depth` as a thick line
    (mean over seeds) with the seeds' min-max range shaded. Right panel: `metric` at the last epoch
    against depth (mean, with the seeds' range as error bars), `depth` marked.

    Args:
        sweep: from `resnet_lib.sweep.load_sweep()`.
        depth: the depth to highlight.
        kinds: which of "plain" and "residual" to show.
        metric: "loss", "accuracy", "val_loss" or "val_accuracy".
        axes: two matplotlib Axes (default: a new figure).
        live: optional {kind: history} of networks of this depth trained just now, drawn dotted.

    Returns:
        The two Axes.
    """
    from resnet_lib import sweep as sweeps

    sweeps.validate_sweep(sweep)
    if isinstance(kinds, str):
        kinds = (kinds,)
    if not kinds or any(kind not in sweeps.KINDS for kind in kinds):
        raise ValueError(f"`kinds` must be a non-empty subset of {sweeps.KINDS}, received {kinds!r}.")
    sweeps.curves(sweep, kinds[0], depth, metric)  # checks depth and metric
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.subplots(1, 2, figsize=(9, 3.6), width_ratios=(1.6, 1), layout="constrained")[1]
    curves_ax, final_ax = axes
    label = sweeps.METRIC_LABELS[metric]
    all_depths = sweeps.depths(sweep)
    for kind in kinds:
        color = KIND_COLORS[kind]
        for other in all_depths:
            values = sweeps.curves(sweep, kind, other, metric)
            epochs = np.arange(1, values.shape[1] + 1)
            chosen = other == depth
            _band(curves_ax, epochs, values, color, f"{kind}-{other}" if chosen else None,
                  2.4 if chosen else 0.8, 1.0 if chosen else 0.3)
            if not chosen:
                curves_ax.annotate(str(other), (epochs[-1], np.nanmean(values[:, -1])), fontsize=7, color=color,
                                   alpha=0.6, xytext=(2, 0), textcoords="offset points", va="center")
        for live_kind, history in (live or {}).items():
            if live_kind == kind and metric in history:
                values = history[metric]
                curves_ax.plot(np.arange(1, len(values) + 1), values, color=color, linestyle=":", linewidth=2,
                               marker="o", markersize=3, label=f"{kind}-{depth}, trained just now")
        finals = sweeps.final_values(sweep, kind, metric)
        means = np.array([np.nanmean(finals[d]) for d in all_depths])
        low = means - np.array([np.nanmin(finals[d]) for d in all_depths])
        high = np.array([np.nanmax(finals[d]) for d in all_depths]) - means
        final_ax.errorbar(all_depths, means, yerr=(low, high), color=color, marker="o", markersize=4, capsize=3,
                          label=kind)
    final_ax.axvline(depth, color="grey", linestyle="--", linewidth=1)
    log = metric.endswith("loss")
    for ax in axes:
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both" if log else "major")
    curves_ax.set_xlabel("epoch")
    curves_ax.set_ylabel(label)
    curves_ax.set_title(f"depth {depth} (thick; band: range over seeds) and the other depths (thin)", fontsize=9)
    curves_ax.legend(fontsize="small", loc="upper right" if log else "lower right")
    final_ax.set_xlabel("depth (weighted layers)")
    final_ax.set_ylabel(f"{label}, last epoch")
    final_ax.set_xticks(all_depths)
    final_ax.set_title("end of training vs depth", fontsize=9)
    final_ax.legend(fontsize="small")
    return axes


def plot_sweep_gradient_norms(sweep: dict, depth: int, *, ax=None):
    """Per-layer gradient norms of the plain and residual network of `depth`, at initialisation
    (dashed) and after training (solid); geometric mean over seeds with the range shaded.

    Exact zeros (the kernels inside zero-initialised residual branches get no gradient at the very
    first step) cannot be drawn on a log scale and are left out of the lines.
    """
    from resnet_lib import sweep as sweeps

    sweeps.validate_sweep(sweep)
    ax = _axes(ax, figsize=(9, 3.6))
    for kind in sweeps.KINDS:
        for when, style in (("initial", "--"), ("final", "-")):
            norms = sweeps.recorded_gradient_norms(sweep, kind, depth, when)
            layers = np.arange(1, norms.shape[1] + 1)
            positive = [column[column > 0] for column in norms.T]  # per layer, the seeds' nonzero norms
            mean, low, high = (np.array([f(c) if c.size else np.nan for c in positive])
                               for f in (lambda c: np.exp(np.log(c).mean()), np.min, np.max))
            ax.plot(layers, mean, linestyle=style, color=KIND_COLORS[kind], marker=".",
                    label=f"{kind}, {'at initialisation' if when == 'initial' else 'after training'}")
            ax.fill_between(layers, low, high, color=KIND_COLORS[kind], alpha=0.12, linewidth=0)
    ax.set_yscale("log")
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel("gradient norm of the kernel")
    ax.set_title(f"gradient norms per layer, depth {depth}", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small", ncols=2)
    return ax
