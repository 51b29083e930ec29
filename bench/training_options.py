"""Which speed options really help ResNet50 training on this CPU, each against plain `model.fit`.

Every variant trains `resnet_lib.resnet50` (32x32x3, 10 classes: the book's offline digits, as in
chapter 6) with Adam in one `fit` of `1 + --windows` epochs over the first `--images` training images,
and is timed on the batch clock (`_common.batch_clock`): each epoch from the end of its first batch to
the end of its last, so that neither `fit`'s set-up nor the tracing and compiling of the step counts.
The first epoch is a warm-up and not timed. The last variant is the book's `resnet_lib.train` itself,
with its defaults (oneDNN, TensorFlow's fused batch-norm kernel, the op determinism its seeding
switches on) and the recipes' batch 64.

A variant runs in a fresh Python process, because thread counts, op determinism, the precision policy
and the image data format are process-wide settings of TensorFlow/Keras. The variants are run in
alternating order (A B C ... then ... C B A) so that drifts of the machine hit all of them alike. Each
variant's speed is its fastest timed epoch over all rounds (`_common.best`: interference only ever
slows a window down); the medians are stored too. Before 2026-12-07 whole `fit` calls were timed, set-up
included.

    python bench/training_options.py [--rounds 3] [--images 512] [--windows 2] [--variants ...] [--json out.json]

A benchmark, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import batch_clock, best, median, provenance, run_worker  # noqa: E402

#: "baseline" is plain `model.fit` on NumPy arrays with batch 32 and TensorFlow's and Keras' defaults
#: (TensorFlow switches its oneDNN kernels on by default only on CPUs with AVX-512; Keras leaves XLA off on CPUs;
#: float32; channels-last). Two options are measured alone against it; the others on top of oneDNN,
#: the option that matters most here. `BOOK` is what the book's training runs do: `resnet_lib.train` with
#: its defaults and the recipes' batch 64.
ONEDNN = {"onednn": True}
VARIANTS = {
    "baseline": {},
    "XLA jit_compile": {"jit_compile": True},
    "oneDNN kernels": ONEDNN,
    "oneDNN + XLA": {**ONEDNN, "jit_compile": True},
    "oneDNN + tf.data cache+prefetch": {**ONEDNN, "pipeline": "tf.data"},
    "oneDNN + steps_per_execution=8": {**ONEDNN, "steps_per_execution": 8},
    "oneDNN + threads intra=2 inter=1": {**ONEDNN, "intra": 2, "inter": 1},
    "oneDNN + mixed_bfloat16": {**ONEDNN, "precision": "mixed_bfloat16"},
    "oneDNN + batch 64": {**ONEDNN, "batch_size": 64},
    "oneDNN + batch 128": {**ONEDNN, "batch_size": 128},
    # resnet_lib builds channels-last models only; keras.applications.ResNet50 (same architecture and speed,
    # see throughput.py) can be built channels-first, so this variant measures that model.
    "oneDNN + channels-first (keras.applications)": {**ONEDNN, "data_format": "channels_first"},
    "oneDNN + op determinism": {**ONEDNN, "determinism": True},
    "oneDNN + fused batch-norm kernel": {**ONEDNN, "fused_batch_norm": True},
    # the book's options on plain `fit`, without `resnet_lib.train` around them
    "oneDNN + batch 64 + fused batch-norm kernel + op determinism": {**ONEDNN, "batch_size": 64,
                                                                      "fused_batch_norm": True, "determinism": True},
}
#: The book's own training: `resnet_lib.train(..., batch_size=64)`, all its defaults (oneDNN, the fused
#: batch-norm kernel on a CPU, op determinism).
BOOK = "the book's train: oneDNN, fused batch norm, batch 64, op determinism"
VARIANTS[BOOK] = {"book": True}


def worker(options: dict, images: int, windows: int) -> dict:
    """One variant: one `fit` (or `resnet_lib.train`) of a warm-up epoch and `windows` timed epochs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    book = options.get("book", False)
    if book:
        from resnet_lib.training import FAST_OPTIONS  # imports no TensorFlow yet

        options = {**FAST_OPTIONS, "batch_size": 64}
    # TensorFlow reads this once, when it is imported; unset means TensorFlow's own default.
    os.environ.pop("TF_ENABLE_ONEDNN_OPTS", None)
    if "onednn" in options:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if options["onednn"] else "0"
    import contextlib

    import keras
    import numpy as np
    import tensorflow as tf

    import resnet_lib

    if "intra" in options:
        tf.config.threading.set_intra_op_parallelism_threads(options["intra"])
        tf.config.threading.set_inter_op_parallelism_threads(options["inter"])
    if options.get("determinism"):
        tf.config.experimental.enable_op_determinism()
    if options.get("precision"):
        keras.mixed_precision.set_global_policy(options["precision"])
    data_format = options.get("data_format", "channels_last")
    keras.config.set_image_data_format(data_format)

    data = resnet_lib.load_dataset("digits", image_size=32)
    x, y = data.x_train[:images], data.y_train[:images]
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    keras.utils.set_random_seed(0)
    if data_format == "channels_first":
        model = keras.applications.ResNet50(weights=None, input_shape=x.shape[1:], classes=10)
    else:
        model = resnet_lib.resnet50(input_shape=x.shape[1:], num_classes=10)
    batch_size = options.get("batch_size", 32)
    clock, epochs = batch_clock(batch_size, len(x)), 1 + windows
    start = time.perf_counter()
    if book:
        resnet_lib.train(model, x, y, epochs=epochs, batch_size=batch_size, seed=0, progress=False, callbacks=[clock])
    else:
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=options.get("jit_compile", False),
                      steps_per_execution=options.get("steps_per_execution", 1))
        if options.get("pipeline") == "tf.data":
            inputs = (tf.data.Dataset.from_tensor_slices((x, y)).cache().shuffle(len(x), seed=0)
                      .batch(batch_size).prefetch(tf.data.AUTOTUNE))
            arguments = {}
        else:
            inputs, arguments = x, {"y": y, "batch_size": batch_size, "shuffle": True}
        kernel = resnet_lib.batch_norm_kernel(model, "fused") if options.get("fused_batch_norm") \
            else contextlib.nullcontext()
        with kernel:
            model.fit(inputs, epochs=epochs, verbose=0, callbacks=[clock], **arguments)
    from tensorflow.python.util import _pywrap_util_port

    return {"images_per_second": clock.images_per_second[1:], "wall_seconds": time.perf_counter() - start,
            "warm_up_images_per_second": clock.images_per_second[0], "onednn": _pywrap_util_port.IsMklEnabled(),
            "policy": keras.mixed_precision.global_policy().name, "jit_compile": bool(model.jit_compile)}


