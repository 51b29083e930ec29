"""Heavy runs of the book, as commands that write small JSON results with their provenance.

    python -m resnet_lib.experiments resnet50 --batch-norm-momentum 0.9   # ./resnet50_digits.json
    python -m resnet_lib.experiments resnet50    # Keras' momentum 0.99: ./resnet50_digits_keras_bn_momentum.json
    python -m resnet_lib.experiments plain-depths [--depths 8 20 56] [--epochs 8] [--out plain_depths.json]
    python -m resnet_lib.experiments depth-sweep [--seeds 0 1 2] [--jobs 2] [--fresh]   # ./depth_sweep.json
    python -m resnet_lib.experiments landscape [--depths 20 56] [--seeds 0 1 2] [--jobs 2] [--fresh]  # ./landscape.json

The sweep and the landscape study save after every run to `<out stem>.partial.json` beside `--out` and resume from it; they
write `--out` only once every run is done. Every finished file ends with `"complete": true` (added
last, with the provenance), which the loaders require. Ctrl-C stops a command with exit status 130
and one line saying what was kept and how to resume.

Each writes into the current folder unless `--out` says otherwise, and never into the installed
package: the results the chapters load (train-or-load) ship inside it (`resnet_lib.results`), so
readers see full-length results at once, and every chapter can re-run the same function itself.
`make results` runs them all and installs each file into the package once its run is complete.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from resnet_lib.sweep import KINDS

PACKAGE = Path(__file__).resolve().parent


def output_path(out) -> Path:
    """`out` as the file an experiment writes; refuses any place inside the resnet_lib package.

    Raises:
        ValueError: `out` lies inside the package (where the shipped results live, or site-packages).
    """
    out = Path(out)
    if out.resolve().is_relative_to(PACKAGE):
        raise ValueError(
            f"`--out` must not lie inside the resnet_lib package ({PACKAGE}), received {str(out)!r}: the results "
            "shipped there are replaced only by `make results`, once a run is complete. Write elsewhere, e.g. "
            f"--out {out.name} (the current folder)."
        )
    if _tracked_by_git(out):
        raise ValueError(
            f"`--out` {str(out)!r} is a file committed to git; a run never writes over a committed file. Write "
            f"elsewhere (e.g. --out {out.stem}.new{out.suffix}) and replace it yourself once the run is complete."
        )
    return out


def _tracked_by_git(path: Path) -> bool:
    """True if `path` is an existing file that git tracks (False where git or a repository is absent)."""
    import shutil
    import subprocess

    if not path.is_file() or shutil.which("git") is None:
        return False
    result = subprocess.run(["git", "ls-files", "--error-unmatch", "--", path.resolve().name],
                            cwd=path.resolve().parent, capture_output=True)
    return result.returncode == 0


def resnet50_recipe(epochs: int = 20, batch_size: int = 64, learning_rate: float = 1e-3, image_size: int = 32,
                    batch_norm_momentum: float | None = None) -> dict:
    """The full-length ResNet50 recipe on the offline default data (one place, used by chapter 6 too).

    `batch_norm_momentum`, if given, replaces the momentum of every batch norm before training (a
    training setting: the architecture stays that of keras.applications, whose default is 0.99).
    """
    return {"dataset": "digits", "image_size": image_size, "epochs": epochs, "batch_size": batch_size,
            "optimizer": "adam", "learning_rate": learning_rate, "schedule": "cosine decay to 0",
            "batch_norm_momentum": batch_norm_momentum}


def run_resnet50(recipe: dict, seed: int = 0, progress: bool = True, limit: int | None = None) -> dict:
    """Trains `resnet50()` from scratch with `recipe`; returns history, test accuracy and test predictions.

    Args:
        recipe: from `resnet50_recipe()`.
        seed: seed of the initial weights and the shuffling.
        progress: show a progress bar.
        limit: use only the first `limit` training images (for quick checks).
    """
    import keras

    from resnet_lib.data import load_dataset
    from resnet_lib.models import resnet50
    from resnet_lib.training import set_seed, train

    data = load_dataset(recipe["dataset"], image_size=recipe["image_size"])
    x_train, y_train = data.x_train[:limit], data.y_train[:limit]
    set_seed(seed)
    model = resnet50((recipe["image_size"], recipe["image_size"], 3), data.num_classes)
    if recipe.get("batch_norm_momentum") is not None:
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = recipe["batch_norm_momentum"]
    steps = recipe["epochs"] * int(np.ceil(len(x_train) / recipe["batch_size"]))
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(recipe["learning_rate"], steps))
    start = time.perf_counter()
    history = train(model, x_train, y_train, validation_data=(data.x_test, data.y_test), epochs=recipe["epochs"],
                    batch_size=recipe["batch_size"], optimizer=optimizer, seed=seed, progress=progress)
    wall_seconds = time.perf_counter() - start
    probabilities = model.predict(data.x_test, verbose=0)
    predictions = probabilities.argmax(axis=1)
    return {
        "recipe": recipe,
        "seed": seed,
        "history": history,
        "test_accuracy": float((predictions == data.y_test).mean()),
        "test_predictions": predictions.tolist(),
        "test_labels": data.y_test.tolist(),
        "class_names": list(data.class_names),
        "wall_seconds": wall_seconds,
        "parameters": model.count_params(),
    }


def plain_depths_recipe(depths=(8, 20, 56), epochs: int = 8, image_size: int = 16, batch_size: int = 64,
                        learning_rate: float = 0.05) -> dict:
    """Plain networks of increasing depth, trained with one recipe (chapter 1's degradation figure)."""
    return {"dataset": "digits", "image_size": image_size, "depths": list(depths), "epochs": epochs,
            "batch_size": batch_size, "optimizer": "sgd", "learning_rate": learning_rate,
            "zero_init_residual": True}


def run_plain_depths(recipe: dict, seed: int = 0, progress: bool = True, residual: bool = False) -> dict:
    """Trains `build_network(depth, residual)` for each depth of `recipe`; returns the histories."""
    from resnet_lib.data import load_dataset
    from resnet_lib.models import build_network
    from resnet_lib.training import set_seed, train

    data = load_dataset(recipe["dataset"], image_size=recipe["image_size"])
    runs = {}
    for depth in recipe["depths"]:
        set_seed(seed)
        model = build_network(depth, residual=residual, input_shape=data.x_train.shape[1:], num_classes=data.num_classes,
                              zero_init_residual=residual and recipe["zero_init_residual"])
        runs[str(depth)] = train(
            model, data.x_train, data.y_train, validation_data=(data.x_test, data.y_test), epochs=recipe["epochs"],
            batch_size=recipe["batch_size"], optimizer=recipe["optimizer"], learning_rate=recipe["learning_rate"],
            seed=seed, progress=progress,
        )
    return {"recipe": recipe, "seed": seed, "residual": residual, "runs": runs}


SWEEP_DEPTHS = (8, 14, 20, 32, 44, 56)
GRADIENT_BATCH = 256  # the first images of the training set, for the per-layer gradient norms


def depth_sweep_recipe(depths=SWEEP_DEPTHS, epochs: int = 12, image_size: int = 8, batch_size: int = 64,
                       learning_rate: float = 0.1, warmup_epochs: int = 1, augment_shift: int = 1) -> dict:
    """The one recipe of the depth explorer (chapter 7), for plain and residual networks alike.

    SGD with momentum 0.9; the learning rate rises linearly from 0 over `warmup_epochs`, then
    follows a cosine to 0. Residual networks start every branch at zero (the last batch norm of
    each branch has gamma = 0), so a fresh ResNet of any depth computes a shallow function. Batch
    norm uses momentum 0.9, so the moving statistics that validation uses keep up in a short run.
    Every epoch sees the training images shifted at random by up to `augment_shift` pixels.
    """
    return {"dataset": "digits", "image_size": image_size, "channels": 1, "depths": list(depths), "epochs": epochs,
            "batch_size": batch_size, "optimizer": "sgd", "momentum": 0.9, "learning_rate": learning_rate,
            "schedule": f"linear warm-up from 0 over {warmup_epochs} epoch(s), then cosine decay to 0",
            "warmup_epochs": warmup_epochs, "zero_init_residual": True, "batch_norm_momentum": 0.9,
            "augment_shift": augment_shift}


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
        augment_shift=recipe["augment_shift"],
    )
    history["gradient_norms_initial"] = initial
    history["gradient_norms_final"] = gradient_norms(model, *probe)
    history["wall_seconds"] = time.perf_counter() - start
    if return_model:
        return history, model, initial_weights
    return history


