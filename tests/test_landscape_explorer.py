"""The landscape explorer widget (chapter 8) and the plots it draws, on the shipped landscape study.

As for the depth explorer (tests/test_widgets.py), what the reader sees is checked without a
browser: every setting of the controls reaches its own figures through the stacks, the PNGs have
twice the pixels of their display size, the loss surfaces of a depth share one colour scale, and
the captions state the numbers of the study's file (read here straight from its JSON).
"""

import io
import json

import ipywidgets as widgets
from ipywidgets.widgets.widget_link import Link
import matplotlib
from matplotlib.contour import ContourSet
from matplotlib.text import Text
import numpy as np
from PIL import Image
import pytest

from resnet_lib import landscape_study, plots
from resnet_lib import widgets as explorer_module
from resnet_lib.widgets import figure_alt, figure_png
from resnet_lib.widgets import (KIND_OPTIONS, LANDSCAPE_PANEL_SIZES, LANDSCAPE_VIEWS, PANEL_SIZES, LandscapeExplorer,
                                panel_axes)

COLUMN_WIDTH = 688  # CSS px: the website's text column at a 1280 px window
PHONE_COLUMN_WIDTH = 358  # CSS px: the same column on an upright phone
IMAGE_MARGIN = 2  # CSS px each side of every widget
PANEL_NAMES = {"loss surface": "surface", "interpolation": "interpolation", "lesions": "lesions"}


@pytest.fixture(scope="module")
def study():
    return landscape_study.load_landscape_study()


@pytest.fixture(scope="module")
def raw():
    """The shipped file as plain JSON, read without the accessors the explorer uses."""
    with open(landscape_study.shipped_path(), encoding="utf-8") as file:
        return json.load(file)


@pytest.fixture(scope="module")
def explorer(study):
    return LandscapeExplorer(study, progress=False)


def record(raw, kind, depth, seed):
    return raw["networks"][kind][str(depth)][str(seed)]


def visible_leaf(explorer):
    """The leaf the browser would show, following the stacks' selected indices from the top."""
    node = explorer._views
    while isinstance(node, widgets.Stack):
        node = node.children[node.selected_index]
    return node


def run_links(explorer):
    """What jslink does in the browser, done here by hand: set each target to its source's value."""
    for link in explorer._links:
        setattr(link.target[0], link.target[1], getattr(link.source[0], link.source[1]))


def stacks_of(node):
    """Every Stack of the tree below `node` (itself included)."""
    if not isinstance(node, widgets.Stack):
        return []
    return [node, *(stack for child in node.children for stack in stacks_of(child))]


def figure_images(leaf):
    return list(leaf.children[0].children)


def caption(leaf) -> str:
    return leaf.children[1].value


def png_size(image) -> tuple[int, int]:
    return Image.open(io.BytesIO(figure_png(image))).size


def contour_levels(figure):
    """The levels of the filled contours of the figure's main Axes (the first)."""
    sets = [artist for artist in figure.axes[0].collections if isinstance(artist, ContourSet)]
    assert sets, "no contours drawn"
    return sets[0].levels


def test_every_setting_of_the_controls_shows_its_networks(explorer, study):
    depths, seeds = landscape_study.depths(study), landscape_study.seeds(study)
    assert (explorer.depth.value, explorer.kind.value, explorer.seed.value, explorer.view.value) == (
        56, "both", seeds[0], "loss surface")
    assert len(explorer._leaves) == len(LANDSCAPE_VIEWS) * len(KIND_OPTIONS) * len(depths) * len(seeds)
    for view in LANDSCAPE_VIEWS:
        for kind in KIND_OPTIONS:
            for depth in depths:
                for seed in seeds:
                    explorer.view.value, explorer.kind.value = view, kind
                    explorer.depth.value, explorer.seed.value = depth, seed
                    run_links(explorer)
                    leaf = visible_leaf(explorer)
                    assert leaf is explorer._leaves[(view, kind, depth, seed)]
                    text = caption(leaf)
                    assert f"seed {seed}" in text, (view, kind, depth, seed, text)
                    for name in landscape_study.KINDS:
                        assert (f"{name}-{depth}" in text) == (name in KIND_OPTIONS[kind]), (view, kind, text)
                    assert text.startswith("<small>") and text.endswith("</small>")
                    assert len(text) - len("<small></small>") <= 320, text
    explorer.view.value, explorer.kind.value, explorer.depth.value, explorer.seed.value = (
        "loss surface", "both", 56, seeds[0])
    run_links(explorer)


