"""The book's drawings (book/figures/, drawn by tools/draw_figures.py from resnet_lib): current,
shown by a chapter with alt text, valid SVG, readable on a phone."""

import json
import re
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "book" / "figures"
sys.path.insert(0, str(ROOT / "tools"))
import draw_figures  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
# A MyST figure in a chapter: ```{figure} path (or :::{figure} path), then its :option: lines.
FIGURE_DIRECTIVE = re.compile(r"^(?:```|:::)\{figure\}\s+(\S+)\s*\n((?:\s*:[\w-]+:.*\n)*)", re.MULTILINE)


@pytest.fixture(scope="module")
def drawn():
    return draw_figures.draw_all()


def chapter_markdown():
    """(page, markdown) of every markdown cell of the chapters and every plain page of book/."""
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                yield path, "".join(cell["source"])
    for path in sorted((ROOT / "book").glob("*.md")):
        yield path, path.read_text()


def figure_directives():
    """(page, the file it shows, its options) of every MyST figure in the book."""
    for page, markdown in chapter_markdown():
        for target, options in FIGURE_DIRECTIVE.findall(markdown + "\n"):
            fields = dict(re.findall(r"^\s*:([\w-]+):\s*(.*)$", options, re.MULTILINE))
            yield page, (page.parent / target).resolve(), fields


ALL_FILES = sorted([*draw_figures.DRAWINGS, *map(draw_figures.png_name, draw_figures.DRAWINGS)])


def test_the_committed_figures_are_what_the_code_draws(drawn):
    assert sorted(drawn) == ALL_FILES  # each drawing as SVG (the website's) and PNG (the Jupyter notebooks')
    # Also proves the drawing reproducible: the committed files were drawn in another process, earlier.
    problems = draw_figures.differences(FIGURES, drawn)
    assert not problems, "stale figures, run `python tools/draw_figures.py`:\n" + "\n".join(problems)


def test_the_check_finds_stale_missing_and_orphaned_figures(drawn, tmp_path):
    for name, svg in drawn.items():
        (tmp_path / name).write_bytes(svg)
    assert draw_figures.differences(tmp_path, drawn) == []

    stale = tmp_path / "identity_block.svg"
    stale.write_bytes(drawn["identity_block.svg"].replace("56×56×64".encode(), "56×56×63".encode()))
    (tmp_path / "resnet50_stages.svg").unlink()
    (tmp_path / "old_drawing.svg").write_bytes(drawn["identity_block.svg"])
    assert draw_figures.differences(tmp_path, drawn) == [
        "identity_block.svg: differs from what the code draws now",
        "resnet50_stages.svg: missing",
        "old_drawing.svg: no code draws it",
    ]


def test_a_figure_from_another_matplotlib_is_compared_by_its_labels(drawn, tmp_path):
    """Another Matplotlib writes other bytes for the same drawing (CI's Python 3.10 has an older
    one): then the labels and sizes decide."""
    import matplotlib

    name = "convolutional_block.svg"
    other = drawn[name].replace(f"Matplotlib v{matplotlib.__version__}".encode(), b"Matplotlib v0.0.1")
    assert draw_figures.drawn_by(other) == "0.0.1"
    (tmp_path / name).write_bytes(other.replace(b'stroke-width: 1.5', b'stroke-width: 1.4'))
    assert draw_figures.differences(tmp_path, {name: drawn[name]}) == []
    (tmp_path / name).write_bytes(other.replace("28×28×512".encode(), "28×28×256".encode()))
    assert draw_figures.differences(tmp_path, {name: drawn[name]}) == [
        f"{name}: its labels differ from what the code draws now"]


@pytest.mark.parametrize("name", sorted(draw_figures.DRAWINGS))
def test_each_png_is_its_svg_at_twice_the_size(drawn, name):
    """The Jupyter notebooks show the PNG at the SVG's width (the <img>'s width attribute): two pixels per
    CSS pixel, as sharp as the website's SVG on a high-density screen."""
    from PIL import Image
    import io

    root = ElementTree.fromstring(drawn[name])
    points = [float(root.get(side).removesuffix("pt")) for side in ("width", "height")]
    css_pixels = [round(value * 96 / 72) for value in points]
    png = Image.open(io.BytesIO(drawn[draw_figures.png_name(name)]))
    assert list(png.size) == [2 * value for value in css_pixels], (png.size, css_pixels)
    assert draw_figures.png_size(drawn[draw_figures.png_name(name)]) == png.size


def test_a_png_from_another_matplotlib_is_compared_by_its_size(drawn, tmp_path):
    import matplotlib

    name = "identity_block.png"
    other = drawn[name].replace(f"Matplotlib version{matplotlib.__version__}".encode(), b"Matplotlib version0.0.1")
    assert draw_figures.drawn_by(other) == "0.0.1"
    (tmp_path / name).write_bytes(other[:-40] + b"\0" * 40)  # other pixels, same size
    assert draw_figures.differences(tmp_path, {name: drawn[name]}) == []
    (tmp_path / name).write_bytes(drawn["convolutional_block.png"].replace(
        f"Matplotlib version{matplotlib.__version__}".encode(), b"Matplotlib version0.0.1"))
    assert draw_figures.differences(tmp_path, {name: drawn[name]}) == [f"{name}: its size differs from what the code draws now"]


