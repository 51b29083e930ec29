"""Draws the book's block and network diagrams into book/figures/, from resnet_lib itself: each as SVG
(the website's) and as PNG at twice its size (the Jupyter notebooks', notebooks/: Colab shows no
cell attachment and no SVG from GitHub's raw files, but any PNG from there).

Every label that names a layer or a size is read off a model that the library builds: the layers
of a block of `build_network`'s plain and residual networks (chapter 2), the shapes of ResNet50's
`conv2_block2` and `conv3_block1` (chapters 3 and 4), and the output size of each step of
`resnet50()` at 224×224, the paper's size, and at 64×64, the SIGNS images of chapter 5. Change the library and the figures change with it; the check below
(and tests/test_figures.py) then fails until they are drawn again.

    python tools/draw_figures.py           # (re)draw every figure into book/figures/
    python tools/draw_figures.py --check   # exit 1 if a committed figure differs from what this draws

The output is byte-reproducible for a given Matplotlib version (fixed `svg.hashsalt`, no date, text
kept as text in the SVG). A figure drawn by another Matplotlib version than the one installed cannot
be compared byte for byte; `--check` then compares an SVG's text (every label and size) and a PNG's
pixel size, and says so.

The figures are sized for the book's page: 400 to 450 CSS pixels wide at their natural size, text at
16 px or more, so that it stays above 11 px when a phone shrinks the figure to the 312 pixels the
page gives it on a 360-pixel-wide screen. They sit on a white rounded panel, readable in the
website's light and dark themes alike (the dark theme dims images but keeps them on white). Before
writing, every drawing checks its own layout: each label inside the panel and inside its box, no
two labels overlapping.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "book" / "figures"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(ROOT))

# Sizes are CSS pixels at the figure's natural size: 96 per inch, so a 1-inch figure is 96 px wide
# and a font of N px is N * 0.75 points.
DPI = 96
PNG_DPI = 2 * DPI     # the PNG has two pixels per CSS pixel each way: sharp on high-density screens
TEXT_PX = 16          # every label; the smallest text of every figure
TITLE_PX = 17
PHONE_COLUMN_PX = 312  # the width a figure gets on a 360-pixel-wide phone (sphinx-book-theme)
MINIMUM_PHONE_TEXT_PX = 11

INK = "#1f2328"        # text and arrows: dark on the white panel
MUTED = "#4b5563"      # tensor shapes (contrast 7.6:1 on white)
BRANCH_FILL, BRANCH_EDGE = "#dbeafe", "#1d4ed8"          # the residual branch: blue
SHORTCUT_INK, SHORTCUT_FILL = "#c2410c", "#ffedd5"        # the skip path: orange, and dashed for who cannot tell the colours apart
NEUTRAL_FILL, NEUTRAL_EDGE = "#f3f4f6", "#6b7280"         # stem, pooling, head, final ReLU
PANEL_EDGE = "#d0d7de"


#: Matplotlib settings of every drawing, applied only while drawing (`rc_context`).
MATPLOTLIB_SETTINGS = {
    "svg.fonttype": "none",         # text stays text: searchable, sharp, small; the reader's sans-serif if no DejaVu
    "svg.hashsalt": "resnet-book",  # fixed ids, so the same drawing gives the same bytes
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # Matplotlib's own font: the same text metrics everywhere
    "font.size": TEXT_PX * 0.75,
}


# ---------------------------------------------------------------------------------------------
# What the library builds


def _shape(tensor) -> str:
    return "×".join(str(size) for size in tensor.shape[1:])


def _layer_words(layer, filters=True) -> str:
    """A layer in the words of the figures: `1×1 conv, 64`, `stride 2`, `BN`, `ReLU`, ..."""
    from keras import layers

    if isinstance(layer, layers.Conv2D):
        height, width = layer.kernel_size
        words = f"{height}×{width} conv" + (f", {layer.filters}" if filters else "")
        return words + (f"|stride {layer.strides[0]}" if layer.strides[0] != 1 else "")
    if isinstance(layer, layers.BatchNormalization):
        return "BN"
    if isinstance(layer, layers.Activation) and layer.get_config()["activation"] == "relu":
        return "ReLU"
    if isinstance(layer, layers.Add):
        return "add"
    raise ValueError(f"no words for layer {layer.name} ({type(layer).__name__})")


def _box_lines(model_layers, filters=True) -> list[str]:
    """The text of one box: the convolution on the first line(s), what follows it on the last."""
    words = [_layer_words(layer, filters) for layer in model_layers]
    first = words[0].split("|")
    return first + ([", ".join(words[1:])] if len(words) > 1 else [])


def _chain(model, names) -> list:
    return [model.get_layer(name) for name in names]


def read_library() -> dict:
    """Everything the figures show, read from models that resnet_lib builds."""
    import resnet_lib  # noqa: F401  (first: it switches on TensorFlow's oneDNN kernels)
    import keras

    facts = {}

    # Chapter 2: a block of the plain and residual networks that chapter compares (build_network),
    # the first block of the first stage, where the shape stays and the shortcut is the identity.
    for kind, residual in (("plain", False), ("residual", True)):
        keras.backend.clear_session()
        model = resnet_lib.build_network(8, residual=residual, input_shape=(16, 16, 3))
        body = [layer for layer in model.layers if layer.name.startswith("stage1_block1_")]
        names = [type(layer).__name__ for layer in body]
        second_conv = [index for index, name in enumerate(names) if name == "Conv2D"][1]
        if residual:
            add = names.index("Add")
            facts[kind] = {"branch": [_box_lines(body[:second_conv], False), _box_lines(body[second_conv:add], False)],
                           "after_add": _box_lines(body[add + 1:])}
        else:
            facts[kind] = {"branch": [_box_lines(body[:second_conv], False), _box_lines(body[second_conv:], False)]}

    # Chapters 3 to 5: ResNet50 as the paper sizes it, and as chapter 5 builds it for SIGNS.
    keras.backend.clear_session()
    paper = resnet_lib.resnet50(input_shape=(224, 224, 3), num_classes=1000)
    keras.backend.clear_session()
    signs = resnet_lib.resnet50(input_shape=(64, 64, 3), num_classes=6)

    def block(prefix, projection):
        branch = [_chain(paper, [f"{prefix}_{i}_conv", f"{prefix}_{i}_bn"] + ([f"{prefix}_{i}_relu"] if i < 3 else []))
                  for i in (1, 2, 3)]
        facts_block = {
            "name": prefix,
            "input": _shape(paper.get_layer(f"{prefix}_1_conv").input),
            "branch": [_box_lines(layers_) for layers_ in branch],
            "branch_shapes": [_shape(layers_[-1].output) for layers_ in branch],
            "add": _shape(paper.get_layer(f"{prefix}_add").output),
            "output": _shape(paper.get_layer(f"{prefix}_out").output),
        }
        if projection:
            shortcut = _chain(paper, [f"{prefix}_0_conv", f"{prefix}_0_bn"])
            facts_block["shortcut"] = _box_lines(shortcut)
            facts_block["shortcut_shape"] = _shape(shortcut[-1].output)
        return facts_block

    facts["identity"] = block("conv2_block2", projection=False)
    facts["convolutional"] = block("conv3_block1", projection=True)

    stem_conv = paper.get_layer("conv1_conv")
    pool = paper.get_layer("pool1_pool")
    rows = [
        {"lines": ["input image"], "kind": "input",
         "sizes": [_shape(model.input) for model in (paper, signs)]},
        {"lines": [f"conv1: {stem_conv.kernel_size[0]}×{stem_conv.kernel_size[1]} conv, {stem_conv.filters}",
                   f"stride {stem_conv.strides[0]}, BN, ReLU"], "kind": "neutral",
         "sizes": [_shape(model.get_layer("conv1_relu").output) for model in (paper, signs)]},
        {"lines": [f"{pool.pool_size[0]}×{pool.pool_size[1]} max pool", f"stride {pool.strides[0]}"], "kind": "neutral",
         "sizes": [_shape(model.get_layer("pool1_pool").output) for model in (paper, signs)]},
    ]
    for stage, filters, blocks, _ in resnet_lib.RESNET50_STAGES:
        last = f"conv{stage}_block{blocks}_out"
        first_convs = [paper.get_layer(f"conv{stage}_block1_{i}_conv") for i in (1, 2, 3)]
        rows.append({
            "lines": [f"conv{stage}_x ×{blocks}", "filters " + ", ".join(str(conv.filters) for conv in first_convs)],
            "kind": "stage", "blocks": blocks,
            "sizes": [_shape(model.get_layer(last).output) for model in (paper, signs)],
        })
    rows.append({"lines": ["global average pool"], "kind": "neutral",
                 "sizes": [_shape(model.get_layer("avg_pool").output) for model in (paper, signs)]})
    rows.append({"lines": ["dense, softmax"], "kind": "neutral",
                 "sizes": [_shape(model.get_layer("predictions").output) for model in (paper, signs)]})
    facts["resnet50"] = {"rows": rows, "inputs": [paper.input.shape[1], signs.input.shape[1]]}
    keras.backend.clear_session()
    return facts


# ---------------------------------------------------------------------------------------------
# Drawing


class Canvas:
    """A figure in CSS-pixel coordinates, y pointing down, on a white rounded panel."""

    def __init__(self, width: int, height: int):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyBboxPatch

        self.width, self.height = width, height
        # A bare Figure, not pyplot: no backend is switched and nothing is left open.
        self.figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
        FigureCanvasAgg(self.figure)
        self.figure.patch.set_alpha(0)
        self.axes = self.figure.add_axes((0, 0, 1, 1))
        self.axes.set_xlim(0, width)
        self.axes.set_ylim(height, 0)
        self.axes.set_axis_off()
        self.texts = []   # (text artist, the box it must fit in or None)
        self.boxes = []   # (left, top, width, height) of every box
        self.marks = []   # small shapes no text may touch, inside a box or not
        self.panel = FancyBboxPatch((1, 1), width - 2, height - 2, boxstyle="round,pad=0,rounding_size=12",
                                    facecolor="white", edgecolor=PANEL_EDGE, linewidth=1)
        self.axes.add_patch(self.panel)

    def set_height(self, height: int):
        """Ends the figure at `height` pixels (drawings are laid out from the top)."""
        self.height = height
        self.figure.set_size_inches(self.width / DPI, height / DPI)
        self.axes.set_ylim(height, 0)
        self.panel.set_height(height - 2)

    def text(self, x, y, string, *, size=TEXT_PX, color=INK, ha="center", va="center", weight="normal",
             style="normal", rotation=0, inside=None):
        artist = self.axes.text(x, y, string, fontsize=size * 0.75, color=color, ha=ha, va=va,
                                fontweight=weight, fontstyle=style, rotation=rotation)
        self.texts.append((artist, inside))
        return artist

    def box(self, cx, top, width, lines, *, fill=BRANCH_FILL, edge=BRANCH_EDGE, bold_first=False,
            line_height=21, padding=8, align="center"):
        """A rounded box with one text line per entry of `lines`; returns its bottom y."""
        from matplotlib.patches import FancyBboxPatch

        height = line_height * len(lines) + 2 * padding
        bounds = (cx - width / 2, top, width, height)
        self.boxes.append(bounds)
        self.axes.add_patch(FancyBboxPatch(bounds[:2], width, height, boxstyle="round,pad=0,rounding_size=6",
                                           facecolor=fill, edgecolor=edge, linewidth=1.5))
        for index, line in enumerate(lines):
            x = cx if align == "center" else cx - width / 2 + 10
            self.text(x, top + padding + line_height * (index + 0.5), line, inside=bounds, ha=align,
                      weight="bold" if bold_first and index == 0 else "normal")
        return top + height

    def arrow(self, points, *, color=INK, width=1.6, dashed=False, head=True):
        from matplotlib.patches import FancyArrowPatch
        from matplotlib.path import Path as MplPath

        path = MplPath(points, [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 1))
        self.axes.add_patch(FancyArrowPatch(
            path=path, arrowstyle="-|>,head_length=7,head_width=4" if head else "-", mutation_scale=1,
            color=color, linewidth=width, linestyle=(0, (6, 3)) if dashed else "solid",
            joinstyle="round", capstyle="butt", shrinkA=0, shrinkB=0))

    def dot(self, x, y, color=INK):
        from matplotlib.patches import Circle

        self.axes.add_patch(Circle((x, y), 3.5, facecolor=color, edgecolor="none"))

    def plus(self, cx, cy, radius=12):
        """The addition node ⊕, drawn (not a font glyph, which a reader's font might lack)."""
        from matplotlib.patches import Circle

        self.axes.add_patch(Circle((cx, cy), radius, facecolor="white", edgecolor=INK, linewidth=1.6))
        arm = radius * 0.6
        self.axes.plot([cx - arm, cx + arm], [cy, cy], color=INK, linewidth=1.6, solid_capstyle="butt")
        self.axes.plot([cx, cx], [cy - arm, cy + arm], color=INK, linewidth=1.6, solid_capstyle="butt")

    def check_layout(self):
        """Every text inside the panel and its own box, out of every other box, and no two texts overlapping."""
        renderer = self.figure.canvas.get_renderer()
        extents = []
        for artist, inside in self.texts:
            # Display coordinates have y up; turn them into the canvas's CSS pixels, y down.
            box = artist.get_window_extent(renderer)
            left, right, top, bottom = box.x0, box.x1, self.height - box.y1, self.height - box.y0
            label = artist.get_text()
            if left < 6 or top < 6 or right > self.width - 6 or bottom > self.height - 6:
                raise AssertionError(f"text {label!r} leaves the panel: {left:.0f}..{right:.0f} × {top:.0f}..{bottom:.0f}")
            if inside is not None:
                x, y, width, height = inside
                if left < x + 4 or right > x + width - 4 or top < y or bottom > y + height:
                    raise AssertionError(f"text {label!r} does not fit its box ({right - left:.0f} px wide, box {width} px)")
            else:
                for x, y, width, height in self.boxes:
                    if left < x + width and x < right and top < y + height and y < bottom:
                        raise AssertionError(f"text {label!r} runs into a box")
            for x, y, width, height in self.marks:
                if left < x + width + 4 and x - 4 < right and top < y + height and y < bottom:
                    raise AssertionError(f"text {label!r} runs into a mark at x={x}")
            extents.append((label, left, right, top, bottom))
        for (a, *ea), (b, *eb) in itertools.combinations(extents, 2):
            if ea[0] < eb[1] and eb[0] < ea[1] and ea[2] < eb[3] and eb[2] < ea[3]:
                raise AssertionError(f"texts {a!r} and {b!r} overlap")

    def svg(self, height=None) -> "Drawing":
        """The figure as SVG, `height` pixels high if given (else as created), with its PNG (`.png`)."""
        import io

        if height is not None:
            self.set_height(round(height))
        self.check_layout()
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="svg", facecolor="none", metadata={"Date": None})
        png = io.BytesIO()
        self.figure.savefig(png, format="png", dpi=PNG_DPI, facecolor="none")
        return Drawing(buffer.getvalue(), png=png.getvalue())


