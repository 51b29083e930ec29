"""The plain-depths experiment (chapter 1): plain and residual networks of increasing depth, one recipe.

Run as `python -m resnet_lib.experiments plain-depths`; chapter 1 loads the shipped result
(`plain_depths.json`) for its degradation figure.
"""

from __future__ import annotations


def plain_depths_recipe(depths=(8, 20, 56), epochs: int = 8, image_size: int = 16, batch_size: int = 64,
                        learning_rate: float = 0.05) -> dict:
    """Plain networks of increasing depth, trained with one recipe (chapter 1's degradation figure)."""
    from resnet_lib.batch_norm import default_kernel  # imports Keras: not at the top, for a quick --help

    return {"dataset": "digits", "image_size": image_size, "depths": list(depths), "epochs": epochs,
            "batch_size": batch_size, "optimizer": "sgd", "learning_rate": learning_rate,
            "zero_init_residual": True, "batch_norm_kernel": default_kernel()}


def run_plain_depths(recipe: dict, seed: int = 0, progress: bool = True, residual: bool = False,
                     depths=None) -> dict:
    """Trains `build_network(depth, residual)` for each depth of `recipe` (or of `depths`, a part of them);
    returns the histories."""
    from resnet_lib.data import load_dataset
    from resnet_lib.models import build_network
    from resnet_lib.training import set_seed, train

    data = load_dataset(recipe["dataset"], image_size=recipe["image_size"])
    runs = {}
    for depth in recipe["depths"] if depths is None else depths:
        set_seed(seed)
        model = build_network(depth, residual=residual, input_shape=data.x_train.shape[1:], num_classes=data.num_classes,
                              zero_init_residual=residual and recipe["zero_init_residual"])
        runs[str(depth)] = train(
            model, data.x_train, data.y_train, validation_data=(data.x_test, data.y_test), epochs=recipe["epochs"],
            batch_size=recipe["batch_size"], optimizer=recipe["optimizer"], learning_rate=recipe["learning_rate"],
            seed=seed, progress=progress, batch_norm_kernel=recipe["batch_norm_kernel"],
        )
    return {"recipe": recipe, "seed": seed, "residual": residual, "runs": runs}
