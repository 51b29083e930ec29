"""The classroom build: `make student` hands the chapters to nbgrader's generate_assignment and
keeps everything but the solutions.

Also: each stub, run against its check, gets the friendly "not written yet" message and keeps its
hint; a student notebook executes up to its first exercise and stops there with that message; the
build refuses sources it cannot hand out safely, and never writes where it must not. The search for
leaked solution lines is in test_classroom_leaks.py, the teacher's nbgrader workflow in
test_classroom_workflow.py.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import student_build  # noqa: E402

EXERCISES = {"identity_block", "convolutional_block", "resnet50", "training_setup", "loss_along"}
# What nbgrader's generate_assignment adds to the cells it handles (and nothing else may change).
NBGRADER_ADDS = {"deletable", "editable"}
NBGRADER_METADATA_ADDS = {"checksum", "cell_type"}


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    exercises = student_build.build(out)
    return out, exercises


def code_cells(notebook):
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def is_solution(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("solution", False)


@pytest.mark.slow  # runs nbgrader in a subprocess
def test_make_student_runs_and_lists_exercises(tmp_path):
    """From another folder, with a teacher's nbgrader configuration lying around: the build ignores
    it (a stub it would change stays nbgrader's default), and writes nothing but its output."""
    jupyter_config = tmp_path / "jupyter-config"
    jupyter_config.mkdir()
    hostile = 'c.ClearSolutions.code_stub = {"python": "pass  # a teacher\'s own stub"}\nc.CourseDirectory.root = "/nonexistent"\n'
    (jupyter_config / "nbgrader_config.py").write_text(hostile)
    work = tmp_path / "work"
    work.mkdir()
    (work / "nbgrader_config.py").write_text(hostile)
    repository_before = _nbgrader_files(ROOT)
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "student_build.py"), "--out", str(tmp_path / "s")],
                            capture_output=True, text=True, cwd=work,
                            env={**os.environ, "JUPYTER_CONFIG_DIR": str(jupyter_config)})
    assert result.returncode == 0, result.stderr
    assert "5 exercises in 9 student notebooks" in result.stdout
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if not p.name.endswith(".ipynb")) == [".student-build", "README.md"]
    assert sorted(p.name for p in work.iterdir()) == ["nbgrader_config.py"], "the build wrote into the current folder"
    assert _nbgrader_files(ROOT) == repository_before, "the build wrote into the repository"
    released = json.loads((tmp_path / "s" / "03_identity_block.ipynb").read_text())
    stub = next(text(cell) for cell in released["cells"] if is_solution(cell))
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()\n" in stub and "a teacher's own stub" not in stub


def _nbgrader_files(folder):
    """What nbgrader would leave in its working folder: a gradebook, a log, a configuration, course folders."""
    return {name for name in ("gradebook.db", ".nbgrader.log", "nbgrader_config.py", "source", "release")
            if (folder / name).exists()}


def test_every_exercise_is_found(student):
    _, exercises = student
    assert {exercise.grade_id for exercise in exercises} == EXERCISES
    assert all(exercise.regions and all(region.strip() for region in exercise.regions) for exercise in exercises)
    assert all(len(exercise.hints) == len(exercise.regions) and all(exercise.hints) for exercise in exercises)


def test_everything_else_is_unchanged(student):
    """nbgrader's release version: solution regions stubbed, check cells locked, nothing else touched."""
    out, _ = student
    for path in student_build.chapters():
        source = json.loads(path.read_text())
        result = json.loads((out / path.name).read_text())
        assert len(result["cells"]) == len(source["cells"])
        for before, after in zip(source["cells"], result["cells"]):
            assert before["cell_type"] == after["cell_type"]
            assert after.get("outputs", []) == [] and not after.get("execution_count")
            metadata_before, metadata_after = dict(before.get("metadata", {})), dict(after.get("metadata", {}))
            if "nbgrader" in metadata_before:
                grader_before, grader_after = metadata_before.pop("nbgrader"), metadata_after.pop("nbgrader")
                assert set(grader_after) - set(grader_before) <= NBGRADER_METADATA_ADDS
                assert {key: grader_after[key] for key in grader_before} == grader_before
                for key in NBGRADER_ADDS:
                    metadata_after.pop(key, None)
            if is_solution(before):
                assert "# YOUR CODE HERE\n" in text(after) and "raise NotImplementedError()" in text(after)
                assert "BEGIN SOLUTION" not in text(after)
                assert "hide-input" not in metadata_after.pop("tags", [])  # it only folds the solution on the website
                metadata_before.pop("tags", None)
            else:
                assert text(after) == text(before)
            assert metadata_after == metadata_before
            if before.get("metadata", {}).get("nbgrader", {}).get("grade"):
                assert after["metadata"].get("editable") is False, "nbgrader locks the check cells"
        assert 'if "google.colab" in sys.modules:' in text(result["cells"][1]), "the Colab install cell is kept"
        assert result["cells"][1]["metadata"]["tags"] == ["colab-install", "remove-cell"]


