"""The book's sources: notebooks stored clean, Colab cells in sync, every chapter shaped alike."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
#: What each chapter writes out in code the reader runs, and the cell that proves it is the library's: the
#: functions the chapter defines, and what that cell must contain (the call of the chapter's code, the library's
#: counterpart, the comparisons). Chapter 7 compares with the run `live` of the library's `explorer.train_now`.
CHAPTER_CODE = {
    "01_why_deep_plain_networks_fail.ipynb": {
        "defines": ("plain_block", "plain_network"),
        "proof": ("plain_network(", "resnet_lib.build_network(", "get_config()", "count_params()",
                  "resnet_lib.transfer_weights(", "np.array_equal("),
    },
    "02_skip_connections.ipynb": {
        "defines": ("residual_block", "residual_network"),
        "proof": ("residual_network(", "resnet_lib.build_network(", "get_config()", "count_params()",
                  "resnet_lib.transfer_weights(", "np.array_equal("),
    },
    "07_depth_explorer.ipynb": {
        "defines": ("learning_rate_schedule", "shift_images", "train_one"),
        "proof": ("train_one(", 'live["loss"]', 'live["accuracy"]'),
        "library_run": r"^live = explorer\.train_now\(",
    },
}


def cells(path, kind=None):
    notebook = json.loads(path.read_text())
    return [c for c in notebook["cells"] if kind is None or c["cell_type"] == kind]


def source(cell):
    return "".join(cell["source"])


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks in book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path):
    dirty = [i for i, c in enumerate(cells(path, "code")) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: code cells {dirty} have stored outputs; clear them before committing"


def test_colab_cells_links_and_footer_name_one_release():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "release.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_version_tag_and_links_agree():
    """Read independently of tools/release.py: the package's version, the Colab links' branch, the
    footer and every install cell name the same release tag."""
    import resnet_lib

    tag = f"v{resnet_lib.__version__}"
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"].rstrip("/")
    assert config["repository"]["branch"] == tag, "the Open-in-Colab links open another version than the release"
    assert f"/releases/tag/{tag}" in config["html"]["extra_footer"]
    for path in NOTEBOOKS:
        install = [source(c) for c in cells(path, "code") if "colab-install" in c["metadata"].get("tags", [])]
        assert len(install) == 1, f"{path.name} needs exactly one Colab install cell"
        assert re.findall(r"git\+(\S+?)@(v[\w.]+)", install[0]) == [(url, tag)], path.name


@pytest.mark.slow  # copies the repository and runs tools/release.py
def test_the_release_check_fails_when_the_version_moves(tmp_path):
    for name in ("tools/release.py", "_config.yml", "resnet_lib/__init__.py", *(f"book/{p.name}" for p in NOTEBOOKS)):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    init = tmp_path / "resnet_lib" / "__init__.py"
    init.write_text(re.sub(r'__version__ = "[^"]+"', '__version__ = "9.9.9"', init.read_text()))
    check = [sys.executable, str(tmp_path / "tools" / "release.py"), "--check"]
    result = subprocess.run(check, capture_output=True, text=True)
    assert result.returncode == 1 and "9.9.9" in result.stderr and "_config.yml" in result.stderr
    subprocess.run([sys.executable, str(tmp_path / "tools" / "release.py"), "--write"], check=True, capture_output=True)
    assert subprocess.run(check, capture_output=True, text=True).returncode == 0
    assert "branch: v9.9.9" in (tmp_path / "_config.yml").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_download_nothing_unless_the_reader_asks(path):
    code = "\n".join(source(c) for c in cells(path, "code"))
    for download in ("urlretrieve", "urlopen", "requests.get", "wget ", "curl "):
        assert download not in code, f"{path.name} downloads with {download!r}"
    for cell in cells(path, "code"):
        text = source(cell)
        if re.search(r"load_dataset\(\s*(?!\"digits\"|\w+=|\))|load_pretrained_resnet50\(|weights=\"imagenet\"", text):
            flag = re.search(r"^(DOWNLOAD_\w+) = (\w+)", text, re.MULTILINE)
            is_colab_only = 'if "google.colab" in sys.modules' in text
            assert (flag and flag.group(2) == "False") or is_colab_only, \
                f"{path.name}: a cell loads a data set or weights that need a download, without a flag set to False"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_shape(path):
    markdown = "\n".join(source(c) for c in cells(path, "markdown"))
    code = "\n".join(source(c) for c in cells(path, "code"))
    assert re.search(r"^\(chapter-[a-z0-9-]+\)=", source(cells(path)[0]), re.MULTILINE), "first cell needs a MyST label"
    for heading in ("What you'll do", "What you'll learn", "What you'll need", "Summary", "Exercises"):
        assert heading in markdown, f"{path.name} lacks a '{heading}' section"
    assert "import resnet_lib" in code or "from resnet_lib" in code


def defining_cell(sources, function):
    """Index of the one code cell (among `sources`) that defines `function`."""
    found = [i for i, text in enumerate(sources) if re.search(rf"^def {function}\(", text, re.MULTILINE)]
    assert len(found) == 1, f"`def {function}(` must be in exactly one code cell, found in cells {found}"
    return found[0]


def proof_cell(name):
    """The chapter's code cells, and the index of the one that proves its code is the library's (CHAPTER_CODE)."""
    sources = [source(c) for c in cells(ROOT / "book" / name, "code")]
    after = max(defining_cell(sources, function) for function in CHAPTER_CODE[name]["defines"])
    found = [i for i, text in enumerate(sources) if i > after and re.search(r"^\s*assert ", text, re.MULTILINE)
             and all(part in text for part in CHAPTER_CODE[name]["proof"])]
    assert found, (f"{name}: no code cell after the definitions asserts that they equal the library's, with all of "
                   f"{CHAPTER_CODE[name]['proof']}")
    return sources, found[0]


@pytest.mark.parametrize("name", CHAPTER_CODE)
def test_chapters_define_what_they_teach(name):
    """The chapter defines its functions once, and no other chapter defines a second copy."""
    for function in CHAPTER_CODE[name]["defines"]:
        defining_cell([source(c) for c in cells(ROOT / "book" / name, "code")], function)
        elsewhere = [p.name for p in NOTEBOOKS if p.name != name
                     and re.search(rf"^def {function}\(", "\n".join(source(c) for c in cells(p, "code")), re.MULTILINE)]
        assert not elsewhere, f"{function} of {name} is defined again in {elsewhere}; the library holds the shared copy"


@pytest.mark.parametrize("name", CHAPTER_CODE)
def test_a_cell_proves_the_chapter_code_is_the_library(name):
    sources, proof = proof_cell(name)
    if "library_run" in CHAPTER_CODE[name]:
        assert any(re.search(CHAPTER_CODE[name]["library_run"], text, re.MULTILINE) for text in sources[:proof]), \
            f"{name}: the run the proof compares with does not come from the library before the proof"


@pytest.mark.parametrize("name", CHAPTER_CODE)
def test_after_the_proof_the_chapter_uses_the_library(name):
    sources, proof = proof_cell(name)
    for index, text in enumerate(sources[proof + 1:], start=proof + 1):
        calls = [f for f in CHAPTER_CODE[name]["defines"] if re.search(rf"(?<![\w.]){f}\(", text)]
        assert not calls, f"{name}, code cell {index}: calls the chapter's {calls} after the proof; use resnet_lib"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_alt_text(path):
    for index, cell in enumerate(cells(path, "code")):
        text = source(cell)
        draws = re.search(r"\bplt\.|plot_|show_images\(|plot_model\(", text) and "def " not in text
        if draws and "image" not in cell["metadata"].get("mystnb", {}):
            pytest.fail(f"{path.name}, code cell {index}: draws a figure without mystnb.image.alt metadata")
        alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt")
        if alt is not None:
            assert len(alt) > 20, f"{path.name}, code cell {index}: alt text too short to describe the figure"


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    for path in NOTEBOOKS:
        assert f"book/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
    assert yaml.safe_load(toc)["root"] == "book/intro"


def test_every_checked_cell_has_a_recorded_output():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "expected_outputs.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
