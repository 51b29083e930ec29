"""The benchmarks' bookkeeping (not their timings: nothing here measures time).

The committed summary `bench/RESULTS.md`, which the book's appendix shows, must be exactly what
`make bench` renders from the committed `bench/results/*.json`, so it cannot be edited by hand.
"""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import run_all  # noqa: E402
import time_to_accuracy  # noqa: E402
import training_options  # noqa: E402


def stored_results():
    return {name: json.loads((run_all.RESULTS / f"{name}.json").read_text())
            for name in run_all.BENCHMARKS if (run_all.RESULTS / f"{name}.json").exists()}


def test_every_benchmark_has_committed_results_with_provenance():
    results = stored_results()
    assert set(results) == set(run_all.BENCHMARKS)
    for name, result in results.items():
        assert result["command"] == f"python bench/run_all.py --only {name}"
        assert result["date"] and result["machine"]["cpus"] and result["versions"]["tensorflow"]


def test_the_summary_is_rendered_from_the_results():
    assert run_all.SUMMARY.read_text() == run_all.render(stored_results())


def test_the_appendix_includes_the_summary():
    page = (ROOT / "book" / "appendix_performance.md").read_text()
    assert "```{include} ../bench/RESULTS.md" in page


def test_verdicts_compare_each_option_with_its_reference():
    speeds = {"baseline": 10.0, "XLA jit_compile": 18.0, "oneDNN kernels": 70.0,
              "oneDNN + XLA": 20.0, "oneDNN + batch 64": 71.0, "oneDNN + threads": 75.0, "oneDNN + bf16": None}
    verdicts = training_options.verdicts(speeds)
    assert verdicts["XLA jit_compile"] == "helps (1.80x baseline)"
    assert verdicts["oneDNN + XLA"] == "slower (0.29x oneDNN kernels)"
    assert verdicts["oneDNN + batch 64"] == "no clear effect (1.01x oneDNN kernels)"
    assert verdicts["oneDNN + threads"] == "no clear effect (1.07x oneDNN kernels)"  # within the noise band
    assert "oneDNN + bf16" not in verdicts and "baseline" not in verdicts


@pytest.mark.parametrize("accuracy, first, seconds", [
    ([0.5, 0.94, 0.951, 0.96], 3, 6.0),
    ([0.5, 0.6], None, None),
])
def test_time_to_accuracy_reads_the_first_epoch_at_the_target(accuracy, first, seconds):
    history = {"val_accuracy": accuracy, "epoch_seconds": [2.0] * len(accuracy)}
    summary = time_to_accuracy.summarise(history, wall_seconds=10.0, target=0.95)
    assert summary["first_epoch_at_target"] == first
    assert summary["seconds_to_target"] == seconds
    assert summary["final_test_accuracy"] == accuracy[-1]
