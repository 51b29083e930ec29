"""The experiments' command line, `python -m resnet_lib.experiments <experiment> ...`: arguments, checks, Ctrl-C.

One subcommand per experiment (`resnet50`, `plain-depths`, `depth-sweep`, `landscape`); every argument
is checked before any training, and before Keras and TensorFlow are imported (`--help` and a refused
argument answer at once), the result is written where `--out` says (never into the package), and Ctrl-C
ends a command with exit status 130 and one line that says what was kept and how to go on.
`resnet_lib/experiments/__main__.py` calls `main`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from resnet_lib._startup import quiet_start_up
from resnet_lib.commands import LANDSCAPE_DEPTHS, LANDSCAPE_STEPS, LESION_SAMPLES, SEEDS, SWEEP_DEPTHS, SWEEP_EPOCHS
from resnet_lib.experiments._grid import SweepInterrupted, count_runs, ctrl_c_stays_an_interrupt
from resnet_lib.experiments._output import output_path
from resnet_lib.experiments.depth_sweep import depth_sweep_recipe, resume_state, run_depth_sweep
from resnet_lib.experiments.landscape import landscape_recipe, landscape_resume_state, run_landscape_study
from resnet_lib.experiments.plain_depths import plain_depths_recipe, run_plain_depths
from resnet_lib.experiments.resnet50 import resnet50_recipe, run_resnet50

#: The command's description in its --help (the first line of `resnet_lib.experiments`' docstring).
DESCRIPTION = "Heavy runs of the book, as commands that write small JSON results with their provenance."


def _parser():
    """The command's parser and its subcommands' (`commands.choices[name]`), one per experiment."""
    parser = argparse.ArgumentParser(prog="python -m resnet_lib.experiments", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="experiment", required=True)
    resnet = commands.add_parser("resnet50", help="train ResNet50 on the offline default data (chapter 6)")
    resnet.add_argument("--epochs", type=int, default=20)
    resnet.add_argument("--batch-size", type=int, default=64)
    resnet.add_argument("--seed", type=int, default=0)
    resnet.add_argument("--batch-norm-momentum", type=float, default=None,
                        help="replace the batch-norm momentum (default: keep 0.99 of keras.applications)")
    resnet.add_argument("--out", type=Path, default=None,
                        help="default: resnet50_digits.json with --batch-norm-momentum, "
                             "resnet50_digits_keras_bn_momentum.json without (in the current folder)")
    depths = commands.add_parser("plain-depths", help="plain and residual networks of increasing depth (chapter 1)")
    depths.add_argument("--depths", type=int, nargs="+", default=[8, 20, 56])
    depths.add_argument("--epochs", type=int, default=8)
    depths.add_argument("--seed", type=int, default=0)
    depths.add_argument("--out", type=Path, default=Path("plain_depths.json"))
    sweep = commands.add_parser("depth-sweep", help="plain vs residual at depths 8-56, 3 seeds (chapter 7)")
    sweep.add_argument("--depths", type=int, nargs="+", default=list(SWEEP_DEPTHS))
    sweep.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    sweep.add_argument("--epochs", type=int, default=SWEEP_EPOCHS)
    sweep.add_argument("--jobs", type=int, default=2, help="worker processes (default 2); 0 = this process")
    sweep.add_argument("--fresh", action="store_true",
                       help="start over instead of resuming (from the partial file beside --out, or --out itself)")
    sweep.add_argument("--out", type=Path, default=Path("depth_sweep.json"))
    study = commands.add_parser("landscape", help="loss landscapes and lesions of plain and residual networks "
                                                  "trained as in the depth sweep (chapter 8)")
    study.add_argument("--depths", type=int, nargs="+", default=list(LANDSCAPE_DEPTHS))
    study.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    study.add_argument("--epochs", type=int, default=SWEEP_EPOCHS,
                       help="training epochs (default: the depth sweep's; only then are the histories those of the sweep)")
    study.add_argument("--steps", type=int, default=LANDSCAPE_STEPS, help="grid points per axis of the loss surface")
    study.add_argument("--samples", type=int, default=LESION_SAMPLES, help="random lesions per number of blocks")
    study.add_argument("--jobs", type=int, default=2, help="worker processes (default 2); 0 = this process")
    study.add_argument("--fresh", action="store_true",
                       help="start over instead of resuming (from the partial file beside --out, or --out itself)")
    study.add_argument("--out", type=Path, default=Path("landscape.json"))
    return parser, commands


def main(argv=None) -> Path:
    """Runs the experiment the command line (`argv`, default `sys.argv[1:]`) asks for; returns the file written.

    Raises:
        SystemExit: 2 for an argument that cannot work (before any training), 130 on Ctrl-C.
    """
    parser, commands = _parser()
    args = parser.parse_args(argv)

    if args.experiment == "resnet50" and args.out is None:
        name = "resnet50_digits.json" if args.batch_norm_momentum is not None else "resnet50_digits_keras_bn_momentum.json"
        args.out = Path(name)
    # Every argument is checked here, before any training: a mistake costs seconds, not a run. The
    # experiment's own parser reports it: its usage line, then the problem in one line.
    parser = commands.choices[args.experiment]
    problem = _argument_problem(args)
    if problem:
        parser.error(problem)
    try:
        args.out = output_path(args.out)
    except ValueError as error:
        parser.error(str(error))
    # The arguments can work: now Keras (and TensorFlow), without TensorFlow's start-up notices (a command's
    # worker processes, which inherit the setting, filter theirs too).
    with quiet_start_up():
        import keras  # noqa: F401

        from resnet_lib.provenance import provenance, tensorflow_threads
        from resnet_lib.training import save_history
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = ["python", "-m", "resnet_lib.experiments", *arguments]
    start = time.perf_counter()
    if args.experiment == "depth-sweep":
        recipe = depth_sweep_recipe(depths=args.depths, epochs=args.epochs)
        return _main_resumable(args, parser, arguments, command, check=lambda: resume_state(recipe, args.out, fresh=args.fresh),
                               run=lambda: run_depth_sweep(recipe, args.seeds, out=args.out, jobs=args.jobs,
                                                           fresh=args.fresh, command=command),
                               count=lambda result: f"all {count_runs(result['runs'])} runs of this sweep",
                               noun="sweep")
    if args.experiment == "landscape":
        recipe = landscape_recipe(depths=args.depths, epochs=args.epochs, steps=args.steps, samples=args.samples)
        return _main_resumable(args, parser, arguments, command,
                               check=lambda: landscape_resume_state(recipe, args.out, fresh=args.fresh),
                               run=lambda: run_landscape_study(recipe, args.seeds, out=args.out, jobs=args.jobs,
                                                               fresh=args.fresh, command=command),
                               count=lambda result: f"all {count_runs(result['networks'])} networks of this study",
                               noun="study")
    try:
        with ctrl_c_stays_an_interrupt():
            if args.experiment == "resnet50":
                recipe = resnet50_recipe(epochs=args.epochs, batch_size=args.batch_size,
                                         batch_norm_momentum=args.batch_norm_momentum)
                result = run_resnet50(recipe, seed=args.seed)
            else:
                recipe = plain_depths_recipe(depths=args.depths, epochs=args.epochs)
                result = {"plain": run_plain_depths(recipe, seed=args.seed, residual=False),
                          "residual": run_plain_depths(recipe, seed=args.seed, residual=True)}
    except KeyboardInterrupt:
        print(f"{args.experiment} interrupted; nothing was written ({args.out} is unchanged). Run the same command "
              f"again to start over: {shlex.join(command)}", file=sys.stderr)
        raise SystemExit(130) from None
    result["provenance"] = provenance(command, seed=args.seed, threads_per_run=tensorflow_threads(),
                                      wall_seconds=time.perf_counter() - start)
    result["complete"] = True  # last: the mark of a finished run, which the loaders require
    path = save_history(result, args.out)
    print(f"wrote {path}")
    return path


def _main_resumable(args, parser, arguments: list[str], command: list[str], *, check, run, count, noun: str) -> Path:
    """The command line of a restartable run (depth-sweep, landscape): refuses an unusable file to
    resume from before any training, runs, and on Ctrl-C prints one line (what is kept, how to
    resume) and exits with status 130.

    Args:
        args: the parsed arguments (`experiment`, `out`).
        parser: the experiment's own parser, which reports a refused argument.
        arguments: the command line's arguments (to print the resuming command).
        command: the whole command line.
        check: function that raises ValueError if the file to resume from cannot be used.
        run: function that runs the experiment and returns its result.
        count: function result -> e.g. "all 36 runs of this sweep".
        noun: "sweep" or "study", for the messages.
    """
    try:
        check()  # an unusable file to resume from: refused now
    except ValueError as error:
        parser.error(str(error))
    before = _file_identity(args.out)
    try:
        result = run()
    except KeyboardInterrupt as stop:  # Ctrl-C: one line that says what is kept and how to go on
        kept = str(stop) if isinstance(stop, SweepInterrupted) else "interrupted"
        resume = shlex.join(["python", "-m", "resnet_lib.experiments", *(a for a in arguments if a != "--fresh")])
        state = "is unchanged" if before is not None else f"is written only once the {noun} is complete"
        print(f"{args.experiment} {kept}; {args.out} {state}. Resume with: {resume}", file=sys.stderr)
        raise SystemExit(130) from None
    if _file_identity(args.out) == before:
        print(f"{args.out} already holds {count(result)}; nothing was trained (--fresh trains them again).")
    else:
        print(f"wrote {args.out}")
    return args.out


def _file_identity(path: Path):
    """(inode, modification time) of `path`, None if absent: a file replaced by os.replace changes it."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def _argument_problem(args) -> str | None:
    """The first argument of the command line that cannot work, in one line; None if all can."""
    for name in ("depths", "seeds"):
        values = getattr(args, name, None) or []
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            return f"--{name} lists {repeated[0]} more than once, received {' '.join(map(str, values))}."
    for depth in getattr(args, "depths", None) or []:
        if depth < 8 or (depth - 2) % 6:
            return (f"--depths must be 6n + 2 with n >= 1 ({', '.join(map(str, range(8, 57, 6)))}, ...), received "
                    f"{depth}: a network of this family has a stem, three stages of n blocks of two convolutions, "
                    "and a classifier.")
    for name, values, minimum in (("steps", [getattr(args, "steps", 3)], 3),
                                  ("samples", [getattr(args, "samples", 1)], 1),
                                  ("seeds", getattr(args, "seeds", None) or [], 0),
                                  ("seed", [getattr(args, "seed", 0)], 0),
                                  ("epochs", [args.epochs], 1),
                                  ("jobs", [getattr(args, "jobs", 0)], 0),
                                  ("batch-size", [getattr(args, "batch_size", 1)], 1)):
        for value in values:
            if value < minimum:
                return f"--{name} must be at least {minimum}, received {value}."
    momentum = getattr(args, "batch_norm_momentum", None)
    if momentum is not None and not 0 <= momentum < 1:
        return f"--batch-norm-momentum must be in [0, 1), received {momentum}."
    if args.out.is_dir():
        return f"--out must be a file, received {str(args.out)!r}, a folder; e.g. --out {args.out / 'result.json'}."
    folder = next((p for p in (args.out.resolve().parent, *args.out.resolve().parents) if p.exists()), None)
    if folder is not None and not os.access(folder, os.W_OK):
        return f"--out {str(args.out)!r} cannot be written: the folder {str(folder)!r} is not writable."
    return None
