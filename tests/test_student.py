"""The classroom build: `make student` removes every solution and keeps everything else.

Also: each stub, run against its check, gets the friendly "not written yet" message; a student
notebook executes up to its first exercise and stops there with that message; nbgrader generates
an assignment from a chapter and autogrades the reference solution with full points.
"""

import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import student_build  # noqa: E402

EXERCISES = {"identity_block", "convolutional_block", "resnet50", "training_setup"}


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    exercises = student_build.build(out)
    return out, exercises


def code_cells(notebook):
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def code_lines(source):
    return {line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")}


def test_make_student_runs_and_lists_exercises(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "student_build.py"), "--out", str(tmp_path / "s")],
                            capture_output=True, text=True, check=True)
    assert "4 exercises in 8 student notebooks" in result.stdout
    assert (tmp_path / "s" / "README.md").is_file()
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if not p.name.endswith(".ipynb")) == [".student-build", "README.md"]


def test_every_exercise_is_found(student):
    _, exercises = student
    assert {exercise.grade_id for exercise in exercises} == EXERCISES
    assert all(exercise.regions and all(region.strip() for region in exercise.regions) for exercise in exercises)


def test_student_notebooks_contain_no_solution_code(student):
    out, exercises = student
    for path in student_build.chapters():
        source = json.loads(path.read_text())
        # lines that occur outside every solution region may legitimately stay (e.g. `return x`)
        outside = set()
        for cell in code_cells(source):
            pieces, _ = student_build.split_regions(text(cell), path.name)
            outside |= code_lines("".join(piece for piece, _ in pieces))
        removed = [region for exercise in exercises if exercise.notebook == path.name for region in exercise.regions]
        forbidden = set().union(*(code_lines(region) for region in removed)) - outside if removed else set()
        if removed:
            assert len(forbidden) >= 3, f"{path.name}: the solution regions are too short to test"
        student_text = "\n".join(text(cell) for cell in json.loads((out / path.name).read_text())["cells"])
        leaked = forbidden & code_lines(student_text)
        assert not leaked, f"{path.name}: solution code in the student notebook: {sorted(leaked)}"
        assert "### BEGIN SOLUTION" not in student_text


def test_everything_else_is_unchanged(student):
    out, _ = student
    for path in student_build.chapters():
        source = json.loads(path.read_text())
        result = json.loads((out / path.name).read_text())
        assert len(result["cells"]) == len(source["cells"])
        for before, after in zip(source["cells"], result["cells"]):
            assert before["cell_type"] == after["cell_type"]
            if before.get("metadata", {}).get("nbgrader", {}).get("solution"):
                assert "raise NotImplementedError(" in text(after)
                assert "hide-input" not in after["metadata"].get("tags", [])
                for hint in before["metadata"]["exercise"]["hints"]:
                    assert repr(hint) in text(after)
            else:
                assert text(after) == text(before)
                assert after.get("metadata") == before.get("metadata")
        assert 'if "google.colab" in sys.modules:' in text(result["cells"][1]), "the Colab install cell is kept"


