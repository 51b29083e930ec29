"""What the figures of every chapter share: a new Axes when none is given, the kinds' colours, log axes and limits."""

from __future__ import annotations

import numpy as np

#: The colour of each kind of network, in every figure of the depth sweep and the landscape study.
KIND_COLORS = {"plain": "tab:red", "residual": "tab:blue"}


def axes_or_new(ax, figsize=(6, 4)):
    """`ax`, or (None) the Axes of a new figure of `figsize` inches with a constrained layout."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, layout="constrained")[1]


def sweep_kinds(kinds) -> tuple[str, ...]:
    """`kinds` as a tuple of the sweep's kinds ("plain", "residual"); a single name is accepted."""
    from resnet_lib import sweep as sweeps

    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if not kinds or any(kind not in sweeps.KINDS for kind in kinds):
        raise ValueError(f"`kinds` must be a non-empty subset of {sweeps.KINDS}, received {kinds!r}.")
    return kinds


def value_limits(values, log: bool, margin: float = 0.05) -> tuple[float, float] | None:
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


def plain_number(value, _position=None) -> str:
    """A log axis's tick label without a superscript (small superscripts are hard to read): 0.01, 0.1, 1, 10,
    and 1e-05 or 1e+04 outside 0.001 .. 1000."""
    if value <= 0:
        return ""
    return f"{value:g}" if 1e-3 <= value <= 1e3 else f"{value:.0e}"


def log_axis(ax, limits: tuple[float, float]) -> None:
    """A log y axis from `limits` (bottom, top) labelled with plain numbers: every decade, and 2 and 5
    times each where the axis spans fewer than three decades; the other minor ticks unlabelled."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.set_ylim(limits)
    few_decades = np.log10(limits[1] / limits[0]) < 3
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if few_decades else (1.0,)))
    ax.yaxis.set_major_formatter(FuncFormatter(plain_number))
    ax.yaxis.set_minor_formatter(NullFormatter())
