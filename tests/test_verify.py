"""tools/ship_results.py --verify: a cheap slice of each shipped result, re-run with today's code, equals the
shipped numbers bit for bit (resnet_lib.experiments.verify); --compare does the same for whole re-made files."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from resnet_lib import results
from resnet_lib.experiments import verify

ROOT = Path(__file__).resolve().parents[1]


def run_verify(*arguments):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, str(ROOT / "tools" / "ship_results.py"), "--verify", *arguments],
                          capture_output=True, text=True, env=environment, cwd=ROOT, timeout=900)


def test_every_shipped_result_has_a_slice_and_records_its_thread_count():
    assert sorted(verify.SLICES) == results.names()
    for name in results.names():
        assert isinstance(results.load(name)["provenance"].get("threads_per_run"), int), name


def test_differences_name_where_the_numbers_differ_and_leave_timings_out():
    shipped = {"loss": [0.5, 0.25], "epoch_seconds": [1.0, 2.0], "norms": {"conv": 1.5}, "val_loss": [math.nan]}
    same = {"loss": [0.5, 0.25], "epoch_seconds": [9.0, 9.0], "norms": {"conv": 1.5}, "val_loss": [math.nan]}
    assert verify.differences(same, shipped) == []
    changed = {"loss": [0.5, 0.2500001], "epoch_seconds": [1.0], "norms": {"conv": 1.5, "dense": 2.0},
               "val_loss": [math.nan]}
    assert verify.differences(changed, shipped, "run") == ["run.loss[1]: 0.2500001 now, 0.25 shipped",
                                                           "run.norms.dense: only in the new run"]
    assert verify.differences({"loss": [1.0]}, {"loss": [1.0, 2.0]}) == [".loss: 1 values now, 2 shipped"]


@pytest.mark.parametrize("arguments, message", [
    (["no_such_result"], "`name` must be one of"),
    (["depth_sweep", "plain-8"], "slice 'plain-8' of 'depth_sweep' must name a network: kind-depth-seed"),
    (["resnet50_digits", "two"], "must name the first epochs of the run: a number"),
])
def test_a_wrong_name_or_slice_is_refused_before_anything_runs(arguments, message):
    finished = run_verify(*arguments)
    assert finished.returncode == 2 and message in finished.stderr, finished.stderr


@pytest.mark.slow  # trains one network of the sweep, about 10 s
def test_the_cheapest_slice_of_the_shipped_sweep_is_reproduced_bit_for_bit():
    finished = run_verify("depth_sweep")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "depth_sweep plain-8-0 (1 thread(s)): all" in finished.stdout
    assert "values equal the shipped file, bit for bit" in finished.stdout
    assert "oneDNN custom operations" not in finished.stderr and "absl" not in finished.stderr, finished.stderr


def run_compare(*files):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, str(ROOT / "tools" / "ship_results.py"), "--compare", *map(str, files)],
                          capture_output=True, text=True, env=environment, cwd=ROOT, timeout=300)


def test_compare_passes_a_re_made_file_whose_numbers_equal_the_shipped_ones_bit_for_bit(tmp_path):
    """A file as `make results` writes it: another date, commit and timings, the same numbers."""
    made = json.loads(results.path("plain_depths").read_text())
    made["provenance"] = {**made["provenance"], "date": "2031-01-01", "git": {"commit": "0" * 40}}
    made["plain"]["runs"]["8"]["epoch_seconds"] = [1.0] * len(made["plain"]["runs"]["8"]["epoch_seconds"])
    (tmp_path / "plain_depths.json").write_text(json.dumps(made))
    finished = run_compare(tmp_path / "plain_depths.json")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "values equal the shipped plain_depths, bit for bit" in finished.stdout


def test_compare_names_a_number_that_differs_and_refuses_a_file_of_another_name(tmp_path):
    made = json.loads(results.path("plain_depths").read_text())
    losses = made["plain"]["runs"]["8"]["loss"]
    losses[-1] = math.nextafter(losses[-1], math.inf)  # one bit off
    (tmp_path / "plain_depths.json").write_text(json.dumps(made))
    finished = run_compare(tmp_path / "plain_depths.json")
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "1 of " in finished.stdout and f"plain_depths.plain.runs.8.loss[{len(losses) - 1}]" in finished.stdout, \
        finished.stdout
    (tmp_path / "my_sweep.json").write_text("{}")
    refused = run_compare(tmp_path / "my_sweep.json")
    assert refused.returncode == 2 and "is not named after a shipped result" in refused.stderr, refused.stderr
