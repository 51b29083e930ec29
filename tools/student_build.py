"""The student build: the chapters as nbgrader releases them, without the solutions.

It starts from the chapters converted for Jupyter (`notebooks/book/`, `make notebooks`): their markdown
has no MyST, which Jupyter and Colab would show as text.

    python tools/student_build.py [--out _build/student]      (= make student)

A solution region is the code between `### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's
markers) in a code cell whose metadata marks it as a solution (`nbgrader.solution: true`). The
comment lines just above each region, starting with `# Hint:`, are the exercise's hint.

The student notebooks are made by nbgrader's `generate_assignment`, the same step a teacher runs
in an nbgrader course: the build copies the chapters into `source/<assignment>/` of a temporary
course folder outside the repository, runs nbgrader there through its Python API, with this
build's own configuration (no gradebook database, no configuration file read, nothing written
anywhere else), and takes the notebooks from `release/<assignment>/`. nbgrader replaces each
region with its stub, indented like the marker,

    # YOUR CODE HERE
    raise NotImplementedError()

locks the check cells and clears the outputs; the hint comments, the text, the check cells and
the Colab install cell stay as they are. One addition to nbgrader's preprocessors drops the
`hide-input` tag of the solution cells, which only folds the solution on the website. The folder
also gets a README for learners (the precomputed results the chapters load ship inside
resnet_lib).

Before nbgrader runs, the build refuses sources it cannot hand out safely, naming the chapter,
cell and line: unbalanced or nested markers, a marker that does not stand alone on its line
(nbgrader matches `BEGIN SOLUTION` anywhere in a line), a region in a cell not marked as a
solution, a solution cell without a region, a region without a hint. After nbgrader, it checks
that every stub is valid Python and that the hints are still there.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

ROOT = Path(__file__).resolve().parents[1]
# The chapters as Jupyter notebooks (tools/jupyter_notebooks.py): students read them in Jupyter or Colab,
# which show MyST as text. The build refuses them when they are out of step with book/.
BOOK = ROOT / "notebooks" / "book"
SOURCES = ROOT / "book"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HINT = "# Hint:"
ASSIGNMENT = "resnet-book"  # the assignment's name inside the temporary nbgrader course
MAGIC = re.compile(r"^\s*[%!]", re.MULTILINE)

README = """\
# Residual Networks in Keras: student notebooks

These are the chapters of the book with the solutions of the coded exercises removed. Each
exercise is a function to complete: replace the lines `# YOUR CODE HERE` and
`raise NotImplementedError()` with your code (the `# Hint:` comment above them says where to
start), run the cell, then run the check cell after it. A check prints "Well done" when your code
is right; otherwise it stops with a message saying what is wrong and where.

Run the notebooks in order from the top: locally after `pip install resnet-lib` (see the book's
README), or in Colab, where the first cell installs the book's library. The precomputed results
that some chapters load come with the library: no other files are needed.
"""


class StudentBuildError(ValueError):
    """A chapter cannot be turned into a student version safely."""


@dataclass
class Exercise:
    notebook: str
    grade_id: str
    regions: list[str]  # the removed solution code, one string per region
    hints: list[str]  # the hint above each region, without the comment marks


def _text(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def split_regions(source: str, where: str) -> tuple[list[str], list[str]]:
    """Checks a cell's solution markers; returns its solution regions and the hint above each.

    Raises:
        StudentBuildError: unbalanced or nested markers, a marker that shares its line with
            something else, or a region without a `# Hint:` comment just above it.
    """
    regions, hints, region, lines = [], [], None, source.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if region is not None:
                raise StudentBuildError(f"{where}, line {number}: `{BEGIN}` inside another solution region.")
            hints.append(_hint_above(lines[: number - 1], f"{where}, line {number}"))
            region = []
        elif stripped == END:
            if region is None:
                raise StudentBuildError(f"{where}, line {number}: `{END}` without a `{BEGIN}` before it.")
            regions.append("".join(region))
            region = None
        elif "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            raise StudentBuildError(f"{where}, line {number}: a solution marker must stand alone on its line "
                                    "(nbgrader takes any line containing `BEGIN SOLUTION` or `END SOLUTION` for one).")
        elif region is not None:
            region.append(line)
    if region is not None:
        raise StudentBuildError(f"{where}: `{BEGIN}` without a matching `{END}`.")
    return regions, hints


def _hint_above(before: list[str], where: str) -> str:
    """The `# Hint: ...` comment lines directly above a region, joined into one line."""
    comment = []
    for line in reversed(before):
        if not line.strip().startswith("#"):
            break
        comment.insert(0, line.strip())
    starts = [index for index, line in enumerate(comment) if line.startswith(HINT)]
    if not starts:
        raise StudentBuildError(f"{where}: no hint above `{BEGIN}`. Put a comment starting with `{HINT}` on the "
                                "line(s) just above it; nbgrader keeps it in the student version.")
    hint = " ".join(line.lstrip("#").strip() for line in comment[starts[-1]:])
    return hint[len(HINT.lstrip("# ")):].strip()


def exercises_of(notebook: dict, name: str) -> list[Exercise]:
    """Checks one chapter's solution cells and returns its exercises (nothing is changed)."""
    exercises = []
    for index, cell in enumerate(notebook["cells"]):
        source, where = _text(cell), f"{name}, cell {index}"
        has_marker = "BEGIN SOLUTION" in source or "END SOLUTION" in source
        if cell["cell_type"] != "code":
            if has_marker:
                raise StudentBuildError(f"{where}: solution markers in a {cell['cell_type']} cell.")
            continue
        metadata = cell.get("metadata", {})
        is_solution = metadata.get("nbgrader", {}).get("solution", False)
        if not has_marker:
            if is_solution:
                raise StudentBuildError(f"{where}: marked as a solution cell but has no `{BEGIN}` region "
                                        "(nbgrader would replace the whole cell, the function's definition too).")
            continue
        if not is_solution:
            raise StudentBuildError(f"{where}: solution markers in a cell whose metadata does not mark it as a "
                                    "solution (nbgrader.solution: true).")
        regions, hints = split_regions(source, where)
        exercises.append(Exercise(name, metadata["nbgrader"].get("grade_id", f"cell-{index}"), regions, hints))
    return exercises


