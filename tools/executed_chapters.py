"""Hands the chapters that nbval executes to the browser test's website build, so that no chapter runs twice.

`make test` would otherwise execute every chapter twice, in the same fast mode: nbval runs each one cell by cell
(`book/` is a test path), and the browser test builds the website, whose build (myst-nb with jupyter-cache)
executes each chapter again to render it. Here nbval's run is recorded as the build's own execution would be: each
code cell's outputs, and the state of the widgets (what the website's kernel-free explorers and progress bars are
drawn from; nbval skips comm messages, so nbclient's own code reads them here). When every cell of a chapter has
passed, the executed chapter goes into the build's execution cache (jupyter-cache keys it by its code cells, exactly
as the build looks it up), and the build renders it from there. A chapter that failed is not cached: the build runs
it, and fails as it would have.

With pytest-xdist the chapters and the browser test run in different processes: each chapter's run leaves a mark
for this test run when it ends, passed or not, and the browser test waits for the marks of the chapters the run
holds before it builds (`wait_for_chapters`). conftest.py installs the recording (`install`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from pathlib import Path

import nbformat

#: The browser test's website: its build folder, and the build's execution cache inside it (jupyter-book's default).
ROOT = Path(__file__).resolve().parents[1]
SITE_ROOT = Path(os.environ.get("RESNET_BOOK_BROWSER_SITE", ROOT / "_build" / "browser_test"))
CACHE = SITE_ROOT / "_build" / ".jupyter_cache"
MARKS = SITE_ROOT / "_build" / "executed_by_nbval"


class _Chapter:
    """One chapter's run under nbval: each passed code cell's outputs and the widgets' state, as nbclient keeps it."""

    def __init__(self, path: Path):
        from nbclient import NotebookClient

        self.path = path
        self.notebook = nbformat.read(path, as_version=4)  # as on disk, not with the recorded outputs nbval compares
        self.code_cells = [cell for cell in self.notebook.cells if cell.cell_type == "code"]
        self.passed: set[int] = set()
        self.started = time.perf_counter()
        self.client = NotebookClient(self.notebook, store_widget_state=True)  # its comm handling, not its kernel

    def comm_message(self, message: dict) -> None:
        self.client.handle_comm_msg([], message, -1)

    def cell_passed(self, number: int, outputs: list) -> None:
        from IPython.core.displayhook import DisplayHook

        cell = self.code_cells[number]
        # nbval executes without storing history, so IPython cannot see a closing ";" and shows the last value
        # anyway; a front end's kernel (the build's) stores it and stays quiet. Drop that value, as IPython would.
        quiet = DisplayHook.semicolon_at_end_of_expression(cell.source)
        cell.outputs = [nbformat.from_dict(dict(output)) for output in outputs
                        if not (quiet and output["output_type"] == "execute_result")]
        cell.execution_count = number + 1
        self.passed.add(number)

    def complete(self) -> bool:
        return len(self.passed) == len(self.code_cells)

    def executed(self) -> nbformat.NotebookNode:
        self.client.set_widgets_metadata()
        return self.notebook


_chapters: dict[Path, _Chapter] = {}


def _chapter(nbval_file) -> _Chapter | None:
    path = Path(str(nbval_file.fspath)).resolve()
    if path.parent != ROOT / "book":
        return None
    if path not in _chapters:
        _chapters[path] = _Chapter(path)
    return _chapters[path]


@contextlib.contextmanager
def _locked(folder: Path):
    """One process at a time in the cache (two pytest-xdist workers may finish a chapter at the same moment)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _cache(chapter: _Chapter) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    seconds = time.perf_counter() - chapter.started
    with _locked(CACHE.parent):
        get_cache(str(CACHE)).cache_notebook_bundle(
            CacheBundleIn(chapter.executed(), str(chapter.path), data={"execution_seconds": seconds}),
            check_validity=False, overwrite=True)


def _mark(run: str, path: Path, cached: bool) -> None:
    folder = MARKS / run
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{path.name}.{os.getpid()}"  # the waiting process reads whole marks only
    partial.write_text("cached" if cached else "failed")
    os.replace(partial, folder / path.name)


def install(config) -> None:
    """Records every chapter that nbval runs in this process (called from conftest.py's pytest_configure)."""
    import nbval.plugin

    if getattr(nbval.plugin.IPyNbFile, "_records_chapters", False):
        return
    get_message, runtest, teardown = (nbval.plugin.IPyNbFile.get_kernel_message, nbval.plugin.IPyNbCell.runtest,
                                      nbval.plugin.IPyNbFile.teardown)

    def get_kernel_message(self, timeout=None, stream="iopub"):
        message = get_message(self, timeout=timeout, stream=stream)
        if stream == "iopub" and message["msg_type"] in ("comm_open", "comm_msg"):
            chapter = _chapter(self)
            if chapter is not None:
                chapter.comm_message(message)
        return message

    def runtest_recorded(self):
        runtest(self)  # raises when the cell fails: the chapter is then never complete, and never cached
        chapter = _chapter(self.parent)
        if chapter is not None:
            chapter.cell_passed(self.cell_num, self.test_outputs)

    def teardown_recorded(self):
        teardown(self)
        chapter = _chapter(self)
        if chapter is not None:
            if chapter.complete():
                _cache(chapter)
            _mark(run_id(config), chapter.path, chapter.complete())
            del _chapters[chapter.path]

    nbval.plugin.IPyNbFile.get_kernel_message = get_kernel_message
    nbval.plugin.IPyNbCell.runtest = runtest_recorded
    nbval.plugin.IPyNbFile.teardown = teardown_recorded
    nbval.plugin.IPyNbFile._records_chapters = True


def run_id(config) -> str:
    """This test run's id, the same in every pytest-xdist worker ("serial" without xdist)."""
    return getattr(config, "workerinput", {}).get("testrunuid", "serial")


def wait_for_chapters(session, timeout: float = 3600) -> list[str]:
    """Waits until nbval has run every chapter this test run holds (under pytest-xdist they run in another process;
    without it they have run already, conftest.py ordering them first); returns those it cached, whose cells all
    passed: the website's build must not execute them again."""
    chapters = {Path(str(item.path)).name for item in session.items
                if Path(str(item.path)).resolve().parent == ROOT / "book" and str(item.path).endswith(".ipynb")}
    deadline, folder = time.monotonic() + timeout, MARKS / run_id(session.config)
    while True:
        done = {path.name: path.read_text() for path in folder.glob("*.ipynb")}
        if chapters <= set(done):
            shutil.rmtree(folder, ignore_errors=True)  # this run's marks, made by _mark
            return sorted(name for name in chapters if done[name] == "cached")
        if time.monotonic() > deadline:
            raise TimeoutError(f"nbval has not finished {sorted(set(chapters) - done)} after {timeout:.0f} s")
        time.sleep(2)
