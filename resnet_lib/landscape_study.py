"""The landscape study's file (chapter 8): writing and reading it, the curves the chapter plots, the issue's claims.

The study is made by `python -m resnet_lib.experiments landscape`
(`resnet_lib.experiments.run_landscape_study`), which writes its file with `save_landscape_study`;
chapters read it with `load_landscape_study`. Both check its layout (`validate_landscape_study`).
This module is to that file what `resnet_lib.sweep` is to the depth sweep's; the computations
themselves live in `resnet_lib.landscape` and `resnet_lib.lesion`, and the command that rebuilds a
file, named in error messages, comes from `resnet_lib.commands.landscape_arguments`.

A study is one JSON file::

    {"recipe": {"training": depth_sweep_recipe(), "surface": {"steps", "span", "images", "direction_seeds", ...},
                "nonconvexity": {"tolerance", "radius"}, "interpolation": {"ts": [...]},
                "lesions": {"max_blocks", "samples", "seed", ...}},
     "seeds": [...], "kinds": ["plain", "residual"],
     "networks": {kind: {depth: {seed: {
         "history": the run as in the depth sweep (loss, accuracy, val_loss, val_accuracy per epoch, ...),
         "surface": {"alphas": (steps,), "betas": (steps,), "loss": (steps, steps), "accuracy": (steps, steps), ...},
         "nonconvexity": {"grid": share, "radius": share},
         "interpolation": {"t": (points,), "loss": (points,), "accuracy": (points,)},
         "single_block_lesions": {"blocks", "downsampling", "accuracy", "loss", "intact_accuracy", "intact_loss"},
         "random_lesions": {"k", "mean", "min", "max", "std", "samples", "exhaustive", "accuracies", "num_blocks"},
         "analysis_seconds": float}}}},
     "provenance": {...}, "complete": true}
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from resnet_lib.commands import landscape_arguments
from resnet_lib.sweep import KINDS, METRICS, _is_number, grid_coverage_problem, grid_depths, grid_problem, grid_seeds

#: The file's name among the shipped results (`resnet_lib.results`).
NAME = "landscape"
NETWORK_KEYS = ("history", "surface", "nonconvexity", "interpolation", "single_block_lesions", "random_lesions")
RECIPE_KEYS = ("training", "surface", "nonconvexity", "interpolation", "lesions")


def shipped_path() -> Path:
    """Where the shipped study lives (`resnet_lib/results/landscape.json`), whether it is there or not."""
    return Path(str(resources.files("resnet_lib.results"))) / f"{NAME}.json"


def _experiment(recipe, seeds=None, *, fresh: bool = False) -> str:
    """The `landscape ...` arguments that make a study with `recipe` (as far as the command can say)."""
    return " ".join(landscape_arguments(recipe if isinstance(recipe, dict) else {}, seeds, fresh=fresh))


def _rebuild(path, recipe, seeds=None) -> str:
    from resnet_lib.results import rebuild_command

    return f"Rebuild it with {rebuild_command(path, _experiment(recipe, seeds, fresh=True))}."


def load_landscape_study(path=None, *, partial: bool = False, fix: str | None = None) -> dict:
    """Reads a landscape study (default: the one shipped with the package) and checks its layout.

    Args:
        path: the file, as `python -m resnet_lib.experiments landscape` wrote it (default:
            `resnet_lib/results/landscape.json`).
        partial: accept a study in progress (no `"complete": true`, networks missing), such as the
            partial file a running study keeps beside its output; its layout is checked all the same.
        fix: what an error message says to do (default: the command that rebuilds the file).

    Raises:
        FileNotFoundError: no file at `path`; the message gives the command that makes one.
        ValueError: the file is not UTF-8 JSON, is unfinished (unless `partial`), or its layout is
            broken (see `validate_landscape_study`); the message names the file, the problem and the
            command that rebuilds it (or `fix`).
    """
    from resnet_lib.results import rebuild_command, require_complete
    from resnet_lib.training import load_history

    path = shipped_path() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No landscape study at {str(path)!r}. Make one with {rebuild_command(path, 'landscape')} "
            "(about 8 minutes on 2 cores)."
        )
    try:
        study = load_history(path)
    except ValueError as error:
        raise ValueError(f"{error} {fix or _rebuild(path, None)}") from None
    finished = study.get("complete") is True
    if not finished and not partial:
        validate_landscape_study(study, path, partial=True, fix=fix)
        require_complete(study, path, _experiment(study.get("recipe"), study.get("seeds")))
    return validate_landscape_study(study, path, partial=not finished, fix=fix)


def save_landscape_study(study: dict, path) -> Path:
    """Writes a study, finished or in progress, as JSON, replacing `path` atomically; checked first.

    Raises:
        ValueError: the layout is broken; nothing is written.
    """
    from resnet_lib.training import save_history

    finished = isinstance(study, dict) and study.get("complete") is True
    validate_landscape_study(study, path, partial=not finished, fix=f"Nothing was written to {str(path)!r}.")
    return save_history(study, path)


def _numbers(value, length=None) -> bool:
    """A list of numbers (None allowed: a NaN stored as null), of `length` if given."""
    return (isinstance(value, list) and (length is None or len(value) == length)
            and all(_is_number(v) or v is None for v in value))


def _recipe_problem(recipe) -> str | None:
    if not isinstance(recipe, dict):
        return f"'recipe' is a {type(recipe).__name__}, not a mapping"
    missing = [key for key in RECIPE_KEYS if key not in recipe]
    if missing:
        return f"'recipe' lacks {missing}: not a landscape study's recipe"
    steps = recipe["surface"].get("steps") if isinstance(recipe["surface"], dict) else None
    if not (isinstance(steps, int) and steps >= 3):
        return f"recipe['surface']['steps'] is {steps!r}, not a whole number >= 3"
    ts = recipe["interpolation"].get("ts") if isinstance(recipe["interpolation"], dict) else None
    if not _numbers(ts) or not ts:
        return f"recipe['interpolation']['ts'] is {ts!r}, not a list of numbers"
    return None


def _network_problem(network, where: str, recipe: dict) -> str | None:
    if not isinstance(network, dict):
        return f"{where} is a {type(network).__name__}, not a mapping"
    missing = [key for key in NETWORK_KEYS if key not in network]
    if missing:
        return f"{where} lacks {missing}"
    history = network["history"]
    if not isinstance(history, dict):
        return f"{where}['history'] is a {type(history).__name__}, not a mapping"
    epochs = recipe["training"].get("epochs") if isinstance(recipe["training"], dict) else None
    for metric in METRICS:
        if not _numbers(history.get(metric)) or not history.get(metric):
            return f"{where}['history'][{metric!r}] is {history.get(metric)!r}, not a list of numbers (one per epoch)"
        if isinstance(epochs, int) and len(history[metric]) != epochs:
            return f"{where}['history'][{metric!r}] has {len(history[metric])} epochs, the recipe says {epochs}"
    steps = recipe["surface"]["steps"]
    surface = network["surface"]
    if not isinstance(surface, dict):
        return f"{where}['surface'] is a {type(surface).__name__}, not a mapping"
    for axis in ("alphas", "betas"):
        if not _numbers(surface.get(axis), steps):
            found = len(surface[axis]) if isinstance(surface.get(axis), list) else surface.get(axis)
            return f"{where}['surface'][{axis!r}] is not a list of {steps} numbers (found {found!r})"
    for grid in ("loss", "accuracy"):
        rows = surface.get(grid)
        shape = np.shape(rows) if isinstance(rows, list) else None
        if shape != (steps, steps) or not all(_numbers(row, steps) for row in rows):
            return (f"{where}['surface'][{grid!r}] has shape {shape}, not the recipe's grid ({steps}, {steps}) "
                    "of numbers")
    nonconvexity = network["nonconvexity"]
    for region in ("grid", "radius"):
        value = nonconvexity.get(region) if isinstance(nonconvexity, dict) else None
        if not (_is_number(value) or value is None):
            return f"{where}['nonconvexity'][{region!r}] is {value!r}, not a number"
    points = len(recipe["interpolation"]["ts"])
    for key in ("t", "loss", "accuracy"):
        if not _numbers((network["interpolation"] or {}).get(key) if isinstance(network["interpolation"], dict)
                        else None, points):
            return f"{where}['interpolation'][{key!r}] is not a list of {points} numbers (recipe['interpolation']['ts'])"
    single = network["single_block_lesions"]
    if not isinstance(single, dict) or not isinstance(single.get("blocks"), list) or not single["blocks"]:
        return f"{where}['single_block_lesions'] has no list of 'blocks'"
    count = len(single["blocks"])
    for key in ("accuracy", "loss"):
        if not _numbers(single.get(key), count):
            return f"{where}['single_block_lesions'][{key!r}] is not a list of {count} numbers (one per block)"
    if not (isinstance(single.get("downsampling"), list) and len(single["downsampling"]) == count):
        return f"{where}['single_block_lesions']['downsampling'] is not a list of {count} booleans"
    if not _is_number(single.get("intact_accuracy")):
        return f"{where}['single_block_lesions']['intact_accuracy'] is {single.get('intact_accuracy')!r}, not a number"
    random = network["random_lesions"]
    if not isinstance(random, dict) or not isinstance(random.get("k"), list) or not random["k"]:
        return f"{where}['random_lesions'] has no list 'k'"
    for key in ("mean", "min", "max", "std"):
        if not _numbers(random.get(key), len(random["k"])):
            return f"{where}['random_lesions'][{key!r}] is not a list of {len(random['k'])} numbers (one per k)"
    return None


def _problem(study, partial: bool) -> str | None:
    """The first thing wrong with the layout of `study`, in words; None if there is none."""
    if not isinstance(study, dict):
        return f"the top level is a JSON {type(study).__name__}, not an object {{'recipe': ..., 'networks': ...}}"
    missing = [key for key in ("recipe", "networks") if key not in study]
    if missing:
        return f"it lacks {missing}: not a landscape study"
    problem = _recipe_problem(study["recipe"])
    if problem:
        return problem
    networks = study["networks"]
    problem = grid_problem(networks, "networks", "network",
                           lambda network, where: _network_problem(network, where, study["recipe"]))
    if problem:
        return problem
    if partial:
        return None
    return grid_coverage_problem(study, "networks", study["recipe"]["training"].get("depths"), "network")


def validate_landscape_study(study, path=None, *, partial: bool = False, fix: str | None = None) -> dict:
    """Returns `study` if its layout is that of the landscape command's output; the one place that checks it.

    Checked: the recipe has its five parts; every network has its history (as many epochs as the
    recipe), a surface of the recipe's steps x steps, both non-convexity shares, an interpolation
    with one point per recipe coefficient, and lesions with one entry per block (single) and per k
    (random). Unless `partial`, the networks are exactly the file's "kinds" x the training recipe's
    "depths" x its "seeds" (`sweep.grid_coverage_problem`), none missing and none extra.

    Args:
        study: as `load_landscape_study` reads it.
        path: the file it came from, named in the message (None: "the study").
        partial: check a study in progress (networks may be missing).
        fix: what the message says to do (default: the command that rebuilds the file).

    Raises:
        ValueError: naming the file and the first problem found, and how to fix it.
    """
    problem = _problem(study, partial)
    if problem is None:
        return study
    if fix is None:
        recipe, seeds = (study.get("recipe"), study.get("seeds")) if isinstance(study, dict) else (None, None)
        fix = _rebuild(path, recipe, seeds if isinstance(seeds, list) else None) if path is not None else (
            "Pass a study read by `resnet_lib.landscape_study.load_landscape_study()` "
            "(or returned by `run_landscape_study`).")
    where = repr(str(path)) if path is not None else "the study"
    raise ValueError(f"{where}: {problem}. {fix}")


# --- accessors ---------------------------------------------------------------------------------------

def depths(study: dict) -> list[int]:
    """The depths of the study, ascending."""
    return grid_depths(study["networks"])


def seeds(study: dict) -> list[int]:
    """The seeds every network of the study has, ascending."""
    return grid_seeds(study["networks"])


def network(study: dict, kind: str, depth: int, seed: int) -> dict:
    """The record of one network (see the module's docstring).

    Raises:
        ValueError: `kind`, `depth` or `seed` is not in the study; the message lists those that are.
    """
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}, received {kind!r}.")
    by_depth = study["networks"].get(kind, {})
    if str(depth) not in by_depth:
        raise ValueError(f"`depth` must be one of the study's depths {sorted(int(d) for d in by_depth)}, "
                         f"received {depth!r}.")
    by_seed = by_depth[str(depth)]
    if str(seed) not in by_seed:
        raise ValueError(f"`seed` must be one of the study's seeds {sorted(int(s) for s in by_seed)} for "
                         f"{kind}-{depth}, received {seed!r}.")
    return by_seed[str(seed)]


def surface(study: dict, kind: str, depth: int, seed: int, metric: str = "loss") -> dict:
    """The loss surface of one network.

    Returns:
        {"alphas": (steps,), "betas": (steps,), "values": (steps, steps)} float arrays, `values[i, j]`
        the `metric` ("loss" or "accuracy") at (alphas[i], betas[j]); a stored null is NaN.
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"`metric` must be 'loss' or 'accuracy', received {metric!r}.")
    stored = network(study, kind, depth, seed)["surface"]
    return {"alphas": np.array(stored["alphas"], dtype=float), "betas": np.array(stored["betas"], dtype=float),
            "values": np.array(stored[metric], dtype=float)}


