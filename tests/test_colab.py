"""A learner opens a chapter in Colab and runs it top to bottom: the Colab simulation.

`make test` prepares `.venv-colab`, an environment that looks like Colab's runtime: Python 3.12
where available, Colab's versions of TensorFlow, Keras and the rest (tests/colab/preinstalled.txt),
and a wheelhouse with what pip would fetch for resnet-lib there. For each chapter, the test

1. runs it in a fresh virtual environment that sees Colab's preinstalled packages (as a new Colab
   runtime does) and a stand-in `google.colab`, which the kernel imports at start-up as Colab's do
   (one runtime for the chapters, since their install cells are the same: the first installs);
2. runs the chapter's own, unmodified install cell, except that the git URL of the release becomes
   the wheel built from this checkout (pip resolves everything else as on Colab, from the
   wheelhouse instead of the network);
3. executes the chapter top to bottom in fast mode, and records what pip changed: nothing but
   resnet-lib itself where Colab already has what it needs, its ipywidgets 7.7 included.

The chapters are those Colab opens: the versions converted for Jupyter (`notebooks/book/`, which the
website's Open-in-Colab buttons open). In chapters 7 and 8 a last cell then moves one control of the
explorer, as a reader's click does in a live kernel, and checks that the figure and its caption change.

The record of the last run is written to `_build/colab/report.json`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # pip-installs the book into a Colab-like venv and runs chapters there

ROOT = Path(__file__).resolve().parents[1]
COLAB_VENV = ROOT / ".venv-colab"
STUB = Path(__file__).resolve().parent / "colab" / "stub"
NOTEBOOKS = ROOT / "notebooks" / "book"  # what Colab opens (tools/jupyter_notebooks.py)
CHAPTERS = ["02_skip_connections", "03_identity_block", "05_resnet50", "07_depth_explorer",
            "08_why_residual_networks_train"]
REPORT = ROOT / "_build" / "colab" / "report.json"
# A reader's click in a live kernel: move one control of the chapter's explorer (the variable `explorer`)
# to another value, and print the explorer's mode and whether its figures and caption changed.
DRIVE_EXPLORER = """\
import hashlib, json
import ipywidgets

def shown(widget):  # a figure (an <img> in an HTML widget) as a hash of its markup, a caption as its text
    if isinstance(widget, ipywidgets.HTML):
        return [hashlib.sha1(widget.value.encode()).hexdigest() if "<img" in widget.value else widget.value]
    return [item for child in getattr(widget, "children", ()) for item in shown(child)]

def alt_texts(widget):
    if isinstance(widget, ipywidgets.HTML) and "<img" in widget.value:
        return [widget.value.split(' alt="')[1].split('"')[0]]
    return [item for child in getattr(widget, "children", ()) for item in alt_texts(child)]

before, alts_before = shown(explorer.widget), alt_texts(explorer.widget)
explorer.depth.value = [value for value in explorer.depth.options if value != explorer.depth.value][0]
after, alts_after = shown(explorer.widget), alt_texts(explorer.widget)
print(json.dumps({"ipywidgets": ipywidgets.__version__, "kernel_free": explorer.kernel_free,
                  "figures": len([item for item in after if len(item) == 40]),
                  "changed": [a != b for a, b in zip(before, after)],
                  "alt_texts_changed": [bool(a) and a != b for a, b in zip(alts_after, alts_before)]}))