def test_each_stub_gets_the_friendly_message(student):
    """Run each student exercise cell and the check after it: an AssertionError that says what to do."""
    import keras
    import numpy as np
    from keras import layers

    import resnet_lib
    from resnet_lib import checks

    out, _ = student
    seen = set()
    for path in student_build.chapters():
        cells = json.loads((out / path.name).read_text())["cells"]
        for index, cell in enumerate(cells):
            if not cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                continue
            namespace = {"keras": keras, "layers": layers, "np": np, "resnet_lib": resnet_lib, "checks": checks}
            exec(text(cell), namespace)  # noqa: S102 - our own notebook's cell
            check = next(c for c in cells[index + 1:] if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
            with pytest.raises(AssertionError) as failure:
                exec(text(check), namespace)  # noqa: S102
            message = str(failure.value)
            assert "is not written yet" in message, message
            assert cell["metadata"]["exercise"]["hints"][0] in message
            seen.add(cell["metadata"]["nbgrader"]["grade_id"])
    assert seen == EXERCISES


def test_student_notebook_runs_to_its_first_exercise(student, tmp_path, monkeypatch):
    """Chapter 3 as a student gets it: every cell runs until the check, which stops with the message."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    out, _ = student
    notebook_path = out / "03_identity_block.ipynb"
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    monkeypatch.setenv("RESNET_BOOK_FAST", "1")
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(CellExecutionError):
        client.execute()
    errors = [(index, output) for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert len(errors) == 1
    index, error = errors[0]
    assert notebook.cells[index].metadata["nbgrader"]["grade_id"] == "check_identity_block"
    assert error["ename"] == "AssertionError"
    assert error["evalue"].startswith("my_identity_block is not written yet: Keep the block's input in `shortcut`")
    executed = [cell for cell in notebook.cells[:index] if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in executed), "every cell before the check ran"


@pytest.mark.parametrize("source, message", [
    ("x = 1\n### BEGIN SOLUTION\ny = 2\n", "without a matching"),
    ("### END SOLUTION\n", "without a `### BEGIN SOLUTION` before it"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another solution region"),
    ("y = 2  ### END SOLUTION\n", "must stand alone"),
])
def test_bad_markers_are_refused(source, message):
    with pytest.raises(student_build.StudentBuildError, match=message):
        student_build.split_regions(source, "test cell")


def test_unmarked_solution_cells_and_missing_hints_are_refused():
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"}
    with pytest.raises(student_build.StudentBuildError, match="does not mark it as a solution"):
        student_build.student_notebook({"cells": [cell]}, "test.ipynb")
    cell["metadata"] = {"nbgrader": {"solution": True, "grade_id": "f"}, "exercise": {"hints": []}}
    with pytest.raises(student_build.StudentBuildError, match="1 solution region.s. but 0 hint"):
        student_build.student_notebook({"cells": [cell]}, "test.ipynb")
    cell["metadata"]["exercise"]["hints"] = ["return something"]
    notebook, exercises = student_build.student_notebook({"cells": [cell]}, "test.ipynb")
    assert notebook["cells"][0]["source"] == (
        "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError('return something')")
    assert exercises[0].regions == ["    return 1\n"]


def test_refuses_to_overwrite_the_sources():
    with pytest.raises(student_build.StudentBuildError, match="refusing to write into"):
        student_build.build(ROOT)


@pytest.mark.parametrize("inside", ["book/student", "book", "resnet_lib/results", "tests", "tools/site_js"])
def test_refuses_outputs_among_the_sources_and_committed_files_naming_the_path(inside):
    committed = {p: p.read_bytes() for p in (ROOT / "resnet_lib" / "results").glob("*.json")}
    out = ROOT / inside
    existed = out.exists()
    with pytest.raises(student_build.StudentBuildError, match=r"refusing to (write into|replace) .*" + re.escape(inside)):
        student_build.build(out)
    assert out.exists() == existed
    assert {p: p.read_bytes() for p in committed} == committed


def test_a_folder_it_did_not_make_is_never_emptied(tmp_path):
    out = tmp_path / "class"
    out.mkdir()
    (out / "gradebook.csv").write_text("learner,score\n")
    with pytest.raises(student_build.StudentBuildError, match="was not made by make student.*nothing was deleted"):
        student_build.build(out)
    assert (out / "gradebook.csv").read_text() == "learner,score\n"


def test_a_rebuild_replaces_only_an_earlier_build_and_keeps_a_teachers_files(tmp_path):
    out = tmp_path / "student"
    student_build.build(out)
    (out / "03_identity_block.ipynb").write_text("stale")
    student_build.build(out)  # an earlier build, nothing else in it: replaced
    assert (out / "03_identity_block.ipynb").read_text() != "stale"
    (out / "gradebook.csv").write_text("learner,score\n")
    with pytest.raises(student_build.StudentBuildError, match=r"did not write \(gradebook.csv\).*nothing was deleted"):
        student_build.build(out)
    assert (out / "gradebook.csv").is_file() and (out / "README.md").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"], "temporary folders left behind"


def test_a_build_that_fails_half_way_leaves_the_previous_build_whole(tmp_path, monkeypatch):
    out = tmp_path / "student"
    student_build.build(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real, calls = student_build.student_notebook, []

    def fails_on_the_third(notebook, name):
        calls.append(name)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the build
        return real(notebook, name)

    monkeypatch.setattr(student_build, "student_notebook", fails_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        student_build.build(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"], "temporary folders left behind"


@pytest.mark.skipif(shutil.which("nbgrader", path=str(Path(sys.executable).parent)) is None,
                    reason="nbgrader is not installed (it is in requirements.txt)")
def test_nbgrader_generates_and_autogrades_chapter_3(tmp_path):
    """A teacher's nbgrader course: release version without solutions; reference full marks, stub zero."""
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    course = tmp_path / "course"
    (course / "source" / "ch03").mkdir(parents=True)
    shutil.copy(ROOT / "book" / "03_identity_block.ipynb", course / "source" / "ch03")
    # nbgrader runs `alembic` (its database migrations) from PATH: put this environment's scripts there,
    # as an activated virtual environment would.
    environment = {**os.environ, "RESNET_BOOK_FAST": "1",
                   "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    subprocess.run([nbgrader, "generate_assignment", "ch03", f"--CourseDirectory.root={course}"],
                   cwd=course, env=environment, check=True, capture_output=True)
    released = json.loads((course / "release" / "ch03" / "03_identity_block.ipynb").read_text())
    released_text = "\n".join(text(cell) for cell in released["cells"])
    assert "### BEGIN SOLUTION" not in released_text and "raise NotImplementedError()" in released_text
    for student_id, notebook in (("reference", course / "source" / "ch03" / "03_identity_block.ipynb"),
                                 ("stub", course / "release" / "ch03" / "03_identity_block.ipynb")):
        (course / "submitted" / student_id / "ch03").mkdir(parents=True)
        shutil.copy(notebook, course / "submitted" / student_id / "ch03")
    subprocess.run([nbgrader, "autograde", "ch03", f"--CourseDirectory.root={course}"],
                   cwd=course, env=environment, check=True, capture_output=True)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        reference = gradebook.find_submission("ch03", "reference")
        stub = gradebook.find_submission("ch03", "stub")
        assert (reference.score, reference.max_score) == (3.0, 3.0)
        assert (stub.score, stub.max_score) == (0.0, 3.0)
    graded = json.loads((course / "autograded" / "stub" / "ch03" / "03_identity_block.ipynb").read_text())
    errors = [output for cell in graded["cells"] for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "AssertionError"
    assert errors[0]["evalue"].startswith("my_identity_block is not written yet")
