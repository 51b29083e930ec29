"""Time to 95 % test accuracy on the offline default data set (scikit-learn's digits), from scratch.

Two networks, each trained with the book's training helper (`resnet_lib.train`, so with the speed
options it keeps by default) and a fixed recipe, evaluated on the 360 test images after every
epoch:

* ResNet50 (`resnet_lib.resnet50`) at 32x32, the recipe of chapter 6 shortened
  (`--resnet50-epochs`);
* the residual depth-20 network of chapter 7 (`build_network(20)`) at the digits' native 8x8,
  with the depth sweep's recipe.

The schedule is fixed in advance (no stopping when the target is reached): the report gives the
wall time of the whole run, the final test accuracy, and the first epoch at which the test accuracy
reached the target, with the time it took: `wall_seconds_to_target` counts from the start of the run
(building the model, compiling and tracing included) to the end of that epoch's evaluation, and
`seconds_to_target` the training epochs alone. The goal (`GOAL_SECONDS`) is on the first.

    python bench/time_to_accuracy.py [--resnet50-epochs 8] [--target 0.95] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import resnet_lib  # noqa: E402,F401  (first: switches TensorFlow's oneDNN kernels on)
from _common import provenance  # noqa: E402
from resnet_lib.files import write_atomically  # noqa: E402

#: ResNet50 from scratch to the target, start to finish (`wall_seconds_to_target`), at most this long.
GOAL_SECONDS = 60


def summarise(history: dict, wall_seconds: float, target: float) -> dict:
    accuracy = history["val_accuracy"]
    elapsed, total = [], 0.0
    for seconds in history["epoch_seconds"]:
        total += seconds
        elapsed.append(total)
    reached = next((epoch for epoch, value in enumerate(accuracy) if value >= target), None)
    return {
        "epochs": len(accuracy),
        "final_test_accuracy": accuracy[-1],
        "wall_seconds": wall_seconds,
        "first_epoch_at_target": None if reached is None else reached + 1,
        "seconds_to_target": None if reached is None else elapsed[reached],
        # the whole run less the epochs after the one that reached the target
        "wall_seconds_to_target": None if reached is None else wall_seconds - (total - elapsed[reached]),
        "test_accuracy_per_epoch": accuracy,
    }


def resnet50_run(epochs: int, target: float) -> dict:
    from resnet_lib.experiments import resnet50_recipe, run_resnet50

    recipe = resnet50_recipe(epochs=epochs, batch_norm_momentum=0.9)
    result = run_resnet50(recipe, seed=0, progress=True)
    return {"recipe": {**recipe, "augmentation": "none", "label_smoothing": 0.0},
            **summarise(result["history"], result["wall_seconds"], target)}


def depth20_run(target: float) -> dict:
    from resnet_lib.experiments import depth_sweep_recipe, train_sweep_network

    recipe = depth_sweep_recipe()
    start = time.perf_counter()
    history = train_sweep_network(recipe, "residual", 20, 0, progress=True)
    wall = time.perf_counter() - start  # includes the two gradient-norm probes of the sweep
    return {"recipe": recipe, **summarise(history, wall, target)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resnet50-epochs", type=int, default=8)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    results = {**provenance(), "target": args.target,
               "onednn": resnet_lib.training.onednn_enabled(),
               "resnet50": resnet50_run(args.resnet50_epochs, args.target), "residual_20": depth20_run(args.target)}
    print(f"\nTime to {args.target:.0%} test accuracy on digits (fixed schedules, seed 0):")
    for name, run in (("ResNet50, 32x32", results["resnet50"]), ("residual-20, 8x8", results["residual_20"])):
        reached = (f"reached in epoch {run['first_epoch_at_target']}, {run['wall_seconds_to_target']:.0f} s after "
                   f"the start ({run['seconds_to_target']:.0f} s of training epochs)"
                   if run["first_epoch_at_target"] else "target not reached")
        print(f"  {name:18} {run['epochs']:3d} epochs in {run['wall_seconds']:6.1f} s, final test accuracy "
              f"{run['final_test_accuracy']:.1%}; {reached}")
    if args.json:
        write_atomically(args.json, json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    main()
