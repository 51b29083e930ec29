"""The precomputed results the chapters load, shipped inside the package.

Each file is the output of one `python -m resnet_lib.experiments ...` command, with its
provenance (command, seed(s), versions, hardware, wall time) stored inside it. Shipping them as
package data means a pip-installed `resnet_lib` (on Colab, say) has them without any download:

    from resnet_lib import results
    sweep = results.load("depth_sweep")        # the committed depth sweep of chapter 7
    results.names()                            # ['depth_sweep', 'plain_depths', ...]

`make results` re-runs every experiment and replaces these files only once a run is complete.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def names() -> list[str]:
    """The names of the shipped results, without the `.json` suffix, sorted."""
    return sorted(entry.name.removesuffix(".json") for entry in resources.files(__name__).iterdir()
                  if entry.name.endswith(".json"))


def path(name: str) -> Path:
    """The file of the shipped result `name` (e.g. `"depth_sweep"`).

    Raises:
        ValueError: there is no shipped result of that name; the message lists the ones there are.
    """
    if not isinstance(name, str) or name.removesuffix(".json") not in names():
        raise ValueError(f"`name` must be one of the shipped results {names()}, received {name!r}.")
    # Installed from a wheel or in place, the package is a folder on disk, so this is a real path.
    return Path(str(resources.files(__name__) / f"{name.removesuffix('.json')}.json"))


def load(name: str) -> dict:
    """Reads the shipped result `name` (see `resnet_lib.load_history` for how numbers come back)."""
    from resnet_lib.training import load_history

    return load_history(path(name))
