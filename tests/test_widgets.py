"""The depth explorer widget: pre-drawn figures switched by browser-side links, and live training.

What the reader sees is checked here without a browser, from the widgets and the matplotlib
figures: PNGs with twice the pixels of their display size, text of 10 CSS pixels or more at that
size, panels that fit side by side in the website's column and one by one on a phone, y-axes that
do not move between plain, residual and both, and the controls that do not apply to the gradient
view disabled there. tests/test_browser.py checks the same on the built website in Chromium.
"""

import io

import ipywidgets as widgets
from ipywidgets.widgets.widget_link import Link
import matplotlib
from matplotlib.text import Text
import numpy as np
from PIL import Image
import pytest

from resnet_lib import experiments, plots, sweep
from resnet_lib import widgets as explorer_module
from resnet_lib.experiments import depth_sweep as sweep_experiment
from resnet_lib.plots.depth_sweep import _spread
from resnet_lib.widgets._explorer import is_kernel_free
from resnet_lib.widgets import figure_alt, figure_png
from resnet_lib.widgets import KIND_OPTIONS, PANEL_SIZES, DepthExplorer, figure_to_png

PNG = b"\x89PNG\r\n\x1a\n"
COLUMN_WIDTH = 688  # CSS px: the website's text column at a 1280 px window (measured in Chromium)
PHONE_COLUMN_WIDTH = 358  # CSS px: the same column at 390 px (an upright phone)
IMAGE_MARGIN = 2  # CSS px each side: ipywidgets' --jp-widgets-margin around every widget


def fake_sweep(depths=(8, 14), seeds=(0, 1), epochs=3):
    def run(kind, depth, seed):
        scale = (1 + depth / 10) if kind == "plain" else 1 / (1 + depth / 10)
        loss = [2.3 / (e + 1) * scale + 0.01 * seed for e in range(epochs)]
        layers = {f"layer{i}": 1.0 / (i + 1) * (10.0 if kind == "plain" else 1.0) for i in range(depth)}
        return {"loss": loss, "val_loss": loss, "accuracy": [1 - v / 3 for v in loss],
                "val_accuracy": [1 - v / 3 for v in loss], "gradient_norms_initial": layers,
                "gradient_norms_final": layers}

    return {"recipe": experiments.depth_sweep_recipe(depths=depths, epochs=1), "seeds": list(seeds),
            "runs": {kind: {str(d): {str(s): run(kind, d, s) for s in seeds} for d in depths} for kind in sweep.KINDS}}


@pytest.fixture(scope="module")
def explorer():
    return DepthExplorer(fake_sweep(), depth=14, progress=False)


def visible_leaf(explorer):
    """The leaf the browser would show, following the stacks' selected indices from the top."""
    node = explorer._views
    while isinstance(node, widgets.Stack):
        node = node.children[node.selected_index]
    return node


def shown(stack):
    """The child a Stack shows (the browser renders only that one)."""
    return stack.children[stack.selected_index]


def run_links(explorer):
    """What jslink does in the browser, done here by hand: set each target to its source's value."""
    for link in explorer._links:
        setattr(link.target[0], link.target[1], getattr(link.source[0], link.source[1]))


def figure_images(leaf):
    """The Image widgets of a leaf (its panels), in order."""
    return list(leaf.children[0].children)


def png_size(image) -> tuple[int, int]:
    return Image.open(io.BytesIO(figure_png(image))).size


def texts_at_display_size(figure, display_width):
    """[(text, font size in CSS px at display size)] of every visible, non-empty text of the figure."""
    figure.draw_without_rendering()  # makes the tick labels
    css_pixels_per_point = display_width / (figure.get_figwidth() * 72)
    return [(text.get_text(), text.get_fontsize() * css_pixels_per_point) for text in figure.findobj(Text)
            if text.get_visible() and text.get_text().strip()]