class Drawing(bytes):
    """A drawing's SVG bytes, with the same drawing as PNG bytes in `.png` (twice the SVG's size)."""

    def __new__(cls, svg: bytes, *, png: bytes):
        drawing = super().__new__(cls, svg)
        drawing.png = png
        return drawing


def draw_plain_vs_residual(facts) -> bytes:
    """Chapter 2: the plain two-layer block beside the residual one, y = ReLU(F(x) + x)."""
    canvas = Canvas(440, 800)
    plain_x, residual_x, skip_x, box_width = 95, 290, 405, 130
    canvas.text(plain_x, 28, "plain block", size=TITLE_PX, weight="bold")
    canvas.text(residual_x + 30, 28, "residual block", size=TITLE_PX, weight="bold")
    input_y, fork_y = 64, 84

    def branch(column, boxes):
        canvas.text(column, input_y, "x", style="italic", size=TITLE_PX)
        bottom = fork_y - 10
        for lines in boxes:
            canvas.arrow([(column, bottom), (column, bottom + 24)])
            bottom = canvas.box(column, bottom + 24, box_width, lines)
        return bottom

    # Residual: two layers as the branch F(x), the identity beside them, added, then ReLU.
    branch_top = fork_y + 14
    branch_bottom = branch(residual_x, facts["residual"]["branch"])
    canvas.dot(residual_x, fork_y)
    plus_y = branch_bottom + 36
    canvas.arrow([(residual_x, branch_bottom), (residual_x, plus_y - 12)])
    canvas.plus(residual_x, plus_y)
    canvas.arrow([(residual_x, fork_y), (skip_x, fork_y), (skip_x, plus_y), (residual_x + 12, plus_y)],
                 color=SHORTCUT_INK, width=2.2, dashed=True)
    canvas.text(skip_x + 16, (fork_y + plus_y) / 2, "identity: x", color=SHORTCUT_INK, rotation=-90, weight="bold")
    bracket_x = residual_x - box_width / 2 - 10
    canvas.arrow([(bracket_x + 5, branch_top), (bracket_x, branch_top), (bracket_x, branch_bottom),
                  (bracket_x + 5, branch_bottom)], color=BRANCH_EDGE, head=False, width=1.4)
    canvas.text(bracket_x - 6, (branch_top + branch_bottom) / 2, "F(x)", style="italic", ha="right",
                color=BRANCH_EDGE, weight="bold")
    canvas.text(residual_x - 20, plus_y, "F(x) + x", style="italic", ha="right")
    relu_top = plus_y + 12 + 16
    canvas.arrow([(residual_x, plus_y + 12), (residual_x, relu_top)])
    bottom = canvas.box(residual_x, relu_top, 80, facts["residual"]["after_add"], fill=NEUTRAL_FILL,
                        edge=NEUTRAL_EDGE, line_height=19, padding=5)
    output_y = bottom + 32
    canvas.arrow([(residual_x, bottom), (residual_x, output_y - 20)])
    canvas.text(residual_x, output_y, "y = ReLU(F(x) + x)", style="italic", size=TITLE_PX)

    # Plain: the same two layers, nothing else; its output level with the residual block's.
    bottom = branch(plain_x, facts["plain"]["branch"])
    canvas.arrow([(plain_x, bottom), (plain_x, output_y - 20)])
    canvas.text(plain_x, output_y, "y = H(x)", style="italic", size=TITLE_PX)
    return canvas.svg(height=output_y + 28)


