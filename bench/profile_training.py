"""Where the time of a ResNet50 training step goes on this CPU: a TensorFlow profiler trace, summed by op.

Trains `resnet_lib.resnet50` (32x32, batch 64, the book's fast options) for a few steps under
`tf.profiler`, reads the trace (XPlane protocol buffers) and sums the time of TensorFlow's op
kernels by op type: convolutions (forward and the two backward passes), batch norm, element-wise
ops, the optimizer's updates. With the FLOPs of the convolutions, it gives the rate the
convolution kernels themselves reach, and how much of a step is spent outside them: the
evidence for what limits the fraction of peak (`efficiency.py`).

    python bench/profile_training.py [--steps 6] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import resnet_lib  # noqa: E402,F401  (first: switches TensorFlow's oneDNN kernels on)
from _common import provenance  # noqa: E402
from resnet_lib.files import write_atomically  # noqa: E402

GROUPS = (
    ("convolution, forward", re.compile(r"Conv2D$|FusedConv2D", re.I)),
    ("convolution, gradient w.r.t. input", re.compile(r"Conv2DBackpropInput", re.I)),
    ("convolution, gradient w.r.t. weights", re.compile(r"Conv2DBackpropFilter", re.I)),
    ("batch norm (forward and backward)", re.compile(r"BatchNorm", re.I)),
    ("matrix multiply (dense layer)", re.compile(r"MatMul", re.I)),
    ("optimizer and variable updates", re.compile(r"Apply|Adam|Assign|ReadVariable", re.I)),
    ("element-wise (ReLU, add, ...) and reductions", re.compile(
        r"^(Relu|ReluGrad|AddV2|AddN|Add|Mul|Sub|Sum|Mean|Sqrt|Rsqrt|Square|SquaredDifference|Maximum|Select|SelectV2|"
        r"Cast|Pad|BiasAdd|BiasAddGrad|Softmax|Log|Exp|RealDiv|Neg|Reshape|Tile|MaxPool|MaxPoolGrad)$")),
)


def convolution_multiply_adds(model) -> int:
    """Multiply-adds of one image's forward pass through the model's Conv2D layers."""
    import keras

    from resnet_lib.analysis import multiply_adds_per_layer

    return sum(n for name, n in multiply_adds_per_layer(model).items()
               if isinstance(model.get_layer(name), keras.layers.Conv2D))


def op_times(logdir: Path) -> dict[str, float]:
    """Seconds per TensorFlow op type in the trace (host plane, the "TensorFlow Ops" line or op events)."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    totals = collections.Counter()
    for path in logdir.rglob("*.xplane.pb"):
        space = xplane_pb2.XSpace()
        space.ParseFromString(path.read_bytes())
        for plane in space.planes:
            if not plane.name.startswith("/host:CPU"):
                continue
            for line in plane.lines:
                for event in line.events:
                    name = plane.event_metadata[event.metadata_id].name
                    if ":" not in name or name.startswith(("Executor", "Iterator", "tf_Compute")):
                        continue  # keep kernel events, named "<op name>:<op type>"
                    op_type = name.rsplit(":", 1)[1].strip()
                    if op_type == "Run" or op_type.startswith("__") or "_on_iterator" in op_type:
                        continue  # the step function itself, which contains the kernels below
                    totals[op_type] += event.duration_ps / 1e12
    return dict(totals)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    from resnet_lib.training import FAST_OPTIONS, onednn_enabled

    batch_size, image_size = 64, 32
    keras.utils.set_random_seed(0)
    model = resnet_lib.resnet50((image_size, image_size, 3), num_classes=10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  jit_compile=FAST_OPTIONS["jit_compile"])
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(batch_size * args.steps, image_size, image_size, 3)).astype("float32")
    labels = rng.integers(0, 10, size=len(images))
    model.fit(images, labels, batch_size=batch_size, epochs=1, verbose=0)  # trace and compile first
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        model.fit(images, labels, batch_size=batch_size, epochs=1, verbose=0)
        wall = time.perf_counter() - start
        tf.profiler.experimental.stop()
        times = op_times(Path(logdir))

    groups = collections.Counter()
    for op_type, seconds in times.items():
        group = next((name for name, pattern in GROUPS if pattern.search(op_type)), "other")
        groups[group] += seconds
    kernel_seconds = sum(times.values())
    convolution_seconds = sum(s for g, s in groups.items() if g.startswith("convolution"))
    conv_flops = 3 * 2 * convolution_multiply_adds(model) * len(images)
    if not onednn_enabled():
        print("WARNING: TensorFlow runs without oneDNN in this process; the profile is not of the book's set-up.")
    results = {
        **provenance(), "onednn": onednn_enabled(),
        "settings": {"batch_size": batch_size, "image_size": image_size, "steps": args.steps},
        "wall_seconds": wall, "kernel_seconds": kernel_seconds,
        "groups_seconds": dict(groups.most_common()), "top_ops_seconds": dict(collections.Counter(times).most_common(12)),
        "convolution_gflops": conv_flops / convolution_seconds / 1e9 if convolution_seconds else None,
    }
    print(f"\nResNet50 training, {image_size}x{image_size}, batch {batch_size}, {args.steps} steps under the "
          f"profiler: {wall:.2f} s wall, {kernel_seconds:.2f} s in op kernels (summed over threads' events)")
    for group, seconds in groups.most_common():
        print(f"  {group:45} {seconds:7.2f} s  {seconds / kernel_seconds:6.1%}")
    if convolution_seconds:
        print(f"convolution kernels: {conv_flops / 1e9:.1f} GFLOP in {convolution_seconds:.2f} s = "
              f"{results['convolution_gflops']:.1f} GFLOP/s")
    if args.json:
        write_atomically(args.json, json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    main()