def test_every_stack_is_switched_by_its_control_in_the_browser(explorer, study):
    depths, seeds = landscape_study.depths(study), landscape_study.seeds(study)
    assert all(isinstance(link, Link) for link in explorer._links)  # jslink: runs without a kernel
    sources = [link.source[0] for link in explorer._links]
    views, kinds = len(LANDSCAPE_VIEWS), len(KIND_OPTIONS)
    assert sources.count(explorer.view) == 1
    assert sources.count(explorer.kind) == views
    assert sources.count(explorer.depth) == views * kinds
    assert sources.count(explorer.seed) == views * kinds * len(depths)
    assert len(explorer._links) == 1 + views + views * kinds + views * kinds * len(depths)
    assert all(link.source[1] == "index" and link.target[1] == "selected_index" for link in explorer._links)
    stacks = stacks_of(explorer._views)
    targets = [link.target[0] for link in explorer._links]
    assert len(targets) == len(stacks) and {id(stack) for stack in targets} == {id(stack) for stack in stacks}
    assert len({id(layout) for layout in (stack.layout for stack in stacks)}) == 1  # one shared Layout
    assert "resnet-landscape-explorer" in explorer.widget._dom_classes
    assert explorer.widget.children[0].children == (explorer.depth, explorer.kind, explorer.seed, explorer.view)


def test_figures_have_twice_the_pixels_of_their_display_size(explorer):
    for (view, _, _, _), leaf in explorer._leaves.items():
        name = PANEL_NAMES[view]
        width, height = LANDSCAPE_PANEL_SIZES[name]
        for image in figure_images(leaf):
            assert png_size(image) == (2 * width, 2 * height), (view, name)
            assert image.layout.width == f"{width}px" and image.layout.max_width == "100%"
            assert image.layout.height == "auto"
            assert "resnet-landscape-explorer-figure" in image._dom_classes
    assert all(width == explorer_module.PANEL_WIDTH for width, _ in LANDSCAPE_PANEL_SIZES.values())
    assert 2 * (explorer_module.PANEL_WIDTH + 2 * IMAGE_MARGIN) <= COLUMN_WIDTH
    assert explorer_module.PANEL_WIDTH + 2 * IMAGE_MARGIN <= PHONE_COLUMN_WIDTH
    box = figure_images(explorer._leaves[("lesions", "both", 56, 0)])[0]
    assert png_size(box)[0] == 336 * explorer.pixel_ratio


def test_the_explorers_surfaces_are_the_figures_it_draws(explorer, study):
    """The surfaces are drawn once per network and metric (`_surface_png`): still the PNGs of `surface_figures`."""
    from resnet_lib.widgets import figure_to_png
    from resnet_lib.widgets._figures import SURFACE_PNG_COLORS

    depth, seed = landscape_study.depths(study)[0], landscape_study.seeds(study)[-1]
    for kind in KIND_OPTIONS:
        drawn = tuple(figure_to_png(figure, dpi=72 * explorer.pixel_ratio, colors=SURFACE_PNG_COLORS)
                      for figure in explorer.surface_figures(kind, depth, seed))
        assert explorer.surface_pngs(kind, depth, seed) == drawn, kind
        shown = [figure_png(image) for image in figure_images(explorer._leaves[("loss surface", kind, depth, seed)])]
        assert tuple(shown) == drawn, kind


def test_the_surfaces_axes_are_square(explorer):
    plain, residual = explorer.surface_figures("both", 56, 0)
    for figure in (plain, residual):
        box = figure.axes[0].get_window_extent()
        assert abs(box.width - box.height) <= 1, (box.width, box.height)
        matplotlib.pyplot.close(figure)


