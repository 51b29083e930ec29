"""Where a ResNet50 training step's time goes on each backend: milliseconds per step, by op family.

The network, data and optimizer of `peers.py` (ResNet50, 64x64, batch 32, 6 classes, SGD with momentum),
on the book's path (Keras 3 on TensorFlow with oneDNN; its default, with TensorFlow's fused batch-norm
kernel, and with Keras' own batch norm) and on the peers that run on another engine:
PyTorch eager, and Keras on its JAX and PyTorch backends (`torch.compile` is not profiled: its generated
code hides the ops this table sorts). Each runs in a worker process of its own, one
after the other (never two at once): it warms up, times `--steps` training steps without a profiler
(the fastest is the step time, as everywhere in bench/), then runs `--steps` more under its backend's own
profiler:

* TensorFlow: `tf.profiler` (an XPlane trace), the op kernels' events by op type;
* PyTorch, eager or under Keras: `torch.profiler`, each aten op's self CPU time;
* JAX: `jax.profiler` (XPlane, read with `jax.profiler.ProfileData`), XLA's events by HLO instruction.

Every op goes into one family (`FAMILIES`; `classify` says which) and each family's share of the
profiler's op time is multiplied by the unprofiled step time. The three profilers count differently
(TensorFlow's and XLA's events are summed over the threads that ran them, PyTorch times each op on the
thread that called it), so shares are what they measure alike; shares times the step time put the
backends side by side in milliseconds. With the convolutions' FLOPs (the same network everywhere) it
also gives each backend's convolution rate, against the float32 matmul peak that `efficiency.py`
measured.

    python bench/profile_backends.py [--steps 8] [--only NAME ...] [--json FILE]

The JAX and PyTorch workers run in the environments of `make test-backends` (.venv-jax, .venv-torch);
a missing one is reported with the command that makes it. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import peers  # noqa: E402  (imports no backend: the models of the peers, built inside the workers)

#: Profiled: the book's path (its default with TensorFlow's fused batch norm, and with Keras' own) and the peers that run
#: on another engine (keras.applications on TensorFlow runs the kernels of the book's path).
PROFILED = (peers.OURS, peers.OURS_KERAS_BATCH_NORM, "PyTorch eager, channels-last", "keras.applications.ResNet50, JAX backend",
            "keras.applications.ResNet50, PyTorch backend")

FAMILIES = (
    "convolution, forward",
    "convolution, backward",
    "convolution, forward and backward",  # XLA's HLO names do not tell the two apart
    "batch norm, element-wise and reductions",
    "pooling",
    "dense layer (matrix multiply)",
    "optimizer and variable updates",
    "copies, layout and allocation",
    "other",
)

#: (family, pattern) in order: the first that matches an op's name wins. Batch norm goes with the
#: element-wise ops because Keras 3 builds it from element-wise ops and reductions on TensorFlow, and XLA
#: fuses it with them on JAX: only PyTorch has a batch-norm kernel of its own.
RULES = {
    "tensorflow": (
        ("convolution, backward", r"Conv2DBackprop"),
        ("convolution, forward", r"Conv2D"),
        ("pooling", r"Pool"),
        ("dense layer (matrix multiply)", r"MatMul"),
        ("optimizer and variable updates", r"Apply|Adam|SGD|Assign|ReadVariable|VarHandle"),
        ("copies, layout and allocation", r"Transpose|Reshape|Identity|Copy|Pad|Slice|Concat|Tile|Cast|Fill|Zeros|"
                                          r"Shape|Pack|Unpack|Squeeze|ExpandDims|Const|ToTf|ToMkl"),
        ("batch norm, element-wise and reductions", r"BatchNorm|Relu|Add|Mul|Sub|Sum|Mean|Sqrt|Square|Maximum|"
                                                    r"Minimum|Select|Softmax|Log|Exp|Div|Neg|Broadcast|Greater|Less|"
                                                    r"Equal|Reciprocal|Sign|Prod|Moments|Max|Min|Xent|Sigmoid"),
    ),
    "torch": (
        ("optimizer and variable updates", r"^Optimizer\.|_foreach_|AccumulateGrad|sgd|adam"),
        ("convolution, backward", r"convolution_backward"),
        ("convolution, forward", r"convolution|conv2d"),
        ("pooling", r"pool"),
        ("dense layer (matrix multiply)", r"addmm|::mm$|::bmm$|matmul|linear"),
        ("copies, layout and allocation", r"copy|::to$|contiguous|clone|permute|transpose|reshape|view|as_strided|"
                                          r"empty|resize|zeros|fill_|detach|::t$|expand|select|slice|cat$|stack"),
        ("batch norm, element-wise and reductions", r"batch_norm|clamp|threshold|relu|::add|::sub|::mul|::div|"
                                                    r"::sum|mean|::var|sqrt|softmax|nll|exp|log|where|maximum|"
                                                    r"minimum|neg|pow|square|reciprocal|cross_entropy|rsub|max|min"),
    ),
}
#: HLO opcodes that only move or make data (XLA's copies, transposes, weight flips, padding).
LAYOUT_OPCODES = {"transpose", "copy", "bitcast", "broadcast", "reshape", "pad", "slice", "concatenate", "iota",
                  "reverse", "parameter", "constant", "tuple", "get-tuple-element", "dynamic-slice",
                  "dynamic-update-slice", "copy-start", "copy-done", "bitcast-convert"}
_COMPUTATION = re.compile(r"^(?:ENTRY )?%([\w.\-]+) .*\{$")
_INSTRUCTION = re.compile(r"^\s+(?:ROOT )?%([\w.\-]+) = (?:\([^=]*?\)|\S+) ([\w\-]+)\((.*)$")


def hlo_families(hlo_text: str) -> dict[str, str]:
    """The family of every instruction of an optimised XLA module (HLO text, as `--xla_dump_hlo_as_text`
    writes it), by the opcodes it runs: a fusion by those of the computation it calls (XLA's names,
    such as "ynn_fusion.440", say nothing: that one may be a convolution or a reduction)."""
    opcodes, calls, current = collections.defaultdict(set), {}, None
    for line in hlo_text.splitlines():
        header = _COMPUTATION.match(line)
        if header:
            current = header.group(1)
            continue
        instruction = _INSTRUCTION.match(line)
        if instruction and current is not None:
            name, opcode, rest = instruction.groups()
            opcodes[current].add(opcode)
            called = re.search(r"calls=%([\w.\-]+)", rest)
            calls[name] = (opcode, called.group(1) if called else None)
    families = {}
    for name, (opcode, called) in calls.items():
        runs = opcodes.get(called, set()) if opcode == "fusion" and called else {opcode}
        if "convolution" in runs:
            families[name] = "convolution, forward and backward"
        elif "dot" in runs:
            families[name] = "dense layer (matrix multiply)"
        elif runs & {"reduce-window", "select-and-scatter"}:
            families[name] = "pooling"
        elif runs <= LAYOUT_OPCODES:
            families[name] = "copies, layout and allocation"
        else:
            families[name] = "batch norm, element-wise and reductions"
    return families


def classify(engine: str, op_name: str) -> str:
    """The family of an op, by its name in `engine`'s profiler ("tensorflow" or "torch"; for XLA's
    instructions, see `hlo_families`).

    >>> classify("tensorflow", "_MklNativeConv2DBackpropFilter"), classify("torch", "aten::native_batch_norm")
    ('convolution, backward', 'batch norm, element-wise and reductions')
    """
    if engine not in RULES:
        raise ValueError(f"engine must be one of {sorted(RULES)}, got {engine!r}")
    for family, pattern in RULES[engine]:
        if re.search(pattern, op_name, re.IGNORECASE):
            return family
    return "other"


# --- the profilers, one per engine: each returns {op name: seconds} for the steps it ran ---------------


def _tensorflow_op_times(step, steps: int) -> dict[str, float]:
    import tensorflow as tf
    from profile_training import op_times

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for _ in range(steps):
            step()
        tf.profiler.experimental.stop()
        return op_times(Path(logdir))


def _torch_op_times(step, steps: int) -> dict[str, float]:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(steps):
            step()
    times = collections.Counter()
    for event in profiler.key_averages():
        times[event.key] += event.self_cpu_time_total / 1e6
    return dict(times)


def _jax_op_times(step, steps: int) -> dict[str, float]:
    import jax

    with tempfile.TemporaryDirectory() as logdir:
        jax.profiler.start_trace(logdir)
        for _ in range(steps):
            step()
        jax.profiler.stop_trace()
        times = collections.Counter()
        for path in Path(logdir).rglob("*.xplane.pb"):
            for plane in jax.profiler.ProfileData.from_file(str(path)).planes:
                if not plane.name.startswith("/host:CPU"):
                    continue
                for line in plane.lines:
                    if line.name == "python":
                        continue  # Python's own frames: they contain the ops below
                    for event in line.events:
                        if event.name.startswith(("ThunkExecutor", "H2D", "D2H", "$")):
                            continue  # the executor's spans around the HLO instructions
                        times[event.name] += event.duration_ns / 1e9
    return dict(times)


PROFILERS = {"tensorflow": _tensorflow_op_times, "torch": _torch_op_times, "jax": _jax_op_times}


def hlo_op_names(hlo_text: str) -> dict[str, str]:
    """The JAX operation each XLA instruction came from (its `metadata={op_name=...}`), such as
    "jit(train_step)/transpose(jvp(conv1_conv))/conv_general_dilated": which layer, forward or gradient."""
    return dict(re.findall(r'^\s+(?:ROOT )?%([\w.\-]+) = .*?metadata=\{op_name="([^"]+)"', hlo_text, re.MULTILINE))


def worker(name: str, settings: dict) -> None:
    """Builds the peer, warms it up, times `steps` steps, profiles `steps` more; prints one JSON line."""
    peer = peers.PEERS[name]
    if peer["model"] == "pytorch":
        train, _, parameters = peers._pytorch_tasks(settings)
    else:
        train, _, parameters = peers._keras_tasks(peer["model"], settings)
    for _ in range(3):  # trace, compile, settle
        train()
    step_seconds = []
    for _ in range(settings["steps"]):
        start = time.perf_counter()
        train()
        step_seconds.append(time.perf_counter() - start)
    engine = peer["backend"]  # PyTorch eager runs in the torch environment, with backend "torch"
    times = PROFILERS[engine](train, settings["steps"])
    if engine == "jax":  # the training step's module, as XLA compiled it (see `main`: XLA_FLAGS)
        modules = sorted(Path(os.environ["RESNET_BENCH_HLO"]).glob("*train_step*after_optimizations.txt"))
        if not modules:
            raise RuntimeError("XLA wrote no train_step module: were XLA_FLAGS set before JAX was imported?")
        hlo = modules[-1].read_text()
        kinds, sources = hlo_families(hlo), hlo_op_names(hlo)
        families = {op: kinds.get(op, "other") for op in times}
        top = sorted(times, key=times.get, reverse=True)[:10]
        origins = {op: sources[op] for op in top if op in sources}
    else:
        families, origins = {op: classify(engine, op) for op in times}, {}
    from resnet_lib.provenance import versions

    print(json.dumps({"step_seconds": step_seconds, "op_seconds": times, "op_families": families, "op_origins": origins,
                      "parameters": int(parameters), "engine": engine, "versions": versions()}), flush=True)


# --- the coordinator ----------------------------------------------------------------------------------


def convolution_flops(settings: dict) -> float:
    """FLOPs of the convolutions in one training step (forward and the two backward passes: 3 x 2 x
    multiply-adds x batch), counted on the Keras ResNet50 every peer copies. Called after the workers
    ran: it imports TensorFlow into this process."""
    import resnet_lib
    from profile_training import convolution_multiply_adds

    model = resnet_lib.resnet50((settings["image_size"], settings["image_size"], 3), settings["classes"])
    return 3 * 2 * convolution_multiply_adds(model) * settings["batch_size"]


def summarise(op_seconds: dict[str, float], op_families: dict[str, str], step_seconds: float) -> dict:
    """Milliseconds per step by family: each family's share of the profiled op time times the step time."""
    families = collections.Counter()
    for op_name, seconds in op_seconds.items():
        families[op_families[op_name]] += seconds
    total = sum(families.values())
    if total <= 0:
        raise ValueError("the profile holds no op time: was anything run under the profiler?")
    return {family: 1000 * step_seconds * families[family] / total for family in FAMILIES if families[family]}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8, help="training steps timed, then as many profiled")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--classes", type=int, default=6)
    parser.add_argument("--only", nargs="+", choices=PROFILED, help="profile these only")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = {"batch_size": args.batch_size, "image_size": args.image_size, "classes": args.classes,
                "steps": args.steps}
    if args.worker:
        worker(args.worker, json.loads(args.settings))
        return {}

    from _common import provenance, run_worker
    from tqdm import tqdm

    runs = {}
    for name in tqdm(args.only or PROFILED, desc="profiling, one backend at a time", unit="backend"):
        missing = peers.missing_environment(name)
        if missing:
            runs[name] = {"missing": missing}
            continue
        with tempfile.TemporaryDirectory() as hlo:
            environment = {**peers.worker_environment(name), "RESNET_BENCH_HLO": hlo}
            if peers.PEERS[name]["backend"] == "jax":  # XLA writes the modules it compiled (see `hlo_families`)
                environment["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                            f" --xla_dump_to={hlo} --xla_dump_hlo_as_text").strip()
            run = run_worker(Path(__file__).resolve(), [name, "--settings", json.dumps(settings)], environment,
                             python=peers.worker_python(name))
        runs[name] = {"missing": f"the worker failed: {run['error']}"} if "error" in run else run

    flops = convolution_flops(settings)  # after the workers: it imports TensorFlow here
    profiles = {}
    for name, run in runs.items():
        if "missing" in run:
            profiles[name] = run
            continue
        step = min(run["step_seconds"])  # the fastest step, as every benchmark here reports (_common.best)
        milliseconds = summarise(run["op_seconds"], run["op_families"], step)
        convolution = sum(v for k, v in milliseconds.items() if k.startswith("convolution"))
        top = collections.Counter(run["op_seconds"]).most_common(10)
        profiles[name] = {
            "engine": run["engine"], "versions": run["versions"], "step_milliseconds": 1000 * step,
            "images_per_second": settings["batch_size"] / step, "milliseconds_per_step": milliseconds,
            "profiled_op_seconds": sum(run["op_seconds"].values()),
            "convolution_gflops": flops / (convolution / 1000) / 1e9 if convolution else None,
            "top_ops_seconds": dict(top), "top_ops_origins": run["op_origins"],
            "median_step_milliseconds": 1000 * statistics.median(run["step_seconds"]),
            "other_ops_seconds": dict(collections.Counter(
                {op: t for op, t in run["op_seconds"].items() if run["op_families"][op] == "other"}).most_common(8)),
        }

    results = {"settings": settings, **provenance(), "convolution_gflop_per_step": flops / 1e9,
               "profiles": profiles}
    print(f"\nResNet50 training, {args.image_size}x{args.image_size}, batch {args.batch_size}: milliseconds per step "
          f"by op family (share of each profile x the fastest of {args.steps} unprofiled steps)")
    measured = {name: p for name, p in profiles.items() if "missing" not in p}
    for name, profile in profiles.items():
        if "missing" in profile:
            print(f"{name}: not measured: {profile['missing']}")
            continue
        print(f"\n{name} ({profile['engine']}): {profile['step_milliseconds']:.0f} ms a step, "
              f"{profile['images_per_second']:.1f} images/s; convolutions at {profile['convolution_gflops']:.1f} GFLOP/s")
        for family, value in profile["milliseconds_per_step"].items():
            print(f"  {family:42} {value:7.1f} ms  {value / profile['step_milliseconds']:6.1%}")
    others = [name for name in measured if name not in peers.BOOK_PATHS]
    if peers.OURS in measured and others:
        fastest = min(others, key=lambda name: measured[name]["step_milliseconds"])
        ours, theirs = measured[peers.OURS]["milliseconds_per_step"], measured[fastest]["milliseconds_per_step"]
        # The convolutions compared as a whole: XLA does not tell forward from backward.
        gap = {family: ours.get(family, 0.0) - theirs.get(family, 0.0) for family in FAMILIES
               if family in ours or family in theirs}
        gap["convolutions, all"] = sum(v for k, v in gap.items() if k.startswith("convolution"))
        gap["the whole step"] = measured[peers.OURS]["step_milliseconds"] - measured[fastest]["step_milliseconds"]
        results["gap_to_fastest"] = {"peer": fastest, "milliseconds_per_step": gap}
        print(f"\nthe book's path minus the fastest peer ({fastest}), ms a step:")
        for family, value in results["gap_to_fastest"]["milliseconds_per_step"].items():
            print(f"  {family:42} {value:+7.1f}")
    if args.json:
        from resnet_lib.files import write_atomically

        write_atomically(args.json, json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    main()