def _block_top(canvas, block, cx):
    """Title, subtitle and input of a bottleneck block figure; returns the y of the fork."""
    canvas.text(canvas.width / 2, 28, f"{block['kind']} block {block['name']}", size=TITLE_PX, weight="bold")
    canvas.text(canvas.width / 2, 51, "in ResNet50, 224×224 input", color=MUTED)
    canvas.text(cx, 84, f"x: {block['input']}", style="italic")
    canvas.arrow([(cx, 95), (cx, 122)])
    canvas.dot(cx, 104)
    return 104


def _bottleneck(canvas, block, cx, top, box_width):
    """The branch of a bottleneck block from `top` down, with the shape after each step; returns
    the y of the ⊕ below it."""
    bottom = top
    for lines, shape in zip(block["branch"], block["branch_shapes"]):
        bottom = canvas.box(cx, bottom, box_width, lines)
        canvas.arrow([(cx, bottom), (cx, bottom + 32)])  # the last one ends on the ⊕
        canvas.text(cx + 12, bottom + 16, shape, color=MUTED, ha="left")
        bottom += 32
    return bottom + 12


def _block_bottom(canvas, block, cx, plus_y):
    """The ⊕'s shape, the final ReLU and the output; returns the figure's height."""
    canvas.text(cx + 22, plus_y, block["add"], color=MUTED, ha="left")
    relu_top = plus_y + 12 + 18
    canvas.arrow([(cx, plus_y + 12), (cx, relu_top)])
    bottom = canvas.box(cx, relu_top, 80, ["ReLU"], fill=NEUTRAL_FILL, edge=NEUTRAL_EDGE, line_height=19, padding=5)
    canvas.arrow([(cx, bottom), (cx, bottom + 24)])
    canvas.text(cx, bottom + 40, f"y: {block['output']}", style="italic")
    return bottom + 66