def test_surface_panels_of_one_depth_share_their_levels(explorer, study):
    for depth in landscape_study.depths(study):
        expected = plots.loss_surface_levels(study, depth)
        assert np.array_equal(explorer.levels[depth], expected)
        seen = []
        for seed in landscape_study.seeds(study):
            plain, residual = explorer.surface_figures("both", depth, seed)
            alone = explorer.surface_figures("residual", depth, seed)[0]
            seen += [contour_levels(figure) for figure in (plain, residual, alone)]
        assert all(np.allclose(levels, expected) for levels in seen)
        # The levels cover every loss of the depth, logarithmically.
        losses = np.concatenate([np.ravel(record_surface) for record_surface in
                                 (landscape_study.surface(study, kind, depth, seed)["values"]
                                  for kind in landscape_study.KINDS for seed in landscape_study.seeds(study))])
        assert expected[0] <= losses.min() and losses.max() <= expected[-1]
        assert np.allclose(np.diff(np.log10(expected)), np.log10(expected[1] / expected[0]))
    matplotlib.pyplot.close("all")


def test_interpolation_axes_are_the_same_for_plain_residual_and_both(explorer):
    for metric_index in (0, 1):
        limits = {explorer.interpolation_figures(kind, 56, seed)[metric_index].axes[0].get_ylim()
                  for kind in KIND_OPTIONS for seed in (0, 1)}
        assert len(limits) == 1, limits
    loss, accuracy = explorer.interpolation_figures("both", 56, 0)
    assert loss.axes[0].get_yscale() == "log" and accuracy.axes[0].get_yscale() == "linear"
    matplotlib.pyplot.close("all")


def test_captions_state_the_numbers_of_the_study(explorer, raw):
    for depth in (20, 56):
        for seed in (0, 2):
            text = caption(explorer._leaves[("loss surface", "both", depth, seed)])
            for kind in ("plain", "residual"):
                network = record(raw, kind, depth, seed)
                assert f"{100 * network['nonconvexity']['grid']:.1f} %" in text, (kind, text)
                steps = len(network["surface"]["alphas"])
                assert f"{network['surface']['loss'][steps // 2][steps // 2]:.3g}" in text, (kind, text)
                alone = caption(explorer._leaves[("loss surface", kind, depth, seed)])
                assert f"{100 * network['nonconvexity']['grid']:.1f} % of the grid" in alone
                assert f"accuracy {100 * network['surface']['accuracy'][steps // 2][steps // 2]:.1f} %" in alone

                lesions = network["single_block_lesions"]
                kept = [accuracy for accuracy, downsampling in zip(lesions["accuracy"], lesions["downsampling"])
                        if not downsampling]
                median_drop = np.median([100 * (lesions["intact_accuracy"] - accuracy) for accuracy in kept])
                lesion_text = caption(explorer._leaves[("lesions", kind, depth, seed)])
                assert (f"{kind}-{depth} {median_drop:.1f} points (intact {100 * lesions['intact_accuracy']:.1f} %)"
                        in lesion_text), lesion_text

                ts = raw["recipe"]["interpolation"]["ts"]
                losses = network["interpolation"]["loss"]
                start, end = losses[ts.index(0.0)], losses[ts.index(1.0)]
                interpolation_text = caption(explorer._leaves[("interpolation", kind, depth, seed)])
                assert f"{kind}-{depth} {start:.3g} at t = 0, {end:.3g} at t = 1" in interpolation_text


def test_the_chapters_numbers_show_in_the_depth_56_captions(explorer):
    """The story of the chapter: plain-56 less convex than residual-56, a lesion costs residual-56 little."""
    text = caption(explorer._leaves[("loss surface", "both", 56, 0)])
    assert "25.3 % and 0.6 %" in text and "2.09 and 0.0245" in text
    lesion_text = caption(explorer._leaves[("lesions", "both", 56, 0)])
    # Seed 0: plain-56 learned least (19 % of the digits), so a lesion has little to take (chapter 8).
    assert "plain-56 0.8 points (intact 19.2 %)" in lesion_text and "residual-56 0.8 points" in lesion_text


@pytest.mark.parametrize("view", LANDSCAPE_VIEWS)
def test_text_is_at_least_10_css_pixels_at_display_size(explorer, view):
    method = {"loss surface": explorer.surface_figures, "interpolation": explorer.interpolation_figures,
              "lesions": explorer.lesion_figures}[view]
    for figure in [*method("both", 56, 0), *method("plain", 20, 1)]:
        figure.draw_without_rendering()
        display_width = LANDSCAPE_PANEL_SIZES[PANEL_NAMES[view]][0]
        scale = display_width / (figure.get_figwidth() * 72)
        texts = [(text.get_text(), text.get_fontsize() * scale) for text in figure.findobj(Text)
                 if text.get_visible() and text.get_text().strip()]
        assert len(texts) > 5, texts
        small = [(text, round(size, 1)) for text, size in texts if size < 10]
        assert not small, f"text below 10 px at display size: {small}"
        assert not any("$" in text or "^" in text for text, _ in texts), texts
        matplotlib.pyplot.close(figure)