def interpolation_curve(study: dict, kind: str, depth: int, seed: int) -> dict:
    """The loss and accuracy along the line from the initial to the trained weights:
    {"t": (points,), "loss": (points,), "accuracy": (points,)} float arrays."""
    stored = network(study, kind, depth, seed)["interpolation"]
    return {key: np.array(stored[key], dtype=float) for key in ("t", "loss", "accuracy")}


def single_block_drops(study: dict, kind: str, depth: int, seed: int, *, downsampling: bool = False) -> dict:
    """The accuracy each single-block lesion costs, in percentage points of test accuracy.

    Args:
        downsampling: include the two downsampling blocks (whose deletion also removes a change of
            shape, not only a block); default: leave them out, as the claim does.

    Returns:
        {"blocks": [name, ...], "drop": (blocks,) intact minus lesioned accuracy, in points,
        "intact_accuracy": float in [0, 1]}.
    """
    stored = network(study, kind, depth, seed)["single_block_lesions"]
    keep = [downsampling or not flag for flag in stored["downsampling"]]
    accuracy = np.array(stored["accuracy"], dtype=float)[keep]
    return {"blocks": [name for name, kept in zip(stored["blocks"], keep) if kept],
            "drop": 100.0 * (stored["intact_accuracy"] - accuracy), "intact_accuracy": float(stored["intact_accuracy"])}


