"""The ResNet50 experiment (chapter 6): its recipe, and training `resnet50()` from scratch with it.

Run as `python -m resnet_lib.experiments resnet50 [--batch-norm-momentum 0.9]`; the chapter loads the
shipped result (`resnet50_digits.json`, or `resnet50_digits_keras_bn_momentum.json` with Keras' momentum).
"""

from __future__ import annotations

import time

import numpy as np


def resnet50_recipe(epochs: int = 20, batch_size: int = 64, learning_rate: float = 1e-3, image_size: int = 32,
                    batch_norm_momentum: float | None = None) -> dict:
    """The full-length ResNet50 recipe on the offline default data (one place, used by chapter 6 too).

    `batch_norm_momentum`, if given, replaces the momentum of every batch norm before training (a
    training setting: the architecture stays that of keras.applications, whose default is 0.99).
    """
    from resnet_lib.batch_norm import default_kernel  # imports Keras: not at the top, for a quick --help

    return {"dataset": "digits", "image_size": image_size, "epochs": epochs, "batch_size": batch_size,
            "optimizer": "adam", "learning_rate": learning_rate, "schedule": "cosine decay to 0",
            "batch_norm_momentum": batch_norm_momentum, "batch_norm_kernel": default_kernel()}


def run_resnet50(recipe: dict, seed: int = 0, progress: bool = True, limit: int | None = None,
                 epochs: int | None = None) -> dict:
    """Trains `resnet50()` from scratch with `recipe`; returns history, test accuracy and test predictions.

    Args:
        recipe: from `resnet50_recipe()`.
        seed: seed of the initial weights and the shuffling.
        progress: show a progress bar.
        limit: use only the first `limit` training images (for quick checks).
        epochs: stop after this many epochs of the recipe's schedule (for quick checks: the epochs run
            are those of the full run, bit for bit).
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
    history = train(model, x_train, y_train, validation_data=(data.x_test, data.y_test),
                    epochs=recipe["epochs"] if epochs is None else epochs,
                    batch_size=recipe["batch_size"], optimizer=optimizer, seed=seed, progress=progress,
                    batch_norm_kernel=recipe["batch_norm_kernel"])
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