def _bottleneck_figure(facts, kind, *, width, cx):
    """A canvas with the block's input, its three-convolution branch and the ⊕ drawn at column `cx`.

    Returns:
        (canvas, block facts, y of the fork where the shortcut leaves, y of the ⊕).
    """
    block = dict(facts[kind], kind=kind)
    canvas = Canvas(width, 800)
    fork_y = _block_top(canvas, block, cx)
    plus_y = _bottleneck(canvas, block, cx, 122, 170)
    canvas.plus(cx, plus_y)
    return canvas, block, fork_y, plus_y


def draw_identity_block(facts) -> bytes:
    """Chapter 3: the bottleneck identity block with the tensor shape after every step."""
    canvas, block, fork_y, plus_y = _bottleneck_figure(facts, "identity", width=400, cx=215)
    cx, skip_x = 215, 48
    canvas.arrow([(cx, fork_y), (skip_x, fork_y), (skip_x, plus_y), (cx - 12, plus_y)],
                 color=SHORTCUT_INK, width=2.2, dashed=True)
    canvas.text(skip_x - 16, (fork_y + plus_y) / 2, "identity: x", color=SHORTCUT_INK, rotation=90, weight="bold")
    return canvas.svg(height=_block_bottom(canvas, block, cx, plus_y))


