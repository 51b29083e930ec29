"""Re-runs a named, cheap slice of a shipped result and compares it with the shipped numbers, bit for bit.

A shipped result is a claim that its documented command makes it with today's code. Re-making a whole
file takes up to half an hour; each file has slices that its command computes on their own, exactly as
in the full run (the same recipe, seed and schedule, the same thread count):

    python tools/ship_results.py --verify depth_sweep                 # plain-8, seed 0 (the cheapest)
    python tools/ship_results.py --verify depth_sweep residual-56-2   # any network of the sweep
    python tools/ship_results.py --verify landscape plain-20-0        # one network, surface and lesions
    python tools/ship_results.py --verify plain_depths plain-8        # one depth of chapter 1's figure
    python tools/ship_results.py --verify resnet50_digits 2           # the first 2 epochs of ResNet50

Timings (seconds per epoch, wall time) are left out of the comparison; everything else must be equal.
A whole re-made file (what `make results` writes under _build/results/) is compared with the shipped one
the same way, its provenance (date, commit, machine) left out too:

    python tools/ship_results.py --compare _build/results/*.json
The thread count matters (a sum split over threads is added in another order): `verify` sets
TensorFlow's to the file's `provenance.threads_per_run`, so it must run in a fresh process.
"""

from __future__ import annotations

import math

#: For each shipped result, its default slice (the cheapest) and what a slice names.
SLICES = {
    "depth_sweep": ("plain-8-0", "a network: kind-depth-seed"),
    "landscape": ("plain-20-0", "a network: kind-depth-seed"),
    "plain_depths": ("plain-8", "a run: kind-depth"),
    "resnet50_digits": ("2", "the first epochs of the run: a number"),
    "resnet50_digits_keras_bn_momentum": ("2", "the first epochs of the run: a number"),
}


def _parse(name: str, part: str):
    what = SLICES[name][1]
    pieces = part.split("-")
    try:
        if what.startswith("a network"):
            kind, depth, seed = pieces
            return kind, int(depth), int(seed)
        if what.startswith("a run"):
            kind, depth = pieces
            return kind, int(depth)
        (epochs,) = pieces
        return (int(epochs),)
    except ValueError:
        raise ValueError(f"slice {part!r} of {name!r} must name {what}, e.g. {SLICES[name][0]!r}.") from None


def _compute(name: str, shipped: dict, part: tuple):
    """(what the command computes for the slice now, the same part of the shipped file)."""
    from resnet_lib.experiments.depth_sweep import train_sweep_network
    from resnet_lib.experiments.landscape import study_network
    from resnet_lib.experiments.plain_depths import run_plain_depths
    from resnet_lib.experiments.resnet50 import run_resnet50

    recipe = shipped["recipe"] if "recipe" in shipped else shipped["plain"]["recipe"]
    if name == "depth_sweep":
        kind, depth, seed = part
        return (train_sweep_network(recipe, kind, depth, seed),
                shipped["runs"][kind][str(depth)][str(seed)])
    if name == "landscape":
        kind, depth, seed = part
        return study_network(recipe, kind, depth, seed), shipped["networks"][kind][str(depth)][str(seed)]
    if name == "plain_depths":
        kind, depth = part
        run = run_plain_depths(shipped[kind]["recipe"], seed=shipped[kind]["seed"], progress=False,
                               residual=kind == "residual", depths=[depth])
        return run["runs"][str(depth)], shipped[kind]["runs"][str(depth)]
    (epochs,) = part
    run = run_resnet50(recipe, seed=shipped["seed"], progress=False, epochs=epochs)
    return run["history"], {key: values[:epochs] for key, values in shipped["history"].items()}


def _timing(key: str) -> bool:
    return "seconds" in key


