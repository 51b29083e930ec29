"""How much of this CPU's float32 peak ResNet50 training achieves.

1. The machine's peak: the best float32 matrix-multiply rate of TensorFlow (with oneDNN kernels
   and with TensorFlow's own Eigen kernels) and of NumPy's BLAS, on square matrices of 1024 to
   4096, with all cores.
2. ResNet50's training FLOPs per image: 2 FLOPs per multiply-add, counted layer by layer from the
   built model (`resnet_lib.analysis.multiply_adds`: convolutions and the dense layer), times 3
   for the forward pass, the gradient with respect to the activations and the gradient with
   respect to the weights. Batch norm, ReLU, pooling and the optimizer are not counted (they are
   a few percent of the work and are memory-bound).
3. Training images/s of `resnet_lib.resnet50` with the book's fast options (`FAST_OPTIONS`), at
   32x32 (the book's training set-up) and at 64x64 with batch 32, with Keras' batch norm and on the
   book's default path, its batch norms on TensorFlow's fused kernel (`resnet_lib.batch_norm_kernel`).

Achieved GFLOP/s = images/s x FLOPs per image; the fraction of peak is what the model gets out of
the hardware (goal: `GOAL`, at 64x64). Images/s are timed on the batch clock (`_common.batch_clock`:
inside `fit`, from the end of its first batch to the end of its last; the best of 3 epochs): a whole
`fit` call of 8 steps also spends part of its time setting up, which is not training (before
2026-11-30 this benchmark timed whole calls; the rate of whole calls is stored beside, as
`whole_fit_call_images_per_second`).

    python bench/efficiency.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import batch_clock, provenance, run_worker  # noqa: E402

SIZES = (1024, 2048, 4096)
#: The fraction of the matmul peak ResNet50 training should reach at 64x64, batch 32, on the book's path.
GOAL = 0.60


def matmul_worker(library: str) -> dict:
    import os

    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if library == "tensorflow-onednn" else "0"
    import numpy as np

    rates = {}
    for size in SIZES:
        a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
        b = np.random.default_rng(1).standard_normal((size, size), dtype=np.float32)
        repeats = max(2, int(4e10 / (2 * size**3)))
        if library == "numpy":
            def run():
                for _ in range(repeats):
                    np.matmul(a, b)
        else:
            import tensorflow as tf

            # Variables, not constants (TensorFlow would fold a product of constants at compile time), and
            # a chain of products, each depending on the last (identical products would be computed once).
            va, vb = tf.Variable(a), tf.Variable((b / np.sqrt(size)).astype(np.float32))

            @tf.function
            def run_graph():
                x = va
                for _ in range(repeats):
                    x = tf.linalg.matmul(x, vb)
                return tf.reduce_sum(x[0])

            def run():
                run_graph().numpy()
        run()  # warm up
        best = min(_seconds(run) for _ in range(3))
        rates[size] = 2 * size**3 * repeats / best / 1e9
    return {"gflops": rates}


def _seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def model_worker(image_size: int, batch_size: int, steps: int, fused: int = 0) -> dict:
    import os

    from resnet_lib.training import FAST_OPTIONS  # importing resnet_lib first switches oneDNN on

    import keras
    import numpy as np

    import resnet_lib
    from resnet_lib.analysis import multiply_adds

    keras.utils.set_random_seed(0)
    model = resnet_lib.resnet50((image_size, image_size, 3), num_classes=10)
    flops_per_image = 3 * 2 * multiply_adds(model)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  jit_compile=FAST_OPTIONS.get("jit_compile", False))
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(batch_size * steps, image_size, image_size, 3)).astype("float32")
    labels = rng.integers(0, 10, size=batch_size * steps)
    speeds, whole_calls = [], []
    with resnet_lib.batch_norm_kernel(model, "auto" if fused else "keras"):
        model.fit(images, labels, batch_size=batch_size, epochs=1, verbose=0)  # trace and compile
        for _ in range(3):
            clock = batch_clock(batch_size, len(images))
            start = time.perf_counter()
            model.fit(images, labels, batch_size=batch_size, epochs=1, verbose=0, callbacks=[clock])
            whole_calls.append(len(images) / (time.perf_counter() - start))
            speeds += clock.images_per_second
    return {"images_per_second": max(speeds), "flops_per_image": flops_per_image,
            "whole_fit_call_images_per_second": max(whole_calls), "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS")}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        result = matmul_worker(rest[0]) if kind == "matmul" else model_worker(*map(int, rest))
        print(json.dumps(result))
        return {}

    script = Path(__file__)
    peak = {}
    for library in ("numpy", "tensorflow-eigen", "tensorflow-onednn"):
        result = run_worker(script, ["matmul", library])
        peak[library] = result.get("gflops", result)
    best_library, best_rate = max(((lib, max(r.values())) for lib, r in peak.items() if isinstance(r, dict)
                                   and "error" not in r), key=lambda item: item[1])
    models = {}
    for image_size, batch_size, steps in ((32, 64, 12), (64, 32, 8)):
        for fused in (0, 1):
            name = f"{image_size}x{image_size}, batch {batch_size}, " + (
                "the book's default (fused batch norm)" if fused else "Keras' batch norm")
            models[name] = run_worker(script, ["model", str(image_size), str(batch_size), str(steps), str(fused)])
    results = {**provenance(), "matmul_gflops": peak,
               "peak": {"gflops": best_rate, "library": best_library}, "resnet50": {}}
    print(f"\nfloat32 matmul peak: {best_rate:.1f} GFLOP/s ({best_library}); by library and size:")
    for library, rates in peak.items():
        print(f"  {library:20}" + "  ".join(f"{n}: {r:6.1f}" for n, r in rates.items()) if "error" not in rates
              else f"  {library:20}failed: {rates['error']}")
    print("ResNet50 training with the book's fast options:")
    for name, result in models.items():
        if "error" in result:
            print(f"  {name:38} failed: {result['error']}")
            continue
        achieved = result["images_per_second"] * result["flops_per_image"] / 1e9
        results["resnet50"][name] = {**result, "gflops": achieved, "fraction_of_peak": achieved / best_rate}
        print(f"  {name:38} {result['images_per_second']:7.1f} images/s x {result['flops_per_image'] / 1e9:.3f} "
              f"GFLOP/image = {achieved:6.1f} GFLOP/s = {achieved / best_rate:.0%} of peak (goal >= {GOAL:.0%} at 64x64)")
    if args.json:
        from resnet_lib.files import write_atomically  # here: the workers above ran without resnet_lib imported

        write_atomically(args.json, json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    main()
