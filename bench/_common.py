"""What every benchmark shares: where it ran (`provenance`), fresh worker processes, and the estimators."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
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