def test_every_setting_of_the_controls_has_its_own_figures_and_caption(explorer):
    leaves = explorer._curve_leaves
    assert len(leaves) == len(sweep.METRICS) * 3 * 2 and len(explorer._gradient_leaves) == 2
    figures = [tuple(figure_png(image) for image in figure_images(leaf))
               for leaf in [*leaves.values(), *explorer._gradient_leaves.values()]]
    assert all(len(pair) == 2 and all(png.startswith(PNG) for png in pair) for pair in figures)
    assert len(set(figures)) == len(figures)  # no two settings show the same pictures
    caption = leaves[("val_accuracy", "plain", 8)].children[1].value
    assert "Validation accuracy per epoch at depth 8" in caption and "plain-8" in caption and "residual" not in caption
    assert "mean of 2 seeds" in caption


def test_figures_have_twice_the_pixels_of_their_display_size(explorer):
    """Sharp on high-density screens (phones, retina laptops): each PNG is 2x its CSS size each way."""
    for leaf, names in [*((leaf, ("curves", "finals")) for leaf in explorer._curve_leaves.values()),
                        *((leaf, ("gradients", "gradients")) for leaf in explorer._gradient_leaves.values())]:
        for image, name in zip(figure_images(leaf), names):
            width, height = PANEL_SIZES[name]
            assert png_size(image) == (2 * width, 2 * height), name
            assert image.layout.width == f"{width}px" and image.layout.max_width == "100%"
            assert image.layout.height == "auto"  # shrinks with its width, never distorted
            assert {"resnet-depth-explorer-figure", "resnet-explorer-figure"} <= set(image._dom_classes)


def test_panels_sit_side_by_side_on_a_laptop_and_one_by_one_on_a_phone(explorer):
    leaf = explorer._curve_leaves[("loss", "both", 14)]
    box = leaf.children[0]
    assert box.layout.display == "flex" and box.layout.flex_flow == "row wrap"
    for names in (("curves", "finals"), ("gradients", "gradients")):
        widths = [PANEL_SIZES[name][0] + 2 * IMAGE_MARGIN for name in names]
        assert sum(widths) <= COLUMN_WIDTH, "two panels must fit one row of the text column"
        assert max(widths) <= PHONE_COLUMN_WIDTH, "each panel must fit a phone's column at full size"
    assert {"resnet-depth-explorer", "resnet-explorer"} <= set(explorer.widget._dom_classes)  # book.css: dark mode
    assert explorer.depth.layout.width == "100%"  # the slider and its readout fit a phone


@pytest.mark.parametrize("view", ["curves", "gradients"])
def test_text_is_at_least_10_css_pixels_at_display_size(explorer, view):
    figures = ([*explorer.curve_figures("loss", "both", 14), *explorer.curve_figures("val_accuracy", "plain", 8)]
               if view == "curves" else explorer.gradient_figures(14))
    for figure in figures:
        display_width = PANEL_SIZES["curves" if view == "curves" else "gradients"][0]
        texts = texts_at_display_size(figure, display_width)
        assert len(texts) > 5, texts  # axis labels, tick labels, legend, (depth labels)
        small = [(text, round(size, 1)) for text, size in texts if size < 10]
        assert not small, f"text below 10 px at display size: {small}"
        # No mathtext: its superscripts (10^-1) are drawn at 70 % of the size above.
        assert not any("$" in text or "^" in text for text, _ in texts), texts
        matplotlib.pyplot.close(figure)
    # The PNG scale matches: points * (dpi / 72) PNG pixels, shown at 1 / pixel_ratio.
    figure = explorer.curve_figures("loss", "both", 14)[0]
    assert figure.get_figwidth() * 72 * explorer.pixel_ratio == 2 * PANEL_SIZES["curves"][0]


def test_y_axes_are_the_same_for_plain_residual_and_both(explorer):
    """Switching kinds (or depths) never rescales an axis: small differences are not blown up."""
    for metric in sweep.METRICS:
        curves_limits, finals_limits = set(), set()
        for kind in KIND_OPTIONS:
            for depth in (8, 14):
                curves, finals = explorer.curve_figures(metric, kind, depth)
                curves_limits.add(curves.axes[0].get_ylim())
                finals_limits.add(finals.axes[0].get_ylim())
        assert len(curves_limits) == 1 and len(finals_limits) == 1, (metric, curves_limits, finals_limits)
        # ... and the limits show every seed of both kinds.
        low, high = curves_limits.pop()
        values = np.concatenate([sweep.curves(explorer.sweep, k, d, metric).ravel()
                                 for k in sweep.KINDS for d in (8, 14)])
        assert low < values.min() and values.max() < high
    plain, residual = explorer.gradient_figures(14)
    assert plain.axes[0].get_ylim() == residual.axes[0].get_ylim()
    assert plain.axes[0].get_yscale() == "log"


