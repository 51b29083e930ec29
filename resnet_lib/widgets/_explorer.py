"""What both explorers share: their controls' style, the choice of mode (kernel-free or live), the pre-drawn views.

`PrerenderedExplorer` holds the PNGs of the views, the widgets that show them (in nested Stacks
switched in the browser, kernel-free; or one view redrawn from Python, live) and their shared
Layouts; `DepthExplorer` and `LandscapeExplorer` say what each view draws.
"""

from __future__ import annotations

from resnet_lib import sweep as sweeps
from resnet_lib.widgets._figures import PANEL_SIZES, PNG_COLORS, figure_html, figure_to_png

#: The options of the plain/residual/both control, each with the kinds of network it shows (`sweep.KINDS`).
KIND_OPTIONS = {**{kind: (kind,) for kind in sweeps.KINDS}, "both": sweeps.KINDS}

#: Style of every control's description: one width, so that the controls line up.
CONTROL_LABEL = {"description_width": "66px"}
#: Layout of a row of toggle buttons: the description beside its buttons, right-aligned like the others'
#: (ipywidgets 8 puts it on a line of its own), the buttons below it only where the row is too narrow.
CONTROL_ROW = {"display": "flex", "flex_flow": "row wrap", "align_items": "center", "max_width": "100%"}


def is_kernel_free(widgets, kernel_free, name: str) -> bool:
    """Whether an explorer is drawn in advance and switched in the browser (True) or switched by Python.

    `kernel_free=None` picks by what the installed ipywidgets can do: True from ipywidgets 8 (its Stack
    widget), False before. `kernel_free=True` with ipywidgets 7 raises a RuntimeError that says what to do.
    """
    if kernel_free is None:
        return hasattr(widgets, "Stack")
    if kernel_free not in (True, False):
        raise ValueError(f"`kernel_free` must be True, False or None (pick by the ipywidgets version), "
                         f"received {kernel_free!r}.")
    if kernel_free and not hasattr(widgets, "Stack"):
        raise RuntimeError(
            f"{name}(kernel_free=True) needs ipywidgets 8 or newer (its Stack widget), but this kernel runs "
            f"ipywidgets {widgets.__version__}. Leave out `kernel_free` (the explorer then switches its figures "
            "from Python), or run `pip install 'ipywidgets>=8'` and restart the kernel."
        )
    return kernel_free


def toggle_buttons(widgets, options, value, description: str, button_width: str, *, disabled: bool = False):
    """ToggleButtons in the explorers' style: description beside the buttons (`CONTROL_ROW`)."""
    toggle = widgets.ToggleButtons(options=options, value=value, description=description, disabled=disabled,
                                   style={**CONTROL_LABEL, "button_width": button_width},
                                   layout=widgets.Layout(**CONTROL_ROW))
    toggle.add_class("widget-inline-hbox")  # ipywidgets' style of a description beside its control
    return toggle


