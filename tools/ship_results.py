"""Installs finished experiment results into the package, where the chapters load them from.

    python tools/ship_results.py _build/results/depth_sweep.json [...]

`make results` and `make sweep` write their runs under `_build/results/` (an experiment never
writes into the package); this copies each finished file over the shipped one in
`resnet_lib/results/`, through a temporary file and `os.replace`, so a shipped result is either
the old one or the new one, never half of either. A file without provenance (the mark of a run
that finished: the experiments add it last) is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "resnet_lib" / "results"


def ship(source: Path) -> Path:
    try:
        result = json.loads(source.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"ship_results: cannot read {source}: {error}")
    if not isinstance(result, dict) or "provenance" not in result:
        raise SystemExit(f"ship_results: {source} has no provenance: not a finished run; nothing was replaced. "
                         "Run its experiment to the end first.")
    target = SHIPPED / source.name
    descriptor, temporary = tempfile.mkstemp(prefix=f".{source.name}.", suffix=".tmp", dir=SHIPPED)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(source.read_bytes())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", type=Path, nargs="+")
    for source in parser.parse_args(argv).files:
        print(f"shipped {source} -> {ship(source).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