def draw_convolutional_block(facts) -> bytes:
    """Chapter 4: the convolutional block, its strided branch and its projection shortcut."""
    canvas, block, fork_y, plus_y = _bottleneck_figure(facts, "convolutional", width=440, cx=290)
    cx, shortcut_x = 290, 82
    # The projection shortcut: down the left, through its own convolution and batch norm.
    canvas.text(shortcut_x + 10, fork_y + 24, "projection", color=SHORTCUT_INK, weight="bold", ha="left")
    canvas.text(shortcut_x + 10, fork_y + 45, "shortcut", color=SHORTCUT_INK, weight="bold", ha="left")
    shortcut_top = fork_y + 66
    canvas.arrow([(cx, fork_y), (shortcut_x, fork_y), (shortcut_x, shortcut_top)], color=SHORTCUT_INK, width=2.2,
                 dashed=True)
    bottom = canvas.box(shortcut_x, shortcut_top, 132, block["shortcut"], fill=SHORTCUT_FILL, edge=SHORTCUT_INK)
    canvas.arrow([(shortcut_x, bottom), (shortcut_x, plus_y), (cx - 12, plus_y)], color=SHORTCUT_INK, width=2.2,
                 dashed=True)
    canvas.text(shortcut_x + 10, bottom + 24, block["shortcut_shape"], color=MUTED, ha="left")
    return canvas.svg(height=_block_bottom(canvas, block, cx, plus_y))


