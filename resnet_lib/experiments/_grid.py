"""The resumable grid runner shared by the depth sweep and the landscape study: one task per (kind, depth, seed).

An experiment whose result is a grid {kind: {depth: {seed: ...}}} (`run_depth_sweep`,
`run_landscape_study`) hands its tasks to `finish_grid_run`, which runs them in spawned worker
processes (`run_tasks`, `start_pool`: single-threaded workers that ignore Ctrl-C and die with their
parent), saves every result as it arrives to the partial file beside the output (`partial_path`),
turns Ctrl-C into `SweepInterrupted` (how many results are kept, and where), and writes the output
with its provenance and `"complete": true` once the grid is full. `resume_source` and `grid_plan`
say what a restarted run takes over from a file and what it still has to do.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from resnet_lib.sweep import KINDS


def partial_path(out) -> Path:
    """Where a sweep into `out` keeps its runs while it is in progress: `<stem>.partial<suffix>` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}.partial{out.suffix}")


def count_runs(runs: dict) -> int:
    """How many results a {kind: {depth: {seed: ...}}} grid holds."""
    return sum(len(by_seed) for by_depth in runs.values() for by_seed in by_depth.values())


def resume_source(recipe: dict, out, *, fresh: bool, noun: str, load) -> tuple[dict | None, Path | None]:
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


@contextlib.contextmanager
def ctrl_c_stays_an_interrupt():
    """Within the block, an error that leaves it after a Ctrl-C is raised as the KeyboardInterrupt it stands for.

    Python raises KeyboardInterrupt wherever the main thread is when Ctrl-C arrives, and library code with a
    bare `except:` can turn it into another error: if Ctrl-C lands inside TensorFlow's `DType.max`, the
    program sees "TypeError: Cannot find maximum value of <dtype: 'int32'>", and a command would print
    that traceback instead of its one line on what is kept. Here the SIGINT handler notes the signal and then
    raises KeyboardInterrupt as Python's own does; any exception that leaves the block after the signal
    becomes a KeyboardInterrupt (the exception it replaced chained as its cause). Does nothing outside the
    main thread, or where SIGINT has another handler than Python's (ignored in the worker processes).
    """
    import signal
    import threading

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    received = []

    def handler(signum, frame):
        received.append(signum)
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    except KeyboardInterrupt:
        raise
    except Exception as error:
        if received:
            raise KeyboardInterrupt(f"Ctrl-C, which arrived as {type(error).__name__}: {error}") from error
        raise
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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


def _worker_init(threads: int, parent: int | None = None) -> None:
    """Sets up a spawned worker: Ctrl-C ignored, ended with its parent, `threads` TensorFlow threads."""
    import signal

    # Ctrl-C reaches the whole process group: the parent handles it (it ends the pool); a worker
    # that raised KeyboardInterrupt too would print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        _exit_with_parent(parent)
    from resnet_lib._startup import quiet_start_up

    with quiet_start_up():  # a command's worker: TensorFlow's start-up notices filtered, as in the command
        import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def threads_per_run(jobs: int) -> int:
    """The TensorFlow threads each network trains with: cpus // jobs in `jobs` workers, all of them in this process.

    Results are bit for bit the same only at the same thread count (sums split across threads are added in
    another order), so it goes into every result's provenance.
    """
    cpus = os.cpu_count() or 1
    if jobs:
        return max(1, cpus // jobs)
    from resnet_lib.provenance import tensorflow_threads

    return tensorflow_threads()


def start_pool(jobs: int):
    """`jobs` spawned worker processes of max(1, cpus // jobs) threads, which ignore Ctrl-C and die with us."""
    import multiprocessing
    import signal
    import threading

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
        return context.Pool(jobs, initializer=_worker_init, initargs=(threads_per_run(jobs), os.getpid()))
    finally:
        if main_thread and previous is not None:  # None: a handler installed outside Python, left as it was
            signal.signal(signal.SIGINT, previous)
        if level is None:
            del os.environ["TF_CPP_MIN_LOG_LEVEL"]
        else:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = level


def run_tasks(tasks: list, worker, record, *, jobs: int, progress: bool, description: str, summary) -> None:
    """Runs `worker(task)` for every task, in `jobs` worker processes (0: in this one), with a progress bar.

    Shared by the depth sweep and the landscape study. `record(*outcome)` gets each worker's result
    as soon as it arrives (in the order they finish), and may save it; `summary(*outcome)` is the
    text shown beside the bar. Ctrl-C (KeyboardInterrupt) ends the worker processes and propagates, even where
    library code turned it into another error (`ctrl_c_stays_an_interrupt`).

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
        with ctrl_c_stays_an_interrupt():
            if jobs == 0 or not tasks:
                for task in tasks:
                    record(*worker(task))
                    bar.update(1)
            else:
                with start_pool(jobs) as pool:  # leaving it (Ctrl-C included) terminates the workers
                    for outcome in pool.imap_unordered(worker, tasks):
                        record(*outcome)
                        bar.set_postfix_str(summary(*outcome))
                        bar.update(1)
    finally:
        bar.close()


def grid_plan(recipe: dict, depths, key: str, grid: dict, seeds: list[int]) -> tuple[dict, set, list]:
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


def finish_grid_run(result: dict, key: str, tasks: list, worker, *, kept_runs: int, source, out, save, jobs: int,
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
        run_tasks(tasks, worker, record, jobs=jobs, progress=progress, description=description, summary=summary)
    except KeyboardInterrupt:
        raise SweepInterrupted(kept["path"] if out is not None else None, kept["runs"], unit=unit,
                               noun=noun) from None
    for kind in KINDS:  # depths and seeds in order, whatever order the results arrived in
        result[key][kind] = {str(d): {str(s): result[key][kind][str(d)][str(s)]
                                      for s in sorted(int(s) for s in result[key][kind][str(d)])}
                             for d in sorted(int(d) for d in result[key][kind])}
    # The wall time covers only what was computed here, not what was taken from a file.
    result["provenance"] = provenance(command, seeds=result["seeds"], jobs=jobs, threads_per_run=threads_per_run(jobs),
                                      **provenance_extras,
                                      wall_seconds=time.perf_counter() - start)
    result["complete"] = True  # last: the mark of a finished file, which the loaders require
    if out is not None:
        save(result, out)
        if partial.exists():  # written by this run (or the interrupted run of it that this one resumed)
            partial.unlink()
    return {**result, **provenance_extras}