def undrawn_tick_labels(figure):
    """The labels of ticks outside their axis' view (a locator makes them; matplotlib does not draw them)."""
    labels = []
    for ax in figure.findobj(matplotlib.axes.Axes):
        for axis in (ax.xaxis, ax.yaxis):
            scale = axis.get_transform()  # the axis' scale: log10 on a log axis
            low, high = sorted(scale.transform(np.asarray(axis.get_view_interval(), dtype=float)))
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                where = scale.transform(np.array([tick.get_loc()], dtype=float))[0]
                if not low - 1e-9 * (high - low) <= where <= high + 1e-9 * (high - low):
                    labels += [tick.label1, tick.label2]
    return labels


def test_text_stays_inside_the_figure(explorer):
    """Nothing is cut at the figure's edges (tick labels of the colour bar, the y label)."""
    for figures in (explorer.surface_figures("both", 56, 0), explorer.surface_figures("plain", 20, 0),
                    explorer.interpolation_figures("both", 56, 0), explorer.lesion_figures("both", 56, 0)):
        for figure in figures:
            figure.draw_without_rendering()
            width, height = figure.bbox.width, figure.bbox.height
            undrawn = {id(label) for label in undrawn_tick_labels(figure)}
            for text in figure.findobj(Text):
                if text.get_visible() and text.get_text().strip() and id(text) not in undrawn:
                    box = text.get_window_extent()
                    assert box.x0 >= -0.5 and box.x1 <= width + 0.5 and box.y0 >= -0.5 and box.y1 <= height + 0.5, (
                        text.get_text(), box)
            matplotlib.pyplot.close(figure)


def test_a_networks_loss_surface_is_one_image_wherever_it_shows(explorer):
    """The plain surface of "both" and of "plain" are the same picture: one Image widget, one PNG in the page."""
    both = figure_images(explorer._leaves[("loss surface", "both", 56, 0)])
    plain = figure_images(explorer._leaves[("loss surface", "plain", 56, 0)])
    residual = figure_images(explorer._leaves[("loss surface", "residual", 56, 0)])
    assert both[0] is plain[0] and both[1] is residual[0] and plain[1] is not residual[1]
    images = {id(image): image for leaf in explorer._leaves.values() for image in figure_images(leaf)}
    pngs = [figure_png(image) for image in images.values()]
    assert len(set(pngs)) == len(pngs)  # no two Image widgets hold the same picture
    assert sum(map(len, pngs)) < 3_000_000, sum(map(len, pngs))


def test_plot_functions_refuse_bad_requests(study):
    with pytest.raises(ValueError, match=r"`kind` must be one of \('plain', 'residual'\), received 'resnet'"):
        plots.plot_loss_surface(study, "resnet", 56, 0)
    with pytest.raises(ValueError, match=r"`kind` must be one of \('plain', 'residual'\), received 'both'"):
        plots.plot_accuracy_surface(study, "both", 56, 0)
    with pytest.raises(ValueError, match=r"`metric` must be 'loss' or 'accuracy', received 'val_loss'"):
        plots.plot_interpolation(study, "plain", 56, 0, metric="val_loss")
    for plot in (plots.plot_interpolation, plots.plot_single_block_lesions, plots.plot_random_lesions):
        with pytest.raises(ValueError, match=r"`kinds` must be a non-empty subset of \('plain', 'residual'\)"):
            plot(study, ("plain", "vgg"), 56, 0)
        with pytest.raises(ValueError, match=r"`depth` must be one of the study's depths \[20, 56\], received 32"):
            plot(study, "plain", 32, 0)
        with pytest.raises(ValueError, match=r"`seed` must be one of the study's seeds \[0, 1, 2\] for plain-56"):
            plot(study, "plain", 56, 7)
    with pytest.raises(ValueError, match=r"`levels` must be at least two positive, increasing losses"):
        plots.plot_loss_surface(study, "plain", 56, 0, levels=[1.0, 0.1])
    with pytest.raises(ValueError, match=r"`count` must be None or a whole number >= 2, received 1"):
        plots.loss_surface_levels(study, 56, count=1)
    with pytest.raises(ValueError, match=r"`depth` must be one of the study's depths \[20, 56\] or None"):
        plots.loss_surface_levels(study, 32)
    assert not matplotlib.pyplot.get_fignums()  # refused before any figure was made


