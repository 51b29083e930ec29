"""ResNet50 throughput of the book's CPU path against the peers a reader would pick instead.

The same network (ResNet50, 64x64 RGB, batch 32, 6 classes, SGD with momentum, cross-entropy) as

* `resnet_lib.resnet50` on Keras 3 / TensorFlow with oneDNN as the book runs it by default: trained with
  its batch norms on TensorFlow's fused kernel (`resnet_lib.batch_norm_kernel(model)`, what
  `resnet_lib.train` does), inferring through the copy `resnet_lib.fold_batch_norm(model)` makes, each
  batch norm folded into its convolution (folded once, after the warm-up: a reader folds a trained model
  once and then infers with it). Every ratio is taken against this path;
* `resnet_lib.resnet50` with Keras' own batch norm in training and inference (`batch_norm_kernel="keras"`,
  no folding: the layers the chapters teach, as Keras runs them),
* `keras.applications.ResNet50`, the same Keras and TensorFlow,
* PyTorch eager (CPU), the same layout written out below (23.5 M parameters), channels-last memory,
* the same PyTorch model through `torch.compile` (TorchInductor's C++ code for the CPU; its compilation is
  part of the warm-up, not of the timed steps),
* `keras.applications.ResNet50` on Keras' JAX backend and on its PyTorch backend.

Each peer runs in a worker process of its own (a Keras backend is chosen per process), started and
warmed up (traced, compiled, a few steps run) one after the other, then asked in turn, over a pipe, for `--steps`
training steps and `--inference-steps` inference batches: round after round, the order reversed every
other round, so that the machine's noise hits every peer alike. Only one worker computes at a time; each
may use every core. Prints the best round of each (see `_common.best`), the medians, and every peer's
ratio to the book's path (goal: the book's path at least as fast as the fastest peer, ratio >= 1.0).

The JAX and PyTorch peers run in the environments of `make test-backends` (.venv-jax, .venv-torch: Keras
with JAX, Keras with PyTorch, and PyTorch itself; not in the book's requirements.txt). A peer whose
environment is missing is reported as not measured, with the command that makes it.

    python bench/peers.py [--rounds 6] [--steps 8] [--inference-steps 16] [--json FILE]

A benchmark, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

#: The book's default path first: every ratio is taken against it.
OURS = "resnet_lib.resnet50, the book's default, TensorFlow"
#: The same network with Keras' own batch norm: the book's too, so not a peer.
OURS_KERAS_BATCH_NORM = "resnet_lib.resnet50, Keras' batch norm, TensorFlow"
#: Each peer: the virtual environment it runs in, its Keras backend, and what it builds.
PEERS = {
    OURS: {"venv": ".venv", "backend": "tensorflow", "model": "resnet_lib"},
    OURS_KERAS_BATCH_NORM: {"venv": ".venv", "backend": "tensorflow", "model": "resnet_lib_keras_batch_norm"},
    "keras.applications.ResNet50, TensorFlow": {"venv": ".venv", "backend": "tensorflow", "model": "keras"},
    "PyTorch eager, channels-last": {"venv": ".venv-torch", "backend": "torch", "model": "pytorch"},
    "PyTorch, torch.compile, channels-last": {"venv": ".venv-torch", "backend": "torch",
                                              "model": "pytorch_compiled"},
    "keras.applications.ResNet50, JAX backend": {"venv": ".venv-jax", "backend": "jax", "model": "keras"},
    "keras.applications.ResNet50, PyTorch backend": {"venv": ".venv-torch", "backend": "torch", "model": "keras"},
}
#: The book's own rows: never "the fastest peer".
BOOK_PATHS = (OURS, OURS_KERAS_BATCH_NORM)
TASKS = ("train", "inference")


def worker_python(name: str) -> Path:
    """The interpreter of the environment the peer `name` runs in (it may not exist: see `missing_environment`)."""
    return ROOT / PEERS[name]["venv"] / "bin" / "python"


def missing_environment(name: str) -> str | None:
    """Why the peer `name` cannot run here, or None."""
    if worker_python(name).exists():
        return None
    return (f"no {PEERS[name]['venv']} (make it with `make test-backends`, which installs "
            f"tests/backends/requirements-*.txt)")


def worker_environment(name: str) -> dict:
    """The variables a worker for the peer `name` starts with: its Keras backend, oneDNN on, TensorFlow quiet."""
    return {"KERAS_BACKEND": PEERS[name]["backend"], "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "1"}


#: What a worker holds open for its whole life (the book's batch-norm kernel around the training steps).
_OPEN = contextlib.ExitStack()


# --- the workers --------------------------------------------------------------------------------------


def _keras_tasks(model_name: str, settings: dict):
    """(train step, inference step, parameters) of a Keras ResNet50 on the backend this process runs.

    "resnet_lib" is the book's default path: the training steps run inside `resnet_lib.batch_norm_kernel(model)`
    (entered here and left open for the worker's life, as `resnet_lib.train` holds it for a whole `fit`), and
    inference runs on `resnet_lib.fold_batch_norm(model)`."""
    if model_name.startswith("resnet_lib"):
        import resnet_lib  # first: it switches TensorFlow's oneDNN kernels on
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    shape = (settings["image_size"], settings["image_size"], 3)
    if model_name.startswith("resnet_lib"):
        model = resnet_lib.resnet50(shape, settings["classes"])
    else:
        model = keras.applications.ResNet50(weights=None, input_shape=shape, classes=settings["classes"])
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy")
    inference_model = model
    if model_name == "resnet_lib":
        _OPEN.enter_context(resnet_lib.batch_norm_kernel(model))  # "auto": the fused kernel here
        inference_model = resnet_lib.fold_batch_norm(model)
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(settings["batch_size"], *shape)).astype("float32")
    labels = rng.integers(0, settings["classes"], size=settings["batch_size"])
    return (lambda: model.train_on_batch(images, labels)), (lambda: inference_model.predict_on_batch(images)), \
        model.count_params()


def pytorch_resnet50(classes: int):
    """ResNet50 in PyTorch, as keras.applications builds it: a 7x7 stem, bottleneck blocks 3, 4, 6, 3 with the
    stride on the first 1x1 convolution and projection shortcuts with biases, batch norm (epsilon 1.001e-5)
    after every convolution, global average pooling, a softmax classifier (23.5 M parameters at 6 classes)."""
    from torch import nn

    def convolution(inputs, outputs, size, stride=1):
        return nn.Sequential(nn.Conv2d(inputs, outputs, size, stride, padding=size // 2),
                             nn.BatchNorm2d(outputs, eps=1.001e-5))

    class Bottleneck(nn.Module):
        def __init__(self, inputs, filters, stride, projection):
            super().__init__()
            self.branch = nn.Sequential(convolution(inputs, filters, 1, stride), nn.ReLU(),
                                        convolution(filters, filters, 3), nn.ReLU(),
                                        convolution(filters, 4 * filters, 1))
            self.shortcut = convolution(inputs, 4 * filters, 1, stride) if projection else nn.Identity()
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.shortcut(x) + self.branch(x))

    layers, inputs = [convolution(3, 64, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1)], 64
    for filters, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for block in range(blocks):
            layers.append(Bottleneck(inputs, filters, stride if block == 0 else 1, projection=block == 0))
            inputs = 4 * filters
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(inputs, classes)]
    return nn.Sequential(*layers)


def _pytorch_tasks(settings: dict, compiled: bool = False):
    """(train step, inference step, parameters) of `pytorch_resnet50`, eager or through `torch.compile`."""
    import numpy as np
    import torch

    torch.manual_seed(0)
    model = pytorch_resnet50(settings["classes"]).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    run = torch.compile(model) if compiled else model  # shares the parameters; compiles on its first calls
    loss_function = torch.nn.CrossEntropyLoss()  # on logits: the softmax is part of the loss
    rng = np.random.default_rng(0)
    size = settings["image_size"]
    images = torch.from_numpy(rng.uniform(size=(settings["batch_size"], 3, size, size)).astype("float32"))
    images = images.contiguous(memory_format=torch.channels_last)
    labels = torch.from_numpy(rng.integers(0, settings["classes"], size=settings["batch_size"]))

    def train():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(run(images), labels)
        loss.backward()
        optimizer.step()
        return float(loss)

    def inference():
        model.eval()
        with torch.inference_mode():
            return torch.softmax(run(images), dim=1).numpy()

    return train, inference, sum(p.numel() for p in model.parameters())


def worker(name: str, settings: dict) -> None:
    """Builds the peer, warms it up, then answers {"task", "steps"} lines with {"images_per_second"} lines."""
    peer = PEERS[name]
    if peer["model"].startswith("pytorch"):
        train, inference, parameters = _pytorch_tasks(settings, compiled=peer["model"] == "pytorch_compiled")
    else:
        train, inference, parameters = _keras_tasks(peer["model"], settings)
    steps = {"train": train, "inference": inference}
    for step in (train, train, train, inference, inference, inference):  # trace, compile, settle
        step()
    from resnet_lib.provenance import versions  # with the backend's own version (jax, torch)

    print(json.dumps({"ready": True, "parameters": int(parameters), "versions": versions()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        step = steps[request["task"]]
        start = time.perf_counter()
        for _ in range(request["steps"]):
            step()
        seconds = time.perf_counter() - start
        print(json.dumps({"images_per_second": settings["batch_size"] * request["steps"] / seconds}), flush=True)


# --- the coordinator ----------------------------------------------------------------------------------


class Peer:
    """A worker process for one peer, or the reason there is none."""

    def __init__(self, name: str, settings: dict):
        self.name, self.settings, self.missing, self.process, self.info = name, settings, None, None, {}
        self.log = tempfile.TemporaryFile(mode="w+")  # the worker's stderr: a pipe nobody reads could fill up

    def start(self) -> None:
        """Starts the worker and waits until it has warmed up (so that no two warm-ups compete)."""
        self.missing = missing_environment(self.name)
        if self.missing:
            return
        environment = {**os.environ, **worker_environment(self.name)}
        self.process = subprocess.Popen(
            [str(worker_python(self.name)), str(Path(__file__).resolve()), "--worker", self.name, "--settings",
             json.dumps(self.settings)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=environment, cwd=ROOT)
        self.info = self._reply()
        if self.info is None:
            self.process.wait(timeout=60)
            self.log.seek(0)
            self.missing = f"the worker failed: {self.log.read()[-400:]}"
            self.process = None

    def _reply(self) -> dict | None:
        for line in self.process.stdout:
            if line.startswith("{"):
                return json.loads(line)
        return None

    def measure(self, task: str, steps: int) -> float | None:
        if self.process is None:
            return None
        self.process.stdin.write(json.dumps({"task": task, "steps": steps}) + "\n")
        self.process.stdin.flush()
        reply = self._reply()
        return None if reply is None else reply["images_per_second"]

    def close(self) -> None:
        if self.process is not None:
            self.process.stdin.close()
            self.process.wait(timeout=60)
        self.log.close()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="alternating measurement rounds")
    parser.add_argument("--steps", type=int, default=8, help="training batches timed per peer and round")
    parser.add_argument("--inference-steps", type=int, default=16, help="inference batches timed per peer and round")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--classes", type=int, default=6)
    parser.add_argument("--only", nargs="+", choices=list(PEERS), help="measure these peers only")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, json.loads(args.settings))
        return {}

    sys.path.insert(0, str(BENCH))
    from _common import best, median, provenance
    from tqdm import tqdm

    settings = {"batch_size": args.batch_size, "image_size": args.image_size, "classes": args.classes}
    names = args.only or list(PEERS)
    peers = [Peer(name, settings) for name in names]
    try:
        for peer in tqdm(peers, desc="starting and warming up the peers", unit="peer"):
            peer.start()
        steps = {"train": args.steps, "inference": args.inference_steps}
        samples = {peer.name: {task: [] for task in TASKS} for peer in peers}
        for round_index in tqdm(range(args.rounds), desc="rounds", unit="round"):
            order = peers if round_index % 2 == 0 else peers[::-1]
            for task in TASKS:
                for peer in order:
                    samples[peer.name][task].append(peer.measure(task, steps[task]))
    finally:
        for peer in peers:
            peer.close()

    fastest = {n: {t: best(v) for t, v in s.items()} for n, s in samples.items()}
    typical = {n: {t: median(v) for t, v in s.items()} for n, s in samples.items()}
    results = {
        "settings": {key: value for key, value in vars(args).items() if key not in ("worker", "settings")},
        **provenance(),
        "estimator": "best round (fastest sample); medians alongside",
        "peers": {peer.name: {**PEERS[peer.name], **peer.info, "missing": peer.missing} for peer in peers},
        "images_per_second": fastest,
        "median_images_per_second": typical,
        "samples": samples,
    }
    if OURS in fastest:
        results["ratio_to_ours"] = {
            name: {task: (fastest[OURS][task] / value[task]) if value[task] else None for task in TASKS}
            for name, value in fastest.items()}
        others = {name: value for name, value in fastest.items() if name not in BOOK_PATHS}
        results["ratio_to_fastest_peer"] = {
            task: fastest[OURS][task] / max(v[task] for v in others.values() if v[task])
            for task in TASKS if any(v[task] for v in others.values())}

    print(f"\nResNet50, {args.image_size}x{args.image_size}, batch {args.batch_size}, {args.rounds} alternating "
          f"rounds: images/s, best round (median); ours / peer")
    print(f"{'':52}{'train':>22}{'inference':>24}")
    for name in names:
        if results["peers"][name]["missing"]:
            print(f"{name:52}  not measured: {results['peers'][name]['missing']}")
            continue
        cells = []
        for task in TASKS:
            ratio = results.get("ratio_to_ours", {}).get(name, {}).get(task)
            shown = f"{ratio:5.2f}x" if ratio is not None else "     -"  # without the book's path: no ratio
            cells.append(f"{fastest[name][task]:7.1f} ({typical[name][task]:6.1f}) {shown}")
        print(f"{name:52}" + "".join(f"{cell:>23}" for cell in cells))
    if "ratio_to_fastest_peer" in results:
        print("ours / fastest peer: " + ", ".join(f"{task} {value:.2f}" for task, value in
                                                   results["ratio_to_fastest_peer"].items()) + "   (goal >= 1.0)")
    if args.json:
        from resnet_lib.files import write_atomically

        write_atomically(args.json, json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
