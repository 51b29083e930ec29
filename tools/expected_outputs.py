"""Reference outputs for the notebook cells tagged `nbval-check-output`.

A chapter marks a cell whose output the tests compare with the cell tag `nbval-check-output` (in the
cell's metadata `tags`, which JupyterLab edits in its property inspector): nbval reads it natively,
and the website never shows it. nbval's other spelling, a first line `# NBVAL_CHECK_OUTPUT` in the
code, would be printed on the website, so the chapters do not use it (tests/test_book.py checks
that); `is_checked` still reads it, because nbval does: a teacher's own notebook marked that way is
compared by nbval, and must then have a recorded output too.

Chapters are stored without outputs, but nbval only compares a cell's output with a stored one (and
has no option to read one from elsewhere).
So the outputs of the tagged cells (deterministic facts: shapes, parameter counts) live here, in
`tests/expected_outputs/<chapter>.json`, keyed by a hash of the cell's source; the test suite's
conftest.py hands them to nbval, which then checks them on every run.

    python tools/expected_outputs.py --write [book/01_....ipynb ...]   # execute, record (fast mode)
    python tools/expected_outputs.py --check                           # every tagged cell has one
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected_outputs"
#: nbval's comment marker, which means what the tag `nbval-check-output` means; the chapters use the
#: tag, `is_checked` reads both (as nbval does).
MARKER = "# NBVAL_CHECK_OUTPUT"


def cell_key(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def is_checked(cell) -> bool:
    """Whether nbval --nbval-lax compares this cell's output: an `nbval-check-output` tag (or nbval's
    `# NBVAL_CHECK_OUTPUT` comment line), read with nbval's own parsers so that the two always agree."""
    from nbval.plugin import find_comment_markers, find_metadata_tags

    if cell.cell_type != "code":
        return False
    options = dict(find_metadata_tags(cell.metadata))
    options.update(find_comment_markers(cell.source))  # comments win over tags, as in nbval
    return options.get("check") is True


def expected_path(notebook_path) -> Path:
    return EXPECTED / f"{Path(notebook_path).stem}.json"


def load_expected(notebook_path) -> dict:
    path = expected_path(notebook_path)
    return json.loads(path.read_text()) if path.is_file() else {}


def inject(notebook, notebook_path) -> None:
    """Puts the recorded outputs into the checked cells of `notebook` (in memory), for nbval."""
    expected = load_expected(notebook_path)
    for cell in notebook.cells:
        if is_checked(cell) and cell_key(cell.source) in expected:
            cell.outputs = [nbformat.from_dict(output) for output in expected[cell_key(cell.source)]]
            cell.execution_count = 1


def record(notebook_path: Path) -> int:
    from nbclient import NotebookClient

    notebook = nbformat.read(notebook_path, as_version=4)
    os.environ["RESNET_BOOK_FAST"] = "1"
    NotebookClient(notebook, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook_path.parent)}}).execute()
    expected = {}
    for cell in notebook.cells:
        if is_checked(cell):
            outputs = [dict(output) for output in cell.outputs]
            for output in outputs:
                output.pop("execution_count", None)
            expected[cell_key(cell.source)] = outputs
    EXPECTED.mkdir(parents=True, exist_ok=True)
    from resnet_lib.files import write_atomically  # here, not above: --check needs no TensorFlow

    write_atomically(expected_path(notebook_path), json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return len(expected)


def missing() -> list[str]:
    problems = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        expected = load_expected(path)
        notebook = nbformat.read(path, as_version=4)
        keys = [cell_key(c.source) for c in notebook.cells if is_checked(c)]
        problems += [f"{path.name}: a checked cell has no recorded output" for k in keys if k not in expected]
        problems += [f"{path.name}: {len(set(expected) - set(keys))} recorded output(s) of cells that no longer exist"
                     for _ in [0] if set(expected) - set(keys)]
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="execute notebooks and record their checked outputs")
    parser.add_argument("--check", action="store_true", help="fail if a checked cell has no recorded output")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.write:
        for path in args.notebooks or sorted((ROOT / "book").glob("*.ipynb")):
            print(f"{path}: recorded {record(path.resolve())} output(s)")
    if args.check or not args.write:
        problems = missing()
        if problems:
            print("\n".join(problems) + "\nRun: python tools/expected_outputs.py --write <notebook>", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