class PrerenderedExplorer:
    """What the explorers share: their pre-drawn PNGs, the leaves of their stacks, the shared Layouts.

    A subclass sets `_css_class` (on the top VBox, beside the common "resnet-explorer"; its images get
    `_css_class + "-figure"` and "resnet-explorer-figure"), `_panel_sizes`
    (the Layout of each panel's image) and `_share_images` (one Image widget for equal PNGs of a panel).
    """

    _css_class = "resnet-depth-explorer"
    _panel_sizes = PANEL_SIZES
    _share_images = False

    @staticmethod
    def _check_pixel_ratio(pixel_ratio) -> int:
        if pixel_ratio not in (1, 2, 3):
            raise ValueError(f"`pixel_ratio` must be 1, 2 or 3 (PNG pixels per CSS pixel), received {pixel_ratio!r}.")
        return pixel_ratio

    def _make_layouts(self, widgets) -> None:
        # One Layout (and caption style) shared by all the widgets of a role: each is a model in the page's
        # widget state, and hundreds of identical copies would weigh about half a megabyte.
        self._layouts = {name: widgets.Layout(width=f"{size[0]}px", max_width="100%", height="auto", margin="2px",
                                              flex="0 1 auto") for name, size in self._panel_sizes.items()}
        self._layouts.update(
            # The panels side by side where both fit, one below the other where not (a phone).
            panels=widgets.Layout(display="flex", flex_flow="row wrap", align_items="flex-start", overflow="visible"),
            caption=widgets.Layout(max_width="680px"), leaf=widgets.Layout(), stack=widgets.Layout())
        try:
            from ipywidgets.widgets.widget_string import HTMLStyle  # ipywidgets 8, not exported by its top level
        except ImportError:  # ipywidgets 7: an HTML widget has no style of its own
            self._caption_style = {}
        else:
            self._caption_style = {"style": HTMLStyle()}
        self._image_widgets: dict[tuple[str, bytes], object] = {}

    def _png(self, figure, colors: int = PNG_COLORS) -> bytes:
        return figure_to_png(figure, dpi=72 * self.pixel_ratio, colors=colors)

    def _images(self, pngs, names, alts):
        """The panels' figures: one HTML widget each, an <img> of the PNG with its alt text (ipywidgets' Image
        widget has no alt attribute, and a figure without one is invisible to a screen reader)."""
        import ipywidgets as widgets

        images = []
        for png, name, alt in zip(pngs, names, alts):
            key = (name, png, alt)
            image = self._image_widgets.get(key) if self._share_images else None
            if image is None:
                image = widgets.HTML(figure_html(png, alt, self._panel_sizes[name]), layout=self._layouts[name])
                image.add_class(f"{self._css_class}-figure")
                image.add_class("resnet-explorer-figure")  # what book/_static/book.css styles in both explorers
                if self._share_images:
                    self._image_widgets[key] = image
            images.append(image)
        return widgets.Box(images, layout=self._layouts["panels"])

    def _leaf(self, pngs, names, caption: str, alts):
        """A view's figures (PNG bytes of the panels `names`, keys of `_panel_sizes`, with their alt texts)
        above their caption."""
        import ipywidgets as widgets

        text = widgets.HTML(f"<small>{caption}</small>", layout=self._layouts["caption"], **self._caption_style)
        return widgets.VBox([self._images(pngs, names, alts), text], layout=self._layouts["leaf"])

    # --- live mode: one view on screen, switched by Python ------------------------------------------

    def _selection(self) -> tuple:
        """The view the controls ask for, as a hashable key (a subclass's)."""
        raise NotImplementedError

    def _draw(self, selection: tuple) -> tuple:
        """(PNG bytes of the panels, their names in `_panel_sizes`, caption, alt texts of the panels) of a
        `_selection()` (a subclass's)."""
        raise NotImplementedError

    def _live_view(self, controls):
        """The live leaf: the view of the controls' current values, redrawn from Python when one changes.

        Each view is drawn the first time it is asked for and kept (`_drawn`), so going back is instant.
        """
        self._drawn: dict[tuple, tuple] = {}
        self._live_leaf = self._leaf(*self._drawn_view(self._selection()))
        for control in controls:
            control.observe(self._show_selection, names="value")
        return self._live_leaf

    def _drawn_view(self, selection: tuple) -> tuple:
        if selection not in self._drawn:
            self._drawn[selection] = self._draw(selection)
        return self._drawn[selection]

    def _show_selection(self, _change=None) -> None:
        """Puts the view the controls now ask for on screen (live mode)."""
        pngs, names, caption, alts = self._drawn_view(self._selection())
        images, text = self._live_leaf.children
        for image, png, name, alt in zip(images.children, pngs, names, alts):
            image.layout = self._layouts[name]
            image.value = figure_html(png, alt, self._panel_sizes[name])
        text.value = f"<small>{caption}</small>"

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