def random_lesion_curve(study: dict, kind: str, depth: int, seed: int) -> dict:
    """Test accuracy after deleting k random blocks: {"k": (n,) ints, "mean", "min", "max", "std": (n,) floats}."""
    stored = network(study, kind, depth, seed)["random_lesions"]
    return {"k": np.array(stored["k"], dtype=int),
            **{key: np.array(stored[key], dtype=float) for key in ("mean", "min", "max", "std")}}


def nonconvexity_per_seed(study: dict, kind: str, depth: int, region: str = "grid") -> np.ndarray:
    """The share of non-convex grid points for every seed of the study, (seeds,).

    Args:
        region: "grid" (the whole surface) or "radius" (within recipe["nonconvexity"]["radius"] of the
            trained weights).
    """
    if region not in ("grid", "radius"):
        raise ValueError(f"`region` must be 'grid' or 'radius', received {region!r}.")
    return np.array([network(study, kind, depth, s)["nonconvexity"][region] for s in seeds(study)], dtype=float)


def histories_match(study: dict, sweep: dict) -> dict[str, bool]:
    """Whether each network's history equals, bit for bit, the depth sweep's run of the same kind,
    depth and seed (the per-epoch metrics and gradient norms; not the timings).

    Returns:
        {"kind-depth seed s": bool} for every network of `study` that `sweep` also has.
    """
    compared = ("loss", "accuracy", "val_loss", "val_accuracy", "gradient_norms_initial", "gradient_norms_final")
    matches = {}
    for kind, by_depth in study["networks"].items():
        for depth, by_seed in by_depth.items():
            for seed, record in by_seed.items():
                run = sweep["runs"].get(kind, {}).get(depth, {}).get(seed)
                if run is not None:
                    matches[f"{kind}-{depth} seed {seed}"] = all(
                        np.array_equal(np.asarray(_values(record["history"][key]), float),
                                       np.asarray(_values(run[key]), float), equal_nan=True) for key in compared)
    return matches