def test_single_block_lesions_mark_exactly_the_downsampling_blocks(study, raw):
    for depth in (20, 56):
        ax = plots.plot_single_block_lesions(study, ("plain", "residual"), depth, 1, ax=panel_axes("lesions"))
        hollow = [line for line in ax.get_lines() if line.get_gid() == "downsampling"]
        assert len(hollow) == 2  # one line of hollow markers per kind
        for line, kind in zip(hollow, ("plain", "residual")):
            lesions = record(raw, kind, depth, 1)["single_block_lesions"]
            expected = [index + 1 for index, flag in enumerate(lesions["downsampling"]) if flag]
            assert len(expected) == 2 and list(line.get_xdata()) == expected
            assert np.allclose(line.get_ydata(), [100 * lesions["accuracy"][block - 1] for block in expected])
            assert line.get_markerfacecolor() == "white"
        filled = [line for line in ax.get_lines() if line.get_label() in ("plain", "residual")]
        assert all(not set(line.get_xdata()) & set(hollow[0].get_xdata()) for line in filled)
        dashed = sorted(line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"
                        and len(line.get_xdata()) == 2)
        assert np.allclose(dashed, sorted(100 * record(raw, kind, depth, 1)["single_block_lesions"]["intact_accuracy"]
                                          for kind in ("plain", "residual")))
        assert any(line.get_linestyle() == ":" and np.allclose(line.get_ydata(), 10) for line in ax.get_lines())
        matplotlib.pyplot.close(ax.figure)


def test_nonconvex_points_are_those_of_the_study(study, raw):
    from resnet_lib import landscape

    ax = plots.plot_loss_surface(study, "plain", 56, 0, ax=panel_axes("surface"))
    (dots,) = [line for line in ax.get_lines() if line.get_gid() == "nonconvex"]
    surface = landscape_study.surface(study, "plain", 56, 0)
    mask = landscape.nonconvex_points(surface["values"], surface["alphas"], surface["betas"],
                                      tolerance=raw["recipe"]["nonconvexity"]["tolerance"])
    assert len(dots.get_xdata()) == mask.sum() == round(record(raw, "plain", 56, 0)["nonconvexity"]["grid"] * mask.size)
    none = plots.plot_loss_surface(study, "plain", 56, 0, ax=panel_axes("surface"), show_nonconvex=False)
    assert not [line for line in none.get_lines() if line.get_gid() == "nonconvex"]
    matplotlib.pyplot.close("all")


def test_plots_draw_on_a_figure_of_their_own(study):
    import matplotlib.pyplot as plt

    for ax in (plots.plot_loss_surface(study, "residual", 20, 0), plots.plot_accuracy_surface(study, "plain", 20, 0),
               plots.plot_interpolation(study, ("plain", "residual"), 20, 0, metric="accuracy"),
               plots.plot_single_block_lesions(study, "residual", 56, 2),
               plots.plot_random_lesions(study, "plain", 56, 2)):
        assert ax.figure.number in plt.get_fignums() and ax.get_title(loc="left")
    plt.close("all")


def test_bad_arguments_are_refused(study, explorer):
    with pytest.raises(ValueError, match=r"`depth` must be one of the study's depths \[20, 56\], received 32"):
        LandscapeExplorer(study, depth=32, progress=False)
    with pytest.raises(ValueError, match=r"`seed` must be one of the study's seeds \[0, 1, 2\], received 5"):
        LandscapeExplorer(study, seed=5, progress=False)
    with pytest.raises(ValueError, match=r"`pixel_ratio` must be 1, 2 or 3 .* received 4"):
        LandscapeExplorer(study, pixel_ratio=4, progress=False)
    with pytest.raises(ValueError, match=r"`kind` must be one of \['plain', 'residual', 'both'\], received 'vgg'"):
        explorer.surface_figures("vgg", 56, 0)
    with pytest.raises(ValueError, match=r"`seed` must be one of the study's seeds \[0, 1, 2\], received 3"):
        explorer.lesion_pngs("both", 56, 3)
    with pytest.raises(ValueError, match=r"`name` must be one of the panels \['curves', 'finals', 'gradients'\] "
                                         r"\(depth explorer\) or \['surface', 'interpolation', 'lesions'\]"):
        panel_axes("legend")
    assert set(LANDSCAPE_PANEL_SIZES).isdisjoint(PANEL_SIZES)


