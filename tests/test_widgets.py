"""The depth explorer widget: pre-drawn figures switched by browser-side links, and live training."""

import ipywidgets as widgets
from ipywidgets.widgets.widget_link import Link
import pytest

from resnet_lib import experiments, sweep
from resnet_lib.widgets import DepthExplorer, figure_to_png

PNG = b"\x89PNG\r\n\x1a\n"


def fake_sweep(depths=(8, 14), seeds=(0, 1), epochs=3):
    def run(kind, depth, seed):
        scale = (1 + depth / 10) if kind == "plain" else 1 / (1 + depth / 10)
        loss = [2.3 / (e + 1) * scale + 0.01 * seed for e in range(epochs)]
        layers = {f"layer{i}": 1.0 / (i + 1) for i in range(depth)}
        return {"loss": loss, "val_loss": loss, "accuracy": [1 - v / 3 for v in loss],
                "val_accuracy": [1 - v / 3 for v in loss], "gradient_norms_initial": layers,
                "gradient_norms_final": layers}

    return {"recipe": experiments.depth_sweep_recipe(depths=(8,), epochs=1),
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


def test_every_setting_of_the_controls_has_its_own_figure_and_caption(explorer):
    leaves = explorer._curve_leaves
    assert len(leaves) == len(sweep.METRICS) * 3 * 2 and len(explorer._gradient_leaves) == 2
    images = [bytes(leaf.children[0].value) for leaf in [*leaves.values(), *explorer._gradient_leaves.values()]]
    assert all(image.startswith(PNG) for image in images)
    assert len(set(images)) == len(images)  # no two settings show the same picture
    caption = leaves[("val_accuracy", "plain", 8)].children[1].value
    assert "Validation accuracy per epoch at depth 8" in caption and "plain-8" in caption and "residual" not in caption
    assert "mean of 2 seeds" in caption


def test_the_controls_are_linked_in_the_browser_to_the_stacks(explorer):
    links = {(link.source[0], link.source[1], link.target[1]) for link in explorer._links}
    assert all(isinstance(link, Link) for link in explorer._links)  # jslink: runs without a kernel
    sources = [link.source[0] for link in explorer._links]
    assert sources.count(explorer.depth) == len(sweep.METRICS) * 3 + 1  # every depth stack, and the gradients
    assert sources.count(explorer.kind) == len(sweep.METRICS)
    assert {(explorer.metric, "index", "selected_index"), (explorer.view, "index", "selected_index")} <= links
    assert all(trait == "index" for _, trait, _ in links)  # selection widgets link their index, not value

    # What the browser shows at start: depth 14, both kinds, training loss, learning curves.
    assert explorer.depth.value == 14 and explorer.kind.value == "both" and explorer.metric.value == "loss"
    assert visible_leaf(explorer) is explorer._curve_leaves[("loss", "both", 14)]


def test_links_carry_the_controls_index_to_every_stack(explorer):
    # What jslink does in the browser, done here by hand: set each target to the source's index.
    explorer.depth.value, explorer.kind.value, explorer.metric.value = 8, "plain", "val_loss"
    for link in explorer._links:
        setattr(link.target[0], link.target[1], getattr(link.source[0], link.source[1]))
    assert visible_leaf(explorer) is explorer._curve_leaves[("val_loss", "plain", 8)]
    explorer.view.value = "gradient norms"
    for link in explorer._links:
        setattr(link.target[0], link.target[1], getattr(link.source[0], link.source[1]))
    assert visible_leaf(explorer) is explorer._gradient_leaves[8]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"`depth` must be one of the sweep's depths \[8, 14\], received 20"):
        DepthExplorer(fake_sweep(), depth=20, progress=False)
    explorer = DepthExplorer(fake_sweep(depths=(8,), seeds=(0,)), progress=False)
    with pytest.raises(ValueError, match="`kind` must be one of"):
        explorer.train_now("resnet", 8)


@pytest.mark.slow  # trains
def test_training_now_adds_a_dotted_curve_to_that_depths_figures():
    explorer = DepthExplorer(fake_sweep(depths=(8,), seeds=(0,)), progress=False)
    before = explorer._curve_leaves[("loss", "residual", 8)].children[0].value
    trained = explorer.train_now("residual", 8, progress=False)
    history = trained["residual"]
    assert len(history["loss"]) == 1 and history["wall_seconds"] > 0
    assert explorer.live == {("residual", 8): history}
    assert explorer._curve_leaves[("loss", "residual", 8)].children[0].value != before


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


def test_an_old_ipywidgets_gets_a_message_that_says_what_to_do(monkeypatch):
    """Colab ships ipywidgets 7, which has no Stack: installing resnet-lib upgrades it, and a kernel
    that still runs the old one is told to restart instead of failing with an AttributeError."""
    monkeypatch.delattr(widgets, "Stack")
    monkeypatch.setattr(widgets, "__version__", "7.7.1")
    with pytest.raises(RuntimeError, match=r"ipywidgets 8 or newer .* runs ipywidgets 7\.7\.1.*restart the kernel"):
        DepthExplorer(sweep.load_sweep(), progress=False)
