"""Installs finished experiment results into the package, where the chapters load them from.

    python tools/ship_results.py _build/results/depth_sweep.json [...]

`make results` and `make sweep` write their runs under `_build/results/` (an experiment never
writes into the package); this copies each finished file over the shipped one in
`resnet_lib/results/`, through a temporary file and `os.replace`, so a shipped result is either
the old one or the new one, never half of either. A file without `"complete": true` (the mark of a
run that finished: the experiments add it last, with the provenance) is refused, as is a depth
sweep or landscape study whose layout is broken; if any file given is refused, none is shipped.

    python tools/ship_results.py --verify NAME [SLICE]

re-runs a cheap slice of the shipped result NAME (one network of the sweep or the landscape study, one
depth of plain_depths, the first epochs of a ResNet50 run) with today's code and compares it with the
shipped numbers bit for bit (`resnet_lib.experiments.verify`); it exits 1 if they differ.

    python tools/ship_results.py --compare _build/results/*.json

compares whole re-made files (after `make results`, before shipping them) with the shipped ones of
the same names, bit for bit, timings and provenance left out; it exits 1 if any differs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from resnet_lib._startup import COMMAND_VARIABLE, quiet_start_up
from resnet_lib.files import write_atomically

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "resnet_lib" / "results"


def check(source: Path) -> None:
    """Refuses, with a ValueError naming `source`, anything but a finished, readable result."""
    from resnet_lib import landscape_study, sweep
    from resnet_lib.results import require_complete
    from resnet_lib.training import load_history

    try:
        result = load_history(source)
    except (FileNotFoundError, ValueError) as error:
        raise ValueError(f"cannot read {source}: {error}") from None
    require_complete(result, source)
    if "provenance" not in result:
        raise ValueError(f"{str(source)!r} has no provenance: not a run of `python -m resnet_lib.experiments`.")
    if source.name == "depth_sweep.json":
        sweep.validate_sweep(result, source)
    if source.name == "landscape.json":
        landscape_study.validate_landscape_study(result, source)


def install(source: Path) -> Path:
    """Replaces the shipped file of the same name with `source` (already `check`ed), atomically."""
    return write_atomically(SHIPPED / source.name, source.read_bytes())


def ship(source: Path) -> Path:
    check(source)
    return install(source)


def _start_keras_quietly() -> None:
    """Imports Keras (and TensorFlow) as the library's commands do: TensorFlow's start-up notices filtered
    out. Called after the command line is parsed and checked, so that a usage error skips that import."""
    with quiet_start_up():
        import keras  # noqa: F401


def verify(name: str, part: str | None) -> int:
    from resnet_lib.experiments.verify import verify as run_verify

    _start_keras_quietly()
    try:
        report = run_verify(name, part)
    except ValueError as error:
        print(f"ship_results --verify: {error}", file=sys.stderr)
        return 2
    return _print_report(f"{report['name']} {report['slice']} ({report['threads']} thread(s))", report,
                         "the shipped file")


def _print_report(where: str, report: dict, shipped: str) -> int:
    """Prints a comparison's outcome (at most 20 of its differences); 1 if anything differs, else 0."""
    if report["differences"]:
        print(f"{where}: {len(report['differences'])} of {report['values']} values differ from {shipped}:")
        for line in report["differences"][:20]:
            print(f"    {line}")
        return 1
    print(f"{where}: all {report['values']} values equal {shipped}, bit for bit")
    return 0


def compare(files: list[Path]) -> int:
    """Compares each re-made file with the shipped one of its name; 1 if any differs."""
    from resnet_lib.experiments.verify import compare_file

    _start_keras_quietly()
    status = 0
    for file in files:
        try:
            report = compare_file(file)
        except ValueError as error:
            print(f"ship_results --compare: {error}", file=sys.stderr)
            return 2
        status = max(status, _print_report(str(file), report, f"the shipped {report['name']}"))
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", type=Path, nargs="*", help="finished results to ship")
    parser.add_argument("--verify", nargs="+", metavar=("NAME", "SLICE"),
                        help="re-run a slice of the shipped result NAME and compare it bit for bit")
    parser.add_argument("--compare", action="store_true",
                        help="compare the given re-made files with the shipped ones bit for bit (timings and "
                             "provenance left out) instead of shipping them")
    arguments = parser.parse_args(argv)
    if arguments.verify:
        if arguments.files or len(arguments.verify) > 2:
            parser.error("--verify takes a result's name and, optionally, a slice, and no files")
        return verify(arguments.verify[0], arguments.verify[1] if len(arguments.verify) > 1 else None)
    if not arguments.files:
        parser.error("give the result files to ship or to --compare, or --verify NAME")
    if arguments.compare:
        return compare(arguments.files)
    files = arguments.files
    for source in files:  # all of them first: a refused file leaves every shipped one as it was
        try:
            check(source)
        except ValueError as error:
            print(f"ship_results: {error} Nothing was replaced.", file=sys.stderr)
            return 1
    for source in files:
        print(f"shipped {source} -> {install(source).relative_to(ROOT)}")  # checked above
    return 0


if __name__ == "__main__":
    os.environ.setdefault(COMMAND_VARIABLE, "1")  # one of the project's commands (resnet_lib/_startup.py)
    sys.exit(main())
