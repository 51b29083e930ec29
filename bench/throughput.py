"""Throughput of resnet_lib.resnet50() against keras.applications.ResNet50.

Training and inference images per second of both models on the same random batch, measured
alternately (A, B, B, A, ...) within one run so that machine noise hits both alike. Prints the
best round of each (see `_common.best`), the medians, and the ratio ours / reference (goal: >= 0.95;
the models are the same network, so the ratio should be 1 within noise).

    python bench/throughput.py [--rounds 10] [--steps 5] [--inference-steps 20] [--batch-size 32] [--image-size 64]

A benchmark, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import resnet_lib  # noqa: E402  (first: it switches TensorFlow's oneDNN kernels on)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best, median, provenance  # noqa: E402
from resnet_lib.files import write_atomically  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402


def images_per_second(step, batch_size: int, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch_size * steps / (time.perf_counter() - start)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="alternating measurement rounds")
    parser.add_argument("--steps", type=int, default=5, help="training batches timed per model and round")
    parser.add_argument("--inference-steps", type=int, default=20,
                        help="inference batches timed per model and round (a batch is ~4x faster than a training one)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--classes", type=int, default=6)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    shape = (args.image_size, args.image_size, 3)
    models = {
        "resnet_lib.resnet50": resnet_lib.resnet50(shape, args.classes),
        "keras.applications.ResNet50": keras.applications.ResNet50(weights=None, input_shape=shape, classes=args.classes),
    }
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(args.batch_size, *shape)).astype("float32")
    labels = rng.integers(0, args.classes, size=args.batch_size)

    tasks = {}
    for name, model in models.items():
        model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy")
        tasks[name] = {
            "train": lambda m=model: m.train_on_batch(images, labels),
            "inference": lambda m=model: m.predict_on_batch(images),
        }
        for step in tasks[name].values():  # warm up: trace and compile both functions
            step()
            step()

    samples = {name: {"train": [], "inference": []} for name in models}
    order = list(models)
    steps = {"train": args.steps, "inference": args.inference_steps}
    for round_index in tqdm(range(args.rounds), desc="rounds", unit="round"):
        for task in ("train", "inference"):
            for name in order if round_index % 2 == 0 else order[::-1]:
                samples[name][task].append(images_per_second(tasks[name][task], args.batch_size, steps[task]))

    ours, reference = order
    results = {
        "settings": vars(args),
        **provenance(),
        "estimator": "best round (fastest sample); medians alongside",
        "images_per_second": {n: {t: best(v) for t, v in s.items()} for n, s in samples.items()},
        "median_images_per_second": {n: {t: median(v) for t, v in s.items()} for n, s in samples.items()},
        "samples": samples,
    }
    for key, speeds in (("ratio", "images_per_second"), ("median_ratio", "median_images_per_second")):
        results[key] = {task: results[speeds][ours][task] / results[speeds][reference][task]
                        for task in ("train", "inference")}

    print(f"\nResNet50 throughput, {args.image_size}x{args.image_size}, batch {args.batch_size}, "
          f"{args.rounds} alternating rounds (images/s, best round / median):")
    print(f"{'':32}{'train':>16}{'inference':>18}")
    for name in order:
        fast, typical = results["images_per_second"][name], results["median_images_per_second"][name]
        print(f"{name:32}{fast['train']:8.1f} /{typical['train']:6.1f}"
              f"{fast['inference']:10.1f} /{typical['inference']:6.1f}")
    print(f"{'ratio ours / reference':32}{results['ratio']['train']:8.3f} /{results['median_ratio']['train']:6.3f}"
          f"{results['ratio']['inference']:10.3f} /{results['median_ratio']['inference']:6.3f}   (goal >= 0.95)")
    if args.json:
        write_atomically(args.json, json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