class DropSolutionFolding(Preprocessor):
    """Removes the `hide-input` tag of solution cells: on the website it folds the solution; the
    student version has none to fold. Runs inside nbgrader's generate_assignment."""

    enabled = Bool(True)  # nbconvert's preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        tags = cell.metadata.get("tags")
        if cell.metadata.get("nbgrader", {}).get("solution") and tags and "hide-input" in tags:
            tags = [tag for tag in tags if tag != "hide-input"]
            if tags:
                cell.metadata["tags"] = tags
            else:
                del cell.metadata["tags"]
        return cell, resources


def generate_assignment(course: Path, assignment: str) -> Path:
    """Runs nbgrader's generate_assignment on `course/source/<assignment>/`; returns the release folder.

    Through nbgrader's Python API, configured here and nowhere else: no gradebook database, no
    configuration file (a teacher's ~/.jupyter/nbgrader_config.py or one in the current folder is
    not read), nbgrader's default preprocessors plus DropSolutionFolding. nbgrader works inside
    `course` only.

    Raises:
        StudentBuildError: nbgrader refused a notebook; the message names it and says why.
    """
    try:
        from nbgrader.converters import GenerateAssignment
        from nbgrader.converters.base import NbGraderException
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config
    except ImportError as error:
        raise StudentBuildError(f"nbgrader is needed for the student build ({error}): run `make setup` or "
                                "`pip install -r requirements.txt`.") from None
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.assignment_id = assignment
    config.GenerateAssignment.no_database = True
    config.SaveCells.enabled = False  # SaveCells writes to the gradebook database
    defaults = GenerateAssignment.class_traits()["preprocessors"].default()
    config.GenerateAssignment.preprocessors = [DropSolutionFolding, *defaults]
    converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)

    log, handler = converter.log, logging.StreamHandler(io.StringIO())
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        converter.start()
    except NbGraderException:
        raise StudentBuildError(f"nbgrader's generate_assignment refused the chapters: {_nbgrader_reason(handler.stream.getvalue())}") from None
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    return course / "release" / assignment


def _nbgrader_reason(log: str) -> str:
    """The notebook nbgrader was converting and the error it raised, from its log."""
    notebooks = re.findall(r"Converting notebook \S*?([^/\\\s]+\.ipynb)", log)
    errors = re.findall(r"^\w*(?:Error|Exception): .+$", log, re.MULTILINE)
    return f"{notebooks[-1] if notebooks else 'a notebook'}: {errors[-1] if errors else log.strip()[-500:]}"


def check_release(notebook: dict, exercises: list[Exercise], name: str) -> None:
    """Checks nbgrader's student version: no marker left, hints kept, every stub valid Python."""
    for index, cell in enumerate(notebook["cells"]):
        source = _text(cell)
        if "BEGIN SOLUTION" in source or "END SOLUTION" in source:
            raise StudentBuildError(f"{name}, cell {index}: a solution marker is left in the student version.")
        if cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            try:
                ast.parse(MAGIC.sub("pass  # magic", source))
            except SyntaxError as error:
                raise StudentBuildError(f"{name}, cell {index}: the student version is not valid Python ({error}).") from None
    text = " ".join(" ".join(_text(cell).replace("#", " ").split()) for cell in notebook["cells"])
    for exercise in exercises:
        for hint in exercise.hints:
            if " ".join(hint.split()) not in text:
                raise StudentBuildError(f"{name}: the hint of {exercise.grade_id} is missing from the student version.")


def chapters(book: Path = BOOK) -> list[Path]:
    return sorted(book.glob("[0-9][0-9]_*.ipynb"))


