"""The experiments' command lines: their default settings, and the arguments that make a given result file.

`python -m resnet_lib.experiments <experiment> ...` (`resnet_lib.experiments`) takes its defaults from
here, and the file formats (`resnet_lib.sweep`, `resnet_lib.landscape_study`) write from here, into
their messages, the command that rebuilds or completes a file. This module imports nothing of
resnet_lib, so that a file format never depends on the experiments that write it.
"""

from __future__ import annotations

#: The depths of the depth sweep (chapter 7), 6n + 2.
SWEEP_DEPTHS = (8, 14, 20, 32, 44, 56)
#: The depth sweep's training epochs (the landscape study trains as many).
SWEEP_EPOCHS = 12
#: The seeds the depth sweep and the landscape study run by default.
SEEDS = (0, 1, 2)
#: The depths of the landscape study (chapter 8).
LANDSCAPE_DEPTHS = (20, 56)
#: Grid points per axis of the landscape study's loss surfaces.
LANDSCAPE_STEPS = 25
#: Random lesions per number of deleted blocks in the landscape study.
LESION_SAMPLES = 20


def depth_sweep_arguments(recipe: dict, seeds=None, *, fresh: bool = False) -> list[str]:
    """The `depth-sweep` command's arguments that make a sweep with `recipe` and `seeds` (those the
    command can set: depths, epochs, seeds; the defaults are left out)."""
    arguments = ["depth-sweep"]
    if fresh:
        arguments.append("--fresh")
    depths, epochs = recipe.get("depths"), recipe.get("epochs")
    if isinstance(depths, list) and depths != list(SWEEP_DEPTHS):
        arguments += ["--depths", *map(str, depths)]
    if isinstance(seeds, list) and seeds != list(SEEDS):
        arguments += ["--seeds", *map(str, seeds)]
    if epochs is not None and epochs != SWEEP_EPOCHS:
        arguments += ["--epochs", str(epochs)]
    return arguments


def landscape_arguments(recipe: dict, seeds=None, *, fresh: bool = False) -> list[str]:
    """The `landscape` command's arguments that make a study with `recipe` and `seeds` (those the command
    can set: depths, seeds, epochs, steps, samples; defaults left out)."""
    arguments = ["landscape"]
    if fresh:
        arguments.append("--fresh")
    training = recipe.get("training") if isinstance(recipe.get("training"), dict) else {}
    depths, epochs = training.get("depths"), training.get("epochs")
    if isinstance(depths, list) and depths != list(LANDSCAPE_DEPTHS):
        arguments += ["--depths", *map(str, depths)]
    if isinstance(seeds, list) and seeds != list(SEEDS):
        arguments += ["--seeds", *map(str, seeds)]
    if epochs is not None and epochs != SWEEP_EPOCHS:
        arguments += ["--epochs", str(epochs)]
    steps = (recipe.get("surface") or {}).get("steps") if isinstance(recipe.get("surface"), dict) else None
    if steps is not None and steps != LANDSCAPE_STEPS:
        arguments += ["--steps", str(steps)]
    samples = (recipe.get("lesions") or {}).get("samples") if isinstance(recipe.get("lesions"), dict) else None
    if samples is not None and samples != LESION_SAMPLES:
        arguments += ["--samples", str(samples)]
    return arguments
