"""`make bench`: every benchmark in one run, a printed table, and the committed results.

Runs, in this order, each printing its own table as it goes:

1. `throughput.py`: resnet_lib.resnet50 against keras.applications.ResNet50 (64x64, batch 32);
   `peers.py`: the same network against PyTorch eager and Keras on its JAX and PyTorch backends (their
   environments come from `make test-backends`); `profile_backends.py`: where a training step's time
   goes on each backend, by op family;
2. `training_options.py`: which speed options help ResNet50 training on this CPU;
3. `efficiency.py`: achieved GFLOP/s of ResNet50 training against the measured matmul peak;
4. `profile_training.py`: where a training step's time goes (a profiler trace, by op type);
5. `time_to_accuracy.py`: ResNet50 and residual-20 from scratch to 95 % test accuracy.

Writes `bench/results/<benchmark>.json` (all numbers, with the machine and versions) and
`bench/RESULTS.md` (the summary table the book's appendix shows), then prints that table.
Half an hour to an hour on a 2-core CPU (34 minutes with AVX-512, 62 without). `--only` runs a subset and keeps the others' stored results.

    python bench/run_all.py [--only throughput peers profile_backends training_options efficiency profile_training
                                    time_to_accuracy]
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import resnet_lib  # noqa: E402,F401  (before TensorFlow: the in-process benchmarks run with oneDNN on)
from peers import BOOK_PATHS  # noqa: E402  (imports no TensorFlow)
import profile_backends  # noqa: E402  (imports no TensorFlow)
import training_options  # noqa: E402  (imports no TensorFlow)
from efficiency import GOAL as EFFICIENCY_GOAL  # noqa: E402  (imports no TensorFlow)
from time_to_accuracy import GOAL_SECONDS  # noqa: E402
from resnet_lib.files import write_atomically  # noqa: E402
RESULTS = BENCH / "results"
SUMMARY = BENCH / "RESULTS.md"
BENCHMARKS = ("throughput", "peers", "profile_backends", "training_options", "efficiency", "profile_training",
              "time_to_accuracy")


def _ratio(value, goal, higher_is_better=True):
    if value is None:
        return "not measured"
    ratio = value / goal if higher_is_better else goal / value
    return f"{ratio:.2f}x the goal ({'met' if ratio >= 1 else 'missed'})"


#: The profile table's column heads (its rows are long enough without the peers' full names).
SHORT_NAMES = {
    "resnet_lib.resnet50, the book's default, TensorFlow": "book, default (TF)",
    "resnet_lib.resnet50, Keras' batch norm, TensorFlow": "book, Keras BN (TF)",
    "PyTorch eager, channels-last": "PyTorch eager",
    "keras.applications.ResNet50, JAX backend": "Keras on JAX",
    "keras.applications.ResNet50, PyTorch backend": "Keras on PyTorch",
}


def _profile_table(profiles: dict) -> list[str]:
    """Milliseconds per training step by op family, one column per backend, and the book's path minus the
    fastest peer."""
    settings, measured = profiles["settings"], {n: p for n, p in profiles["profiles"].items() if "missing" not in p}
    gap = profiles.get("gap_to_fastest")
    names = list(measured)
    lines = ["", f"Where a training step's time goes, per backend (ResNet50, {settings['image_size']}x"
             f"{settings['image_size']}, batch {settings['batch_size']}; milliseconds per step: each op family's share "
             f"of the backend's own profiler times the fastest of {settings['steps']} unprofiled steps; "
             f"`bench/profile_backends.py`):", "",
             "| ms per step | " + " | ".join(SHORT_NAMES.get(n, n) for n in names)
             + (f" | book's default minus {SHORT_NAMES.get(gap['peer'], gap['peer'])} |" if gap else " |"),
             "|---|" + "---|" * (len(names) + bool(gap))]
    families = [f for f in profile_backends.FAMILIES if any(f in p["milliseconds_per_step"] for p in measured.values())]
    for family in families:
        cells = [f"{p['milliseconds_per_step'][family]:.1f}" if family in p["milliseconds_per_step"] else "-"
                 for p in measured.values()]
        if gap:
            difference = gap["milliseconds_per_step"].get(family)  # None: in neither of the two
            cells.append("" if difference is None else f"{difference:+.1f}")
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    def overlap(profile):  # above 1: ops that ran at the same time (TensorFlow's inter-op threads), or
        # events summed over the threads that shared one op (XLA)
        return profile["profiled_op_seconds"] / (settings["steps"] * profile["step_milliseconds"] / 1000)

    def convolutions(profile):
        return sum(v for k, v in profile["milliseconds_per_step"].items() if k.startswith("convolution"))

    rows = (("convolutions, all", lambda p: f"{convolutions(p):.1f}", "convolutions, all"),
            ("**the whole step**", lambda p: f"**{p['step_milliseconds']:.1f}**", "the whole step"),
            ("the convolutions' rate, GFLOP/s", lambda p: f"{p['convolution_gflops']:.1f}", None),
            ("profiled op time / step time", lambda p: f"{overlap(p):.2f}", None))
    for label, cell, key in rows:
        cells = [cell(p) for p in measured.values()]
        if gap:
            cells.append(f"{gap['milliseconds_per_step'][key]:+.1f}" if key else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for name, profile in profiles["profiles"].items():
        if "missing" in profile:
            lines.append(f"\n{name}: not profiled: {profile['missing']}")
    return lines


def render(results: dict) -> str:
    """The summary table of all stored results, as Markdown."""
    lines = ["| figure | measured | goal | against the goal |", "|---|---|---|---|"]
    throughput = results.get("throughput")
    if throughput:
        for task in ("train", "inference"):
            ours = throughput["images_per_second"]["resnet_lib.resnet50"][task]
            reference = throughput["images_per_second"]["keras.applications.ResNet50"][task]
            ratio, typical = throughput["ratio"][task], throughput["median_ratio"][task]
            lines.append(f"| ResNet50 {task} images/s, 64x64, batch 32: resnet_lib / keras.applications, best rounds "
                         f"(ratio of the medians) | {ours:.1f} / {reference:.1f} = {ratio:.3f} ({typical:.3f}) | "
                         f">= 0.95 | {_ratio(ratio, 0.95)} |")
    peers = results.get("peers")
    if peers and peers.get("ratio_to_fastest_peer"):
        ours = next(iter(peers["images_per_second"]))  # the book's recommended path comes first
        for task, ratio in peers["ratio_to_fastest_peer"].items():
            others = {n: v[task] for n, v in peers["images_per_second"].items() if n not in BOOK_PATHS and v[task]}
            fastest = max(others, key=others.get)
            lines.append(f"| ResNet50 {task} images/s, 64x64, batch 32: the book's path ({ours}) / the fastest peer "
                         f"({fastest}), best rounds | {peers['images_per_second'][ours][task]:.1f} / {others[fastest]:.1f} = "
                         f"{ratio:.2f} | >= 1.0 | {_ratio(ratio, 1.0)} |")
    options = results.get("training_options")
    if options:
        best = max((speed, name) for name, speed in options["speed_up"].items() if speed and name != training_options.BOOK)
        book = options["speed_up"].get(training_options.BOOK)
        base = options["images_per_second"]["baseline"]
        shown = f"{book:.2f}x" if book else "not measured"
        lines.append(f"| ResNet50 training, 32x32, on the batch clock: the book's `train` against plain `model.fit` "
                     f"({base:.1f} images/s) | {shown} | >= 1.5x | {_ratio(book, 1.5)} |")
        lines.append(f"| fastest single variant | {best[1]}: {best[0]:.2f}x | | |")
    efficiency = results.get("efficiency")
    if efficiency:
        peak = efficiency["peak"]
        for name, run in efficiency["resnet50"].items():
            goal = (f">= {EFFICIENCY_GOAL:.0%} | {_ratio(run['fraction_of_peak'], EFFICIENCY_GOAL)}"
                    if name.startswith("64x64") else " | ")  # the goal is set at 64x64
            lines.append(f"| ResNet50 training GFLOP/s, {name}, against the float32 matmul peak "
                         f"({peak['gflops']:.0f} GFLOP/s, {peak['library']}) | {run['gflops']:.1f} = "
                         f"{run['fraction_of_peak']:.0%} | {goal} |")
    profile = results.get("profile_training")
    if profile:
        groups = profile["groups_seconds"]
        total = profile["kernel_seconds"]
        convolution = sum(v for k, v in groups.items() if k.startswith("convolution"))
        lines.append(f"| profile, 32x32 batch 64: share of op-kernel time in convolutions; their own rate | "
                     f"{convolution / total:.0%}; {profile['convolution_gflops']:.1f} GFLOP/s | | |")
        rest = ", ".join(f"{k} {v / total:.0%}" for k, v in groups.items() if not k.startswith("convolution"))
        lines.append(f"| profile: the rest of the op-kernel time | {rest} | | |")
    accuracy = results.get("time_to_accuracy")
    if accuracy:
        run = accuracy["resnet50"]
        if run["first_epoch_at_target"]:
            measured = (f"{run['wall_seconds_to_target']:.0f} s (epoch {run['first_epoch_at_target']} of "
                        f"{run['epochs']}; all {run['epochs']} in {run['wall_seconds']:.0f} s, final "
                        f"{run['final_test_accuracy']:.1%})")
            against = _ratio(run["wall_seconds_to_target"], GOAL_SECONDS, higher_is_better=False)
        else:
            measured = f"not reached in {run['epochs']} epochs (final {run['final_test_accuracy']:.1%})"
            against = "missed"
        lines.append(f"| ResNet50 from scratch to {accuracy['target']:.0%} test accuracy (digits, 32x32), from the "
                     f"start of the run | {measured} | <= {GOAL_SECONDS} s | {against} |")
        run = accuracy["residual_20"]
        lines.append(f"| residual-20 from scratch to {accuracy['target']:.0%} test accuracy (digits, 8x8) | "
                     f"{run['wall_seconds']:.0f} s for {run['epochs']} epochs, final {run['final_test_accuracy']:.1%} | | |")
    if peers:
        settings = peers["settings"]
        lines += ["", f"The peers, one alternating run (ResNet50, {settings['image_size']}x{settings['image_size']}, batch "
                  f"{settings['batch_size']}, {settings['classes']} classes; images/s, the best of {settings['rounds']} rounds "
                  f"of {settings['steps']} training steps and {settings['inference_steps']} inference batches, and the "
                  "median; the book's path divided by each):", "",
                  "| ResNet50 | training | inference | versions |", "|---|---|---|---|"]
        for name, peer in peers["peers"].items():
            if peer.get("missing"):
                lines.append(f"| {name} | not measured: {peer['missing']} | | |")
                continue
            cells = []
            for task in ("train", "inference"):
                speed, typical = peers["images_per_second"][name][task], peers["median_images_per_second"][name][task]
                cells.append(f"{speed:.1f} ({typical:.1f}), {peers['ratio_to_ours'][name][task]:.2f}x")
            versions = ", ".join(f"{k} {v}" for k, v in peer.get("versions", {}).items()
                                 if k not in ("python", "numpy", "backend", "resnet_lib"))  # the header has these
            lines.append(f"| {name} | {cells[0]} | {cells[1]} | {versions} |")
    profiles = results.get("profile_backends")
    if profiles:
        lines += _profile_table(profiles)
    if options:
        lines += ["", "Training options, each against plain `model.fit` (ResNet50, 32x32 digits, images/s: the fastest "
                  f"of {options['settings']['rounds']} alternating rounds x {options['settings']['windows']} timed epochs, "
                  f"and the median; ratios within {training_options.NOISE_BAND:.0%} of 1 count as no clear effect):", "",
                  "| variant | images/s, fastest (median) | against plain `model.fit` | verdict (against its reference) |",
                  "|---|---|---|---|"]
        for name, speed in options["images_per_second"].items():
            ratio = options["speed_up"][name]
            if speed is None:  # the worker's error: its last line is the exception's message
                error = options["notes"].get(name, "").split(" | ")[-1].strip().replace("|", "/")
                lines.append(f"| {name} | not measured: {error} | | |")
                continue
            typical = options["median_images_per_second"][name]
            lines.append(f"| {name} | {speed:.1f} ({typical:.1f}) | {ratio:.2f}x | {options['verdicts'].get(name, '')} |")
    any_result = next((r for r in results.values() if "cpu_features" in r["machine"]), next(iter(results.values())))
    machine, versions = any_result["machine"], any_result["versions"]
    features = ", ".join(f for f, present in machine.get("cpu_features", {}).items() if present) or "unknown"
    header = [
        "<!-- Written by `make bench` (bench/run_all.py); do not edit by hand. -->",
        f"Measured on {machine.get('cpu', machine.get('processor', 'unknown CPU'))}, {machine['cpus']} cores "
        f"(CPU features: {features}); {machine['platform']}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "Dates: " + ", ".join(f"{name} {data.get('date', '?')}" for name, data in results.items()) + ".",
        "",
    ]
    return "\n".join(header + lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument("--render-only", action="store_true", help="only rewrite bench/RESULTS.md from the results")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    for name in [] if args.render_only else args.only:
        print(f"\n=== {name} ===", flush=True)
        module = importlib.import_module(name)
        result = module.main([])
        result["date"] = datetime.date.today().isoformat()
        result["command"] = f"python bench/run_all.py --only {name}"
        write_atomically(RESULTS / f"{name}.json", json.dumps(result, indent=1) + "\n")
    stored = {name: json.loads((RESULTS / f"{name}.json").read_text())
              for name in BENCHMARKS if (RESULTS / f"{name}.json").exists()}
    write_atomically(SUMMARY, render(stored))
    print("\n=== summary (bench/RESULTS.md) ===\n" + SUMMARY.read_text())


if __name__ == "__main__":
    main()