def differences(fresh, shipped, where: str = "") -> list[str]:
    """Where `fresh` and `shipped` (JSON-like values) differ, leaving out timings; [] when equal to the bit."""
    if isinstance(fresh, dict) and isinstance(shipped, dict):
        keys = [key for key in sorted(set(fresh) | set(shipped)) if not _timing(key)]
        return [line for key in keys for line in
                (differences(fresh[key], shipped[key], f"{where}.{key}") if key in fresh and key in shipped
                 else [f"{where}.{key}: only in the {'new run' if key in fresh else 'shipped file'}"])]
    if isinstance(fresh, list) and isinstance(shipped, list):
        if len(fresh) != len(shipped):
            return [f"{where}: {len(fresh)} values now, {len(shipped)} shipped"]
        return [line for i, (a, b) in enumerate(zip(fresh, shipped)) for line in differences(a, b, f"{where}[{i}]")]
    same = fresh == shipped or (isinstance(fresh, float) and isinstance(shipped, float)
                                and math.isnan(fresh) and math.isnan(shipped))
    return [] if same else [f"{where}: {fresh!r} now, {shipped!r} shipped"]


def _count(value) -> int:
    if isinstance(value, dict):
        return sum(_count(v) for k, v in value.items() if not _timing(k))
    if isinstance(value, list):
        return sum(_count(v) for v in value)
    return 1


def verify(name: str, part: str | None = None) -> dict:
    """Re-runs the slice `part` of the shipped result `name` and compares it with the file, bit for bit.

    Args:
        name: a shipped result (`resnet_lib.results.names()`).
        part: the slice (see `SLICES`; default the cheapest).

    Returns:
        {"name", "slice", "threads", "values" (how many numbers were compared), "differences" (a list of
        "where: now vs shipped" lines, empty when the slice is reproduced exactly)}.

    Raises:
        ValueError: an unknown name or slice, or a file without the thread count in its provenance.
        RuntimeError: TensorFlow already ran in this process, so its thread count can no longer be set.
    """
    from resnet_lib import results
    from resnet_lib.training import as_stored

    if name not in SLICES:
        raise ValueError(f"`name` must be one of {sorted(SLICES)}, received {name!r}.")
    part = SLICES[name][0] if part is None else part
    parsed = _parse(name, part)
    shipped = results.load(name)
    threads = shipped.get("provenance", {}).get("threads_per_run")
    if not isinstance(threads, int):
        raise ValueError(f"the shipped {name!r} does not record its thread count (provenance.threads_per_run): it "
                         f"was made by an older command; re-make it (make results) before verifying it.")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError as error:
        raise RuntimeError(f"cannot set TensorFlow's thread count to {threads} ({error}): run verify in a fresh "
                           "process, e.g. python tools/ship_results.py --verify NAME.") from None
    fresh, recorded = _compute(name, shipped, parsed)
    fresh = as_stored({"slice": fresh})["slice"]  # as the command stores it and `results.load` reads it back
    return {"name": name, "slice": part, "threads": threads, "values": _count(recorded),
            "differences": differences(fresh, recorded, name)}


def compare_file(file) -> dict:
    """Compares a re-made result file with the shipped result of the same name, bit for bit.

    Both are read as `resnet_lib.results.load` reads the shipped one; timings (`_timing`) and the
    provenance (date, commit, machine, timings) are left out.

    Args:
        file: a finished result, e.g. `_build/results/depth_sweep.json` from `make results`.

    Returns:
        {"name", "file", "values" (how many numbers were compared), "differences" (as `verify`'s)}.

    Raises:
        ValueError: a file whose name is not a shipped result's, or that is not a finished run.
    """
    from pathlib import Path

    from resnet_lib import results
    from resnet_lib.training import load_history

    file = Path(file)
    name = file.name.removesuffix(".json")
    if name not in results.names():
        raise ValueError(f"{file} is not named after a shipped result ({', '.join(results.names())}).")
    made = results.require_complete(load_history(file), file)
    shipped = results.load(name)
    made, shipped = ({key: value for key, value in result.items() if key != "provenance"} for result in (made, shipped))
    return {"name": name, "file": str(file), "values": _count(shipped), "differences": differences(made, shipped, name)}
