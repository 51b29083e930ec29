"""Reading the depth sweep (chapter 7): curves across seeds, final values, and the paper's three claims.

The sweep itself is trained by `python -m resnet_lib.experiments depth-sweep`
(`resnet_lib.experiments.run_depth_sweep`); this module only reads its JSON file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from resnet_lib import results
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
METRIC_LABELS = {"loss": "training loss", "accuracy": "training accuracy", "val_loss": "validation loss",
                 "val_accuracy": "validation accuracy"}
KINDS = ("plain", "residual")


def load_sweep(path=None) -> dict:
    """Reads a sweep file (default: the one shipped with the package, `resnet_lib.results`) and checks its layout.

    Raises:
        FileNotFoundError: no file at `path`; the message gives the command that makes one.
        ValueError: the file is not a sweep, or its runs are incomplete (every kind needs the same
            depths and seeds).
    """
    from resnet_lib.training import load_history

    path = results.path("depth_sweep") if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No depth sweep at {str(path)!r}. Make one with `python -m resnet_lib.experiments depth-sweep "
            f"--out {path}` (about 12 minutes on 2 cores)."
        )
    sweep = load_history(path)
    missing = [key for key in ("recipe", "runs") if key not in sweep]
    if missing:
        raise ValueError(f"{str(path)!r} is not a depth sweep: it lacks {missing}.")
    layouts = {}
    for kind in KINDS:
        runs = sweep["runs"].get(kind)
        if not runs:
            raise ValueError(f"{str(path)!r} has no {kind!r} runs; re-run the sweep command to complete it.")
        layouts[kind] = {depth: sorted(by_seed) for depth, by_seed in runs.items()}
    if layouts["plain"] != layouts["residual"]:
        raise ValueError(
            f"{str(path)!r} is incomplete: plain runs {layouts['plain']} and residual runs {layouts['residual']} "
            "differ; re-run the sweep command (it resumes) to complete it."
        )
    return sweep


def depths(sweep: dict) -> list[int]:
    """The depths of the sweep, ascending."""
    return sorted(int(depth) for depth in sweep["runs"]["plain"])


def seeds(sweep: dict) -> list[int]:
    """The seeds every run of the sweep has, ascending."""
    found = [{int(s) for s in by_seed} for runs in sweep["runs"].values() for by_seed in runs.values()]
    return sorted(set.intersection(*found))


def _check(sweep, kind, depth, metric=None):
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}, received {kind!r}.")
    if str(depth) not in sweep["runs"][kind]:
        raise ValueError(f"`depth` must be one of the sweep's depths {depths(sweep)}, received {depth!r}.")
    if metric is not None and metric not in METRICS:
        raise ValueError(f"`metric` must be one of {METRICS}, received {metric!r}.")


def curves(sweep: dict, kind: str, depth: int, metric: str = "loss") -> np.ndarray:
    """`metric` per epoch for every seed: an array (seeds, epochs); diverged epochs are NaN."""
    _check(sweep, kind, depth, metric)
    runs = sweep["runs"][kind][str(depth)]
    return np.array([runs[str(seed)][metric] for seed in seeds(sweep)], dtype=float)


def final_values(sweep: dict, kind: str, metric: str = "loss") -> dict[int, np.ndarray]:
    """{depth: `metric` at the last epoch for every seed}."""
    return {depth: curves(sweep, kind, depth, metric)[:, -1] for depth in depths(sweep)}


def gradient_norms(sweep: dict, kind: str, depth: int, when: str = "initial") -> np.ndarray:
    """Per-layer gradient norms (seeds, layers), input to output; `when` is "initial" or "final"."""
    _check(sweep, kind, depth)
    if when not in ("initial", "final"):
        raise ValueError(f"`when` must be 'initial' or 'final', received {when!r}.")
    runs = sweep["runs"][kind][str(depth)]
    return np.array([list(runs[str(seed)][f"gradient_norms_{when}"].values()) for seed in seeds(sweep)], dtype=float)


def degradation_checks(sweep: dict, shallow: int = 20, deep: int = 56, margin: float = 2.0) -> dict[str, dict]:
    """The three claims of He et al. (2016, Fig. 6) on the final training loss, seed by seed.

    * "plain degrades": plain-`deep` ends higher than plain-`shallow`.
    * "residual does not degrade": residual-`deep` ends at or below residual-`shallow`.
    * "residual beats plain": residual-`deep` ends `margin` times or more below plain-`deep`.

    Returns:
        {claim: {"holds": bool (for every seed), "per_seed": [bool, ...], "values": {...}}}.
    """
    for depth in (shallow, deep):
        _check(sweep, "plain", depth)
    plain, residual = final_values(sweep, "plain"), final_values(sweep, "residual")
    comparisons = {
        "plain degrades": (plain[deep] > plain[shallow],
                           {f"plain-{shallow}": plain[shallow], f"plain-{deep}": plain[deep]}),
        "residual does not degrade": (residual[deep] <= residual[shallow],
                                      {f"residual-{shallow}": residual[shallow], f"residual-{deep}": residual[deep]}),
        "residual beats plain": (residual[deep] * margin <= plain[deep],
                                 {f"residual-{deep}": residual[deep], f"plain-{deep}": plain[deep]}),
    }
    return {claim: {"holds": bool(np.all(per_seed)), "per_seed": [bool(v) for v in per_seed],
                    "values": {name: [float(v) for v in values] for name, values in numbers.items()}}
            for claim, (per_seed, numbers) in comparisons.items()}
