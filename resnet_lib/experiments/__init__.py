"""Heavy runs of the book, as commands that write small JSON results with their provenance.

    python -m resnet_lib.experiments resnet50 --batch-norm-momentum 0.9   # ./resnet50_digits.json
    python -m resnet_lib.experiments resnet50    # Keras' momentum 0.99: ./resnet50_digits_keras_bn_momentum.json
    python -m resnet_lib.experiments plain-depths [--depths 8 20 56] [--epochs 8] [--out plain_depths.json]
    python -m resnet_lib.experiments depth-sweep [--seeds 0 1 2] [--jobs 2] [--fresh]   # ./depth_sweep.json
    python -m resnet_lib.experiments landscape [--depths 20 56] [--seeds 0 1 2] [--jobs 2] [--fresh]  # ./landscape.json

The sweep and the landscape study save after every run to `<out stem>.partial.json` beside `--out` and resume from it; they
write `--out` only once every run is done. Every finished file ends with `"complete": true` (added
last, with the provenance), which the loaders require. Ctrl-C stops a command with exit status 130
and one line saying what was kept and how to resume.

Each writes into the current folder unless `--out` says otherwise, and never into the installed
package: the results the chapters load (train-or-load) ship inside it (`resnet_lib.results`), so
readers see full-length results at once, and every chapter can re-run the same function itself.
`make results` runs them all and installs each file into the package once its run is complete.

The package, one module per job (this file only gathers their public names):

* `resnet50`, `plain_depths`, `depth_sweep`, `landscape`: one experiment each, its recipe and its run;
* `_grid`: the resumable runner of the depth sweep and the landscape study (partial files, worker
  processes, Ctrl-C, resuming);
* `_output`: where a run may write;
* `cli` (started by `__main__`): the command line.

The commands' defaults, and the arguments that make a given file, live in `resnet_lib.commands`, which
the file formats (`resnet_lib.sweep`, `resnet_lib.landscape_study`) use too.
"""

from resnet_lib.commands import (
    LANDSCAPE_DEPTHS,
    LANDSCAPE_STEPS,
    LESION_SAMPLES,
    SWEEP_DEPTHS,
    depth_sweep_arguments,
    landscape_arguments,
)
from resnet_lib.experiments._grid import SweepInterrupted, partial_path
from resnet_lib.experiments._output import PACKAGE, output_path
from resnet_lib.experiments.cli import main
from resnet_lib.experiments.depth_sweep import (
    GRADIENT_BATCH,
    depth_sweep_recipe,
    resume_state,
    run_depth_sweep,
    sweep_optimizer,
    train_sweep_network,
)
from resnet_lib.experiments.landscape import (
    NONCONVEXITY_TOLERANCE,
    landscape_recipe,
    landscape_resume_state,
    run_landscape_study,
    study_network,
)
from resnet_lib.experiments.plain_depths import plain_depths_recipe, run_plain_depths
from resnet_lib.experiments.resnet50 import resnet50_recipe, run_resnet50

__all__ = [
    "GRADIENT_BATCH",
    "LANDSCAPE_DEPTHS",
    "LANDSCAPE_STEPS",
    "LESION_SAMPLES",
    "NONCONVEXITY_TOLERANCE",
    "PACKAGE",
    "SWEEP_DEPTHS",
    "SweepInterrupted",
    "depth_sweep_arguments",
    "depth_sweep_recipe",
    "landscape_arguments",
    "landscape_recipe",
    "landscape_resume_state",
    "main",
    "output_path",
    "partial_path",
    "plain_depths_recipe",
    "resnet50_recipe",
    "resume_state",
    "run_depth_sweep",
    "run_landscape_study",
    "run_plain_depths",
    "run_resnet50",
    "study_network",
    "sweep_optimizer",
    "train_sweep_network",
]
