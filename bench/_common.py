"""What every benchmark records: the machine, the versions, and timing alternated between variants."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

#: CPU features that decide which kernels TensorFlow (oneDNN) can use.
CPU_FEATURES = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16")


def machine() -> dict:
    info = {"platform": platform.platform(), "cpus": os.cpu_count(), "processor": platform.processor()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    flags = set(next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), []))
    info["cpu"] = model
    info["cpu_features"] = {feature: feature in flags for feature in CPU_FEATURES}
    return info


def versions() -> dict:
    import resnet_lib  # first: importing TensorFlow before it would leave oneDNN off in this process

    import keras
    import numpy
    import tensorflow

    return {"python": platform.python_version(), "tensorflow": tensorflow.__version__, "keras": keras.__version__,
            "numpy": numpy.__version__, "resnet_lib": resnet_lib.__version__}


def run_worker(script: Path, arguments: list[str], environment: dict | None = None, timeout: float = 1800) -> dict:
    """Runs `script --worker ...` in a fresh Python (its own TensorFlow settings) and returns its JSON line."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(environment or {})}
    result = subprocess.run([sys.executable, str(script), "--worker", *arguments], capture_output=True, text=True,
                            env=env, timeout=timeout, cwd=ROOT)
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