@pytest.mark.slow  # executes the student stubs
def test_each_stub_gets_the_friendly_message_and_keeps_its_hint(student):
    """Run each student exercise cell and the check after it: an AssertionError that says what to do."""
    import keras
    import numpy as np
    from keras import layers

    import resnet_lib
    from resnet_lib import checks

    out, exercises = student
    hints = {exercise.grade_id: exercise.hints for exercise in exercises}
    seen = set()
    for path in student_build.chapters():
        cells = json.loads((out / path.name).read_text())["cells"]
        for index, cell in enumerate(cells):
            if not is_solution(cell):
                continue
            grade_id = cell["metadata"]["nbgrader"]["grade_id"]
            # each stub is preceded by its hint, a comment that nbgrader leaves in
            above_stubs = re.findall(r"((?:^[ \t]*#.*\n)+)[ \t]*# YOUR CODE HERE\n", text(cell), re.MULTILINE)
            assert len(above_stubs) == len(hints[grade_id])
            for comment, hint in zip(above_stubs, hints[grade_id]):
                assert "# Hint:" in comment and " ".join(hint.split()) in " ".join(comment.replace("#", " ").split())
            namespace = {"keras": keras, "layers": layers, "np": np, "resnet_lib": resnet_lib, "checks": checks}
            exec(text(cell), namespace)  # noqa: S102 - our own notebook's cell
            check = next(c for c in cells[index + 1:] if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
            with pytest.raises(AssertionError) as failure:
                exec(text(check), namespace)  # noqa: S102
            assert "is not written yet" in str(failure.value), str(failure.value)
            seen.add(grade_id)
    assert seen == EXERCISES


@pytest.mark.slow  # executes a student notebook
def test_student_notebook_runs_to_its_first_exercise(student, tmp_path, monkeypatch):
    """Chapter 3 as a student gets it: every cell runs until the check, which stops with the message."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    out, _ = student
    notebook = nbformat.read(out / "03_identity_block.ipynb", as_version=4)
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
    assert error["evalue"].startswith("my_identity_block is not written yet")
    executed = [cell for cell in notebook.cells[:index] if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in executed), "every cell before the check ran"


HINTED = "def f():\n    # Hint: return something\n"


@pytest.mark.parametrize("source, message", [
    (HINTED + "    ### BEGIN SOLUTION\n    return 1\n", "without a matching"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", "without a `### BEGIN SOLUTION` before it"),
    (HINTED + "    ### BEGIN SOLUTION\n    # Hint: x\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n", "inside another solution region"),
    (HINTED + "    ### BEGIN SOLUTION\n    return 1  ### END SOLUTION\n", "must stand alone"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n", "no hint above"),
    ("def f():\n    # a comment, but no hint\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n", "no hint above"),
])
def test_bad_markers_are_refused(source, message):
    with pytest.raises(student_build.StudentBuildError, match=message):
        student_build.split_regions(source, "test cell")


def test_hints_are_read_from_the_comment_above_each_region():
    source = ("def f():\n    # setting up\n    # Hint: return\n    # something\n    ### BEGIN SOLUTION\n    return 1\n"
              "    ### END SOLUTION\n")
    assert student_build.split_regions(source, "test cell") == (["    return 1\n"], ["return something"])


def _solution_cell(source, solution=True):
    metadata = {"nbgrader": {"solution": True, "grade": False, "grade_id": "f", "locked": False, "schema_version": 3,
                             "task": False}} if solution else {}
    return {"cell_type": "code", "metadata": metadata, "outputs": [], "execution_count": None, "source": source}


def test_unmarked_solution_cells_and_cells_without_a_region_are_refused():
    good = HINTED + "    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    with pytest.raises(student_build.StudentBuildError, match="does not mark it as a solution"):
        student_build.exercises_of({"cells": [_solution_cell(good, solution=False)]}, "test.ipynb")
    with pytest.raises(student_build.StudentBuildError, match="has no `### BEGIN SOLUTION` region"):
        student_build.exercises_of({"cells": [_solution_cell("def f():\n    return 1\n")]}, "test.ipynb")
    markdown = {"cell_type": "markdown", "metadata": {}, "source": "### BEGIN SOLUTION\nan answer\n### END SOLUTION"}
    with pytest.raises(student_build.StudentBuildError, match="solution markers in a markdown cell"):
        student_build.exercises_of({"cells": [markdown]}, "test.ipynb")
    [exercise] = student_build.exercises_of({"cells": [_solution_cell(good)]}, "test.ipynb")
    assert (exercise.grade_id, exercise.regions, exercise.hints) == ("f", ["    return 1\n"], ["return something"])


def _book_with(tmp_path, source, solution=True):
    """A one-chapter book whose only code cell is `source`."""
    book = tmp_path / "book"
    book.mkdir()
    notebook = {"cells": [_solution_cell(source, solution)], "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
                "nbformat": 4, "nbformat_minor": 5}
    notebook["cells"][0]["id"] = "cell-f"
    (book / "01_test.ipynb").write_text(json.dumps(notebook))
    return book


def test_a_bad_chapter_stops_the_build_and_nothing_is_written(tmp_path):
    book = _book_with(tmp_path, "def f():\n    return 1\n    ### END SOLUTION\n")  # nbgrader would drop the marker silently
    with pytest.raises(student_build.StudentBuildError, match=r"01_test.ipynb, cell 0, line 3: `### END SOLUTION` without"):
        student_build.build(tmp_path / "out", book=book)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book"]


def test_a_stub_that_is_not_valid_python_stops_the_build(tmp_path):
    """nbgrader indents its stub like the marker: a marker at the wrong indentation gives broken code."""
    book = _book_with(tmp_path, "def f():\n# Hint: return one\n### BEGIN SOLUTION\n    return 1\n### END SOLUTION\n")
    with pytest.raises(student_build.StudentBuildError, match=r"01_test.ipynb, cell 0: the student version is not valid Python"):
        student_build.build(tmp_path / "out", book=book)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book"]


@pytest.mark.parametrize("source, reason, solution", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "no end solution statement found", True),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n", "nested begin solution", True),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n", "non-solution cell", False),
])
def test_nbgrader_itself_refuses_unbalanced_nested_and_unmarked_regions(tmp_path, source, reason, solution):
    """Behind the build's own checks, nbgrader's generate_assignment refuses these three on its own;
    its refusal reaches the teacher as a StudentBuildError naming the notebook."""
    book = _book_with(tmp_path, source, solution)
    course = tmp_path / "course"
    (course / "source" / "a").mkdir(parents=True)
    shutil.copy(book / "01_test.ipynb", course / "source" / "a")
    with pytest.raises(student_build.StudentBuildError, match=rf"01_test.ipynb: RuntimeError: .*{reason}"):
        student_build.generate_assignment(course, "a")
    assert not (course / "release" / "a" / "01_test.ipynb").exists()


def test_refuses_to_overwrite_the_sources():
    with pytest.raises(student_build.StudentBuildError, match="refusing to write into"):
        student_build.build(ROOT)


@pytest.mark.parametrize("inside", ["book/student", "book", "notebooks/book", "resnet_lib/results", "tests", "tools/site_js"])
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
    real, calls = student_build._install, []

    def fails_on_the_third(released, staging):
        calls.append(released.name)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the build
        return real(released, staging)

    monkeypatch.setattr(student_build, "_install", fails_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        student_build.build(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"], "temporary folders left behind"


def test_student_notebooks_rendered_as_jupyter_does_show_no_myst(student):
    """Students open these in Jupyter or Colab: rendered by nbconvert's HTML exporter, no MyST role, target,
    directive or colon fence shows as text, and every drawing is an absolute address in the repository."""
    import nbformat
    from test_jupyter_notebooks import image_problems, rendered_myst

    out, _ = student
    notebooks = sorted(out.glob("*.ipynb"))
    assert len(notebooks) == len(student_build.chapters())
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        assert not rendered_myst(notebook), path.name
        assert not image_problems(notebook), path.name
    drawings = sum("<img " in cell.source for path in notebooks
                   for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown")
    assert drawings == 4


def test_the_build_refuses_converted_notebooks_out_of_step_with_the_chapters(tmp_path, monkeypatch):
    import jupyter_notebooks

    monkeypatch.setattr(jupyter_notebooks, "stale", lambda: ["notebooks/book/03_identity_block.ipynb: differs"])
    with pytest.raises(student_build.StudentBuildError, match=r"out of step with book/ .*03_identity_block.*make notebooks"):
        student_build.build(tmp_path / "out")
    assert not (tmp_path / "out").exists()
