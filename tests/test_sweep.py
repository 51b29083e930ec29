"""The depth sweep of chapter 7: augmentation, the restartable sweep command, and the committed results."""

import json
import math

import numpy as np
import pytest

from resnet_lib import experiments, sweep
from resnet_lib.experiments import depth_sweep as sweep_experiment  # its worker, patched below
from resnet_lib.data import random_shift


# --- random_shift ----------------------------------------------------------------------------------

def test_random_shift_moves_each_image_by_at_most_max_shift_and_fills_with_zeros(rng):
    images = rng.uniform(0.1, 1.0, size=(64, 6, 6, 2)).astype(np.float32)
    shifted = random_shift(images, 1, np.random.default_rng(0))
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    offsets = set()
    for original, moved in zip(images, shifted):
        matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if np.array_equal(np.roll(original, (dy, dx), axis=(0, 1))[max(dy, 0):6 + min(dy, 0), max(dx, 0):6 + min(dx, 0)],
                                     moved[max(dy, 0):6 + min(dy, 0), max(dx, 0):6 + min(dx, 0)])]
        assert len(matches) == 1
        dy, dx = matches[0]
        offsets.add((dy, dx))
        uncovered = np.ones((6, 6), bool)
        uncovered[max(dy, 0):6 + min(dy, 0), max(dx, 0):6 + min(dx, 0)] = False
        assert np.all(moved[uncovered] == 0)  # the border that came in is black
    assert len(offsets) == 9  # all nine shifts occur among 64 images


def test_random_shift_is_reproducible_and_zero_shift_is_a_copy(rng):
    images = rng.uniform(size=(8, 5, 5, 1))
    a = random_shift(images, 2, np.random.default_rng(7))
    assert np.array_equal(a, random_shift(images, 2, np.random.default_rng(7)))
    same = random_shift(images, 0, np.random.default_rng(7))
    assert np.array_equal(same, images) and same is not images


@pytest.mark.parametrize("images, max_shift, rng, error, pattern", [
    (np.zeros((4, 4, 1)), 1, np.random.default_rng(), ValueError, r"shape \(n, height, width, channels\)"),
    (np.zeros((1, 4, 4, 1)), 4, np.random.default_rng(), ValueError, "smaller than the image size 4x4, received 4"),
    (np.zeros((1, 4, 4, 1)), 1.5, np.random.default_rng(), TypeError, "`max_shift` must be an integer"),
    (np.zeros((1, 4, 4, 1)), 1, 0, TypeError, r"np.random.default_rng\(seed\)"),
])
def test_random_shift_refuses_bad_input(images, max_shift, rng, error, pattern):
    with pytest.raises(error, match=pattern):
        random_shift(images, max_shift, rng)


# --- the sweep command -----------------------------------------------------------------------------

TINY = experiments.depth_sweep_recipe(depths=(8,), epochs=1)


@pytest.mark.slow  # trains
def test_sweep_runs_records_gradients_and_resumes_without_retraining(tmp_path, monkeypatch):
    out = tmp_path / "sweep.json"
    calls = []
    worker = sweep_experiment._sweep_worker
    monkeypatch.setattr(sweep_experiment, "_sweep_worker", lambda task: calls.append(task[1:]) or worker(task))
    result = experiments.run_depth_sweep(TINY, seeds=(0,), out=out, jobs=0, progress=False)
    assert sorted(calls) == [("plain", 8, 0), ("residual", 8, 0)] and result["runs_reused"] == 0
    run = result["runs"]["residual"]["8"]["0"]
    assert len(run["loss"]) == len(run["val_accuracy"]) == 1 and run["wall_seconds"] > 0
    layers = list(run["gradient_norms_initial"])
    assert layers[0] == "stem_conv" and layers[-1] == "predictions" and len(layers) == 8
    # Zero-initialised branches: no gradient reaches the kernels inside them at the first step.
    assert all(run["gradient_norms_initial"][name] == 0 for name in layers[1:-1])
    assert all(norm > 0 for norm in result["runs"]["plain"]["8"]["0"]["gradient_norms_initial"].values())

    calls.clear()
    again = experiments.run_depth_sweep(TINY, seeds=(0, 1), out=out, jobs=0, progress=False)
    assert sorted(calls) == [("plain", 8, 1), ("residual", 8, 1)]  # seed 0 came from the file
    assert again["runs_reused"] == 2
    assert again["runs"]["plain"]["8"]["0"]["loss"] == result["runs"]["plain"]["8"]["0"]["loss"]
    assert sweep.seeds(sweep.load_sweep(out)) == [0, 1] and not experiments.partial_path(out).exists()

    calls.clear()
    finished = out.read_bytes()
    same = experiments.run_depth_sweep(TINY, seeds=(0,), out=out, jobs=0, progress=False)
    assert calls == [] and same["runs_reused"] == 4 and out.read_bytes() == finished  # nothing to do, nothing written