def test_the_chapters_two_panel_figure_still_draws_on_given_axes():
    """Chapter 7 draws `plot_depth_sweep(results, 56, metric="loss", axes=axes)` on plt.subplots(1, 2)."""
    import matplotlib.pyplot as plt

    data = fake_sweep()
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6), width_ratios=(1.6, 1), layout="constrained")
    returned = plots.plot_depth_sweep(data, 14, metric="loss", axes=axes)
    assert list(returned) == list(axes) and axes[0].get_yscale() == "log"
    figure_plain, axes_plain = plt.subplots(1, 2, layout="constrained")
    plots.plot_depth_sweep(data, 14, ("plain",), "loss", axes=axes_plain)
    assert axes_plain[0].get_ylim() == axes[0].get_ylim() and axes_plain[1].get_ylim() == axes[1].get_ylim()
    with pytest.raises(ValueError, match=r"`axes` must be two matplotlib Axes .* received 1"):
        plots.plot_depth_sweep(data, 14, axes=[axes[0]])
    with pytest.raises(ValueError, match=r"`kinds` must be a non-empty subset of \('plain', 'residual'\)"):
        plots.plot_depth_sweep(data, 14, kinds=("resnet",), axes=axes)
    plt.close("all")


def test_depth_labels_do_not_overlap():
    data = fake_sweep(depths=(8, 14, 20, 32, 44, 56), seeds=(0,))
    ax = plots.plot_depth_sweep_curves(data, 20, metric="accuracy", ax=explorer_module.panel_axes("curves"),
                                       title=False, legend_above=True)
    labels = [text for text in ax.texts if text.get_text().isdigit()]
    assert sorted(int(text.get_text()) for text in labels) == sorted([8, 14, 32, 44, 56] * 2)
    ax.figure.draw_without_rendering()
    boxes = sorted((text.get_window_extent() for text in labels), key=lambda box: box.y0)
    assert all(lower.y1 <= upper.y0 + 0.5 for lower, upper in zip(boxes, boxes[1:])), "depth labels overlap"
    axes_box = ax.get_window_extent()
    assert all(axes_box.y0 - 1 <= box.y0 and box.y1 <= axes_box.y1 + 1 for box in boxes), "labels leave the Axes"


def test_labels_move_as_little_as_needed():
    assert np.allclose(_spread([0.1, 0.5, 0.9], 0.1), [0.1, 0.5, 0.9])  # apart already: unmoved
    placed = _spread([0.5, 0.5, 0.52, 0.2], 0.1)  # three crowded labels spread around their mean
    assert np.allclose(sorted(placed[:3]), [0.4066667, 0.5066667, 0.6066667]) and placed[3] == pytest.approx(0.2)
    crowded = _spread([0.99, 0.98, 0.97], 0.1, 0.0, 1.0)
    assert np.allclose(sorted(crowded), [0.8, 0.9, 1.0])  # pushed down to stay inside


def test_the_controls_are_linked_in_the_browser_to_the_stacks(explorer):
    links = {(link.source[0], link.source[1], link.target[1]) for link in explorer._links}
    assert all(isinstance(link, Link) for link in explorer._links)  # jslink: runs without a kernel
    sources = [link.source[0] for link in explorer._links]
    assert sources.count(explorer.depth) == len(sweep.METRICS) * 3 + 1  # every depth stack, and the gradients
    assert sources.count(explorer.kind) == len(sweep.METRICS) + 1  # the kind stacks, and its disabled copy
    assert sources.count(explorer.metric) == 2 and sources.count(explorer.view) == 3  # views, and two control rows
    assert {(explorer.metric, "index", "selected_index"), (explorer.view, "index", "selected_index")} <= links
    assert all(trait == "index" for _, trait, _ in links)  # selection widgets link their index, not value
    # Every link joins an integer to an integer (an index to an index or a Stack's selected_index).
    assert all(target in ("index", "selected_index") for _, _, target in links)

    # What the browser shows at start: depth 14, both kinds, training loss, learning curves.
    assert explorer.depth.value == 14 and explorer.kind.value == "both" and explorer.metric.value == "loss"
    assert visible_leaf(explorer) is explorer._curve_leaves[("loss", "both", 14)]