def draw_resnet50_stages(facts) -> bytes:
    """Chapter 5: ResNet50 from image to class probabilities, each step's output at both input sizes."""
    network = facts["resnet50"]
    canvas = Canvas(450, 1200)
    box_x, box_width = 12, 200
    columns = (282, 392)
    canvas.text(canvas.width / 2, 28, "ResNet50: the output of each step", size=TITLE_PX, weight="bold")
    for column, size, label in zip(columns, network["inputs"], ("paper", "chapter 5")):
        canvas.text(column, 64, f"{size}×{size}", weight="bold")
        canvas.text(column, 85, label, color=MUTED)
    canvas.text(box_x + 10, 64, "input size", color=MUTED, ha="left")
    top = 104
    for index, row in enumerate(network["rows"]):
        fill, edge = {"stage": (BRANCH_FILL, BRANCH_EDGE), "input": ("white", NEUTRAL_EDGE)}.get(
            row["kind"], (NEUTRAL_FILL, NEUTRAL_EDGE))
        bottom = canvas.box(box_x + box_width / 2, top, box_width, row["lines"], fill=fill, edge=edge,
                            bold_first=row["kind"] == "stage", align="left")
        if row["kind"] == "stage":
            # One mark per block: the convolutional block first (orange), then the identity blocks (blue).
            for block in range(row["blocks"]):
                _block_mark(canvas, box_x + box_width - 7 - 12 * (row["blocks"] - block), top + 10, block == 0)
        for column, size in zip(columns, row["sizes"]):
            canvas.text(column, (top + bottom) / 2, size)
        if index < len(network["rows"]) - 1:
            canvas.arrow([(box_x + box_width / 2, bottom), (box_x + box_width / 2, bottom + 20)])
        top = bottom + 20
    legend_y = top + 14
    _block_mark(canvas, 20, legend_y - 8, True)
    canvas.text(36, legend_y, "convolutional block", ha="left")
    _block_mark(canvas, 240, legend_y - 8, False)
    canvas.text(256, legend_y, "identity block", ha="left")
    return canvas.svg(height=legend_y + 26)


def _block_mark(canvas, x, top, convolutional):
    from matplotlib.patches import FancyBboxPatch

    canvas.marks.append((x, top, 9, 16))
    canvas.axes.add_patch(FancyBboxPatch(
        (x, top), 9, 16, boxstyle="round,pad=0,rounding_size=2",
        facecolor=SHORTCUT_FILL if convolutional else "white",
        edgecolor=SHORTCUT_INK if convolutional else BRANCH_EDGE, linewidth=1.3))