def fake_worker(failing_at=None):
    """Stands in for training: returns a committed run; raises on the `failing_at`-th task (1-based)."""
    committed = sweep.load_sweep()
    calls = []

    def worker(task):
        calls.append(task[1:])
        if len(calls) == failing_at:
            raise RuntimeError("the machine fell over")
        _, kind, depth, seed = task
        return kind, depth, seed, committed["runs"][kind]["8"]["0"]
    return worker, calls


def test_a_sweep_writes_out_only_when_complete_and_resumes_from_its_partial_file(tmp_path, monkeypatch):
    out = tmp_path / "sweep.json"
    partial = experiments.partial_path(out)
    assert partial == tmp_path / "sweep.partial.json"
    worker, calls = fake_worker(failing_at=3)
    monkeypatch.setattr(sweep_experiment, "_sweep_worker", worker)
    with pytest.raises(RuntimeError, match="fell over"):
        experiments.run_depth_sweep(TINY, seeds=(0, 1), out=out, jobs=0, progress=False)
    assert not out.exists()
    kept = sweep.load_sweep(partial, partial=True)
    assert kept["complete"] is False and sum(len(d["8"]) for d in kept["runs"].values() if d) == 2
    with pytest.raises(ValueError, match=r"partial, unfinished run.*Complete it with `python -m resnet_lib.experiments "
                                         r"depth-sweep --depths 8 --seeds 0 1 --epochs 1 --out .*sweep.json`"):
        sweep.load_sweep(partial)

    worker, calls = fake_worker()
    monkeypatch.setattr(sweep_experiment, "_sweep_worker", worker)
    result = experiments.run_depth_sweep(TINY, seeds=(0, 1), out=out, jobs=0, progress=False)
    assert len(calls) == 2 and result["runs_reused"] == 2 and not partial.exists()
    assert sweep.load_sweep(out)["provenance"]["runs_reused"] == 2 and sweep.seeds(sweep.load_sweep(out)) == [0, 1]

    # Starting over never touches the finished sweep until the new one is finished too.
    finished = out.read_bytes()
    worker, calls = fake_worker(failing_at=2)
    monkeypatch.setattr(sweep_experiment, "_sweep_worker", worker)
    with pytest.raises(RuntimeError):
        experiments.run_depth_sweep(TINY, seeds=(0, 1), out=out, jobs=0, progress=False, fresh=True)
    assert out.read_bytes() == finished and sweep.load_sweep(partial, partial=True)["complete"] is False


def test_sweep_refuses_to_mix_recipes_in_one_file(tmp_path):
    out = sweep.save_sweep({"recipe": {**TINY, "epochs": 99}, "runs": {"plain": {}, "residual": {}}}, tmp_path / "s.json")
    with pytest.raises(ValueError, match="another recipe.*--fresh"):
        experiments.run_depth_sweep(TINY, seeds=(0,), out=out, jobs=0, progress=False)


@pytest.mark.slow  # trains in worker processes
def test_sweep_command_with_worker_processes_writes_provenance(tmp_path):
    out = tmp_path / "sweep.json"
    experiments.main(["depth-sweep", "--depths", "8", "--seeds", "0", "--epochs", "1", "--jobs", "2", "--out", str(out)])
    result = sweep.load_sweep(out)
    assert result["recipe"]["epochs"] == 1 and sweep.depths(result) == [8] and sweep.seeds(result) == [0]
    provenance = result["provenance"]
    assert provenance["command"].startswith("python -m resnet_lib.experiments depth-sweep")
    assert provenance["seeds"] == [0] and provenance["jobs"] == 2 and provenance["wall_seconds"] > 0
    assert provenance["runs_reused"] == 0 and "runs_reused" not in result
    assert {"tensorflow", "keras", "resnet_lib"} <= set(provenance["versions"]) and provenance["hardware"]["cpus"]


# --- reading sweeps --------------------------------------------------------------------------------

def fake_sweep(final):
    """A sweep whose runs end at final[kind][depth][seed] (training loss)."""
    runs = {kind: {str(d): {str(s): {"loss": [2.3, loss], "accuracy": [0.1, 0.9], "val_loss": [2.3, loss],
                                     "val_accuracy": [0.1, 0.9],
                                     "gradient_norms_initial": {"a": 1.0, "b": 0.0}, "gradient_norms_final": {"a": 0.5, "b": 0.1}}
                               for s, loss in enumerate(by_seed)} for d, by_seed in depths.items()}
            for kind, depths in final.items()}
    seeds = sorted({s for depths in final.values() for by_seed in depths.values() for s in range(len(by_seed))})
    return {"recipe": {"depths": sorted({d for depths in final.values() for d in depths})}, "seeds": seeds, "runs": runs}