def test_links_carry_the_controls_index_to_every_stack(explorer):
    explorer.depth.value, explorer.kind.value, explorer.metric.value = 8, "plain", "val_loss"
    run_links(explorer)
    assert visible_leaf(explorer) is explorer._curve_leaves[("val_loss", "plain", 8)]
    explorer.view.value = "gradient norms"
    run_links(explorer)
    assert visible_leaf(explorer) is explorer._gradient_leaves[8]
    explorer.view.value, explorer.kind.value, explorer.metric.value = "learning curves", "both", "loss"
    run_links(explorer)


def test_the_gradient_view_shows_its_unused_controls_disabled(explorer):
    """The networks and metric controls do nothing in the gradient view: there the rows show disabled
    copies that keep the choice; back in the learning curves, the live controls return."""
    kind_row, metric_row = explorer._control_rows
    assert explorer.widget.children[0].children == (explorer.depth, kind_row, metric_row, explorer.view)
    explorer.kind.value, explorer.metric.value = "residual", "val_accuracy"
    run_links(explorer)
    assert shown(kind_row) is explorer.kind and shown(metric_row) is explorer.metric
    assert not explorer.kind.disabled and not explorer.metric.disabled

    explorer.view.value = "gradient norms"
    run_links(explorer)
    kind_copy, metric_copy = shown(kind_row), shown(metric_row)
    assert kind_copy is not explorer.kind and metric_copy is not explorer.metric
    assert kind_copy.disabled and metric_copy.disabled
    assert kind_copy.options == explorer.kind.options and kind_copy.value == "residual"
    assert metric_copy.options == explorer.metric.options and metric_copy.value == "val_accuracy"
    assert not explorer.depth.disabled and not explorer.view.disabled  # these do apply

    explorer.view.value = "learning curves"
    run_links(explorer)
    assert shown(kind_row) is explorer.kind and shown(metric_row) is explorer.metric
    explorer.kind.value, explorer.metric.value = "both", "loss"
    run_links(explorer)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"`depth` must be one of the sweep's depths \[8, 14\], received 20"):
        DepthExplorer(fake_sweep(), depth=20, progress=False)
    with pytest.raises(ValueError, match=r"`pixel_ratio` must be 1, 2 or 3 .* received 4"):
        DepthExplorer(fake_sweep(), pixel_ratio=4, progress=False)
    explorer = DepthExplorer(fake_sweep(depths=(8,), seeds=(0,)), pixel_ratio=1, progress=False)
    assert png_size(figure_images(explorer._curve_leaves[("loss", "both", 8)])[0]) == PANEL_SIZES["curves"]
    with pytest.raises(ValueError, match="`kind` must be one of"):
        explorer.train_now("resnet", 8)
    with pytest.raises(ValueError, match=r"`name` must be one of the panels \['curves', 'finals', 'gradients'\]"):
        explorer_module.panel_axes("legend")


@pytest.mark.slow  # trains
def test_training_now_adds_a_dotted_curve_to_that_depths_figures():
    explorer = DepthExplorer(fake_sweep(depths=(8,), seeds=(0,)), progress=False)
    curves_image, finals_image = figure_images(explorer._curve_leaves[("loss", "residual", 8)])
    before, finals_before = curves_image.value, finals_image.value
    trained = explorer.train_now("residual", 8, progress=False)
    history = trained["residual"]
    assert len(history["loss"]) == 1 and history["wall_seconds"] > 0
    assert explorer.live == {("residual", 8): history}
    assert curves_image.value != before and finals_image.value == finals_before  # the last-epoch panel: sweep only
    assert png_size(curves_image) == (2 * PANEL_SIZES["curves"][0], 2 * PANEL_SIZES["curves"][1])


