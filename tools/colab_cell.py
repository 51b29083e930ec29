"""Writes or checks the Colab install cell of every chapter notebook.

The cell installs `resnet_lib` pinned to the release tag `v<resnet_lib.__version__>` from the
repository URL in `_config.yml` (the one place it is written), fetches the precomputed results
the chapter loads (`results/*.json`, which Colab does not have), and runs only on Colab:

    python tools/colab_cell.py --write   # insert or update the cell (second cell of each notebook)
    python tools/colab_cell.py --check   # exit 1 listing notebooks whose cell is missing or stale
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "colab-install"


RESULT_FILE = re.compile(r"results/([A-Za-z0-9_.-]+\.json)")


def result_files(notebook) -> list[str]:
    """The precomputed result files (under book/results/) that the notebook's code loads."""
    code = "\n".join(cell.source for cell in notebook.cells
                     if cell.cell_type == "code" and TAG not in cell.get("metadata", {}).get("tags", []))
    return sorted(set(RESULT_FILE.findall(code)))


def install_source(results=()) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"].rstrip("/")
    module = ast.parse((ROOT / "resnet_lib" / "__init__.py").read_text())
    version = next(node.value.value for node in module.body if isinstance(node, ast.Assign)
                   and getattr(node.targets[0], "id", None) == "__version__")
    lines = [
        "# On Colab only: install the book's library, pinned to the release this chapter was written for.",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        f'    %pip install --quiet "resnet-lib @ git+{url}@v{version}"',
    ]
    if results:
        raw = url.replace("https://github.com/", "https://raw.githubusercontent.com/")
        lines += [
            "    # ... and the precomputed results this chapter loads.",
            "    import pathlib",
            "    import urllib.request",
            "",
            '    pathlib.Path("results").mkdir(exist_ok=True)',
            f"    for name in {list(results)!r}:",
            f'        urllib.request.urlretrieve(f"{raw}/v{version}/book/results/{{name}}", f"results/{{name}}")',
        ]
    return "\n".join(lines)


def chapter_notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "book").glob("*.ipynb"))


def install_cell_index(notebook) -> int | None:
    for index, cell in enumerate(notebook.cells):
        if TAG in cell.get("metadata", {}).get("tags", []):
            return index
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)

    stale = []
    for path in chapter_notebooks():
        notebook = nbformat.read(path, as_version=4)
        source = install_source(result_files(notebook))
        index = install_cell_index(notebook)
        if index is not None and notebook.cells[index].source == source:
            continue
        stale.append(path.relative_to(ROOT))
        if args.write:
            cell = nbformat.v4.new_code_cell(source, metadata={"tags": [TAG]})
            if index is None:
                notebook.cells.insert(1, cell)
            else:
                notebook.cells[index] = cell
            nbformat.write(notebook, path)
    if args.check and stale:
        print("Colab install cell missing or stale in: " + ", ".join(map(str, stale)) +
              "\nRun: python tools/colab_cell.py --write", file=sys.stderr)
        return 1
    if args.write:
        print(f"updated {len(stale)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