def _values(entry):
    return list(entry.values()) if isinstance(entry, dict) else entry


# --- the claims ------------------------------------------------------------------------------

def claims(study: dict, *, depth: int = 56, shallow: int = 20, residual_max_drop: float = 5.0,
           plain_min_share: float = 0.75, plain_factor: float = 10.0, chance: float = 0.1,
           region: str = "grid") -> dict[str, dict]:
    """The two claims of the issue, seed by seed (as `resnet_lib.sweep.degradation_checks` does).

    * "plain is less convex": the non-convexity (share of non-convex grid points, over `region`) of
      plain-`depth` is higher than that of residual-`depth` (Li et al., 2018: skip connections
      make the landscape smoother).
    * "residual survives lesions": deleting one non-downsampling block of residual-`depth` costs at
      most `residual_max_drop` points of test accuracy on median, while it takes plain-`shallow`
      and plain-`depth` most of the way to chance (Veit et al., 2016): on median a lesion removes at
      least `plain_min_share` of their accuracy above chance, and at least `plain_factor` times the
      share it removes from residual-`depth`. Shares, not points: plain-56 barely trains (19 to 44 %
      of the digits right in the shipped study), so it has only 9 to 34 points above chance to lose,
      and "a lesion costs it 20 points" can mean "it is sent to chance". A network that learned
      almost nothing has nothing to lose either: the claim then fails for its seed (seed 0 of the
      shipped study), which chapter 8 reports as it is.

    The downsampling blocks are left out of the medians: deleting one also removes a change of
    feature-map size (its shortcut remains), which Veit et al. found hurts even a ResNet.

    Args:
        study: as `load_landscape_study` returns it.
        depth: the deep networks compared.
        shallow: the shallower plain network of the lesion claim.
        residual_max_drop: the largest median drop (points) the residual network may show.
        plain_min_share: the smallest share (0 to 1) of above-chance accuracy a plain network must lose.
        plain_factor: how many times the residual network's share the plain networks must lose.
        chance: the accuracy of guessing (the digits' test set: ten classes of equal size, 0.1).
        region: "grid" or "radius", see `nonconvexity_per_seed`.

    Returns:
        {claim: {"holds": bool (for every seed), "per_seed": [bool, ...], "values": {name: [per seed]}}},
        values the non-convexity shares, the median drops in points and the shares of above-chance
        accuracy they are.

    Raises:
        ValueError: a network the claims need is missing, or a threshold is negative.
    """
    for name, value in (("residual_max_drop", residual_max_drop), ("plain_min_share", plain_min_share),
                        ("plain_factor", plain_factor), ("chance", chance)):
        if not _is_number(value) or not value >= 0:
            raise ValueError(f"`{name}` must be a number >= 0, received {value!r}.")
    if not chance < 1:
        raise ValueError(f"`chance` must be below 1 (an accuracy), received {chance!r}.")
    validate_landscape_study(study)
    study_seeds = seeds(study)
    for kind, network_depth in (("plain", depth), ("residual", depth), ("plain", shallow)):
        for seed in study_seeds:
            network(study, kind, network_depth, seed)  # a clear error if missing
    plain_shape = nonconvexity_per_seed(study, "plain", depth, region)
    residual_shape = nonconvexity_per_seed(study, "residual", depth, region)

    def medians(kind, network_depth):
        drops = [single_block_drops(study, kind, network_depth, s) for s in study_seeds]
        points = np.array([float(np.median(d["drop"])) for d in drops])
        above_chance = np.array([100.0 * (d["intact_accuracy"] - chance) for d in drops])
        return points, points / above_chance

    (residual, residual_share), (plain_deep, deep_share), (plain_shallow, shallow_share) = (
        medians("residual", depth), medians("plain", depth), medians("plain", shallow))
    required = np.maximum(plain_min_share, plain_factor * residual_share)
    lesion_holds = (residual <= residual_max_drop) & (deep_share >= required) & (shallow_share >= required)
    outcomes = {
        "plain is less convex": (plain_shape > residual_shape,
                                 {f"plain-{depth} nonconvexity": plain_shape,
                                  f"residual-{depth} nonconvexity": residual_shape}),
        "residual survives lesions": (lesion_holds,
                                      {f"residual-{depth} median drop": residual,
                                       f"plain-{shallow} median drop": plain_shallow,
                                       f"plain-{depth} median drop": plain_deep,
                                       f"residual-{depth} share lost": residual_share,
                                       f"plain-{shallow} share lost": shallow_share,
                                       f"plain-{depth} share lost": deep_share,
                                       "plain share required": required}),
    }
    return {claim: {"holds": bool(np.all(per_seed)), "per_seed": [bool(v) for v in per_seed],
                    "values": {name: [float(v) for v in values] for name, values in numbers.items()}}
            for claim, (per_seed, numbers) in outcomes.items()}
