"""A teacher's whole nbgrader workflow with chapter 3, as book/teachers.md describes it.

A course folder; `nbgrader generate_assignment`; three submissions (the reference solution, one
with the ReLU before the addition, and `make student`'s notebook untouched, which must grade like
the course's own release); `nbgrader autograde`; `nbgrader generate_feedback`; `nbgrader export`. The scores come from the gradebook and from the exported
CSV, the mistake's message from the feedback HTML. About 35 s on the book's 2-core test machine,
most of it three executions of chapter 3 (with RESNET_BOOK_FAST=1, as teachers.md recommends).
"""

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(sys.executable).parent
NBGRADER = SCRIPTS / "nbgrader"
CHAPTER = "03_identity_block.ipynb"
POINTS = 3.0  # the points of chapter 3's check cell

pytestmark = [pytest.mark.slow,  # the whole nbgrader workflow, chapters executed
              pytest.mark.skipif(not NBGRADER.exists(), reason="nbgrader is not installed (it is in requirements.txt)")]


def cell_text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def reference_region(notebook):
    """The code between the solution markers of the chapter's exercise cell."""
    [cell] = [c for c in notebook["cells"] if "### BEGIN SOLUTION" in cell_text(c)]
    return cell_text(cell).split("### BEGIN SOLUTION\n")[1].split("    ### END SOLUTION")[0]


def answered(release, answer):
    """The release version with nbgrader's stub replaced by `answer`, as a learner hands it in."""
    notebook = json.loads(json.dumps(release))
    stub = "    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    [cell] = [c for c in notebook["cells"] if stub in cell_text(c)]
    cell["source"] = cell_text(cell).replace(stub, answer)
    return notebook


def error_outputs(feedback_html):
    """The text of the <pre> blocks of a feedback page that show an exception."""
    blocks = [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in re.findall(r"<pre[^>]*>(.*?)</pre>", feedback_html, re.S)]
    return [block for block in blocks if "Traceback" in block or "AssertionError" in block]


def test_generate_assignment_autograde_feedback_and_export(tmp_path):
    course = tmp_path / "course"
    (course / "source" / "ch03").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "book" / CHAPTER, course / "source" / "ch03")  # what make student hands out
    (tmp_path / "jupyter").mkdir()
    environment = {
        **os.environ,
        "RESNET_BOOK_FAST": "1",
        # nbgrader runs `alembic` (its database migrations) from PATH, as an activated environment has it
        "PATH": str(SCRIPTS) + os.pathsep + os.environ.get("PATH", ""),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter"),  # no personal nbgrader configuration
    }

    def nbgrader(*arguments):
        result = subprocess.run([str(NBGRADER), *arguments], cwd=course, env=environment, capture_output=True, text=True)
        assert result.returncode == 0, f"nbgrader {' '.join(arguments)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    nbgrader("generate_assignment", "ch03")
    release = json.loads((course / "release" / "ch03" / CHAPTER).read_text())
    assert "### BEGIN SOLUTION" not in "".join(cell_text(c) for c in release["cells"])

    # make student hands out the same notebook, so its copies can be graded in this course too
    sys.path.insert(0, str(ROOT / "tools"))
    import student_build

    student_build.build(tmp_path / "student")
    handed_out = json.loads((tmp_path / "student" / CHAPTER).read_text())
    assert [cell_text(c) for c in handed_out["cells"]] == [cell_text(c) for c in release["cells"]]
    assert [c["metadata"].get("nbgrader") for c in handed_out["cells"]] == [c["metadata"].get("nbgrader") for c in release["cells"]]

    answer = reference_region(json.loads((ROOT / "book" / CHAPTER).read_text()))
    addition = '    x = layers.Add(name=f"{prefix}_add")([shortcut, x])\n'
    final_relu = '    x = layers.Activation("relu", name=f"{prefix}_out")(x)\n'
    assert addition + final_relu in answer
    submissions = {
        "correct": answered(release, answer),
        "relu_before_addition": answered(release, answer.replace(addition + final_relu, final_relu + addition)),
        "untouched": handed_out,  # make student's copy, graded in this course
    }
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / "ch03"
        folder.mkdir(parents=True)
        (folder / CHAPTER).write_text(json.dumps(notebook, indent=1))

    nbgrader("autograde", "ch03")
    nbgrader("generate_feedback", "ch03")
    nbgrader("export")

    expected = {"correct": POINTS, "relu_before_addition": 0.0, "untouched": 0.0}
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {student: gradebook.find_submission("ch03", student) for student in submissions}
        assert {student: (s.score, s.max_score) for student, s in scores.items()} == {
            student: (score, POINTS) for student, score in expected.items()}
    with open(course / "grades.csv", newline="") as exported:
        rows = {row["student_id"]: row for row in csv.DictReader(exported)}
    assert {student: (float(row["score"]), float(row["max_score"])) for student, row in rows.items()} == {
        student: (score, POINTS) for student, score in expected.items()}

    feedback = {student: (course / "feedback" / student / "ch03" / CHAPTER.replace(".ipynb", ".html")).read_text()
                for student in submissions}
    assert not error_outputs(feedback["correct"])
    mistake = error_outputs(feedback["relu_before_addition"])
    assert len(mistake) == 1 and "AssertionError" in mistake[0] and "my_identity_block" in mistake[0]
    assert "ReLU" in mistake[0], mistake[0][-1000:]
    untouched = error_outputs(feedback["untouched"])
    assert len(untouched) == 1 and "AssertionError" in untouched[0] and "not written yet" in untouched[0]