def test_an_ipywidgets_without_stack_gets_the_live_explorer(monkeypatch, study):
    monkeypatch.delattr(widgets, "Stack")
    monkeypatch.setattr(widgets, "__version__", "7.7.1")
    assert LandscapeExplorer(study, progress=False).kernel_free is False
    with pytest.raises(RuntimeError, match=r"LandscapeExplorer\(kernel_free=True\) needs ipywidgets 8 or newer .* "
                                           r"runs ipywidgets 7\.7\.1"):
        LandscapeExplorer(study, progress=False, kernel_free=True)


def test_plot_surface_contours_draws_a_surface_computed_just_now():
    """The chapter's live landscape: a raw (alphas, betas, loss) grid, its non-convex points as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from resnet_lib import landscape

    axis_values = np.linspace(-1, 1, 9)
    alpha, beta = np.meshgrid(axis_values, axis_values, indexing="ij")
    egg_crate = 3 - np.cos(3 * alpha) - np.cos(3 * beta) + 0.01
    ax = plots.plot_surface_contours(axis_values, axis_values, egg_crate, title="live")
    [dots] = [line for line in ax.get_lines() if line.get_gid() == "nonconvex"]
    assert len(dots.get_xdata()) == landscape.nonconvex_points(egg_crate, axis_values, axis_values).sum() > 0
    assert ax.get_title(loc="left") == "live"
    plt.close(ax.figure)
    ax = plots.plot_surface_contours(axis_values, axis_values, egg_crate, nonconvex_tolerance=None)
    assert not [line for line in ax.get_lines() if line.get_gid() == "nonconvex"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match=r"`loss` must have shape \(len\(alphas\), len\(betas\)\) = \(9, 8\)"):
        plots.plot_surface_contours(axis_values, axis_values[:8], egg_crate)


def test_live_explorer_shows_the_same_views_as_the_kernel_free_one(study, explorer):
    """kernel_free=False (Colab's ipywidgets 7.7): one view on screen, redrawn from Python as controls change,
    each the very view the kernel-free explorer keeps in its stacks."""
    live = LandscapeExplorer(study, progress=False, kernel_free=False)
    assert live.kernel_free is False and not hasattr(live, "_links")

    def on_screen():  # the figures' <img>s (PNG and alt text) and the caption
        images, caption = live._live_leaf.children
        return [image.value for image in images.children], caption.value

    def kept(view, kind, depth, seed):
        images, caption = explorer._leaves[(view, kind, depth, seed)].children
        return [image.value for image in images.children], caption.value

    assert on_screen() == kept("loss surface", "both", 56, 0)
    for control, value in ((live.depth, 20), (live.kind, "plain"), (live.seed, live.seeds[-1]),
                           (live.view, "lesions"), (live.view, "interpolation")):
        control.value = value
        assert on_screen() == kept(live.view.value, live.kind.value, live.depth.value, live.seed.value), control


def test_every_figure_has_an_alt_text_written_from_the_study(explorer, raw):
    """A screen reader reads what each panel plots, for which network and seed, and its headline numbers."""
    for (view, kind, depth, seed), leaf in explorer._leaves.items():
        alts = [figure_alt(image) for image in figure_images(leaf)]
        assert len(set(alts)) == 2 and all(len(alt) > 80 for alt in alts), (view, kind, depth, seed, alts)
        for name in KIND_OPTIONS[kind]:
            assert f"{name}-{depth}" in " ".join(alts) and f"seed {seed}" in alts[0]
        if view == "loss surface":
            for name, alt in zip(KIND_OPTIONS[kind], alts):
                share = 100 * record(raw, name, depth, seed)["nonconvexity"]["grid"]
                assert f"{share:.1f} % of the grid" in alt, alt
        if view == "lesions":
            for name in KIND_OPTIONS[kind]:
                intact = 100 * record(raw, name, depth, seed)["single_block_lesions"]["intact_accuracy"]
                assert f"{name}-{depth}: intact {intact:.1f} %" in alts[0]