def depth_sweep_arguments(recipe: dict, seeds=None, *, fresh: bool = False) -> list[str]:
    """The `depth-sweep` command's arguments that make a sweep with `recipe` and `seeds` (those the
    command can set: depths, epochs, seeds; the defaults are left out)."""
    arguments = ["depth-sweep"]
    if fresh:
        arguments.append("--fresh")
    depths, epochs = recipe.get("depths"), recipe.get("epochs")
    if isinstance(depths, list) and depths != list(SWEEP_DEPTHS):
        arguments += ["--depths", *map(str, depths)]
    if isinstance(seeds, list) and seeds != [0, 1, 2]:
        arguments += ["--seeds", *map(str, seeds)]
    if epochs is not None and epochs != depth_sweep_recipe()["epochs"]:
        arguments += ["--epochs", str(epochs)]
    return arguments


def partial_path(out) -> Path:
    """Where a sweep into `out` keeps its runs while it is in progress: `<stem>.partial<suffix>` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}.partial{out.suffix}")


def _count_runs(runs: dict) -> int:
    return sum(len(by_seed) for by_depth in runs.values() for by_seed in by_depth.values())


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

    data, source = _resume_source(recipe, out, fresh=fresh, noun="sweep",
                                  load=lambda path, fix: sweeps.load_sweep(path, partial=True, fix=fix))
    if data is None:
        return {kind: {} for kind in KINDS}, None
    return {kind: dict(data["runs"].get(kind, {})) for kind in KINDS}, source


def _resume_source(recipe: dict, out, *, fresh: bool, noun: str, load) -> tuple[dict | None, Path | None]:
    """The file a restartable run into `out` resumes from, read with `load`, and its path ((None, None): none).

    Shared by the depth sweep and the landscape study: the partial file beside `out` comes first,
    then `out` itself; nothing is read with `fresh`.

    Args:
        recipe: the recipe of the run; the file must hold the same one.
        out: the run's output file (None: kept in memory only, nothing to resume).
        fresh: start over: read nothing.
        noun: what the run is called in messages ("sweep", "study").
        load: function (path, fix) -> contents that reads a file in progress and checks its layout,
            raising a ValueError that ends with `fix`.

    Raises:
        ValueError: the file cannot be used (unreadable, broken, or another recipe); the message names
            it and says that --fresh starts over.
    """
    if out is None or fresh:
        return None, None
    out = Path(out)
    for source in (partial_path(out), out):
        if not source.exists():
            continue
        fix = (f"To start over, run the command again with --fresh (fresh=True): it trains every run again, "
               f"and writes over {str(partial_path(out))!r} as it goes"
               + (f" and replaces {str(out)!r} once the new {noun} is complete" if source == out else "")
               + "; or give another --out to keep this file as it is.")
        data = load(source, f"The {noun} cannot resume from it. {fix}")
        if data["recipe"] != recipe:
            differences = ", ".join(f"{key} {data['recipe'].get(key)!r} instead of {recipe.get(key)!r}"
                                    for key in sorted(set(recipe) | set(data["recipe"]))
                                    if data["recipe"].get(key) != recipe.get(key))
            raise ValueError(f"{str(source)!r} holds a {noun} made with another recipe ({differences}). {fix}")
        return data, source
    return None, None


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during `run_depth_sweep` (or `run_landscape_study`): `runs` runs are kept in the file
    `path` (None: no run yet); `unit` and `noun` name them in the message ("run", "sweep")."""

    def __init__(self, path: Path | None, runs: int, *, unit: str = "run", noun: str = "sweep"):
        super().__init__(path, runs)
        self.path, self.runs, self.unit, self.noun = path, runs, unit, noun

    def __str__(self) -> str:
        if self.path is None:
            return (f"interrupted before any {self.unit} of the {self.noun} finished; nothing was written"
                    if not self.runs else
                    f"interrupted; {self.runs} {self.unit}s were trained but not saved (no `out` file)")
        return (f"interrupted; {self.runs} {self.unit}{'s' if self.runs != 1 else ''} of the {self.noun} "
                f"kept in {self.path}")


