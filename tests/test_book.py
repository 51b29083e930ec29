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
LIBRARY_DEFINITIONS = re.compile(
    r"^def (identity_block|convolutional_block|basic_block|plain_basic_block|resnet50|build_network|"
    r"transfer_weights|load_dataset|train|gradient_norms|multiply_adds|multiply_adds_per_layer|"
    r"trainable_parameters|randomize_batch_norm|layer_table)\(", re.MULTILINE
)


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
    copies = LIBRARY_DEFINITIONS.findall(code)
    assert not copies, f"{path.name} redefines library functions {copies}; import them from resnet_lib"


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
