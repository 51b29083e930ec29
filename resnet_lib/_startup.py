"""Quiet start-up for the library's commands: TensorFlow's C++ notices kept out of their output.

`python -m resnet_lib.experiments ...` should print what the command does. Importing TensorFlow 2.21
writes, from C++ straight to the process's stderr, notices that are no warnings: "oneDNN custom
operations are on", the CPU instructions the binary was built for, and absl's line about log
messages before its initialisation. They ignore TF_CPP_MIN_LOG_LEVEL (absl writes everything to
stderr until it is initialised), so they cannot be switched off, only filtered: while a command
imports Keras (and so TensorFlow), the process's stderr goes to a temporary file, and afterwards
every line of it but those notices is written to stderr as it came, Python's warnings included.
After start-up, TensorFlow's C++ log lines stay off in a command (`TF_CPP_MIN_LOG_LEVEL=3` unless
set). Notebooks are not affected (their kernels do not show C-level stderr,
tools/ipython_kernel_config.py). A command's worker processes, which Python starts itself, inherit
the environment variable `COMMAND_VARIABLE` and are quiet too.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

#: Set by a command for itself and the worker processes it starts.
COMMAND_VARIABLE = "RESNET_LIB_COMMAND"
#: TensorFlow's start-up notices: absl's INFO lines ("I0000 00:00:... port.cc:153] ..."), the line that
#: continues the CPU-instructions notice, and absl's line about messages before its initialisation.
NOTICE = re.compile(r"^(I\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.]+:\d+\] .*"
                    r"|To enable the following instructions: .*"
                    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)$")


def running_a_command(arguments=None, environment=None) -> bool:
    """Whether this process is one of the library's commands, `python -m resnet_lib.<module> ...`
    (read from `sys.orig_argv`, the interpreter's own arguments), or a worker process one started."""
    environment = os.environ if environment is None else environment
    if environment.get(COMMAND_VARIABLE) == "1":
        return True
    arguments = getattr(sys, "orig_argv", []) if arguments is None else arguments
    for index, argument in enumerate(arguments[1:], start=1):
        if argument == "-m":
            module = arguments[index + 1] if index + 1 < len(arguments) else ""
        elif argument.startswith("-m"):
            module = argument[2:]
        else:
            continue
        return module == "resnet_lib" or module.startswith("resnet_lib.")
    return False


def drop_notices(text: str) -> str:
    """`text` without TensorFlow's start-up notices (`NOTICE`), every other line as it was."""
    return "".join(line for line in text.splitlines(keepends=True) if not NOTICE.match(line.rstrip("\r\n")))


@contextlib.contextmanager
def quiet_start_up():
    """For a command: TensorFlow's start-up notices filtered out of what the block writes to stderr."""
    if not running_a_command():
        yield
        return
    os.environ[COMMAND_VARIABLE] = "1"  # for the worker processes the command starts
    # TensorFlow's C++ log lines after start-up too (tf.data's notices at every epoch of training, which
    # would bury the progress bar): off for a command and its workers, unless the caller set a level.
    # Python errors and warnings are unaffected.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = drop_notices(captured.read().decode("utf-8", errors="replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()
