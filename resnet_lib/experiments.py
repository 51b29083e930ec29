"""Heavy runs of the book, as commands that write small JSON results with their provenance.

    python -m resnet_lib.experiments resnet50 --batch-norm-momentum 0.9   # book/results/resnet50_digits.json
    python -m resnet_lib.experiments resnet50    # Keras' momentum 0.99: ..._keras_bn_momentum.json
    python -m resnet_lib.experiments plain-depths [--depths 8 20 56] [--epochs 8] [--out book/results/plain_depths.json]

Chapters load these files (train-or-load): readers see full-length results at once, and every
chapter can re-run the same function itself. `make results` runs them all.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

BOOK_RESULTS = Path(__file__).resolve().parents[1] / "book" / "results"


def resnet50_recipe(epochs: int = 20, batch_size: int = 64, learning_rate: float = 1e-3, image_size: int = 32,
                    batch_norm_momentum: float | None = None) -> dict:
    """The full-length ResNet50 recipe on the offline default data (one place, used by chapter 6 too).

    `batch_norm_momentum`, if given, replaces the momentum of every batch norm before training (a
    training setting: the architecture stays that of keras.applications, whose default is 0.99).
    """
    return {"dataset": "digits", "image_size": image_size, "epochs": epochs, "batch_size": batch_size,
            "optimizer": "adam", "learning_rate": learning_rate, "schedule": "cosine decay to 0",
            "batch_norm_momentum": batch_norm_momentum}


def run_resnet50(recipe: dict, seed: int = 0, progress: bool = True, limit: int | None = None) -> dict:
    """Trains `resnet50()` from scratch with `recipe`; returns history, test accuracy and test predictions.

    Args:
        recipe: from `resnet50_recipe()`.
        seed: seed of the initial weights and the shuffling.
        progress: show a progress bar.
        limit: use only the first `limit` training images (for quick checks).
    """
    import keras

    from resnet_lib.data import load_dataset
    from resnet_lib.models import resnet50
    from resnet_lib.training import set_seed, train

    data = load_dataset(recipe["dataset"], image_size=recipe["image_size"])
    x_train, y_train = data.x_train[:limit], data.y_train[:limit]
    set_seed(seed)
    model = resnet50((recipe["image_size"], recipe["image_size"], 3), data.num_classes)
    if recipe.get("batch_norm_momentum") is not None:
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = recipe["batch_norm_momentum"]
    steps = recipe["epochs"] * int(np.ceil(len(x_train) / recipe["batch_size"]))
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(recipe["learning_rate"], steps))
    start = time.perf_counter()
    history = train(model, x_train, y_train, validation_data=(data.x_test, data.y_test), epochs=recipe["epochs"],
                    batch_size=recipe["batch_size"], optimizer=optimizer, seed=seed, progress=progress)
    wall_seconds = time.perf_counter() - start
    probabilities = model.predict(data.x_test, verbose=0)
    predictions = probabilities.argmax(axis=1)
    return {
        "recipe": recipe,
        "seed": seed,
        "history": history,
        "test_accuracy": float((predictions == data.y_test).mean()),
        "test_predictions": predictions.tolist(),
        "test_labels": data.y_test.tolist(),
        "class_names": list(data.class_names),
        "wall_seconds": wall_seconds,
        "parameters": model.count_params(),
    }


def plain_depths_recipe(depths=(8, 20, 56), epochs: int = 8, image_size: int = 16, batch_size: int = 64,
                        learning_rate: float = 0.05) -> dict:
    """Plain networks of increasing depth, trained with one recipe (chapter 1's degradation figure)."""
    return {"dataset": "digits", "image_size": image_size, "depths": list(depths), "epochs": epochs,
            "batch_size": batch_size, "optimizer": "sgd", "learning_rate": learning_rate,
            "zero_init_residual": True}


def run_plain_depths(recipe: dict, seed: int = 0, progress: bool = True, residual: bool = False) -> dict:
    """Trains `build_network(depth, residual)` for each depth of `recipe`; returns the histories."""
    from resnet_lib.data import load_dataset
    from resnet_lib.models import build_network
    from resnet_lib.training import set_seed, train

    data = load_dataset(recipe["dataset"], image_size=recipe["image_size"])
    runs = {}
    for depth in recipe["depths"]:
        set_seed(seed)
        model = build_network(depth, residual=residual, input_shape=data.x_train.shape[1:], num_classes=data.num_classes,
                              zero_init_residual=residual and recipe["zero_init_residual"])
        runs[str(depth)] = train(
            model, data.x_train, data.y_train, validation_data=(data.x_test, data.y_test), epochs=recipe["epochs"],
            batch_size=recipe["batch_size"], optimizer=recipe["optimizer"], learning_rate=recipe["learning_rate"],
            seed=seed, progress=progress,
        )
    return {"recipe": recipe, "seed": seed, "residual": residual, "runs": runs}


def main(argv=None) -> Path:
    from resnet_lib.provenance import provenance
    from resnet_lib.training import save_history

    parser = argparse.ArgumentParser(prog="python -m resnet_lib.experiments", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="experiment", required=True)
    resnet = commands.add_parser("resnet50", help="train ResNet50 on the offline default data (chapter 6)")
    resnet.add_argument("--epochs", type=int, default=20)
    resnet.add_argument("--batch-size", type=int, default=64)
    resnet.add_argument("--seed", type=int, default=0)
    resnet.add_argument("--batch-norm-momentum", type=float, default=None,
                        help="replace the batch-norm momentum (default: keep 0.99 of keras.applications)")
    resnet.add_argument("--out", type=Path, default=None,
                        help="default: book/results/resnet50_digits.json with --batch-norm-momentum, "
                             "book/results/resnet50_digits_keras_bn_momentum.json without")
    depths = commands.add_parser("plain-depths", help="plain and residual networks of increasing depth (chapter 1)")
    depths.add_argument("--depths", type=int, nargs="+", default=[8, 20, 56])
    depths.add_argument("--epochs", type=int, default=8)
    depths.add_argument("--seed", type=int, default=0)
    depths.add_argument("--out", type=Path, default=BOOK_RESULTS / "plain_depths.json")
    args = parser.parse_args(argv)

    if args.experiment == "resnet50" and args.out is None:
        name = "resnet50_digits.json" if args.batch_norm_momentum is not None else "resnet50_digits_keras_bn_momentum.json"
        args.out = BOOK_RESULTS / name
    start = time.perf_counter()
    if args.experiment == "resnet50":
        recipe = resnet50_recipe(epochs=args.epochs, batch_size=args.batch_size,
                                 batch_norm_momentum=args.batch_norm_momentum)
        result = run_resnet50(recipe, seed=args.seed)
    else:
        recipe = plain_depths_recipe(depths=args.depths, epochs=args.epochs)
        result = {"plain": run_plain_depths(recipe, seed=args.seed, residual=False),
                  "residual": run_plain_depths(recipe, seed=args.seed, residual=True)}
    command = ["python", "-m", "resnet_lib.experiments", *(sys.argv[1:] if argv is None else argv)]
    result["provenance"] = provenance(command, seed=args.seed, wall_seconds=time.perf_counter() - start)
    path = save_history(result, args.out)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