#: file name -> drawing function; the chapters show each file (tests/test_figures.py checks).
DRAWINGS = {
    "plain_vs_residual_block.svg": draw_plain_vs_residual,
    "identity_block.svg": draw_identity_block,
    "convolutional_block.svg": draw_convolutional_block,
    "resnet50_stages.svg": draw_resnet50_stages,
}


def png_name(svg_name: str) -> str:
    """The file name of a drawing's PNG: "identity_block.svg" -> "identity_block.png"."""
    return svg_name.removesuffix(".svg") + ".png"


def draw_all() -> dict[str, bytes]:
    """Every figure by file name: each drawing of `DRAWINGS` as SVG, and as PNG under `png_name`."""
    import matplotlib

    facts = read_library()
    with matplotlib.rc_context(MATPLOTLIB_SETTINGS):
        drawings = {name: draw(facts) for name, draw in DRAWINGS.items()}
    return {**{name: bytes(svg) for name, svg in drawings.items()},
            **{png_name(name): svg.png for name, svg in drawings.items()}}


# ---------------------------------------------------------------------------------------------
# Writing and checking


def drawn_by(drawing: bytes) -> str | None:
    """The Matplotlib version that drew an SVG or a PNG, from its metadata."""
    match = re.search(rb"Matplotlib v(?:ersion)?([0-9][^,<\s\x00]*)", drawing)
    return match.group(1).decode() if match else None


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels of a PNG, from its header."""
    import struct

    return struct.unpack(">II", png[16:24])


def texts(svg: bytes) -> list[str]:
    """Every label of an SVG, in order: what a figure says, whichever Matplotlib drew it."""
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.fromstring(svg)
    return ["".join(element.itertext()) for element in root.iter("{http://www.w3.org/2000/svg}text")]


def differences(committed_folder: Path, drawn: dict[str, bytes]) -> list[str]:
    """What differs between the files in `committed_folder` and `drawn`, one line per file; [] if none.

    Byte for byte when the committed file was drawn by the installed Matplotlib; otherwise (another
    version writes other bytes for the same drawing) its labels and sizes are compared.
    """
    import matplotlib

    problems = []
    for name, svg in drawn.items():
        path = committed_folder / name
        if not path.exists():
            problems.append(f"{name}: missing")
            continue
        committed = path.read_bytes()
        if committed == svg:
            continue
        version = drawn_by(committed)
        if version != matplotlib.__version__:
            if name.endswith(".png"):
                if png_size(committed) != png_size(svg):
                    problems.append(f"{name}: its size differs from what the code draws now")
                else:
                    print(f"note: {name} was drawn with Matplotlib {version}, this is {matplotlib.__version__}: "
                          "compared its size only", file=sys.stderr)
            elif texts(committed) != texts(svg):
                problems.append(f"{name}: its labels differ from what the code draws now")
            else:
                print(f"note: {name} was drawn with Matplotlib {version}, this is {matplotlib.__version__}: "
                      "compared its labels and sizes only", file=sys.stderr)
            continue
        problems.append(f"{name}: differs from what the code draws now")
    extra = sorted(path.name for pattern in ("*.svg", "*.png") for path in committed_folder.glob(pattern)
                   if path.name not in drawn)
    problems += [f"{name}: no code draws it" for name in extra]
    return problems


def write(folder: Path, drawn: dict[str, bytes]) -> None:
    """Writes the figures that changed, each atomically, readable by all like any file of the book."""
    from resnet_lib.files import write_atomically

    umask = os.umask(0)
    os.umask(umask)
    for name, svg in drawn.items():
        path = folder / name
        if not path.exists() or path.read_bytes() != svg:
            write_atomically(path, svg)
            path.chmod(0o666 & ~umask)  # the temporary file it was is private (0600)
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a figure in the folder differs from what the code draws")
    parser.add_argument("--folder", type=Path, default=FIGURES, help="where the figures are (default: book/figures)")
    arguments = parser.parse_args(argv)
    drawn = draw_all()
    if arguments.check:
        problems = differences(arguments.folder, drawn)
        for problem in problems:
            print(f"{arguments.folder}/{problem}", file=sys.stderr)
        if problems:
            print("Draw them again with: python tools/draw_figures.py", file=sys.stderr)
        return 1 if problems else 0
    write(arguments.folder, drawn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
