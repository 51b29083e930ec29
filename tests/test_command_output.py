"""The commands print what they do, not TensorFlow's start-up notices (`resnet_lib/_startup.py`).

Run as a user runs them: `python -m resnet_lib.experiments ...` in a fresh process, from another folder,
without the TF_CPP_MIN_LOG_LEVEL that `make` exports.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from resnet_lib import _startup

COMMANDS = ["depth-sweep", "plain-depths", "resnet50", "landscape"]
# Any line TensorFlow's C++ logging writes (absl: I/W/E/F, a date and a source file), and absl's own notice.
TENSORFLOW_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:|absl::InitializeLog|oneDNN custom operations|"
                             r"This TensorFlow binary is optimized|To enable the following instructions", re.MULTILINE)


def command(*arguments, cwd):
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("TF_CPP_MIN_LOG_LEVEL", _startup.COMMAND_VARIABLE)}
    return subprocess.run([sys.executable, "-m", "resnet_lib.experiments", *arguments], capture_output=True, text=True,
                          env=environment, cwd=cwd)


def test_help_prints_the_usage_and_nothing_of_tensorflow(tmp_path):
    """The command's and each subcommand's --help, at once: without importing TensorFlow (one process for
    them all; the real `python -m` start below; the processes that train are in the tiny runs)."""
    script = ("import runpy, sys\n"
              f"for name in {[None, *COMMANDS]!r}:\n"
              "    sys.argv = ['python -m resnet_lib.experiments', *([name] if name else []), '--help']\n"
              "    try:\n"
              "        runpy.run_module('resnet_lib.experiments', run_name='__main__')\n"
              "    except SystemExit as exit:\n"
              "        assert exit.code == 0, exit.code\n"
              "    print('=== end of help')\n"
              "print('TensorFlow imported:', 'tensorflow' in sys.modules)\n")
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("TF_CPP_MIN_LOG_LEVEL", _startup.COMMAND_VARIABLE)}
    # As `python -m resnet_lib.experiments` starts: the filter reads the interpreter's own arguments.
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                            env={**environment, _startup.COMMAND_VARIABLE: "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("TensorFlow imported: False\n"), result.stdout[-200:]
    helps = result.stdout.split("=== end of help\n")[:-1]
    assert len(helps) == 1 + len(COMMANDS)
    assert all(text.startswith("usage: python -m resnet_lib.experiments") for text in helps), helps
    assert not TENSORFLOW_LINE.search(result.stdout + result.stderr), result.stderr
    assert result.stderr == ""
    first = command("--help", cwd=tmp_path)  # and the real `python -m` start, without the variable
    assert first.returncode == 0 and first.stderr == "" and first.stdout.startswith("usage:"), first.stderr


@pytest.mark.slow  # trains (two tiny networks, in two worker processes)
def test_a_tiny_sweep_in_worker_processes_prints_nothing_of_tensorflow(tmp_path):
    result = command("depth-sweep", "--depths", "8", "--seeds", "0", "--epochs", "1", "--jobs", "2", "--out",
                     str(tmp_path / "sweep.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not TENSORFLOW_LINE.search(result.stdout + result.stderr), result.stderr
    assert "wrote" in result.stdout + result.stderr


@pytest.mark.slow  # trains
def test_a_tiny_landscape_run_in_this_process_prints_nothing_of_tensorflow(tmp_path):
    """The landscape command computes surfaces and lesions too (TensorFlow functions of its own)."""
    result = command("landscape", "--depths", "8", "--seeds", "0", "--epochs", "1", "--steps", "3", "--samples", "1",
                     "--jobs", "0", "--out", str(tmp_path / "out.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not TENSORFLOW_LINE.search(result.stdout + result.stderr), result.stderr


def test_only_the_start_up_notices_are_dropped():
    captured = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                "I0000 00:00:1796599172.003008   22677 port.cc:153] oneDNN custom operations are on. You may see "
                "slightly different numerical results.\n"
                "I0000 00:00:1796599191.779441   22701 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.\n"
                "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n"
                "W0000 00:00:1796599191.779441   22701 gpu_device.cc:2344] Cannot dlopen some GPU libraries.\n"
                "E0000 00:00:1796597067.249572    3556 node_def_util.cc:682] NodeDef mentions attribute x\n"
                "/work/x.py:3: UserWarning: a real warning\n")
    assert _startup.drop_notices(captured) == captured.split("\n", 4)[4]


@pytest.mark.parametrize("arguments, environment, expected", [
    (["python", "-m", "resnet_lib.experiments", "depth-sweep"], {}, True),
    (["python", "-mresnet_lib.experiments"], {}, True),
    (["python", "-u", "-m", "resnet_lib"], {}, True),
    (["python", "-m", "pytest", "-m", "not slow"], {}, False),
    (["python", "-c", "import resnet_lib"], {}, False),
    (["python", "-c", "from multiprocessing.spawn import spawn_main"], {_startup.COMMAND_VARIABLE: "1"}, True),
    (["jupyter-book", "build", "."], {}, False),
])
def test_a_command_is_told_by_how_the_interpreter_was_started(arguments, environment, expected):
    assert _startup.running_a_command(arguments, environment) is expected


def test_a_real_error_at_import_still_reaches_the_reader(tmp_path):
    """The filter keeps Python's own output: a broken import shows its traceback (a command with arguments that
    can work: --help and refused arguments import no Keras)."""
    (tmp_path / "sitecustomize.py").write_text("")
    environment = {**{key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"},
                   "KERAS_BACKEND": "no-such-backend"}
    result = subprocess.run([sys.executable, "-m", "resnet_lib.experiments", "depth-sweep", "--depths", "8", "--seeds",
                             "0", "--epochs", "1", "--jobs", "0", "--out", str(tmp_path / "sweep.json")],
                            capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert result.returncode != 0 and "no-such-backend" in result.stderr, result.stderr[-2000:]
    assert "Traceback (most recent call last)" in result.stderr and not (tmp_path / "sweep.json").exists()
