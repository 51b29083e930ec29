"""The student build: the chapters with every solution region replaced by a stub.

    python tools/student_build.py [--out _build/student]      (= make student)

A solution region is the code between `### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's
markers) in a code cell whose metadata marks it as a solution (`nbgrader.solution: true`) and
gives one hint per region (`exercise.hints`). Each region becomes

    # YOUR CODE HERE
    raise NotImplementedError("<hint>")

at the region's indentation. Everything else is unchanged: the Colab install cell, the text, the
check cells, the nbgrader metadata (so the files can also go through nbgrader). The solution
cells lose their `hide-input` tag, which only folds the solution on the website. The folder also
gets a README for learners (the precomputed results the chapters load ship inside resnet_lib).

The build refuses sources it cannot handle safely: unbalanced markers, a region in a cell not
marked as a solution, a missing hint, or a stub that is not valid Python.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MAGIC = re.compile(r"^\s*[%!]", re.MULTILINE)

README = """\
# Residual Networks in Keras: student notebooks

These are the chapters of the book with the solutions of the coded exercises removed. Each
exercise is a function to complete: replace the line `raise NotImplementedError(...)` with your
code, run the cell, then run the check cell after it. A check prints "Well done" when your code
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


def split_regions(source: str, where: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Splits a cell's source into [(code before, indentation)] and the solution regions.

    Returns:
        (pieces, regions): `pieces[i]` is the code before region i with the region's indentation;
        the last piece (indentation "") is the code after the last region.
    """
    pieces, regions, current, region, indent = [], [], [], None, ""
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if region is not None:
                raise StudentBuildError(f"{where}, line {number}: `{BEGIN}` inside another solution region.")
            indent = line[: len(line) - len(line.lstrip())]
            pieces.append(("".join(current), indent))
            current, region = [], []
        elif stripped == END:
            if region is None:
                raise StudentBuildError(f"{where}, line {number}: `{END}` without a `{BEGIN}` before it.")
            regions.append("".join(region))
            region = None
        elif BEGIN in line or END in line:
            raise StudentBuildError(f"{where}, line {number}: a solution marker must stand alone on its line.")
        elif region is not None:
            region.append(line)
        else:
            current.append(line)
    if region is not None:
        raise StudentBuildError(f"{where}: `{BEGIN}` without a matching `{END}`.")
    pieces.append(("".join(current), ""))
    return pieces, regions


def stub(indent: str, hint: str) -> str:
    return f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError({hint!r})\n"


def student_source(source: str, hints: list[str], where: str) -> str:
    pieces, regions = split_regions(source, where)
    if len(hints) != len(regions):
        raise StudentBuildError(f"{where}: {len(regions)} solution region(s) but {len(hints)} hint(s) in the cell's "
                                "metadata `exercise.hints`; give one hint per region.")
    out = []
    for (before, indent), hint in zip(pieces, hints):
        out.append(before)
        out.append(stub(indent, hint))
    out.append(pieces[-1][0])
    text = "".join(out)
    try:
        ast.parse(MAGIC.sub("pass  # magic", text))
    except SyntaxError as error:
        raise StudentBuildError(f"{where}: the student version is not valid Python ({error}).") from None
    return text.rstrip("\n")


def student_notebook(notebook: dict, name: str) -> tuple[dict, list[Exercise]]:
    """Returns the student version of `notebook` (a dict in nbformat 4) and the exercises it removed."""
    notebook = json.loads(json.dumps(notebook))  # a deep copy
    exercises = []
    for index, cell in enumerate(notebook["cells"]):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        where = f"{name}, cell {index}"
        has_marker = BEGIN in source or END in source
        if cell["cell_type"] != "code":
            if has_marker:
                raise StudentBuildError(f"{where}: solution markers in a {cell['cell_type']} cell.")
            continue
        cell["outputs"], cell["execution_count"] = [], None
        metadata = cell.setdefault("metadata", {})
        is_solution = metadata.get("nbgrader", {}).get("solution", False)
        if not has_marker:
            if is_solution:
                raise StudentBuildError(f"{where}: marked as a solution cell but has no `{BEGIN}` region.")
            continue
        if not is_solution:
            raise StudentBuildError(f"{where}: solution markers in a cell whose metadata does not mark it as a "
                                    "solution (nbgrader.solution: true); nbgrader would leave the solution in.")
        hints = metadata.get("exercise", {}).get("hints", [])
        _, regions = split_regions(source, where)
        cell["source"] = student_source(source, hints, where)
        tags = [tag for tag in metadata.get("tags", []) if tag != "hide-input"]
        if tags:
            metadata["tags"] = tags
        else:
            metadata.pop("tags", None)
        exercises.append(Exercise(name, metadata["nbgrader"].get("grade_id", f"cell-{index}"), regions))
    return notebook, exercises


def chapters(book: Path = BOOK) -> list[Path]:
    return sorted(book.glob("[0-9][0-9]_*.ipynb"))


MANIFEST = ".student-build"  # in every build: the files it wrote, one a line (what a rebuild may replace)


def _refuse_unsafe(out: Path, book: Path) -> None:
    """Refuses outputs inside the sources or over anything the build did not make itself."""
    target = out.resolve()
    for source in (book.resolve(), (ROOT / "resnet_lib").resolve()):
        if target.is_relative_to(source) or source.is_relative_to(target):
            raise StudentBuildError(f"refusing to write into {out}: it overlaps the sources ({source}); "
                                    "choose an output folder outside book/ and resnet_lib/, e.g. _build/student.")
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


def build(out: Path, book: Path = BOOK) -> list[Exercise]:
    """Writes the student notebooks and a README into `out`, safely.

    The build goes into a fresh temporary folder beside `out` and is renamed into place only once
    complete. An existing `out` is replaced only if it is an earlier build holding nothing but what
    that build wrote (its `.student-build` manifest); anything else is refused, and nothing deleted.
    """
    out = Path(out)
    _refuse_unsafe(out, book)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        exercises, written = [], []
        for path in chapters(book):
            notebook, found = student_notebook(json.loads(path.read_text()), path.name)
            (staging / path.name).write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
            exercises += found
            written.append(path.name)
        (staging / "README.md").write_text(README)
        (staging / MANIFEST).write_text("\n".join([*written, "README.md"]) + "\n")
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
    return exercises


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
    print(f"{len(exercises)} exercises in {len(chapters())} student notebooks written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
