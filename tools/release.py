"""Keeps the book's release in step: one version, one tag, one repository URL everywhere.

The version is `__version__` in `resnet_lib/__init__.py`; the repository URL is `repository.url` in
`_config.yml`. From those two, this writes (or checks):

* every chapter's Colab install cell, which installs `resnet_lib` from the tag `v<version>`
  (and only on Colab; a failed install stops the chapter with one clear sentence), tagged
  `remove-cell` so that the website, where it cannot run, leaves it out;
* `repository.branch` in `_config.yml`, which the website's Open-in-Colab links open, so that a
  reader in Colab gets the notebooks of the same release the install cell installs;
* the website's footer, which names the release;
* `html.baseurl` in `_config.yml`, the published website (GitHub Pages of the repository), where the
  notebooks' links lead;
* the chapters converted for Jupyter (`notebooks/`, tools/jupyter_notebooks.py), whose install cells
  and drawings (PNGs at the release tag) name the release.

    python tools/release.py --version   # print the version (the release tag is v<version>)
    python tools/release.py --write     # bring cells, links and footer in line
    python tools/release.py --check     # exit 1 listing whatever is out of step
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "_config.yml"
TAG = "colab-install"
# The cell is for Colab only: the website (which cannot run it) leaves it out, the notebook keeps it.
TAGS = [TAG, "remove-cell"]


def version() -> str:
    """`resnet_lib.__version__`, read without importing the package (which imports TensorFlow)."""
    module = ast.parse((ROOT / "resnet_lib" / "__init__.py").read_text())
    return next(node.value.value for node in module.body if isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", None) == "__version__")


def repository_url() -> str:
    import yaml  # here, not at the top: `--version` needs only the standard library (the workflows' bare Python)

    return yaml.safe_load(CONFIG.read_text())["repository"]["url"].rstrip("/")


def install_source() -> str:
    """The Colab install cell: pip from the release tag; a failure raises with what to do."""
    return "\n".join([
        "# On Colab only: install the book's library at the release this chapter was written for.",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        "    import importlib",
        "    import subprocess",
        "",
        f'    release = "git+{repository_url()}@v{version()}"',
        "    pip = subprocess.run(",
        '        [sys.executable, "-m", "pip", "install", "--quiet", f"resnet-lib @ {release}"],',
        "        capture_output=True,",
        "        text=True,",
        "    )",
        "    if pip.returncode != 0:",
        '        print(pip.stdout[-3000:], pip.stderr[-3000:], sep="\\n")',
        "        raise RuntimeError(",
        '            f"pip could not install resnet-lib from {release} (its output is above): "',
        '            "check that the runtime has internet access, then run this cell again."',
        "        )",
        "    importlib.invalidate_caches()",
    ])


def footer() -> str:
    tag = f"v{version()}"
    return f'Release <a href="{repository_url()}/releases/tag/{tag}">{tag}</a> of the book and of resnet_lib.'


def pages_url() -> str:
    """The GitHub Pages address of the repository: https://<owner>.github.io/<name>/."""
    owner, name = repository_url().removeprefix("https://github.com/").split("/")[:2]
    return f"https://{owner.lower()}.github.io/{name}/"


def config_text(text: str) -> str:
    """`_config.yml` with `repository.branch`, `html.baseurl` and `html.extra_footer` set to this release."""
    text, branches = re.subn(r"(?m)^(  branch: ).*$", lambda m: m.group(1) + f"v{version()}", text)
    text, footers = re.subn(r"(?m)^(  extra_footer: ).*$", lambda m: m.group(1) + repr(footer()), text)
    text, bases = re.subn(r"(?m)^(  baseurl: ).*$", lambda m: m.group(1) + pages_url(), text)
    if branches != 1 or footers != 1 or bases != 1:
        raise SystemExit("_config.yml needs exactly one `  branch:` line under `repository:` and one "
                         "`  baseurl:` and one `  extra_footer:` line under `html:`; add them and run this again.")
    return text


def chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "book").glob("*.ipynb"))


def install_cell_index(notebook) -> int | None:
    for index, cell in enumerate(notebook.cells):
        if TAG in cell.get("metadata", {}).get("tags", []):
            return index
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--version", action="store_true", help="print the version")
    mode.add_argument("--write", action="store_true", help="write cells, links and footer")
    mode.add_argument("--check", action="store_true", help="exit 1 if anything is out of step")
    args = parser.parse_args(argv)
    if args.version:
        print(version())
        return 0

    import nbformat

    def write_atomically(path, text):  # only when writing: importing resnet_lib imports TensorFlow
        from resnet_lib.files import write_atomically

        write_atomically(path, text)

    stale = []
    config = CONFIG.read_text()
    if config_text(config) != config:
        stale.append("_config.yml (repository.branch, html.baseurl or html.extra_footer)")
        if args.write:
            write_atomically(CONFIG, config_text(config))
    source = install_source()
    for path in chapter_notebooks():
        notebook = nbformat.read(path, as_version=4)
        index = install_cell_index(notebook)
        if index is not None and notebook.cells[index].source == source \
                and notebook.cells[index].metadata.get("tags") == TAGS:
            continue
        stale.append(f"{path.relative_to(ROOT)} (Colab install cell)")
        if args.write:
            cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(TAGS)})
            if index is None:
                notebook.cells.insert(1, cell)
            else:
                cell.id = notebook.cells[index].id
                notebook.cells[index] = cell
            write_atomically(path, nbformat.writes(notebook) + "\n")
    import jupyter_notebooks  # after the install cells: the converted notebooks carry them

    if args.write:
        written = jupyter_notebooks.write()
        stale += [f"{path.relative_to(ROOT)} (converted for Jupyter)" for path in written]
    else:
        stale += [f"{problem} (converted for Jupyter)" for problem in jupyter_notebooks.stale()]
    if args.check and stale:
        print(f"Out of step with version {version()} and {repository_url()}: " + ", ".join(stale) +
              "\nRun: python tools/release.py --write", file=sys.stderr)
        return 1
    if args.write:
        print(f"release v{version()}: updated {len(stale)} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
