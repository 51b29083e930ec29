"""The landscape study (chapter 8): its recipe, one network trained and measured, and the whole restartable study.

Each network is trained as in the depth sweep (`train_sweep_network`), then its loss surface, the
loss along the line from its initial to its trained weights, and its lesions are measured
(`study_network`, with `resnet_lib.landscape` and `resnet_lib.lesion`); `run_landscape_study` runs
the grid with the shared runner (`resnet_lib.experiments._grid`) and writes the file that
`resnet_lib.landscape_study` reads. Run as `python -m resnet_lib.experiments landscape`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from resnet_lib.commands import LANDSCAPE_DEPTHS, LANDSCAPE_STEPS, LESION_SAMPLES, SEEDS
from resnet_lib.experiments._grid import finish_grid_run, grid_plan, resume_source
from resnet_lib.experiments._output import output_path
from resnet_lib.experiments.depth_sweep import depth_sweep_recipe, train_sweep_network
from resnet_lib.sweep import KINDS

#: The tolerance of `resnet_lib.landscape.nonconvexity`: a grid point counts as non-convex where its
#: negative principal curvature exceeds 1% of its positive one in size (Li et al.'s ratio
#: |lambda_min / lambda_max| > 0.01), and is larger than float32 rounding can produce.
NONCONVEXITY_TOLERANCE = 0.01


def landscape_recipe(depths=LANDSCAPE_DEPTHS, epochs: int | None = None, steps: int = LANDSCAPE_STEPS,
                     span: float = 1.0, images: int = 512, direction_seeds=(0, 1),
                     tolerance: float = NONCONVEXITY_TOLERANCE, radius: float = 0.5,
                     interpolation_points: int = 31, max_lesioned_blocks: int = 12, samples: int = LESION_SAMPLES,
                     lesion_seed: int = 0) -> dict:
    """Everything the landscape study computes, in one JSON-able mapping (stored in its file).

    Each network is trained exactly as in the depth sweep (`depth_sweep_recipe()`, the "training"
    entry); then, on the trained network:

    * "surface": the loss on a `steps` x `steps` grid from -`span` to `span` along two
      filter-normalised directions (seeds `direction_seeds`), on the first `images` training images
      (unshifted), `resnet_lib.landscape.loss_surface`;
    * "nonconvexity": the share of non-convex grid points over the whole grid and within `radius`
      of the trained weights (`resnet_lib.landscape.nonconvexity` with `tolerance`);
    * "interpolation": the loss at `interpolation_points` coefficients t from -0.25 to 1.25 on the
      line from the initial to the trained weights, on the same images;
    * "lesions": on the test set, every single block deleted, and `samples` random sets of k blocks
      for k = 0 .. min(blocks, `max_lesioned_blocks`), drawn with `lesion_seed`.

    Args:
        depths: the depths (6n + 2), each trained plain and residual.
        epochs: training epochs (default: the depth sweep's; fewer only for quick checks).
        steps: grid points per axis (>= 3; odd puts the trained weights on the grid).
        span: the grid's half-width, in units of the filter-normalised directions.
        images: how many of the first training images the surface and the interpolation use.
        direction_seeds: the seeds of the two directions.
        tolerance: see `NONCONVEXITY_TOLERANCE`.
        radius: the radius of the second non-convexity count.
        interpolation_points: how many coefficients t.
        max_lesioned_blocks: the largest k of the random lesions.
        samples: random sets of blocks per k.
        lesion_seed: the seed of the random lesions.
    """
    from resnet_lib.validation import check_int

    training = depth_sweep_recipe(depths=depths) if epochs is None else depth_sweep_recipe(depths=depths, epochs=epochs)
    steps = check_int("steps", steps, minimum=3)
    if len(direction_seeds) != 2:
        raise ValueError(f"`direction_seeds` must be two seeds, received {direction_seeds!r}.")
    return {
        "training": training,
        "surface": {"steps": steps, "span": float(span), "images": check_int("images", images, minimum=1),
                    "direction_seeds": [check_int("direction_seeds", d, minimum=0) for d in direction_seeds],
                    "data": "first training images, unshifted"},
        "nonconvexity": {"tolerance": float(tolerance), "radius": float(radius)},
        "interpolation": {"ts": np.round(np.linspace(-0.25, 1.25, check_int("interpolation_points",
                                                                              interpolation_points, minimum=2)),
                                         10).tolist(),
                          "data": "the surface's images"},
        "lesions": {"data": "test set", "max_blocks": check_int("max_lesioned_blocks", max_lesioned_blocks, minimum=0),
                    "samples": check_int("samples", samples, minimum=1),
                    "seed": check_int("lesion_seed", lesion_seed, minimum=0)},
    }


def study_network(recipe: dict, kind: str, depth: int, seed: int, *, data=None) -> dict:
    """Trains one network of the landscape study and measures its landscape and lesions.

    Args:
        recipe: from `landscape_recipe()`.
        kind: "plain" or "residual".
        depth: 6n + 2.
        seed: the training seed (initial weights, shuffling, shifts).
        data: the `Dataset` (default: loaded as the training recipe says).

    Returns:
        {"history": as `train_sweep_network` returns it,
         "surface": {"alphas": (steps,), "betas": (steps,), "loss": (steps, steps), "accuracy": (steps, steps),
                     "seconds_per_point"},
         "nonconvexity": {"grid": share, "radius": share},
         "interpolation": {"t": (points,), "loss": (points,), "accuracy": (points,)},
         "single_block_lesions": as `resnet_lib.lesion.single_block_lesions`,
         "random_lesions": as `resnet_lib.lesion.random_lesions`,
         "analysis_seconds": the time after training}, arrays as (nested) lists.
    """
    from resnet_lib.data import load_dataset
    from resnet_lib.landscape import filter_normalized_direction, interpolation, loss_surface, nonconvexity
    from resnet_lib.lesion import random_lesions, single_block_lesions

    training = recipe["training"]
    if data is None:
        data = load_dataset(training["dataset"], image_size=training["image_size"], channels=training["channels"])
    history, model, initial_weights = train_sweep_network(training, kind, depth, seed, data=data, return_model=True)
    start = time.perf_counter()
    settings = recipe["surface"]
    x, y = data.x_train[:settings["images"]], data.y_train[:settings["images"]]
    directions = tuple(filter_normalized_direction(model, s) for s in settings["direction_seeds"])
    surface = loss_surface(model, x, y, directions, steps=settings["steps"], span=settings["span"])
    shape = recipe["nonconvexity"]
    nonconvex = {"grid": nonconvexity(surface["loss"], surface["alphas"], surface["betas"], tolerance=shape["tolerance"]),
                 "radius": nonconvexity(surface["loss"], surface["alphas"], surface["betas"],
                                        tolerance=shape["tolerance"], radius=shape["radius"])}
    line = interpolation(model, initial_weights, model.get_weights(), x, y, ts=recipe["interpolation"]["ts"])
    lesions = recipe["lesions"]
    single = single_block_lesions(model, data.x_test, data.y_test)
    count = len(single["blocks"])
    random = random_lesions(model, data.x_test, data.y_test, range(min(count, lesions["max_blocks"]) + 1),
                            samples=lesions["samples"], seed=lesions["seed"])
    return {
        "history": history,
        "surface": {key: (value.tolist() if isinstance(value, np.ndarray) else value) for key, value in surface.items()},
        "nonconvexity": nonconvex,
        "interpolation": {key: value.tolist() for key, value in line.items()},
        "single_block_lesions": single,
        "random_lesions": random,
        "analysis_seconds": time.perf_counter() - start,
    }


def _landscape_worker(task):
    """One network of the study, in a worker process: (recipe, kind, depth, seed) -> (kind, depth, seed, record)."""
    recipe, kind, depth, seed = task
    return kind, depth, seed, study_network(recipe, kind, depth, seed)


def landscape_resume_state(recipe: dict, out, *, fresh: bool = False) -> tuple[dict, Path | None]:
    """The networks a landscape study into `out` starts from ({kind: {depth: {seed: network}}}) and
    the file they come from (None: nothing to resume); as `resume_state` for the sweep.

    Raises:
        ValueError: the file to resume from cannot be used; the message names it and says that
            --fresh starts over.
    """
    from resnet_lib.landscape_study import load_landscape_study

    data, source = resume_source(recipe, out, fresh=fresh, noun="study",
                                 load=lambda path, fix: load_landscape_study(path, partial=True, fix=fix))
    if data is None:
        return {kind: {} for kind in KINDS}, None
    return {kind: dict(data["networks"].get(kind, {})) for kind in KINDS}, source


def run_landscape_study(recipe: dict, seeds=SEEDS, *, out=None, jobs: int = 2, fresh: bool = False,
                        progress: bool = True, command: list[str] | None = None) -> dict:
    """Trains and studies every (kind, depth, seed) of the landscape study, saving after each network.

    Works as `run_depth_sweep`: the networks are saved after each one to the partial file beside
    `out` (atomically), `out` is written only once every network is done (with its provenance and
    `"complete": true`), a restarted study resumes without training again what is saved, the
    networks are spread over `jobs` single-threaded processes (on 2 cores), deepest first.

    Args:
        recipe: from `landscape_recipe()`.
        seeds: the seeds to run (with those the resumed networks have).
        out: JSON file to write; None keeps the results in memory only.
        jobs: worker processes; 0 works in this process.
        fresh: ignore what `out` and its partial file hold and start over.
        progress: show a progress bar over the networks.
        command: the command line recorded in the provenance (default: this process's).

    Returns:
        {"recipe", "seeds", "kinds", "networks": {kind: {depth: {seed: network}}}, "provenance",
        "complete", "networks_reused"}, depths and seeds as strings, each network as
        `study_network` returns it.

    Raises:
        ValueError: bad arguments, or a file to resume from that cannot be used (before any training).
        SweepInterrupted: Ctrl-C; it says how many networks are kept, and where.
    """
    from resnet_lib.landscape_study import load_landscape_study, save_landscape_study
    from resnet_lib.validation import check_int

    seeds = [check_int("seeds", s, minimum=0) for s in seeds]
    jobs = check_int("jobs", jobs, minimum=0)
    out = output_path(out) if out is not None else None
    start = time.perf_counter()
    networks, source = landscape_resume_state(recipe, out, fresh=fresh)
    result, done, tasks = grid_plan(recipe, recipe["training"]["depths"], "networks", networks, seeds)
    if not tasks and source is not None and source == out:
        return {**load_landscape_study(out, partial=True), "networks_reused": len(done)}

    def summary(kind, depth, seed, network):
        return (f"{kind}-{depth} seed {seed}: loss {network['history']['loss'][-1]:.3g}, "
                f"non-convex {network['nonconvexity']['grid']:.2f}")

    return finish_grid_run(
        result, "networks", tasks, _landscape_worker, kept_runs=len(done), source=source, out=out,
        save=save_landscape_study, jobs=jobs, progress=progress, description="landscape study", unit="network",
        noun="study", summary=summary, provenance_extras={"networks_reused": len(done)}, command=command, start=start)