"""
RELEASE = re.compile(r'"(git\+https://[^"@]+@v[\w.]+)"')


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def colab():
    if not (COLAB_VENV / ".installed").exists():
        pytest.skip("No Colab-like environment (.venv-colab): run `make colab-env` (make test does; it needs "
                    "Python 3.12 and the packages of tests/colab/preinstalled.txt from PyPI).")
    work = Path(tempfile.mkdtemp(prefix="colab-"))
    try:
        wheels = work / "wheels"
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)])
        (wheel,) = wheels.glob("resnet_lib-*.whl")
        python = COLAB_VENV / "bin" / "python"
        base_site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
        report = {"python": run([str(python), "--version"]).strip(), "wheel": wheel.name, "chapters": {}}
        yield {"work": work, "wheel": wheel, "python": python, "base_site": base_site, "report": report}
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=REPORT.parent, suffix=".tmp")
        with os.fdopen(handle, "w") as file:
            json.dump(report, file, indent=1)
        os.replace(temporary, REPORT)
    finally:
        shutil.rmtree(work)  # its runtimes are ~250 MB of venvs; a test run must not fill the disk


def colab_runtime(colab, name: str) -> dict:
    """A fresh runtime: a venv that sees Colab's packages, a kernel that imports google.colab."""
    root = colab["work"] / name
    venv = root / "venv"
    run([str(colab["python"]), "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    # After the venv's own site-packages (where pip installs), as Colab's preinstalled packages are.
    Path(site, "colab_preinstalled.pth").write_text(f"{colab['base_site']}\n{STUB}\n")
    startup = root / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-google-colab.py").write_text("import google.colab  # as Colab's kernels do at start-up\n")
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV") and not key.startswith("PIP_")}
    env |= {
        "PATH": f"{venv / 'bin'}:{env['PATH']}", "JUPYTER_PATH": str(venv / "share" / "jupyter"),
        "IPYTHONDIR": str(root / "ipython"), "RESNET_BOOK_FAST": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
        # pip resolves as on Colab, from what it would download there (the wheelhouse), not the network.
        "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(COLAB_VENV / "wheelhouse"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    run([str(python), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", "colab"], env=env)
    return {"root": root, "venv": venv, "python": python, "env": env}


def installed(runtime) -> dict[str, str]:
    listing = run([str(runtime["python"]), "-m", "pip", "list", "--format=json"], env=runtime["env"])
    return {package["name"].lower(): package["version"] for package in json.loads(listing)}


def execute(runtime, notebook, timeout=900):
    """Executes `notebook` in the runtime's kernel (working folder: the runtime's content/)."""
    content = runtime["root"] / "content"
    content.mkdir(exist_ok=True)
    path = content / "chapter.ipynb"
    nbformat.write(notebook, path)
    script = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "from nbclient.exceptions import CellExecutionError\n"
        f"notebook = nbformat.read({str(path)!r}, as_version=4)\n"
        f"client = NotebookClient(notebook, timeout={timeout}, kernel_name='colab', "
        f"resources={{'metadata': {{'path': {str(content)!r}}}}})\n"
        "try:\n"
        "    client.execute()\n"
        "finally:\n"
        f"    nbformat.write(notebook, {str(path)!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=runtime["env"])
    return result, nbformat.read(path, as_version=4)


def with_local_wheel(notebook, wheel: Path):
    """The chapter with one change: its install cell's git URL becomes the wheel built here."""
    cell = next(c for c in notebook.cells if "colab-install" in c.metadata.get("tags", []))
    (release,) = RELEASE.findall(cell.source)
    cell.source = cell.source.replace(release, wheel.as_uri())
    return notebook


def errors(notebook):
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.get("outputs", []) if output.output_type == "error"]


def install_cell(chapter: str) -> str:
    notebook = nbformat.read(NOTEBOOKS / f"{chapter}.ipynb", as_version=4)
    return next(c.source for c in notebook.cells if "colab-install" in c.metadata.get("tags", []))


