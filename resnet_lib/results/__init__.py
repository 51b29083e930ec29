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
    """Reads the shipped result `name` (see `resnet_lib.load_history` for how numbers come back).

    Raises:
        ValueError: the file is not a finished run (it lacks `"complete": true`), or not JSON.
    """
    from resnet_lib.training import load_history

    file = path(name)
    return require_complete(load_history(file), file)


# The command that makes each result (`make results`), by file name.
COMMANDS = {"depth_sweep": "depth-sweep", "plain_depths": "plain-depths",
            "resnet50_digits": "resnet50 --batch-norm-momentum 0.9", "resnet50_digits_keras_bn_momentum": "resnet50",
            "landscape": "landscape"}
#: The experiments that save as they go and resume where they stopped.
RESUMABLE = ("depth-sweep", "landscape")


def _result_name(file) -> str:
    """The result's name from its file: `x.json` and the sweep's partial file `x.partial.json` give "x"."""
    return Path(file).name.removesuffix(".json").removesuffix(".partial")


def rebuild_command(file, experiment: str | None = None) -> str:
    """How to make the result `file` again, as text to show: the experiment's command writing to `file`
    (a partial file `x.partial.json` of a sweep or study is completed into `x.json`), or, for a file shipped in this
    package, the command writing under `_build/results/` and then `tools/ship_results.py`.

    Args:
        file: the result's path.
        experiment: the experiment and its arguments, e.g. "depth-sweep --depths 8 --epochs 1"
            (default: from the file's name, see `COMMANDS`).
    """
    file = Path(file)
    name = _result_name(file)
    experiment = experiment or COMMANDS.get(name)
    if experiment is None:
        return "the `python -m resnet_lib.experiments ...` command that wrote it (see `--help`)"
    command = f"python -m resnet_lib.experiments {experiment}"
    if file.resolve().parent == Path(str(resources.files(__name__))).resolve():
        built = f"_build/results/{name}.json"
        return f"`{command} --out {built}`, then `python tools/ship_results.py {built}` (in the repository)"
    return f"`{command} --out {file.with_name(name + file.suffix)}`"


def require_complete(result, file, experiment: str | None = None) -> dict:
    """Returns `result` if it is a finished run (`"complete": true`, which the experiments add last).

    Raises:
        ValueError: naming `file`, saying it is a partial run, and the command that completes it
            (`experiment` as for `rebuild_command`).
    """
    if isinstance(result, dict) and result.get("complete") is True:
        return result
    experiment = experiment or COMMANDS.get(_result_name(file))
    command = rebuild_command(file, experiment)
    resumable = (experiment or "").split(" ")[0] in RESUMABLE
    how = f"Complete it with {command} (it resumes where the run stopped)" if resumable else f"Rebuild it with {command}"
    raise ValueError(
        f"{str(file)!r} is a partial, unfinished run: it lacks \"complete\": true, which "
        f"`python -m resnet_lib.experiments` adds last, once the run has finished. {how}."
    )
