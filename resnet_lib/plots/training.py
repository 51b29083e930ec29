"""The figures of any training run (chapters 1 to 6): learning curves, gradient norms, confusion matrices, image grids."""

from __future__ import annotations

import math

import numpy as np

from resnet_lib.plots._axes import axes_or_new


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
    ax = axes_or_new(ax)
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
    ax = axes_or_new(ax)
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
    ax = axes_or_new(ax, figsize=(5, 4.5))
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
