"""The explorers' figures as HTML: panel sizes and style, figure to small PNG in an <img> with alt text, and back.

Every panel has a fixed size in CSS pixels (`PANEL_SIZES`, `LANDSCAPE_PANEL_SIZES`) and fixed margins,
so the axes never move when a control switches figures; `panel_axes` makes its figure at 72 points
per displayed inch, `figure_to_png` draws it at `pixel_ratio` times that, reduced to a small palette,
and `figure_html` shows it as an <img> with the alt text a screen reader reads. `figure_png` and
`figure_alt` read an explorer's figure back (for tests and checks).
"""

from __future__ import annotations

import io

#: Display width of every panel, in CSS pixels: two side by side (with their 2 px margins) fit the
#: website's 688 px text column, and one fits a phone's 358 px column without shrinking.
PANEL_WIDTH = 336
#: Display size (width, height) in CSS pixels of each panel, by name: "curves" (metric per epoch),
#: "finals" (last epoch against depth), "gradients" (per-layer gradient norms of one kind).
PANEL_SIZES = {"curves": (PANEL_WIDTH, 264), "finals": (PANEL_WIDTH, 264), "gradients": (PANEL_WIDTH, 264)}
#: Margins (left, right, top, bottom) of each panel's Axes, in CSS pixels: fixed, so the axes never
#: move when a control switches figures. Top: the legend row (and title); right of "curves": depth labels.
PANEL_MARGINS = {"curves": (50, 24, 24, 40), "finals": (50, 10, 24, 40), "gradients": (52, 10, 44, 40)}
#: The landscape explorer's panels, as `PANEL_SIZES`: "surface" (a loss or accuracy surface, its Axes
#: square with the colour bar right of them), "interpolation" (loss or accuracy from the initial to the
#: trained weights), "lesions" (accuracy after deleting blocks). All as tall, so switching views
#: never moves what is below the explorer.
LANDSCAPE_PANEL_SIZES = {"surface": (PANEL_WIDTH, 292), "interpolation": (PANEL_WIDTH, 292),
                         "lesions": (PANEL_WIDTH, 292)}
#: Margins of the landscape panels' Axes, as `PANEL_MARGINS`. Right of "surface": the colour bar and its
#: labels; top of "surface": the title and the non-convex points' legend; of "lesions": two legend rows.
LANDSCAPE_PANEL_MARGINS = {"surface": (56, 54, 26, 40), "interpolation": (54, 10, 24, 40),
                           "lesions": (50, 10, 44, 40)}
#: Matplotlib style of the explorer's figures, in points = CSS pixels at display size (the legend and
#: the depth labels are "small": 5/6 of font.size).
FIGURE_STYLE = {"font.size": 12.5, "axes.labelsize": 12, "axes.titlesize": 12.5, "xtick.labelsize": 11.5,
                "ytick.labelsize": 11.5, "savefig.facecolor": "white", "figure.facecolor": "white"}
#: Colours of the palette each PNG is reduced to (lines, bands and anti-aliased text need no more).
PNG_COLORS = 64
#: The palette of the landscape explorer's surfaces: some 30 contour bands of the colour map, and the colour
#: bar's, lose their order in 64 colours.
SURFACE_PNG_COLORS = 128


def figure_to_png(figure, dpi: int = 72, colors: int = 256) -> bytes:
    """The figure as PNG bytes, reduced to a palette of `colors` colours to keep pages small; closes it.

    Args:
        figure: a matplotlib Figure (from pyplot or `matplotlib.figure.Figure`).
        dpi: pixels per inch of the PNG: width in pixels = figure width in inches * dpi.
        colors: size of the palette, 2 to 256.

    Returns:
        The PNG file's bytes.

    Raises:
        ValueError: `colors` is outside 2 .. 256.
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from PIL import Image

    if not 2 <= colors <= 256:
        raise ValueError(f"`colors` must be 2 to 256 (a PNG palette), received {colors!r}.")
    # Raw RGBA pixels, not a PNG: the palette image below is the one that is encoded (the same pixels either way).
    buffer = io.BytesIO()
    with matplotlib.rc_context({"savefig.bbox": "standard"}):  # the whole figure, whatever the reader's settings
        figure.savefig(buffer, format="rgba", dpi=dpi)
    width, height = (int(inches * dpi) for inches in figure.get_size_inches())  # as the Agg canvas sizes itself
    plt.close(figure)
    if len(buffer.getvalue()) != 4 * width * height:  # a backend that sizes its canvas otherwise
        raise RuntimeError(f"matplotlib drew {len(buffer.getvalue())} bytes of pixels, not the {width}x{height} "
                           f"RGBA image of a {figure.get_size_inches()} inch figure at {dpi} dpi.")
    image = Image.frombuffer("RGBA", (width, height), buffer.getvalue(), "raw", "RGBA", 0, 1)
    image = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    small = io.BytesIO()
    image.save(small, format="png", optimize=True)
    return small.getvalue()


def figure_html(png: bytes, alt: str, size: tuple[int, int]) -> str:
    """An <img> of the PNG, with its alt text, displayed at `size` (CSS pixels) and never wider than its box.

    Args:
        png: the PNG's bytes (drawn at `pixel_ratio` times `size`).
        alt: what the figure shows, for readers who cannot see it (a screen reader reads it).
        size: (width, height) of the panel in CSS pixels.
    """
    import base64
    import html

    width, height = size
    source = base64.b64encode(png).decode("ascii")
    return (f'<img src="data:image/png;base64,{source}" alt="{html.escape(alt, quote=True)}" width="{width}" '
            f'height="{height}" style="max-width: 100%; height: auto; display: block">')


def figure_png(widget) -> bytes:
    """The PNG bytes of an explorer figure (`figure_html`'s widget)."""
    import base64
    import re

    return base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', widget.value).group(1))


def figure_alt(widget) -> str:
    """The alt text of an explorer figure (`figure_html`'s widget)."""
    import html
    import re

    return html.unescape(re.search(r' alt="([^"]*)"', widget.value).group(1))


def panel_axes(name: str):
    """A new figure of the panel `name` (a key of `PANEL_SIZES` or `LANDSCAPE_PANEL_SIZES`) and its Axes,
    at the fixed margins.

    The figure measures `PANEL_SIZES[name]` / 72 inches, so at 72 dpi it has one pixel per CSS pixel
    of its display size and a font of n points is n pixels; it is not registered with pyplot (it is
    never shown by a notebook on its own).

    Returns:
        The matplotlib Axes; its figure is `ax.figure`.

    Raises:
        ValueError: `name` is not a key of `PANEL_SIZES` or `LANDSCAPE_PANEL_SIZES`.
    """
    from matplotlib.figure import Figure

    sizes, margins = {**PANEL_SIZES, **LANDSCAPE_PANEL_SIZES}, {**PANEL_MARGINS, **LANDSCAPE_PANEL_MARGINS}
    if name not in sizes:
        raise ValueError(f"`name` must be one of the panels {list(PANEL_SIZES)} (depth explorer) or "
                         f"{list(LANDSCAPE_PANEL_SIZES)} (landscape explorer), received {name!r}.")
    (width, height), (left, right, top, bottom) = sizes[name], margins[name]
    figure = Figure(figsize=(width / 72, height / 72), dpi=72)
    return figure.add_axes((left / width, bottom / height, 1 - (left + right) / width, 1 - (top + bottom) / height))
