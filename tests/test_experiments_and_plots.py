"""Experiment commands, provenance, fast mode and figures."""

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from resnet_lib import config, experiments, plots  # noqa: E402
from resnet_lib.provenance import provenance  # noqa: E402
from resnet_lib.training import load_history  # noqa: E402


def test_plain_depths_command_writes_results_with_provenance(tmp_path):
    out = tmp_path / "depths.json"
    experiments.main(["plain-depths", "--depths", "8", "--epochs", "1", "--out", str(out)])
    result = load_history(out)
    assert list(result) == ["plain", "residual", "provenance", "complete"] and result["complete"] is True  # last
    for kind in ("plain", "residual"):
        run = result[kind]["runs"]["8"]
        assert len(run["loss"]) == 1 and 0.0 <= run["val_accuracy"][0] <= 1.0
    assert result["residual"]["residual"] is True and result["plain"]["residual"] is False
    record = result["provenance"]
    assert record["command"] == f"python -m resnet_lib.experiments plain-depths --depths 8 --epochs 1 --out {out}"
    assert record["seed"] == 0 and record["wall_seconds"] > 0
    assert {"keras", "tensorflow", "numpy", "python", "resnet_lib"} <= set(record["versions"])
    assert record["hardware"]["cpus"] >= 1 and record["hardware"]["processor"]


def test_experiments_write_to_the_current_folder_and_never_into_the_package(tmp_path, monkeypatch, capsys):
    import resnet_lib
    from resnet_lib import results

    package = Path(resnet_lib.__file__).parent
    shipped = {name: results.path(name).read_bytes() for name in results.names()}
    for command in (["depth-sweep", "--out", str(package / "results" / "depth_sweep.json")],
                    ["plain-depths", "--out", str(package / "x.json")],
                    ["resnet50", "--out", str(package / "results" / ".." / "y.json")]):
        with pytest.raises(SystemExit) as refused:
            experiments.main(command)
        assert refused.value.code == 2
        assert "must not lie inside the resnet_lib package" in capsys.readouterr().err
    with pytest.raises(ValueError, match="inside the resnet_lib package"):
        experiments.run_depth_sweep(experiments.depth_sweep_recipe(depths=[8]), [0], out=package / "s.json")
    assert {name: results.path(name).read_bytes() for name in results.names()} == shipped
    assert not (package / "x.json").exists() and not (package / "y.json").exists()

    committed = Path(experiments.__file__).resolve().parents[1] / "README.md"  # a committed file outside the package
    if experiments._tracked_by_git(committed):
        before = committed.read_bytes()
        with pytest.raises(SystemExit):
            experiments.main(["plain-depths", "--out", str(committed)])
        assert "committed to git" in capsys.readouterr().err and committed.read_bytes() == before

    monkeypatch.chdir(tmp_path)
    experiments.main(["plain-depths", "--depths", "8", "--epochs", "1"])
    assert load_history(tmp_path / "plain_depths.json")["provenance"]["command"].endswith("plain-depths --depths 8 --epochs 1")


def test_resnet50_run_records_predictions_for_every_test_image():
    recipe = experiments.resnet50_recipe(epochs=1, batch_size=32, batch_norm_momentum=0.9)
    result = experiments.run_resnet50(recipe, seed=0, progress=False, limit=64)
    assert len(result["test_predictions"]) == len(result["test_labels"]) == 360
    assert result["test_accuracy"] == pytest.approx(np.mean(np.array(result["test_predictions"]) == result["test_labels"]))
    assert result["parameters"] == 23_608_202  # resnet50 at 32x32 with 10 classes
    assert set(result["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds"}
    json.dumps(result)  # plain data, ready for save_history


def test_provenance_defaults_to_this_command():
    record = provenance(seed=3)
    assert record["seed"] == 3 and record["command"] and record["date"].endswith("+00:00")


@pytest.mark.parametrize("value, expected", [("", False), ("0", False), ("no", False), ("1", True), ("TRUE", True)])
def test_fast_mode_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv(config.FAST_MODE_VARIABLE, value)
    assert config.fast_mode() is expected
    assert config.pick(full=10, fast=1) == (1 if expected else 10)


def test_fast_mode_refuses_unclear_values(monkeypatch):
    monkeypatch.setenv(config.FAST_MODE_VARIABLE, "maybe")
    with pytest.raises(ValueError, match=r"RESNET_BOOK_FAST must be 1 or 0"):
        config.fast_mode()


def test_confusion_matrix_counts():
    matrix = plots.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    with pytest.raises(ValueError, match=r"`labels` \(2,\) and `predictions` \(3,\)"):
        plots.confusion_matrix([0, 1], [0, 1, 1], 2)


def test_plots_draw_what_they_are_given():
    history = {"loss": [2.0, 1.0, 0.5], "val_loss": [2.1, 1.2, 0.9]}
    ax = plots.plot_histories({"a": history, "b": history}, "val_loss", title="t", log=True)
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), history["val_loss"])
    with pytest.raises(ValueError, match=r"`metric` 'accuracy' is not in the histories of \['a'\]"):
        plots.plot_histories({"a": history}, "accuracy")

    ax = plots.plot_gradient_norms({"net": {"conv": 1.0, "dense": 0.1}})
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 1

    ax = plots.plot_confusion_matrix([0, 1, 1], [0, 1, 0], ["zero", "one"])
    assert [t.get_text() for t in ax.texts] == ["1", "1", "1"]

    figure = plots.show_images(np.zeros((5, 8, 8, 1)), titles=list("abcde"), columns=3)
    assert len(figure.axes) == 6 and figure.axes[4].get_title() == "e"
    with pytest.raises(ValueError, match=r"`images` must be a non-empty batch"):
        plots.show_images(np.zeros((8, 8)))
