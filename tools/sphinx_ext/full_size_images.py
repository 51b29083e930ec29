"""Sphinx extension: an image shown smaller than it is opens at full size when clicked.

Sphinx links an image to its file only when the page gives it a size (`html_scaled_image_link`).
A cell's output image without a size (a `keras.utils.plot_model` diagram, a wide matplotlib figure)
is shrunk to the text column by the theme's CSS instead, and its labels become too small to read,
with no way to see them larger. This wraps every raster image wider than a phone's text column in a
link to the image file, as Sphinx does for sized images (tests/test_browser.py checks that every
image shown smaller than it is can be opened).
"""

from __future__ import annotations

import os
import posixpath

from docutils import nodes

#: The text column of sphinx-book-theme on a 390 px phone, in CSS pixels (684 at 1280 px); a wider
#: image is shrunk to it.
COLUMN_WIDTH = 340


def _pixel_width(app, uri: str) -> int | None:
    from sphinx.util.images import get_image_size

    size = get_image_size(os.path.join(app.srcdir, uri))
    return size[0] if size else None


def _link_large_images(app, doctree, docname):
    if app.builder.format != "html":
        return
    from sphinx.util.osutil import relative_uri

    images_folder = relative_uri(app.builder.get_target_uri(docname), app.builder.imagedir)
    for image in list(doctree.findall(nodes.image)):
        if isinstance(image.parent, nodes.reference) or any(key in image for key in ("scale", "width", "height")):
            continue  # already a link, or sized: Sphinx links it itself
        uri = image["uri"]
        if uri.endswith(".svg") or "://" in uri or uri not in app.env.images:
            continue  # SVG scales without losing detail; remote images are not the book's
        width = _pixel_width(app, uri)
        if width is None or width <= COLUMN_WIDTH:
            continue
        reference = nodes.reference("", "", internal=True, classes=["full-size-image"],
                                    refuri=posixpath.join(images_folder, app.env.images[uri][1]))
        image.replace_self(reference)
        reference.append(image)


def setup(app):
    app.connect("doctree-resolved", _link_large_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
