"""Where a result came from: command, code version, library versions, hardware, time.

One record for every heavy result: the experiments (`resnet_lib.experiments`) store `provenance()`
inside each result file, and the benchmarks (`bench/`) store `hardware()`, `versions()` and
`git_state()` next to their timings.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

#: CPU features that decide which kernels TensorFlow (oneDNN) can use.
CPU_FEATURES = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16")


def _cpuinfo() -> dict[str, str]:
    """The fields of the first processor in /proc/cpuinfo (Linux); empty elsewhere."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if not line.strip():
                    break  # the end of the first processor's block
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def hardware() -> dict:
    """The machine: processor model, CPU count, architecture, system, and (on Linux) the CPU features
    TensorFlow's fast kernels need; `devices` lists TensorFlow's devices (CPU, GPU, ...)."""
    cpu = _cpuinfo()
    record = {"processor": cpu.get("model name") or platform.processor() or platform.machine(),
              "cpus": os.cpu_count(), "machine": platform.machine(), "system": platform.system(),
              "platform": platform.platform()}
    if "flags" in cpu:
        flags = set(cpu["flags"].split())
        record["cpu_features"] = {feature: feature in flags for feature in CPU_FEATURES}
    import keras

    record["devices"] = []
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        record["devices"] = [device.device_type for device in tf.config.list_physical_devices()]
    return record


def versions() -> dict:
    """Python's version and those of the libraries a result depends on."""
    import keras
    import numpy as np

    from resnet_lib import __version__

    record = {"python": platform.python_version(), "keras": keras.__version__, "numpy": np.__version__,
              "backend": keras.backend.backend()}
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        record["tensorflow"] = tf.__version__
    elif keras.backend.backend() == "jax":
        import jax
        import jaxlib

        record["jax"], record["jaxlib"] = jax.__version__, jaxlib.__version__
    elif keras.backend.backend() == "torch":
        import torch

        record["torch"] = torch.__version__
    record["resnet_lib"] = __version__
    return record


def git_state(package: Path | None = None) -> dict | None:
    """{"commit": the checked-out commit, "dirty": whether tracked files differ from it} of the git
    checkout this code runs from; None (stored as null) where it runs from an installed wheel, or
    git is missing.

    Args:
        package: the `resnet_lib` folder to ask about; default: this module's. It counts as a
            checkout only if the repository's top folder holds it as `resnet_lib/` (a wheel
            installed in a virtual environment inside some other repository is not that repository).
    """
    package = Path(package) if package is not None else Path(__file__).resolve().parent

    def git(*arguments):
        try:
            result = subprocess.run(["git", *arguments], cwd=package, capture_output=True, text=True, timeout=30,
                                    env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})  # never take a lock from a running git
        except (OSError, subprocess.SubprocessError):  # no git, or it hangs
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if top is None or (Path(top) / "resnet_lib").resolve() != package.resolve():
        return None
    commit, changes = git("rev-parse", "HEAD"), git("status", "--porcelain", "--untracked-files=no")
    if commit is None or changes is None:  # e.g. a repository without any commit yet
        return None
    return {"commit": commit, "dirty": bool(changes)}


def tensorflow_threads() -> int:
    """The threads TensorFlow's operations run on in this process (its intra-op setting; 0 means one per CPU)."""
    try:
        import tensorflow as tf
    except ImportError:
        return os.cpu_count() or 1
    return tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count() or 1


def provenance(command: list[str] | None = None, **extra) -> dict:
    """A JSON-able record of how and where a result was produced.

    Args:
        command: the command line that produced it; defaults to this process's `sys.argv`.
        **extra: further fields (seed, wall time, ...).

    Returns:
        {"command", "date" (UTC), "git" (`git_state()`: commit and dirty, or null), "versions",
        "hardware", "speed_options", **extra}.
    """
    from resnet_lib.training import onednn_enabled

    argv = command if command is not None else [os.path.basename(sys.executable), *sys.argv]
    return {
        "command": shlex.join(argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git": git_state(),
        "versions": versions(),
        "hardware": hardware(),
        "speed_options": {"onednn": onednn_enabled()},
        **extra,
    }