def test_writing_and_the_command_line_check(drawn, tmp_path, capsys):
    """Writing puts every figure in place, readable by all; `--check` exits 1 naming a stale one (the command's
    `main`, run here: a process of its own would spend most of its time importing TensorFlow)."""
    draw_figures.write(tmp_path, drawn)
    assert sorted(path.name for path in tmp_path.iterdir()) == ALL_FILES
    assert all(path.stat().st_mode & 0o044 for path in tmp_path.iterdir()), "figures written private"
    assert not list(tmp_path.glob(".*.tmp"))
    stale = tmp_path / "resnet50_stages.svg"
    stale.write_bytes(stale.read_bytes().replace("7×7×2048".encode(), "7×7×1024".encode()))
    capsys.readouterr()
    assert draw_figures.main(["--check", "--folder", str(tmp_path)]) == 1
    stderr = capsys.readouterr().err
    assert "resnet50_stages.svg: " in stderr and "identity_block.svg" not in stderr
    assert "Draw them again with: python tools/draw_figures.py" in stderr
    assert (ROOT / "tools" / "draw_figures.py").read_text().rstrip().endswith(
        'if __name__ == "__main__":\n    sys.exit(main())')  # the exit status of the command is main's


def in_order(expected, labels):
    remaining = iter(labels)
    return all(label in remaining for label in expected)


def test_the_figures_show_the_library_sizes(drawn):
    """Spot checks of what the figures say, written out by hand, independent of the drawing code."""
    labels = {name: draw_figures.texts(svg) for name, svg in drawn.items() if name.endswith(".svg")}
    assert in_order(["residual block", "3×3 conv", "BN, ReLU", "3×3 conv", "BN", "F(x) + x", "ReLU",
                     "y = ReLU(F(x) + x)", "3×3 conv", "BN, ReLU", "3×3 conv", "BN, ReLU", "y = H(x)"],
                    labels["plain_vs_residual_block.svg"])
    assert in_order(["x: 56×56×256", "1×1 conv, 64", "BN, ReLU", "56×56×64", "3×3 conv, 64", "BN, ReLU", "56×56×64",
                     "1×1 conv, 256", "BN", "56×56×256", "56×56×256", "ReLU", "y: 56×56×256"],
                    labels["identity_block.svg"])
    assert in_order(["x: 56×56×256", "1×1 conv, 128", "stride 2", "BN, ReLU", "28×28×128", "3×3 conv, 128",
                     "BN, ReLU", "28×28×128", "1×1 conv, 512", "BN", "28×28×512",
                     "1×1 conv, 512", "stride 2", "BN", "28×28×512", "28×28×512", "ReLU", "y: 28×28×512"],
                    labels["convolutional_block.svg"])
    assert in_order(["224×224×3", "64×64×3", "7×7 conv, 64", "stride 2, BN, ReLU", "112×112×64", "32×32×64",
                     "3×3 max pool", "stride 2", "56×56×64", "16×16×64",
                     "conv2_x ×3", "filters 64, 64, 256", "56×56×256", "16×16×256",
                     "conv3_x ×4", "filters 128, 128, 512", "28×28×512", "8×8×512",
                     "conv4_x ×6", "filters 256, 256, 1024", "14×14×1024", "4×4×1024",
                     "conv5_x ×3", "filters 512, 512, 2048", "7×7×2048", "2×2×2048",
                     "global average pool", "2048", "2048", "dense, softmax", "1000", "6"],
                    [label.removeprefix("conv1: ") for label in labels["resnet50_stages.svg"]])


@pytest.mark.parametrize("name", sorted(draw_figures.DRAWINGS))
def test_each_figure_is_valid_svg_readable_on_a_phone(name):
    root = ElementTree.parse(FIGURES / name).getroot()
    assert root.tag == f"{SVG}svg"
    view_box = [float(number) for number in root.get("viewBox", "").split()]
    assert len(view_box) == 4 and view_box[2] > 0 and view_box[3] > 0, "no viewBox"
    width = re.fullmatch(r"([\d.]+)pt", root.get("width", ""))
    assert width and re.fullmatch(r"[\d.]+pt", root.get("height", "")), "width and height in pt expected"
    natural_width_px = float(width.group(1)) * 4 / 3
    assert natural_width_px <= 760, "wider than the book's text column: the page would shrink it"
    # On a phone the page shrinks the figure to its column; its smallest text must stay >= 11 px.
    sizes = [float(size) for text in root.iter(f"{SVG}text")
             for size in re.findall(r"font-size:\s*([\d.]+)px", text.get("style", ""))]
    assert sizes, "no text kept as text (svg.fonttype 'none')"
    scale = min(draw_figures.PHONE_COLUMN_PX, natural_width_px) / view_box[2]
    assert min(sizes) * scale >= draw_figures.MINIMUM_PHONE_TEXT_PX, f"text {min(sizes) * scale:.1f} px on a phone"
    assert b"<dc:date>" not in (FIGURES / name).read_bytes(), "a date makes the file change at every drawing"


@pytest.mark.parametrize("name", sorted(draw_figures.DRAWINGS))
def test_each_figure_is_shown_by_a_chapter_with_alt_text(name):
    uses = [(page, fields) for page, target, fields in figure_directives() if target == FIGURES / name]
    assert uses, f"no chapter shows figures/{name} (a ```{{figure}} figures/{name} directive)"
    for page, fields in uses:
        assert len(fields.get("alt", "")) > 20, f"{page.name}: figures/{name} lacks an :alt: text that describes it"


def test_every_figure_a_chapter_shows_exists():
    missing = [f"{page.name}: {target}" for page, target, _ in figure_directives() if not target.is_file()]
    assert not missing, missing
