"""The depth sweep's file (chapter 7): writing and reading it, curves across seeds, final values, the paper's claims.

The sweep itself is trained by `python -m resnet_lib.experiments depth-sweep`
(`resnet_lib.experiments.run_depth_sweep`), which writes its file with `save_sweep`; chapters read
it with `load_sweep`. Both check its layout (`validate_sweep`). A sweep is one JSON file
{"recipe", "seeds", "kinds", "runs": {kind: {depth: {seed: run}}}, "provenance", "complete"}, each
run a training history (`resnet_lib.save_history` / `load_history` write and read one history).
An error message names the command that rebuilds a file (`resnet_lib.commands.depth_sweep_arguments`):
this module depends on the command's settings, never on the experiments that write the file.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np

from resnet_lib import results
from resnet_lib.commands import depth_sweep_arguments

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
METRIC_LABELS = {"loss": "training loss", "accuracy": "training accuracy", "val_loss": "validation loss",
                 "val_accuracy": "validation accuracy"}
#: The two kinds of network the sweep compares, in the order of its figures: the one list of them.
KINDS = ("plain", "residual")


RUN_LISTS = METRICS  # per epoch, in every run
RUN_NORMS = ("gradient_norms_initial", "gradient_norms_final")  # {layer: norm}, in every run


def load_sweep(path=None, *, partial: bool = False, fix: str | None = None) -> dict:
    """Reads a sweep file (default: the one shipped with the package, `resnet_lib.results`) and checks it.

    Args:
        path: the file, as `save_sweep` (or `python -m resnet_lib.experiments depth-sweep`) wrote it.
        partial: accept a sweep in progress too (no `"complete": true`, runs missing), such as the
            partial file a running sweep keeps beside its output; its layout is checked all the same.
        fix: what an error message says to do (default: the command that rebuilds the file).

    Raises:
        FileNotFoundError: no file at `path`; the message gives the command that makes one.
        ValueError: the file is not UTF-8 JSON, is a partial run (no `"complete": true`, unless
            `partial`), or its layout is broken (see `validate_sweep`); the message names the file,
            the first problem and the command that rebuilds it (or `fix`).
    """
    from resnet_lib.results import require_complete
    from resnet_lib.training import load_history

    path = results.path("depth_sweep") if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No depth sweep at {str(path)!r}. Make one with `python -m resnet_lib.experiments depth-sweep "
            f"--out {path}` (about 5 minutes on 2 cores)."
        )
    try:
        sweep = load_history(path)
    except ValueError as error:
        raise ValueError(f"{error} {fix or _rebuild(path, None)}") from None
    finished = sweep.get("complete") is True
    if not finished and not partial:
        validate_sweep(sweep, path, partial=True, fix=fix)  # a file that is no sweep at all is named as such first
        require_complete(sweep, path, _experiment(sweep.get("recipe"), sweep.get("seeds")))
    return validate_sweep(sweep, path, partial=not finished, fix=fix)


def save_sweep(sweep: dict, path) -> Path:
    """Writes a sweep, finished (`"complete": true`) or in progress, as JSON, replacing `path` atomically.

    Its layout is checked first (`validate_sweep`, as for a sweep in progress unless it says it is
    complete), so a sweep file is never written broken. Numbers are stored as `save_history` stores
    them: a diverged loss (NaN) as null, which `load_sweep` reads back as NaN.

    Raises:
        ValueError: the layout is broken; nothing is written.
    """
    from resnet_lib.training import save_history

    finished = isinstance(sweep, dict) and sweep.get("complete") is True
    validate_sweep(sweep, path, partial=not finished, fix=f"Nothing was written to {str(path)!r}.")
    return save_history(sweep, path)


def _experiment(recipe, seeds=None, *, fresh: bool = False) -> str:
    """The `depth-sweep ...` arguments that make a sweep with `recipe` (as far as the command can say)."""
    return " ".join(depth_sweep_arguments(recipe if isinstance(recipe, dict) else {}, seeds, fresh=fresh))


def _rebuild(path, recipe, seeds=None) -> str:
    from resnet_lib.results import rebuild_command

    return f"Rebuild it with {rebuild_command(path, _experiment(recipe, seeds, fresh=True))}."


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_integer_key(key) -> bool:
    return isinstance(key, str) and key.isascii() and key.isdigit()


def grid_problem(grid, name: str, leaf: str, leaf_problem) -> str | None:
    """The first thing wrong with a {kind: {depth: {seed: leaf}}} mapping of a result file, in words.

    Shared by the depth sweep ("runs") and the landscape study ("networks"): the kinds must be
    `KINDS`, depths and seeds integer keys, every level a mapping; `leaf_problem(value, where)`
    checks each leaf, `where` naming it as `name['plain']['20']['0']`.

    Returns:
        None if there is nothing wrong.
    """
    if not isinstance(grid, dict):
        return f"{name!r} is a {type(grid).__name__}, not a mapping {{kind: {{depth: {{seed: {leaf}}}}}}}"
    for kind, by_depth in grid.items():
        if kind not in KINDS:
            return f"{name} has the kind {kind!r}; the kinds are {list(KINDS)}"
        if not isinstance(by_depth, dict):
            return f"{name}[{kind!r}] is a {type(by_depth).__name__}, not a mapping {{depth: {{seed: {leaf}}}}}"
        for depth, by_seed in by_depth.items():
            if not _is_integer_key(depth):
                return f"{name}[{kind!r}] has the depth {depth!r}, which is not an integer"
            if not isinstance(by_seed, dict):
                return f"{name}[{kind!r}][{depth!r}] is a {type(by_seed).__name__}, not a mapping {{seed: {leaf}}}"
            for seed, value in by_seed.items():
                if not _is_integer_key(seed):
                    return f"{name}[{kind!r}][{depth!r}] has the seed {seed!r}, which is not an integer"
                problem = leaf_problem(value, f"{name}[{kind!r}][{depth!r}][{seed!r}]")
                if problem:
                    return problem
    return None


def _run_names(keys, limit: int = 8) -> str:
    """(kind, depth, seed) keys in words: "plain-20 seed 0, plain-20 seed 1, ..."."""
    names = [f"{kind}-{depth} seed {seed}" for kind, depth, seed in keys]
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def grid_coverage_problem(result: dict, key: str, depths, what: str) -> str | None:
    """What a complete result's grid (`result[key]`: {kind: {depth: {seed: ...}}}) lacks, or holds beyond,
    the kinds x depths x seeds it says it was made for, naming the runs; None if it covers them exactly.

    Shared by the depth sweep ("runs", the recipe's "depths") and the landscape study ("networks", its
    training recipe's "depths"); the kinds are the file's "kinds" (default `KINDS`), the seeds its "seeds".

    Args:
        result: the file's contents, its grid already checked by `grid_problem`.
        key: the grid's key, "runs" or "networks".
        depths: the depths its recipe lists.
        what: what one entry is called, "run" or "network".
    """
    seeds = result.get("seeds")
    if not isinstance(seeds, list) or not seeds or not all(_is_number(seed) for seed in seeds):
        return f"'seeds' is {seeds!r}, not the list of seeds its {what}s were made with"
    if not isinstance(depths, list) or not depths or not all(_is_number(depth) for depth in depths):
        return f"the recipe's 'depths' is {depths!r}, not the list of depths its {what}s were made with"
    kinds = result.get("kinds", list(KINDS))
    if not isinstance(kinds, list) or not kinds or any(kind not in KINDS for kind in kinds):
        return f"'kinds' is {kinds!r}, not a list of {list(KINDS)}"
    expected = {(kind, int(depth), int(seed)) for kind in kinds for depth in depths for seed in seeds}
    found = {(kind, int(depth), int(seed)) for kind, by_depth in result[key].items()
             for depth, by_seed in by_depth.items() for seed in by_seed}
    missing = sorted(expected - found, key=lambda k: (KINDS.index(k[0]), k[1], k[2]))
    if missing:
        return (f"{key} lacks {len(missing)} of the {len(expected)} {what}s that its kinds {kinds}, the recipe's depths "
                f"{sorted(int(d) for d in depths)} and its seeds {sorted(int(s) for s in seeds)} ask for: "
                f"{_run_names(missing)}")
    extra = sorted(found - expected, key=lambda k: (KINDS.index(k[0]), k[1], k[2]))
    if extra:
        return (f"{key} holds {len(extra)} {what}(s) beyond its kinds {kinds}, the recipe's depths "
                f"{sorted(int(d) for d in depths)} and its seeds {sorted(int(s) for s in seeds)}: {_run_names(extra)}")
    return None


def _run_problem(run, where: str) -> str | None:
    """What is wrong with one run of the sweep (`where` names it); None if nothing."""
    if not isinstance(run, dict):
        return f"{where} is a {type(run).__name__}, not a mapping {{metric: values}}"
    missing = [key for key in (*RUN_LISTS, *RUN_NORMS) if key not in run]
    if missing:
        return f"{where} lacks {missing}"
    for metric in RUN_LISTS:
        values = run[metric]
        if not isinstance(values, list) or not values:
            return f"{where}[{metric!r}] is {values!r}, not a list of numbers (one per epoch)"
        for epoch, value in enumerate(values):
            if not _is_number(value) and value is not None:
                return f"{where}[{metric!r}][{epoch}] is {value!r}, not a number"
    for name in RUN_NORMS:
        norms = run[name]
        if not isinstance(norms, dict) or not norms:
            return f"{where}[{name!r}] is {norms!r}, not a mapping {{layer: norm}}"
        for layer, value in norms.items():
            if not _is_number(value) and value is not None:
                return f"{where}[{name!r}][{layer!r}] is {value!r}, not a number"
    return None


def _problem(sweep, partial: bool) -> str | None:
    """The first thing wrong with the layout of `sweep`, in words; None if there is none."""
    for check in (_top_level_problem, _runs_problem, _epochs_problem, _layers_problem):
        problem = check(sweep)
        if problem:
            return problem
    return None if partial else _coverage_problem(sweep)


def _top_level_problem(sweep) -> str | None:
    """A JSON object with a mapping "recipe" and "runs"."""
    if not isinstance(sweep, dict):
        return f"the top level is a JSON {type(sweep).__name__}, not an object {{'recipe': ..., 'runs': ...}}"
    missing = [key for key in ("recipe", "runs") if key not in sweep]
    if missing:
        return f"it lacks {missing}: not a depth sweep"
    if not isinstance(sweep["recipe"], dict):
        return f"'recipe' is a {type(sweep['recipe']).__name__}, not a mapping"
    return None


def _runs_problem(sweep: dict) -> str | None:
    """The runs form a {kind: {depth: {seed: run}}} grid, every run of the right layout (`_run_problem`)."""
    return grid_problem(sweep["runs"], "runs", "run", _run_problem)


def _named_runs(runs: dict) -> list[tuple[str, dict]]:
    """Every run of a checked grid, with its name: [("runs['plain']['8']['0']", run), ...]."""
    return [(f"runs[{kind!r}][{depth!r}][{seed!r}]", run) for kind, by_depth in runs.items()
            for depth, by_seed in by_depth.items() for seed, run in by_seed.items()]


def _epochs_problem(sweep: dict) -> str | None:
    """Every metric of every run is as long as the longest, and that is at least the recipe's epochs."""
    all_runs = _named_runs(sweep["runs"])
    longest = max((len(run[metric]) for _, run in all_runs for metric in RUN_LISTS), default=0)
    for where, run in all_runs:
        for metric in RUN_LISTS:
            if len(run[metric]) < longest:
                return f"{where} has {len(run[metric])} epochs of {metric!r}, the others {longest}"
    epochs = sweep["recipe"].get("epochs")
    if all_runs and _is_number(epochs) and longest < epochs:
        return f"{all_runs[0][0]} has {longest} epochs of 'loss', the recipe says {epochs}"
    return None


def _layers_problem(sweep: dict) -> str | None:
    """Every seed of a network records its gradient norms for the same layers, in the same order."""
    for kind, by_depth in sweep["runs"].items():
        for depth, by_seed in by_depth.items():
            problem = _same_layers_problem(f"runs[{kind!r}][{depth!r}]", by_seed)
            if problem:
                return problem
    return None


def _same_layers_problem(network: str, by_seed: dict) -> str | None:
    """The seeds' runs of one network (`network` names it) all have the layers of the first seed's."""
    first = next(iter(by_seed), None)
    if first is None:
        return None
    reference = f"{network}[{first!r}][{RUN_NORMS[0]!r}]"
    layers = list(by_seed[first][RUN_NORMS[0]])
    for seed, run in by_seed.items():
        for name in RUN_NORMS:
            where = f"{network}[{seed!r}][{name!r}]"
            if len(run[name]) != len(layers):
                return f"{where} has {len(run[name])} layers, {reference} {len(layers)}"
            if list(run[name]) != layers:
                return f"{where} names other layers than {reference}"
    return None


def _coverage_problem(sweep: dict) -> str | None:
    """A complete sweep holds exactly its kinds x the recipe's depths x its seeds (`grid_coverage_problem`)."""
    return grid_coverage_problem(sweep, "runs", sweep["recipe"].get("depths"), "run")


def validate_sweep(sweep, path=None, *, partial: bool = False, fix: str | None = None) -> dict:
    """Returns `sweep` if its layout is that of the sweep command's output; the one place that checks it.

    Checked: a mapping {"recipe": {...}, "runs": {kind: {depth: {seed: run}}}} with integer depths and
    seeds; every run has the per-epoch lists `loss`, `accuracy`, `val_loss`, `val_accuracy` of
    numbers (NaN or null for a diverged epoch), all as long as the longest and at least
    `recipe["epochs"]`, and `gradient_norms_initial` / `gradient_norms_final` ({layer: norm}, the
    same layers for every seed). Unless `partial`, the runs are exactly the file's "kinds" x the
    recipe's "depths" x its "seeds" (`grid_coverage_problem`), no run missing and none extra.

    Args:
        sweep: the sweep, as `load_sweep` reads it.
        path: the file it came from, named in the message (None: "the sweep").
        partial: check a sweep in progress (runs may be missing).
        fix: what the message says to do (default: the command that rebuilds the file).

    Raises:
        ValueError: naming the file and the first problem found, and how to fix it.
    """
    problem = _problem(sweep, partial)
    if problem is None:
        return sweep
    if fix is None:
        recipe, seeds = (sweep.get("recipe"), sweep.get("seeds")) if isinstance(sweep, dict) else (None, None)
        fix = _rebuild(path, recipe, seeds if isinstance(seeds, list) else None) if path is not None else (
            "Pass a sweep read by `resnet_lib.sweep.load_sweep()` (or returned by `run_depth_sweep`).")
    where = repr(str(path)) if path is not None else "the sweep"
    raise ValueError(f"{where}: {problem}. {fix}")


def grid_depths(grid: dict) -> list[int]:
    """The depths of a {kind: {depth: {seed: ...}}} grid (a sweep's runs, a study's networks), ascending."""
    return sorted(int(depth) for depth in grid["plain"])


def grid_seeds(grid: dict) -> list[int]:
    """The seeds every kind and depth of a {kind: {depth: {seed: ...}}} grid has, ascending ([] if none)."""
    found = [{int(s) for s in by_seed} for by_depth in grid.values() for by_seed in by_depth.values()]
    return sorted(set.intersection(*found)) if found else []


def depths(sweep: dict) -> list[int]:
    """The depths of the sweep, ascending."""
    return grid_depths(sweep["runs"])


def seeds(sweep: dict) -> list[int]:
    """The seeds every run of the sweep has, ascending."""
    return grid_seeds(sweep["runs"])


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


def recorded_gradient_norms(sweep: dict, kind: str, depth: int, when: str = "initial") -> np.ndarray:
    """The per-layer gradient norms the sweep recorded, (seeds, layers), input to output.

    `when` is "initial" (before training) or "final" (after it). To compute them for a model of
    your own, use `resnet_lib.gradient_norms(model, x, y)`.
    """
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
    validate_sweep(sweep)
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