def _exit_with_parent(parent: int) -> None:
    """Ends this worker process when its parent (the sweep) dies, even by SIGKILL: no orphan trains on."""
    import signal
    import threading

    if sys.platform.startswith("linux"):
        import ctypes

        try:  # PR_SET_PDEATHSIG (1): the kernel sends SIGKILL when the parent dies
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
        except (OSError, AttributeError):
            pass  # where prctl is missing, the thread below ends the worker within a second
    if os.getppid() != parent:  # the parent died before this ran
        os._exit(1)

    def watch():
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _sweep_worker_init(threads: int, parent: int | None = None) -> None:
    import signal

    # Ctrl-C reaches the whole process group: the parent handles it (it ends the pool); a worker
    # that raised KeyboardInterrupt too would print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        _exit_with_parent(parent)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def _sweep_worker(task):
    recipe, kind, depth, seed = task
    return kind, depth, seed, train_sweep_network(recipe, kind, depth, seed)


def _start_pool(jobs: int):
    """`jobs` spawned worker processes of max(1, cpus // jobs) threads, which ignore Ctrl-C and die with us."""
    import multiprocessing
    import signal
    import threading

    cpus = os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")
    # The workers inherit this environment: keep TensorFlow's C++ log lines (a harmless tf.data
    # notice at every epoch) from burying the progress bar; Python errors still reach us.
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    # Started with SIGINT ignored, the workers ignore Ctrl-C from their first instruction on (they take
    # seconds to import TensorFlow before their initializer runs).
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
    try:
        return context.Pool(jobs, initializer=_sweep_worker_init, initargs=(max(1, cpus // jobs), os.getpid()))
    finally:
        if main_thread and previous is not None:  # None: a handler installed outside Python, left as it was
            signal.signal(signal.SIGINT, previous)
        if level is None:
            del os.environ["TF_CPP_MIN_LOG_LEVEL"]
        else:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = level


def _run_tasks(tasks: list, worker, record, *, jobs: int, progress: bool, description: str, summary) -> None:
    """Runs `worker(task)` for every task, in `jobs` worker processes (0: in this one), with a progress bar.

    Shared by the depth sweep and the landscape study. `record(*outcome)` gets each worker's result
    as soon as it arrives (in the order they finish), and may save it; `summary(*outcome)` is the
    text shown beside the bar. Ctrl-C (KeyboardInterrupt) ends the worker processes and propagates.

    Args:
        tasks: picklable arguments of `worker`, in the order to start them.
        worker: a module-level function (workers are spawned processes), task -> tuple.
        record: function called with the worker's tuple in this process.
        jobs: worker processes of max(1, cpus // jobs) threads each; 0 runs the tasks here.
        progress: show the bar.
        description: the bar's label.
        summary: function of the worker's tuple -> short text.
    """
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=description, unit="run", disable=not progress)
    try:
        if jobs == 0 or not tasks:
            for task in tasks:
                record(*worker(task))
                bar.update(1)
        else:
            with _start_pool(jobs) as pool:  # leaving it (Ctrl-C included) terminates the workers
                for outcome in pool.imap_unordered(worker, tasks):
                    record(*outcome)
                    bar.set_postfix_str(summary(*outcome))
                    bar.update(1)
    finally:
        bar.close()


def run_depth_sweep(recipe: dict, seeds=(0, 1, 2), *, out=None, jobs: int = 2, fresh: bool = False,
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
    result, done, tasks = _grid_plan(recipe, recipe["depths"], "runs", runs, seeds)
    if not tasks and source is not None and source == out:
        return {**load_sweep(out, partial=True), "runs_reused": len(done)}  # a finished sweep with every run: nothing to do
    return _finish_grid_run(
        result, "runs", tasks, _sweep_worker, kept_runs=len(done), source=source, out=out, save=save_sweep,
        jobs=jobs, progress=progress, description="depth sweep", unit="run", noun="sweep",
        summary=lambda kind, depth, seed, run: f"{kind}-{depth} seed {seed}: loss {run['loss'][-1]:.3g}",
        provenance_extras={"runs_reused": len(done)}, command=command, start=start)


# --- the landscape study (chapter 8) ----------------------------------------------------------------

LANDSCAPE_DEPTHS = (20, 56)
LANDSCAPE_STEPS = 25
LESION_SAMPLES = 20
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
    recipe, kind, depth, seed = task
    return kind, depth, seed, study_network(recipe, kind, depth, seed)


def landscape_arguments(recipe: dict, seeds=None, *, fresh: bool = False) -> list[str]:
    """The `landscape` command's arguments that make a study with `recipe` and `seeds` (those the command
    can set: depths, seeds, epochs, steps, samples; defaults left out)."""
    arguments = ["landscape"]
    if fresh:
        arguments.append("--fresh")
    default = landscape_recipe()
    training = recipe.get("training") if isinstance(recipe.get("training"), dict) else {}
    depths, epochs = training.get("depths"), training.get("epochs")
    if isinstance(depths, list) and depths != list(LANDSCAPE_DEPTHS):
        arguments += ["--depths", *map(str, depths)]
    if isinstance(seeds, list) and seeds != [0, 1, 2]:
        arguments += ["--seeds", *map(str, seeds)]
    if epochs is not None and epochs != default["training"]["epochs"]:
        arguments += ["--epochs", str(epochs)]
    steps = (recipe.get("surface") or {}).get("steps") if isinstance(recipe.get("surface"), dict) else None
    if steps is not None and steps != LANDSCAPE_STEPS:
        arguments += ["--steps", str(steps)]
    samples = (recipe.get("lesions") or {}).get("samples") if isinstance(recipe.get("lesions"), dict) else None
    if samples is not None and samples != LESION_SAMPLES:
        arguments += ["--samples", str(samples)]
    return arguments


def landscape_resume_state(recipe: dict, out, *, fresh: bool = False) -> tuple[dict, Path | None]:
    """The networks a landscape study into `out` starts from ({kind: {depth: {seed: network}}}) and
    the file they come from (None: nothing to resume); as `resume_state` for the sweep.

    Raises:
        ValueError: the file to resume from cannot be used; the message names it and says that
            --fresh starts over.
    """
    from resnet_lib.landscape_study import load_landscape_study

    data, source = _resume_source(recipe, out, fresh=fresh, noun="study",
                                  load=lambda path, fix: load_landscape_study(path, partial=True, fix=fix))
    if data is None:
        return {kind: {} for kind in KINDS}, None
    return {kind: dict(data["networks"].get(kind, {})) for kind in KINDS}, source


def run_landscape_study(recipe: dict, seeds=(0, 1, 2), *, out=None, jobs: int = 2, fresh: bool = False,
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
    result, done, tasks = _grid_plan(recipe, recipe["training"]["depths"], "networks", networks, seeds)
    if not tasks and source is not None and source == out:
        return {**load_landscape_study(out, partial=True), "networks_reused": len(done)}

    def summary(kind, depth, seed, network):
        return (f"{kind}-{depth} seed {seed}: loss {network['history']['loss'][-1]:.3g}, "
                f"non-convex {network['nonconvexity']['grid']:.2f}")

    return _finish_grid_run(
        result, "networks", tasks, _landscape_worker, kept_runs=len(done), source=source, out=out,
        save=save_landscape_study, jobs=jobs, progress=progress, description="landscape study", unit="network",
        noun="study", summary=summary, provenance_extras={"networks_reused": len(done)}, command=command, start=start)


def _grid_plan(recipe: dict, depths, key: str, grid: dict, seeds: list[int]) -> tuple[dict, set, list]:
    """What a resumable {kind: {depth: {seed: ...}}} experiment has done and has still to do.

    Every seed asked for and every seed found in `grid` (resumed from a file) is run for every depth
    and kind: a complete file is a full grid. The deepest networks come first (they take longest).

    Returns:
        (result, done, tasks): result = {"recipe", "seeds", "kinds", key: grid}; done = {(kind, depth,
        seed)} as strings; tasks = [(recipe, kind, depth, seed)] still to run.
    """
    resumed_seeds = {int(s) for by_depth in grid.values() for by_seed in by_depth.values() for s in by_seed}
    result = {"recipe": recipe, "seeds": sorted(set(seeds) | resumed_seeds), "kinds": list(KINDS), key: grid}
    done = {(k, d, s) for k, by_depth in grid.items() for d, by_seed in by_depth.items() for s in by_seed}
    tasks = [(recipe, kind, depth, seed) for depth in sorted(depths, reverse=True) for seed in result["seeds"]
             for kind in KINDS if (kind, str(depth), str(seed)) not in done]
    return result, done, tasks


def _finish_grid_run(result: dict, key: str, tasks: list, worker, *, kept_runs: int, source, out, save, jobs: int,
                     progress: bool, description: str, unit: str, noun: str, summary, provenance_extras: dict,
                     command, start: float) -> dict:
    """Runs the `tasks` of a resumable {kind: {depth: {seed: ...}}} experiment and finishes its file.

    Shared by the depth sweep and the landscape study: every result goes into `result[key]` as it
    arrives and, with `out`, into the partial file beside it (`save` writes atomically); Ctrl-C
    raises `SweepInterrupted` saying how many are kept, and where; at the end the grid is put in
    order, the provenance and `"complete": true` are added (last), `out` is written and the partial
    file removed.

    Args:
        result: {"recipe", "seeds", "kinds", key: {kind: {depth: {seed: ...}}}} with what is already done.
        key: "runs" or "networks".
        tasks: (recipe, kind, depth, seed) still to do; `worker(task)` returns (kind, depth, seed, value).
        kept_runs: how many were taken from `source`, the file resumed from (None: none).
        out: the final file (None: nothing written).
        save: function (contents, path) that writes a file of this experiment atomically.
        summary: function (kind, depth, seed, value) -> the progress bar's postfix.
        provenance_extras: recorded in the provenance besides the command, seeds, jobs and wall time.
        command: the command line for the provenance; start: `time.perf_counter()` at the start.

    Returns:
        `result` completed, with `provenance_extras` at its top level too.
    """
    from resnet_lib.provenance import provenance

    partial = partial_path(out) if out is not None else None
    kept = {"path": source, "runs": kept_runs}  # where the results so far are, for Ctrl-C

    def record(kind, depth, seed, value):
        result[key][kind].setdefault(str(depth), {})[str(seed)] = value
        if out is not None:
            save({**result, "complete": False}, partial)
            kept["path"], kept["runs"] = partial, kept["runs"] + 1

    try:
        _run_tasks(tasks, worker, record, jobs=jobs, progress=progress, description=description, summary=summary)
    except KeyboardInterrupt:
        raise SweepInterrupted(kept["path"] if out is not None else None, kept["runs"], unit=unit,
                               noun=noun) from None
    for kind in KINDS:  # depths and seeds in order, whatever order the results arrived in
        result[key][kind] = {str(d): {str(s): result[key][kind][str(d)][str(s)]
                                      for s in sorted(int(s) for s in result[key][kind][str(d)])}
                             for d in sorted(int(d) for d in result[key][kind])}
    # The wall time covers only what was computed here, not what was taken from a file.
    result["provenance"] = provenance(command, seeds=result["seeds"], jobs=jobs, **provenance_extras,
                                      wall_seconds=time.perf_counter() - start)
    result["complete"] = True  # last: the mark of a finished file, which the loaders require
    if out is not None:
        save(result, out)
        if partial.exists():  # written by this run (or the interrupted run of it that this one resumed)
            partial.unlink()
    return {**result, **provenance_extras}


def main(argv=None) -> Path:
    from resnet_lib.provenance import provenance
    from resnet_lib.training import save_history

    parser = argparse.ArgumentParser(prog="python -m resnet_lib.experiments", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="experiment", required=True)
    resnet = commands.add_parser("resnet50", help="train ResNet50 on the offline default data (chapter 6)")
    resnet.add_argument("--epochs", type=int, default=20)
    resnet.add_argument("--batch-size", type=int, default=64)
    resnet.add_argument("--seed", type=int, default=0)
    resnet.add_argument("--batch-norm-momentum", type=float, default=None,
                        help="replace the batch-norm momentum (default: keep 0.99 of keras.applications)")
    resnet.add_argument("--out", type=Path, default=None,
                        help="default: resnet50_digits.json with --batch-norm-momentum, "
                             "resnet50_digits_keras_bn_momentum.json without (in the current folder)")
    depths = commands.add_parser("plain-depths", help="plain and residual networks of increasing depth (chapter 1)")
    depths.add_argument("--depths", type=int, nargs="+", default=[8, 20, 56])
    depths.add_argument("--epochs", type=int, default=8)
    depths.add_argument("--seed", type=int, default=0)
    depths.add_argument("--out", type=Path, default=Path("plain_depths.json"))
    sweep = commands.add_parser("depth-sweep", help="plain vs residual at depths 8-56, 3 seeds (chapter 7)")
    sweep.add_argument("--depths", type=int, nargs="+", default=list(SWEEP_DEPTHS))
    sweep.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    sweep.add_argument("--epochs", type=int, default=depth_sweep_recipe()["epochs"])
    sweep.add_argument("--jobs", type=int, default=2, help="worker processes (default 2); 0 = this process")
    sweep.add_argument("--fresh", action="store_true",
                       help="start over instead of resuming (from the partial file beside --out, or --out itself)")
    sweep.add_argument("--out", type=Path, default=Path("depth_sweep.json"))
    study = commands.add_parser("landscape", help="loss landscapes and lesions of plain and residual networks "
                                                  "trained as in the depth sweep (chapter 8)")
    study.add_argument("--depths", type=int, nargs="+", default=list(LANDSCAPE_DEPTHS))
    study.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    study.add_argument("--epochs", type=int, default=depth_sweep_recipe()["epochs"],
                       help="training epochs (default: the depth sweep's; only then are the histories those of the sweep)")
    study.add_argument("--steps", type=int, default=LANDSCAPE_STEPS, help="grid points per axis of the loss surface")
    study.add_argument("--samples", type=int, default=LESION_SAMPLES, help="random lesions per number of blocks")
    study.add_argument("--jobs", type=int, default=2, help="worker processes (default 2); 0 = this process")
    study.add_argument("--fresh", action="store_true",
                       help="start over instead of resuming (from the partial file beside --out, or --out itself)")
    study.add_argument("--out", type=Path, default=Path("landscape.json"))
    args = parser.parse_args(argv)

    if args.experiment == "resnet50" and args.out is None:
        name = "resnet50_digits.json" if args.batch_norm_momentum is not None else "resnet50_digits_keras_bn_momentum.json"
        args.out = Path(name)
    # Every argument is checked here, before any training: a mistake costs seconds, not a run. The
    # experiment's own parser reports it: its usage line, then the problem in one line.
    parser = commands.choices[args.experiment]
    problem = _argument_problem(args)
    if problem:
        parser.error(problem)
    try:
        args.out = output_path(args.out)
    except ValueError as error:
        parser.error(str(error))
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = ["python", "-m", "resnet_lib.experiments", *arguments]
    start = time.perf_counter()
    if args.experiment == "depth-sweep":
        recipe = depth_sweep_recipe(depths=args.depths, epochs=args.epochs)
        return _main_resumable(args, parser, arguments, command, check=lambda: resume_state(recipe, args.out, fresh=args.fresh),
                               run=lambda: run_depth_sweep(recipe, args.seeds, out=args.out, jobs=args.jobs,
                                                           fresh=args.fresh, command=command),
                               count=lambda result: f"all {_count_runs(result['runs'])} runs of this sweep",
                               noun="sweep")
    if args.experiment == "landscape":
        recipe = landscape_recipe(depths=args.depths, epochs=args.epochs, steps=args.steps, samples=args.samples)
        return _main_resumable(args, parser, arguments, command,
                               check=lambda: landscape_resume_state(recipe, args.out, fresh=args.fresh),
                               run=lambda: run_landscape_study(recipe, args.seeds, out=args.out, jobs=args.jobs,
                                                               fresh=args.fresh, command=command),
                               count=lambda result: f"all {_count_runs(result['networks'])} networks of this study",
                               noun="study")
    try:
        if args.experiment == "resnet50":
            recipe = resnet50_recipe(epochs=args.epochs, batch_size=args.batch_size,
                                     batch_norm_momentum=args.batch_norm_momentum)
            result = run_resnet50(recipe, seed=args.seed)
        else:
            recipe = plain_depths_recipe(depths=args.depths, epochs=args.epochs)
            result = {"plain": run_plain_depths(recipe, seed=args.seed, residual=False),
                      "residual": run_plain_depths(recipe, seed=args.seed, residual=True)}
    except KeyboardInterrupt:
        print(f"{args.experiment} interrupted; nothing was written ({args.out} is unchanged). Run the same command "
              f"again to start over: {shlex.join(command)}", file=sys.stderr)
        raise SystemExit(130) from None
    result["provenance"] = provenance(command, seed=args.seed, wall_seconds=time.perf_counter() - start)
    result["complete"] = True  # last: the mark of a finished run, which the loaders require
    path = save_history(result, args.out)
    print(f"wrote {path}")
    return path


def _main_resumable(args, parser, arguments: list[str], command: list[str], *, check, run, count, noun: str) -> Path:
    """The command line of a restartable run (depth-sweep, landscape): refuses an unusable file to
    resume from before any training, runs, and on Ctrl-C prints one line (what is kept, how to
    resume) and exits with status 130.

    Args:
        args: the parsed arguments (`experiment`, `out`).
        parser: the experiment's own parser, which reports a refused argument.
        arguments: the command line's arguments (to print the resuming command).
        command: the whole command line.
        check: function that raises ValueError if the file to resume from cannot be used.
        run: function that runs the experiment and returns its result.
        count: function result -> e.g. "all 36 runs of this sweep".
        noun: "sweep" or "study", for the messages.
    """
    try:
        check()  # an unusable file to resume from: refused now
    except ValueError as error:
        parser.error(str(error))
    before = _file_identity(args.out)
    try:
        result = run()
    except KeyboardInterrupt as stop:  # Ctrl-C: one line that says what is kept and how to go on
        kept = str(stop) if isinstance(stop, SweepInterrupted) else "interrupted"
        resume = shlex.join(["python", "-m", "resnet_lib.experiments", *(a for a in arguments if a != "--fresh")])
        state = "is unchanged" if before is not None else f"is written only once the {noun} is complete"
        print(f"{args.experiment} {kept}; {args.out} {state}. Resume with: {resume}", file=sys.stderr)
        raise SystemExit(130) from None
    if _file_identity(args.out) == before:
        print(f"{args.out} already holds {count(result)}; nothing was trained (--fresh trains them again).")
    else:
        print(f"wrote {args.out}")
    return args.out


def _file_identity(path: Path):
    """(inode, modification time) of `path`, None if absent: a file replaced by os.replace changes it."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def _argument_problem(args) -> str | None:
    """The first argument of the command line that cannot work, in one line; None if all can."""
    from resnet_lib.models import valid_depths

    for name in ("depths", "seeds"):
        values = getattr(args, name, None) or []
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            return f"--{name} lists {repeated[0]} more than once, received {' '.join(map(str, values))}."
    for depth in getattr(args, "depths", None) or []:
        if depth < 8 or (depth - 2) % 6:
            return (f"--depths must be 6n + 2 with n >= 1 ({', '.join(map(str, valid_depths(56)))}, ...), received "
                    f"{depth}: a network of this family has a stem, three stages of n blocks of two convolutions, "
                    "and a classifier.")
    for name, values, minimum in (("steps", [getattr(args, "steps", 3)], 3),
                                  ("samples", [getattr(args, "samples", 1)], 1),
                                  ("seeds", getattr(args, "seeds", None) or [], 0),
                                  ("seed", [getattr(args, "seed", 0)], 0),
                                  ("epochs", [args.epochs], 1),
                                  ("jobs", [getattr(args, "jobs", 0)], 0),
                                  ("batch-size", [getattr(args, "batch_size", 1)], 1)):
        for value in values:
            if value < minimum:
                return f"--{name} must be at least {minimum}, received {value}."
    momentum = getattr(args, "batch_norm_momentum", None)
    if momentum is not None and not 0 <= momentum < 1:
        return f"--batch-norm-momentum must be in [0, 1), received {momentum}."
    if args.out.is_dir():
        return f"--out must be a file, received {str(args.out)!r}, a folder; e.g. --out {args.out / 'result.json'}."
    folder = next((p for p in (args.out.resolve().parent, *args.out.resolve().parents) if p.exists()), None)
    if folder is not None and not os.access(folder, os.W_OK):
        return f"--out {str(args.out)!r} cannot be written: the folder {str(folder)!r} is not writable."
    return None


if __name__ == "__main__":
    main()
