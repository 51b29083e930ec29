"""The depth sweep (chapter 7): its recipe, one network trained with it, and the whole restartable sweep.

Plain and residual networks of every depth in `SWEEP_DEPTHS`, several seeds each, trained with one
recipe (`depth_sweep_recipe`, `train_sweep_network`); `run_depth_sweep` runs the grid with the shared
runner (`resnet_lib.experiments._grid`) and writes the file that `resnet_lib.sweep` reads. Run as
`python -m resnet_lib.experiments depth-sweep`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from resnet_lib.commands import SEEDS, SWEEP_DEPTHS, SWEEP_EPOCHS
from resnet_lib.experiments._grid import finish_grid_run, grid_plan, resume_source
from resnet_lib.experiments._output import output_path
from resnet_lib.sweep import KINDS

GRADIENT_BATCH = 256  # the first images of the training set, for the per-layer gradient norms


def depth_sweep_recipe(depths=SWEEP_DEPTHS, epochs: int = SWEEP_EPOCHS, image_size: int = 8, batch_size: int = 64,
                       learning_rate: float = 0.1, warmup_epochs: int = 1, augment_shift: int = 1) -> dict:
    """The one recipe of the depth explorer (chapter 7), for plain and residual networks alike.

    SGD with momentum 0.9; the learning rate rises linearly from 0 over `warmup_epochs`, then
    follows a cosine to 0. Residual networks start every branch at zero (the last batch norm of
    each branch has gamma = 0), so a fresh ResNet of any depth computes a shallow function. Batch
    norm uses momentum 0.9, so the moving statistics that validation uses keep up in a short run.
    Every epoch sees the training images in a new order, shifted at random by up to `augment_shift`
    pixels. Batch norm trains with `resnet_lib.batch_norm.default_kernel()` (TensorFlow's fused kernel on
    a CPU).
    """
    from resnet_lib.batch_norm import default_kernel  # imports Keras: not at the top, for a quick --help

    return {"dataset": "digits", "image_size": image_size, "channels": 1, "depths": list(depths), "epochs": epochs,
            "batch_size": batch_size, "optimizer": "sgd", "momentum": 0.9, "learning_rate": learning_rate,
            "schedule": f"linear warm-up from 0 over {warmup_epochs} epoch(s), then cosine decay to 0",
            "warmup_epochs": warmup_epochs, "zero_init_residual": True, "batch_norm_momentum": 0.9,
            "augment_shift": augment_shift, "batch_norm_kernel": default_kernel()}


def sweep_optimizer(recipe: dict, steps_per_epoch: int):
    """SGD with momentum and the warm-up + cosine schedule of `recipe`."""
    import keras

    warmup = recipe["warmup_epochs"] * steps_per_epoch
    total = recipe["epochs"] * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else recipe["learning_rate"], max(total - warmup, 1),
        warmup_target=recipe["learning_rate"] if warmup else None, warmup_steps=warmup,
    )
    return keras.optimizers.SGD(schedule, momentum=recipe["momentum"])


def train_sweep_network(recipe: dict, kind: str, depth: int, seed: int, *, data=None, progress: bool = False,
                        epochs: int | None = None, return_model: bool = False):
    """Trains one network of the sweep; returns its history, gradient norms and wall time.

    Args:
        recipe: from `depth_sweep_recipe()`.
        kind: "plain" or "residual".
        depth: one of the 6n + 2 depths of `build_network`.
        seed: seed of the initial weights, the shuffling and the shifts.
        data: the `Dataset` to use (default: loaded as the recipe says).
        progress: show a progress bar over epochs.
        epochs: train for fewer epochs than the recipe (same schedule, cut short); for quick checks.
        return_model: also hand back the trained model and its initial weights (the landscape
            study needs both). Reading the initial weights changes nothing: the history is the same,
            bit for bit, either way.

    Returns:
        The history of `resnet_lib.train` (loss, accuracy, val_loss, val_accuracy, epoch_seconds per
        epoch) plus `gradient_norms_initial` and `gradient_norms_final` ({layer: norm}, input to
        output, on the first 256 training images) and `wall_seconds`. With `return_model`, the tuple
        (history, trained model, initial weights), the last as `model.get_weights()` returned them
        before the first training step (a list of arrays, one per entry of `model.weights`).
    """
    from resnet_lib.data import load_dataset
    from resnet_lib.models import build_network
    from resnet_lib.training import gradient_norms, set_seed, train

    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}, received {kind!r}.")
    if data is None:
        data = load_dataset(recipe["dataset"], image_size=recipe["image_size"], channels=recipe["channels"])
    residual = kind == "residual"
    start = time.perf_counter()
    set_seed(seed)
    model = build_network(depth, residual=residual, input_shape=data.x_train.shape[1:], num_classes=data.num_classes,
                          zero_init_residual=residual and recipe["zero_init_residual"],
                          batch_norm_momentum=recipe["batch_norm_momentum"])
    probe = data.x_train[:GRADIENT_BATCH], data.y_train[:GRADIENT_BATCH]
    initial = gradient_norms(model, *probe)
    initial_weights = model.get_weights() if return_model else None
    steps_per_epoch = int(np.ceil(len(data.x_train) / recipe["batch_size"]))
    history = train(
        model, data.x_train, data.y_train, validation_data=(data.x_test, data.y_test),
        epochs=recipe["epochs"] if epochs is None else epochs, batch_size=recipe["batch_size"],
        optimizer=sweep_optimizer(recipe, steps_per_epoch), seed=seed, progress=progress,
        augment_shift=recipe["augment_shift"], batch_norm_kernel=recipe["batch_norm_kernel"],
    )
    history["gradient_norms_initial"] = initial
    history["gradient_norms_final"] = gradient_norms(model, *probe)
    history["wall_seconds"] = time.perf_counter() - start
    if return_model:
        return history, model, initial_weights
    return history


def resume_state(recipe: dict, out, *, fresh: bool = False) -> tuple[dict, Path | None]:
    """The runs a sweep into `out` starts from, and the file they come from (None: nothing to resume).

    The partial file beside `out` (see `partial_path`) comes first: it holds every run saved so far,
    those taken over from `out` included. Without one, the runs of `out` itself are kept (a sweep
    asked for more seeds resumes from the finished one). Nothing is read with `fresh`.

    Raises:
        ValueError: the file to resume from cannot be used (not UTF-8 JSON, not a sweep, a broken
            run, or another recipe); the message names it and says that --fresh starts over.
    """
    from resnet_lib import sweep as sweeps

    data, source = resume_source(recipe, out, fresh=fresh, noun="sweep",
                                 load=lambda path, fix: sweeps.load_sweep(path, partial=True, fix=fix))
    if data is None:
        return {kind: {} for kind in KINDS}, None
    return {kind: dict(data["runs"].get(kind, {})) for kind in KINDS}, source


def _sweep_worker(task):
    """One run of the sweep, in a worker process: (recipe, kind, depth, seed) -> (kind, depth, seed, history)."""
    recipe, kind, depth, seed = task
    return kind, depth, seed, train_sweep_network(recipe, kind, depth, seed)


def run_depth_sweep(recipe: dict, seeds=SEEDS, *, out=None, jobs: int = 2, fresh: bool = False,
                    progress: bool = True, command: list[str] | None = None) -> dict:
    """Trains every (kind, depth, seed) of the sweep, saving after each run (restartable).

    While it runs, the runs are saved after each one to a partial file beside `out`
    (`<stem>.partial<suffix>`, see `partial_path`); `out` itself is written only once the sweep is
    complete, with its provenance and `"complete": true`, and the partial file is then removed. So
    an interrupted sweep never leaves `out` half-done, and never writes over a finished `out` until
    the new sweep is finished too. A restarted sweep resumes from the partial file, or else keeps the
    runs of a finished `out` with the same recipe (asked for more seeds, it trains only those). The
    runs are spread over `jobs` processes of one thread each, longest first (on a small CPU, two
    single-threaded trainings go faster than one that uses two threads).

    Args:
        recipe: from `depth_sweep_recipe()`.
        seeds: the seeds to run (with those the resumed runs have).
        out: JSON file to write; None keeps the results in memory only.
        jobs: worker processes; 0 trains in this process.
        fresh: ignore what `out` and its partial file hold and start over.
        progress: show a progress bar over the runs.
        command: the command line recorded in the provenance (default: this process's).

    Returns:
        {"recipe", "seeds", "kinds", "runs": {kind: {depth: {seed: run}}}, "provenance", "complete",
        "runs_reused"} with depths and seeds as strings (JSON keys); each run as `train_sweep_network`
        returns it; "runs_reused" counts the runs taken from a file instead of trained (the file
        records it in its provenance). If `out` already held every run, it is returned as it is and
        not written again.

    Raises:
        ValueError: bad arguments, or a file to resume from that cannot be used (before any training).
        SweepInterrupted: Ctrl-C; it says how many runs are kept, and where.
    """
    from resnet_lib.sweep import load_sweep, save_sweep
    from resnet_lib.validation import check_int

    seeds = [check_int("seeds", s, minimum=0) for s in seeds]
    jobs = check_int("jobs", jobs, minimum=0)
    out = output_path(out) if out is not None else None
    start = time.perf_counter()
    runs, source = resume_state(recipe, out, fresh=fresh)
    result, done, tasks = grid_plan(recipe, recipe["depths"], "runs", runs, seeds)
    if not tasks and source is not None and source == out:
        return {**load_sweep(out, partial=True), "runs_reused": len(done)}  # a finished sweep with every run: nothing to do
    return finish_grid_run(
        result, "runs", tasks, _sweep_worker, kept_runs=len(done), source=source, out=out, save=save_sweep,
        jobs=jobs, progress=progress, description="depth sweep", unit="run", noun="sweep",
        summary=lambda kind, depth, seed, run: f"{kind}-{depth} seed {seed}: loss {run['loss'][-1]:.3g}",
        provenance_extras={"runs_reused": len(done)}, command=command, start=start)
