"""Where a result came from: command, versions, hardware, time. Stored next to every heavy result."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys


def _processor_name() -> str:
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(command: list[str] | None = None, **extra) -> dict:
    """A JSON-able record of how and where a result was produced.

    Args:
        command: the command line that produced it; defaults to this process's `sys.argv`.
        **extra: further fields (seed, wall time, ...).
    """
    import keras
    import numpy as np

    versions = {"python": platform.python_version(), "keras": keras.__version__, "numpy": np.__version__,
                "backend": keras.backend.backend()}
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
        devices = [d.device_type for d in tf.config.list_physical_devices()]
    else:
        devices = []
    from resnet_lib import __version__
    from resnet_lib.training import onednn_enabled

    versions["resnet_lib"] = __version__
    argv = command if command is not None else [os.path.basename(sys.executable), *sys.argv]
    return {
        "command": shlex.join(argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions,
        "hardware": {"processor": _processor_name(), "cpus": os.cpu_count(), "machine": platform.machine(),
                     "system": platform.system(), "devices": devices},
        "speed_options": {"onednn": onednn_enabled()},
        **extra,
    }