MANIFEST = ".student-build"  # in every build: the files it wrote, one a line (what a rebuild may replace)


def _refuse_stale_notebooks() -> None:
    """Refuses converted chapters that are not what `book/` converts to now (a chapter edited since)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import jupyter_notebooks

    problems = jupyter_notebooks.stale()
    if problems:
        raise StudentBuildError("the chapters converted for Jupyter are out of step with book/ ("
                                + "; ".join(problems) + "): run `make notebooks`, then build again.")


def _refuse_unsafe(out: Path, book: Path) -> None:
    """Refuses outputs inside the sources or over anything the build did not make itself."""
    target = out.resolve()
    for source in (Path(book).resolve(), SOURCES.resolve(), (ROOT / "resnet_lib").resolve()):
        if target.is_relative_to(source) or source.is_relative_to(target):
            raise StudentBuildError(f"refusing to write into {out}: it overlaps the sources ({source}); "
                                    "choose an output folder outside book/, notebooks/ and resnet_lib/, e.g. _build/student.")
    probe = target if target.exists() else target.parent
    while not probe.exists():
        probe = probe.parent
    tracked = subprocess.run(["git", "ls-files", "--", str(target)], cwd=probe if probe.is_dir() else probe.parent,
                             capture_output=True, text=True)
    if tracked.returncode == 0 and tracked.stdout.strip():
        first = tracked.stdout.split()[0]
        raise StudentBuildError(f"refusing to write into {out}: git tracks files there ({first} ...); "
                                "choose an output folder that holds no committed files, e.g. _build/student.")
    if out.is_dir() and not any(out.iterdir()):
        return  # an empty folder: nothing in it to lose
    if out.exists():
        manifest = out / MANIFEST
        if not out.is_dir() or not manifest.is_file():
            raise StudentBuildError(f"refusing to replace {out}: it exists and was not made by make student (no "
                                    f"{MANIFEST} in it); nothing was deleted. Move it away or choose another --out.")
        ours = set(manifest.read_text().split()) | {MANIFEST}
        others = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()
                        and str(p.relative_to(out)) not in ours)
        if others:
            raise StudentBuildError(f"refusing to replace {out}: it holds files that make student did not write "
                                    f"({', '.join(others[:5])}{' ...' if len(others) > 5 else ''}); nothing was "
                                    "deleted. Move them elsewhere (or choose another --out) and run it again.")


def _install(released: Path, staging: Path) -> None:
    """Copies one student notebook from nbgrader's release folder into the build."""
    (staging / released.name).write_bytes(released.read_bytes())


def build(out: Path, book: Path = BOOK) -> list[Exercise]:
    """Writes the student notebooks and a README into `out`, safely.

    The chapters are checked, then nbgrader generates the student versions in a temporary course
    folder (see the module's docstring). The build goes into a fresh temporary folder beside `out`
    and is renamed into place only once complete. An existing `out` is replaced only if it is an
    earlier build holding nothing but what that build wrote (its `.student-build` manifest);
    anything else is refused, and nothing deleted.
    """
    out = Path(out)
    _refuse_unsafe(out, book)
    if Path(book).resolve() == BOOK.resolve():
        _refuse_stale_notebooks()
    sources = chapters(book)
    exercises = {path.name: exercises_of(json.loads(path.read_text()), path.name) for path in sources}
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the handed-out folder is an ordinary one
    try:
        with tempfile.TemporaryDirectory(prefix="student-build-course-") as course:
            source = Path(course) / "source" / ASSIGNMENT
            source.mkdir(parents=True)
            for path in sources:
                shutil.copyfile(path, source / path.name)
            release = generate_assignment(Path(course), ASSIGNMENT)
            for path in sources:
                released = release / path.name
                check_release(json.loads(released.read_text()), exercises[path.name], path.name)
                _install(released, staging)
        (staging / "README.md").write_text(README)
        (staging / MANIFEST).write_text("\n".join([*(path.name for path in sources), "README.md"]) + "\n")
        if out.exists():  # an earlier build, checked above: move it aside, put the new one in, then drop it
            previous = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, previous / out.name)
            os.replace(staging, out)
            shutil.rmtree(previous)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # the temporary folder this build made, nothing else
        raise
    return [exercise for path in sources for exercise in exercises[path.name]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "student", help="output folder (an earlier build there is replaced; anything else is refused)")
    args = parser.parse_args(argv)
    try:
        exercises = build(args.out)
    except StudentBuildError as error:
        print(f"make student: {error}", file=sys.stderr)
        return 1
    for exercise in exercises:
        lines = sum(len([line for line in region.splitlines() if line.strip()]) for region in exercise.regions)
        print(f"  {exercise.notebook:<36} {exercise.grade_id:<22} {lines:3d} solution lines removed")
    print(f"{len(exercises)} exercises in {len(chapters())} student notebooks written to {args.out} "
          "(by nbgrader's generate_assignment)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
