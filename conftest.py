"""Test-suite-wide settings, inherited by the notebook kernels that nbval starts."""

import os
import sys
from pathlib import Path

os.environ["RESNET_BOOK_FAST"] = "1"  # chapters shrink their live runs (resnet_lib.config)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))
import executed_chapters  # noqa: E402
import expected_outputs  # noqa: E402
import nbformat  # noqa: E402
import nbval.plugin  # noqa: E402
import matplotlib  # noqa: E402

# Figures drawn by the tests themselves go nowhere. Only this process: the chapters' kernels draw with Jupyter's
# inline backend, as on the website and in Colab (their runs become the browser test's website pages).
matplotlib.use("Agg")


class _NotebookReaderWithExpectedOutputs:
    """nbval reads each notebook with `nbformat.read`; hand it the recorded outputs of the cells
    tagged `nbval-check-output` (tools/expected_outputs.py), since the notebooks are stored clean.

    nbval's own means do not reach this: its tags and options (`nbval-check-output`, `--nbval-lax`)
    only choose which cells to compare, `--nbval-sanitize-with` only rewrites text on both sides, and
    the reference is always the output stored in the .ipynb; a cell stored without one is never compared
    (nbval 0.11, `unrun = cell.execution_count is None`). tests/test_reliability.py checks this still works."""

    def __getattr__(self, name):
        return getattr(nbformat, name)

    def read(self, path, *args, **kwargs):
        notebook = nbformat.read(path, *args, **kwargs)
        expected_outputs.inject(notebook, path)
        return notebook


nbval.plugin.nbformat = _NotebookReaderWithExpectedOutputs()


def pytest_configure(config):
    """nbval's runs of the chapters also go to the browser test's website build (tools/executed_chapters.py)."""
    executed_chapters.install(config)




# The test files and chapters that take longest, longest first (measured with `make test`; see CONTRIBUTING.md).
# `make test` shares the files between two pytest processes (pytest-xdist, --dist loadfile: a file's tests stay
# together, in order, in one process), handing the next file to whichever process is free; starting with the longest
# keeps one process from finishing minutes before the other. The order changes nothing else: any file may be run alone.
SLOWEST_FIRST = [
    # The chapters first: the browser test's website is built from nbval's runs of them (tools/executed_chapters.py).
    "book/06_training_resnet50.ipynb",
    "book/08_why_residual_networks_train.ipynb",
    "book/07_depth_explorer.ipynb",
    "book/09_going_further.ipynb",
    "book/05_resnet50.ipynb",
    "book/02_skip_connections.ipynb",
    "book/01_why_deep_plain_networks_fail.ipynb",
    "book/04_convolutional_block.ipynb",
    "book/03_identity_block.ipynb",
    "tests/test_browser.py",
    "tests/test_colab.py",
    "tests/test_reliability.py",
    "tests/test_checks.py",
    "tests/test_command_output.py",
    "tests/test_classroom_workflow.py",
]


def pytest_collection_modifyitems(items):
    """Every chapter cell that nbval collects from book/ is slow (`pytest -m "not slow"` leaves the chapters out),
    and the longest files come first (SLOWEST_FIRST)."""
    for item in items:
        if isinstance(item, nbval.plugin.IPyNbCell):
            item.add_marker("slow")
    rank = {(ROOT / path).resolve(): place for place, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(item.path).resolve(), len(rank)))  # stable: within a file, and among the other files, the collection order stays