#: Ratios within this band of 1 are called "no clear effect": on this kind of shared 2-core machine, repeated
#: windows of one variant differ by more than 10 % (all samples are stored next to the best and median ones).
NOISE_BAND = 0.10


def verdicts(speeds: dict) -> dict:
    """Whether each option helps: alone against the baseline, "oneDNN + x" against oneDNN alone."""
    result = {}
    for name, speed in speeds.items():
        reference_name = "oneDNN kernels" if name.startswith("oneDNN +") else "baseline"
        reference = speeds.get(reference_name)
        if name == "baseline" or not speed or not reference:
            continue
        ratio = speed / reference
        word = "helps" if ratio > 1 + NOISE_BAND else "slower" if ratio < 1 - NOISE_BAND else "no clear effect"
        result[name] = f"{word} ({ratio:.2f}x {reference_name})"
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", type=int, default=512, help="training images per epoch")
    parser.add_argument("--windows", type=int, default=2, help="timed epochs per variant and round")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="VARIANT")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(VARIANTS[args.worker], args.images, args.windows)))
        return {}

    from tqdm import tqdm

    names = ["baseline"] + [name for name in args.variants if name != "baseline"]
    samples = {name: [] for name in names}
    notes = {}
    runs = [(r, name) for r in range(args.rounds) for name in (names if r % 2 == 0 else names[::-1])]
    for _, name in tqdm(runs, desc="training options", unit="run"):
        result = run_worker(Path(__file__), [name, "--images", str(args.images), "--windows", str(args.windows)])
        if "error" in result:
            notes[name] = result["error"]
            continue
        samples[name].extend(result["images_per_second"])
        notes.setdefault(name, f"{1 + args.windows} epochs in {result['wall_seconds']:.0f} s, oneDNN "
                               f"{'on' if result['onednn'] else 'off'}")
    speeds = {name: best(values) for name, values in samples.items()}
    base = speeds["baseline"]
    results = {
        "settings": {k: v for k, v in vars(args).items() if k != "worker"},
        **provenance(),
        "estimator": "fastest timed epoch over all rounds, on the batch clock; medians alongside",
        "images_per_second": speeds, "median_images_per_second": {n: median(v) for n, v in samples.items()},
        "samples": samples, "notes": notes,
        "speed_up": {name: (speed / base if speed and base else None) for name, speed in speeds.items()},
    }
    results["verdicts"] = verdicts(speeds)
    print(f"\nResNet50 training, 32x32 digits, images/s on the batch clock (fastest of {args.rounds} alternating "
          f"rounds x {args.windows} epochs of {args.images} images); each option against plain model.fit:")
    for name in names:
        speed, ratio = speeds[name], results["speed_up"][name]
        shown = f"{speed:8.1f} {ratio:6.2f}x" if speed else f"{'failed':>8}"
        print(f"  {name:62}{shown}  {results['verdicts'].get(name, ''):34} {notes.get(name, '')}")
    if args.json:
        from resnet_lib.files import write_atomically  # here: this module imports no TensorFlow (run_all.py)

        write_atomically(args.json, json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    main()