@pytest.fixture(scope="module")
def runtime(colab):
    """One fresh runtime for the chapters, as Colab gives a reader who opens a chapter: the first chapter's install
    cell installs resnet-lib into it; each later chapter runs its own install cell again (pip then finds it
    installed). That stands for a fresh runtime per chapter because every chapter's install cell is the same
    (checked below), and it saves a virtual environment and a pip install per chapter."""
    sources = {chapter: install_cell(chapter) for chapter in CHAPTERS}
    assert len(set(sources.values())) == 1, f"the chapters' install cells differ: {sorted(sources)}"
    runtime = colab_runtime(colab, "chapters")
    runtime["before"] = installed(runtime)
    assert "resnet-lib" not in runtime["before"]
    return runtime


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs_in_colab_after_its_own_install_cell(colab, runtime, chapter):
    before = runtime["before"]  # the fresh runtime's packages, before any install cell ran
    notebook = with_local_wheel(nbformat.read(NOTEBOOKS / f"{chapter}.ipynb", as_version=4), colab["wheel"])
    probe = ("import sys, keras, resnet_lib, tensorflow\n"
             "print(resnet_lib.__file__, keras.__version__, tensorflow.__version__, 'google.colab' in sys.modules)")
    notebook.cells.append(nbformat.v4.new_code_cell(probe))
    explorer = "explorer = " in "".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    if explorer:
        notebook.cells.append(nbformat.v4.new_code_cell(DRIVE_EXPLORER))
    start = time.perf_counter()
    result, executed = execute(runtime, notebook)
    seconds = time.perf_counter() - start
    after = installed(runtime)
    changes = {name: [before.get(name), version] for name, version in after.items() if before.get(name) != version}
    colab["report"]["chapters"][chapter] = {
        "executed": result.returncode == 0 and not errors(executed), "seconds": round(seconds, 1),
        "code_cells": sum(c.cell_type == "code" for c in executed.cells), "pip_changes": changes,
    }
    assert result.returncode == 0 and not errors(executed), \
        f"{chapter} failed in the Colab-like runtime:\n{result.stderr[-4000:]}"
    if explorer:
        drive = json.loads(executed.cells.pop().outputs[0].text)
        colab["report"]["chapters"][chapter]["explorer"] = drive
        # Colab's own ipywidgets (7.7): no Stack, so the explorer switches its figures from Python.
        assert drive["ipywidgets"] == before["ipywidgets"] and drive["kernel_free"] is False, drive
        assert drive["figures"] == 2 and all(drive["changed"]), f"the explorer did not switch its view: {drive}"
        assert drive["alt_texts_changed"] == [True, True], f"the figures' alt texts did not follow: {drive}"
    location, keras_version, tensorflow_version, on_colab = executed.cells[-1].outputs[0].text.split()
    colab["report"]["chapters"][chapter] |= {"keras": keras_version, "tensorflow": tensorflow_version}
    assert Path(location).is_relative_to(runtime["venv"]), f"resnet_lib came from {location}, not the install cell"
    assert on_colab == "True"
    assert tensorflow_version == before["tensorflow"], "the install cell must not replace Colab's TensorFlow"
    assert changes["resnet-lib"] == [None, colab["wheel"].name.split("-")[1]]
    assert "ipywidgets" not in changes and "widgetsnbextension" not in changes, \
        f"the install cell changed Colab's widgets: {changes}"


def test_a_failed_install_stops_the_chapter_with_one_clear_sentence(colab):
    runtime = colab_runtime(colab, "failed-install")
    notebook = nbformat.read(NOTEBOOKS / "03_identity_block.ipynb", as_version=4)
    missing = colab["work"] / "no-such-release" / "resnet_lib-0.0.0-py3-none-any.whl"
    notebook = with_local_wheel(notebook, missing)
    result, executed = execute(runtime, notebook)
    assert result.returncode != 0
    (error,) = errors(executed)
    assert error.ename == "RuntimeError"
    assert "pip could not install resnet-lib from" in error.evalue and "run this cell again" in error.evalue
    index = next(i for i, c in enumerate(executed.cells) if "colab-install" in c.metadata.get("tags", []))
    assert not any(c.get("outputs") for c in executed.cells[index + 1:] if c.cell_type == "code"), \
        "cells after the failed install ran"


def test_the_checks_pass_on_colabs_own_keras(colab):
    """resnet_lib.checks on the Keras that Colab ships (before any upgrade), not only the pinned one."""
    python = colab["python"]
    version = run([str(python), "-c", "import keras; print(keras.__version__)"]).strip()
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV",)}
    env |= {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1"}
    # Only tests/conftest.py (the Keras session fixture), not the book's nbval set-up above it.
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(ROOT),
         "--confcutdir", str(ROOT / "tests"), str(ROOT / "tests" / "test_checks.py"),
         str(ROOT / "tests" / "test_checks_landscape.py")],
        capture_output=True, text=True, env=env, cwd=colab["work"],
    )
    colab["report"]["checks_on_colab_keras"] = {"keras": version, "summary": result.stdout.strip().splitlines()[-1:]}
    assert result.returncode == 0, f"the checks fail on Keras {version}:\n{result.stdout[-5000:]}\n{result.stderr[-2000:]}"