@pytest.mark.slow  # trains
def test_the_button_trains_what_the_controls_show():
    explorer = DepthExplorer(fake_sweep(depths=(8,), seeds=(0,)), progress=False)
    explorer.kind.value = "plain"
    panel = explorer.training_panel(epochs=1)
    button, status = panel.children[0].children
    button.click()
    assert set(explorer.live) == {("plain", 8)}
    assert status.value.startswith("done in") and "plain: final training loss" in status.value
    assert not button.disabled


def test_figures_become_small_pngs():
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2, 3])
    png = figure_to_png(figure, dpi=50)
    assert png.startswith(PNG) and len(png) < 20_000
    assert not plt.fignum_exists(figure.number)  # closed, so notebooks don't draw it twice
    with pytest.raises(ValueError, match=r"`colors` must be 2 to 256"):
        figure_to_png(plt.figure(), colors=1000)
    plt.close("all")


def test_a_figures_png_has_the_pixels_matplotlib_draws():
    """figure_to_png reads matplotlib's pixels raw, not through a PNG of its own: the same image, at the size
    the dpi asks for, even where a reader's settings crop saved figures."""
    import matplotlib
    import matplotlib.pyplot as plt
    from PIL import Image

    def figure():
        drawn, ax = plt.subplots(figsize=(336 / 72, 264 / 72))
        ax.plot([1, 3, 2], label="a line")
        ax.legend()
        return drawn

    for dpi in (72, 144, 216):
        reference = io.BytesIO()
        figure().savefig(reference, format="png", dpi=dpi)
        reference.seek(0)
        expected = Image.open(reference).convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
        with matplotlib.rc_context({"savefig.bbox": "tight"}):
            image = Image.open(io.BytesIO(figure_to_png(figure(), dpi=dpi, colors=64)))
        assert image.size == (336 * dpi // 72, 264 * dpi // 72)
        assert image.tobytes() == expected.tobytes() and image.getpalette() == expected.getpalette()
    plt.close("all")


def test_the_explorer_of_the_shipped_sweep_keeps_the_page_light():
    """The website embeds every PNG (78 settings): the busiest setting stays under 50 kB for its two
    panels, so the whole explorer stays under about 4 MB (it was 1.3 MB of blurry 1x figures)."""
    data = sweep.load_sweep()
    explorer = DepthExplorer.__new__(DepthExplorer)  # only the figure methods, not all 156 figures
    explorer.sweep, explorer.pixel_ratio, explorer.depths, explorer.live = data, 2, sweep.depths(data), {}
    sizes = [sum(map(len, explorer.curve_pngs(metric, "both", 56))) for metric in ("loss", "val_accuracy")]
    sizes.append(sum(map(len, explorer.gradient_pngs(56))))
    assert max(sizes) < 50_000, sizes


def test_an_ipywidgets_without_stack_gets_the_live_explorer(monkeypatch):
    """Colab ships ipywidgets 7, which has no Stack: the explorer switches its figures from Python there
    (installing resnet-lib leaves Colab's widgets alone); asking for the kernel-free one says what to do."""
    monkeypatch.delattr(widgets, "Stack")
    monkeypatch.setattr(widgets, "__version__", "7.7.1")
    explorer = DepthExplorer(fake_sweep(), progress=False)
    assert explorer.kernel_free is False
    with pytest.raises(RuntimeError, match=r"ipywidgets 8 or newer .* runs ipywidgets 7\.7\.1.*Leave out `kernel_free`"):
        DepthExplorer(fake_sweep(), progress=False, kernel_free=True)


# --- live mode: one view on screen, switched from Python (Colab's ipywidgets 7.7) -----------------------


def live_view(explorer):
    """(PNG bytes of each panel, caption) of what the live explorer shows now."""
    images, caption = explorer._live_leaf.children
    return [figure_png(image) for image in images.children], caption.value


def test_kernel_free_is_picked_by_what_ipywidgets_can_do():
    import types

    seven = types.SimpleNamespace(__version__="7.7.1")  # no Stack
    eight = types.SimpleNamespace(__version__="8.1.9", Stack=object)
    assert is_kernel_free(seven, None, "DepthExplorer") is False
    assert is_kernel_free(eight, None, "DepthExplorer") is True
    assert is_kernel_free(eight, False, "DepthExplorer") is False
    with pytest.raises(RuntimeError, match=r"DepthExplorer\(kernel_free=True\) needs ipywidgets 8 .* runs ipywidgets 7.7.1"):
        is_kernel_free(seven, True, "DepthExplorer")
    with pytest.raises(ValueError, match="`kernel_free` must be True, False or None"):
        is_kernel_free(eight, "yes", "DepthExplorer")


def test_live_explorer_switches_its_figures_from_python_when_a_control_changes():
    live = DepthExplorer(fake_sweep(), depth=14, progress=False, kernel_free=False)
    assert live.kernel_free is False and not any(isinstance(w, widgets.Stack) for w in live.widget.children)
    shown_first = live_view(live)
    assert shown_first == ([*live.curve_pngs("loss", "both", 14)], f"<small>{live._caption('loss', 'both', 14)}</small>")
    live.depth.value = 8
    assert live_view(live)[0] == list(live.curve_pngs("loss", "both", 8)) and "at depth 8" in live_view(live)[1]
    live.kind.value = "plain"
    assert live_view(live)[0] == list(live.curve_pngs("loss", "plain", 8))
    live.metric.value = "val_accuracy"
    assert live_view(live)[0] == list(live.curve_pngs("val_accuracy", "plain", 8))
    live.view.value = "gradient norms"
    assert live_view(live)[0] == list(live.gradient_pngs(8)) and "Gradient norm" in live_view(live)[1]
    assert live.kind.disabled and live.metric.disabled  # the gradient view ignores them
    live.view.value = "learning curves"
    assert not live.kind.disabled and not live.metric.disabled
    assert live_view(live)[0] == list(live.curve_pngs("val_accuracy", "plain", 8))
    # Each view is drawn once: going back shows the kept drawing.
    assert len(live._drawn) == 5


def test_live_explorer_draws_a_trained_curve_into_the_view_on_screen(monkeypatch):
    live = DepthExplorer(fake_sweep(), depth=8, progress=False, kernel_free=False)
    before = live_view(live)
    history = {"loss": [3.0, 2.0, 1.0], "val_loss": [3.0, 2.0, 1.0], "accuracy": [0.1, 0.2, 0.3],
               "val_accuracy": [0.1, 0.2, 0.3]}
    monkeypatch.setattr(sweep_experiment, "train_sweep_network", lambda *args, **kwargs: dict(history))
    live.train_now("plain", 8, epochs=3, progress=False)
    after = live_view(live)
    assert after[0][0] != before[0][0] and after[0][1] == before[0][1]  # the curves panel gains the live curve


def test_every_figure_has_an_alt_text_written_from_the_sweep(explorer):
    """What each panel plots, for which networks, and the numbers a sighted reader takes from it."""
    data = explorer.sweep
    for (metric, kind, depth), leaf in explorer._curve_leaves.items():
        curves, finals = (figure_alt(image) for image in figure_images(leaf))
        label = sweep.METRIC_LABELS[metric]
        assert curves.startswith(f"Line chart of the {label} per epoch") and finals.startswith(f"Chart of the {label}")
        for name in KIND_OPTIONS[kind]:
            final = sweep.final_values(data, name, metric)[depth].mean()
            assert f"{name}-{depth} ends at {final:.3g}" in curves
            assert f"{name}: " in finals and f"{depth} layers {final:.3g}" in finals
    for depth, leaf in explorer._gradient_leaves.items():
        alts = [figure_alt(image) for image in figure_images(leaf)]
        assert [f"plain-{depth}" in alts[0], f"residual-{depth}" in alts[1]] == [True, True]


def test_the_live_explorer_changes_its_alt_texts_with_its_figures():
    live = DepthExplorer(fake_sweep(), depth=14, progress=False, kernel_free=False)
    alts = lambda: [figure_alt(image) for image in live._live_leaf.children[0].children]
    assert "plain-14 ends at" in alts()[0]
    live.depth.value = 8
    assert "plain-8 ends at" in alts()[0] and "depth 8 marked" in alts()[1]
    live.view.value = "gradient norms"
    assert alts()[0].startswith("Chart of the gradient norm") and "plain-8" in alts()[0] and "residual-8" in alts()[1]