def test_degradation_checks_judge_every_seed():
    good = fake_sweep({"plain": {20: [0.05, 0.06], 56: [1.2, 1.5]}, "residual": {20: [0.04, 0.05], 56: [0.03, 0.04]}})
    checks = sweep.degradation_checks(good)
    assert all(outcome["holds"] for outcome in checks.values())
    assert checks["plain degrades"]["values"] == {"plain-20": [0.05, 0.06], "plain-56": [1.2, 1.5]}

    one_bad_seed = fake_sweep({"plain": {20: [0.05, 0.06], 56: [1.2, 1.5]}, "residual": {20: [0.04, 0.05], 56: [0.03, 0.07]}})
    checks = sweep.degradation_checks(one_bad_seed)
    assert checks["residual does not degrade"] == {
        "holds": False, "per_seed": [True, False], "values": {"residual-20": [0.04, 0.05], "residual-56": [0.03, 0.07]}}
    assert checks["plain degrades"]["holds"] and checks["residual beats plain"]["holds"]


def test_reading_helpers_and_their_errors(tmp_path):
    data = fake_sweep({"plain": {8: [1.0, 2.0], 20: [0.5, 0.7]}, "residual": {8: [0.9, 1.1], 20: [0.3, 0.2]}})
    assert sweep.depths(data) == [8, 20] and sweep.seeds(data) == [0, 1]
    assert sweep.curves(data, "plain", 20, "loss").tolist() == [[2.3, 0.5], [2.3, 0.7]]
    assert sweep.recorded_gradient_norms(data, "residual", 8, "final").tolist() == [[0.5, 0.1], [0.5, 0.1]]
    with pytest.raises(ValueError, match=r"`depth` must be one of the sweep's depths \[8, 20\], received 56"):
        sweep.curves(data, "plain", 56)
    with pytest.raises(ValueError, match="`metric` must be one of"):
        sweep.curves(data, "plain", 8, "val_acc")
    with pytest.raises(ValueError, match="`kind` must be one of"):
        sweep.curves(data, "resnet", 8)
    with pytest.raises(FileNotFoundError, match="python -m resnet_lib.experiments depth-sweep"):
        sweep.load_sweep(tmp_path / "none.json")
    del data["runs"]["residual"]["20"]
    data["complete"] = True  # finished by its own account, yet a depth is missing
    with pytest.raises(ValueError, match=r": runs lacks 2 of the 8 runs .*: residual-20 seed 0, residual-20 seed 1\. "
                                         r"Nothing was written"):
        sweep.save_sweep(data, tmp_path / "part.json")  # never written ...
    assert not (tmp_path / "part.json").exists()
    (tmp_path / "part.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"runs lacks 2 of the 8 runs .*: residual-20 seed 0, residual-20 seed 1"):
        sweep.load_sweep(tmp_path / "part.json")  # ... and refused when read


# --- the committed results -------------------------------------------------------------------------

def test_committed_sweep_shows_the_papers_three_claims_for_every_seed():
    results = sweep.load_sweep()
    assert sweep.depths(results) == [8, 14, 20, 32, 44, 56] and len(sweep.seeds(results)) >= 3
    assert results["recipe"] == experiments.depth_sweep_recipe()  # made with the recipe the code has now
    for claim, outcome in sweep.degradation_checks(results).items():
        assert outcome["holds"], f"{claim}: {outcome}"
    provenance = results["provenance"]
    assert provenance["command"].startswith("python -m resnet_lib.experiments depth-sweep")
    assert provenance["wall_seconds"] > 0 and provenance["hardware"]["processor"]
    for runs in results["runs"].values():
        for by_seed in runs.values():
            for run in by_seed.values():
                assert len(run["loss"]) == results["recipe"]["epochs"]
                assert all(math.isfinite(v) for v in run["loss"])


# A committed run re-trained bit for bit: tests/test_verify.py (tools/ship_results.py --verify depth_sweep).


def test_a_complete_sweep_whose_runs_miss_a_depth_of_its_recipe_is_refused_naming_the_runs(tmp_path):
    """Marked complete, both kinds with the same depths and seeds, yet the recipe asks for depth 20 too: the
    depth explorer would silently show depth 8 alone."""
    data = fake_sweep({"plain": {8: [1.0, 2.0]}, "residual": {8: [0.9, 1.1]}})
    data["recipe"]["depths"] = [8, 20]
    data["complete"] = True
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"runs lacks 4 of the 8 runs that its kinds \['plain', 'residual'\], the "
                                         r"recipe's depths \[8, 20\] and its seeds \[0, 1\] ask for: plain-20 seed 0, "
                                         r"plain-20 seed 1, residual-20 seed 0, residual-20 seed 1\. Rebuild it"):
        sweep.load_sweep(path)
