"""The kernels that `make book` starts keep C-level library logs out of the pages, but not Python's stderr.

TensorFlow writes start-up notices straight to file descriptor 2, before its logging is set up.
Captured into a cell, they make the -W build fail ("stderr was found in the cell outputs"); the
kernel setting in tools/ipython_kernel_config.py, which `make setup` installs into the virtual
environment, sends them to the build log instead.
"""

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # starts Jupyter kernels

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tools" / "ipython_kernel_config.py"
INSTALLED = Path(sys.prefix) / "etc" / "ipython" / "ipython_kernel_config.py"


def _stderr_of_cells(extra_arguments=()):
    notebook = nbformat.v4.new_notebook(cells=[
        # ipykernel forwards captured descriptor output from a thread of its own: give it a moment (under load it
        # arrived after the cell had finished, and the counter-check missed it) and flush what it forwarded.
        nbformat.v4.new_code_cell("import os, sys, time\nos.write(2, b'a C-level notice\\n')\n"
                                  "time.sleep(1)\nsys.stderr.flush()"),
        nbformat.v4.new_code_cell("import sys\nprint('a Python warning', file=sys.stderr)"),
    ])
    # ipykernel never captures descriptor 2 while PYTEST_CURRENT_TEST is set; the build has no such variable.
    environment = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", extra_arguments=list(extra_arguments))
    client.execute(env=environment)
    return ["".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr") for cell in notebook.cells]


@pytest.fixture
def installed():
    """The config `make setup` installed into this Python's environment (skips where there is none)."""
    if not INSTALLED.exists():
        pytest.skip(f"{INSTALLED} is missing: this Python was not set up by `make setup` (run `make test`).")
    return INSTALLED


def test_make_setup_installed_the_kernel_config(installed):
    assert installed.read_text() == SOURCE.read_text(), f"{installed} is stale: run `make setup`."


def test_c_level_notices_stay_out_of_cells_but_python_stderr_does_not(installed):
    c_level, python_level = _stderr_of_cells()
    assert c_level == ""
    assert python_level == "a Python warning\n"


def test_without_the_setting_the_notice_would_land_in_the_cell():
    """The counter-check: what the setting prevents does happen without it."""
    c_level, python_level = _stderr_of_cells(["--IPKernelApp.capture_fd_output=True"])
    assert "a C-level notice" in c_level
    assert python_level == "a Python warning\n"
