"""Experiment commands, provenance, fast mode and figures."""

import json
import shutil
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from resnet_lib import config, experiments, plots  # noqa: E402
from resnet_lib.experiments._output import tracked_by_git  # noqa: E402
from resnet_lib.provenance import provenance  # noqa: E402
from resnet_lib.training import load_history  # noqa: E402


@pytest.mark.slow  # trains
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


@pytest.mark.slow  # trains
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

    committed = Path(resnet_lib.__file__).resolve().parents[1] / "README.md"  # a committed file outside the package
    if tracked_by_git(committed):
        before = committed.read_bytes()
        with pytest.raises(SystemExit):
            experiments.main(["plain-depths", "--out", str(committed)])
        assert "committed to git" in capsys.readouterr().err and committed.read_bytes() == before

    monkeypatch.chdir(tmp_path)
    experiments.main(["plain-depths", "--depths", "8", "--epochs", "1"])
    assert load_history(tmp_path / "plain_depths.json")["provenance"]["command"].endswith("plain-depths --depths 8 --epochs 1")


@pytest.mark.slow  # trains ResNet50
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


def git(*arguments, cwd):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false",
                           *arguments], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_provenance_records_the_git_commit_of_a_checkout(tmp_path):
    import resnet_lib
    from resnet_lib.provenance import git_state

    package = Path(resnet_lib.__file__).resolve().parent
    try:
        top = Path(git("rev-parse", "--show-toplevel", cwd=package))
    except subprocess.CalledProcessError:
        top = None
    if top is not None and (top / "resnet_lib").resolve() == package:  # this very checkout
        state = provenance()["git"]
        assert state["commit"] == git("rev-parse", "HEAD", cwd=package) and isinstance(state["dirty"], bool)

    repository = tmp_path / "book"  # a checkout of its own: clean, then with a tracked file changed
    (repository / "resnet_lib").mkdir(parents=True)
    (repository / "resnet_lib" / "code.py").write_text("x = 1\n")
    git("init", "-q", cwd=repository)
    git("add", ".", cwd=repository)
    git("commit", "-q", "-m", "first", cwd=repository)
    state = git_state(repository / "resnet_lib")
    assert state == {"commit": git("rev-parse", "HEAD", cwd=repository), "dirty": False}
    (repository / "resnet_lib" / "new.py").write_text("")  # untracked files do not count
    assert git_state(repository / "resnet_lib")["dirty"] is False
    (repository / "resnet_lib" / "code.py").write_text("x = 2\n")
    assert git_state(repository / "resnet_lib")["dirty"] is True


def test_provenance_of_an_installed_wheel_has_a_null_commit(tmp_path, monkeypatch):
    """Installed from a wheel, the code is no checkout: "git" is null, not a crash, and not the commit of
    whatever repository the virtual environment happens to sit in."""
    from resnet_lib import provenance as module

    installed = tmp_path / "venv" / "site-packages" / "resnet_lib"
    installed.mkdir(parents=True)
    assert module.git_state(installed) is None
    if shutil.which("git"):
        git("init", "-q", cwd=tmp_path)  # a user's project holding the virtual environment
        assert module.git_state(installed) is None
    with monkeypatch.context() as patch:
        patch.setenv("PATH", str(tmp_path / "no-git-here"))  # no git program at all
        assert module.git_state() is None
    monkeypatch.setattr(module, "__file__", str(installed / "provenance.py"))
    record = module.provenance(["python", "-m", "resnet_lib.experiments"])
    assert record["git"] is None and '"git": null' in json.dumps(record)


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
    # scikit-learn drops classes outside `labels=` without a word; here they are refused.
    with pytest.raises(ValueError, match=r"`labels` must be classes 0..2, found -1"):
        plots.confusion_matrix([0, -1], [0, 1], 3)
    with pytest.raises(ValueError, match=r"`predictions` must be classes 0..2, found 3"):
        plots.confusion_matrix([0, 1], [0, 3], 3)


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
