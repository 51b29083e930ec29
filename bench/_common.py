"""What every benchmark shares: where it ran (`provenance`), fresh worker processes, the batch clock and the
estimators."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def provenance() -> dict:
    """What every benchmark result records about where it ran (`resnet_lib.provenance`): the machine,
    the versions, and the git commit. Imported here, when a result is written: importing resnet_lib
    imports TensorFlow, which some benchmarks' parent processes must not do before their workers."""
    import resnet_lib  # noqa: F401  (first: importing TensorFlow before it would leave oneDNN off in this process)
    from resnet_lib.provenance import git_state, hardware, versions

    return {"machine": hardware(), "versions": versions(), "git": git_state()}


def run_worker(script: Path, arguments: list[str], environment: dict | None = None, timeout: float = 1800,
               python: Path | None = None) -> dict:
    """Runs `script --worker ...` in a fresh Python (its own TensorFlow settings; `python`: another
    environment's interpreter, default this one) and returns its JSON line."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(environment or {})}
    result = subprocess.run([str(python or sys.executable), str(script), "--worker", *arguments], capture_output=True,
                            text=True, env=env, timeout=timeout, cwd=ROOT)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail)[-400:] or f"exit code {result.returncode}"}
    return json.loads(lines[-1])


def best(values):
    """The fastest sample: the estimator every benchmark here reports first.

    On a shared machine, other work only ever takes time away, so slow samples say more about the
    neighbours than about the code (the convention of Python's `timeit`, which reports the minimum
    time). The repeated windows of `training_options.py` show it plainly: they fall into two groups,
    a fast one and one capped near the same speed whatever the variant. Medians are stored and
    printed next to the best samples.
    """
    values = [v for v in values if v is not None]
    return max(values) if values else None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def batch_clock(batch_size: int, images: int):
    """A Keras callback that times training "on the batch clock": each epoch's rate in images per second is
    taken from the end of its first batch to the end of its last, so that neither `fit`'s set-up, nor the
    first batch (which may trace and compile the step), nor the validation after the epoch counts.

    With `steps_per_execution` above 1, Keras calls the callback once per execution with the index of the
    execution's last step; the images between two calls are counted from those indices, so the clock stays
    right (and the last, possibly smaller batch too).

    Args:
        batch_size: images per training step.
        images: training images per epoch.

    Returns:
        The callback; after `fit`, its `images_per_second` holds one rate per epoch.

    Raises:
        ValueError: from `on_epoch_end`, for an epoch with fewer than two timed batches (or executions):
            there is nothing between them to time; use more images or a smaller batch.
    """
    import keras

    class BatchClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.images_per_second, self.marks = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.marks = []

        def on_train_batch_end(self, batch, logs=None):
            self.marks.append((time.perf_counter(), min((batch + 1) * batch_size, images)))

        def on_epoch_end(self, epoch, logs=None):
            if len(self.marks) < 2:
                raise ValueError(f"The batch clock needs two timed batches an epoch, got {len(self.marks)} "
                                 f"({images} images in batches of {batch_size}): use more images or a smaller "
                                 "batch.")
            (first_time, first_images), (last_time, last_images) = self.marks[0], self.marks[-1]
            self.images_per_second.append((last_images - first_images) / (last_time - first_time))

    return BatchClock()
