"""The code the chapters write out is the library's, checked outside the notebooks.

Each test runs a chapter's defining cell on its own, in a namespace with only the chapter's imports,
and compares what it builds or trains with `resnet_lib`: chapter 1's `plain_network` and chapter 2's
`residual_network` are `build_network(depth, residual=...)` (same graph, same parameters, identical
outputs once `transfer_weights` has copied the weights), and chapter 7's `train_one` trains with the
numbers of `depth_sweep_recipe()` exactly as `resnet_lib.train` does. The chapters assert the same
when nbval runs them (tests/test_book.py checks that they do).
"""

import inspect
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from keras import layers

import resnet_lib
from resnet_lib.experiments import depth_sweep_recipe

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTER_1, CHAPTER_2, CHAPTER_7 = "01_why_deep_plain_networks_fail", "02_skip_connections", "07_depth_explorer"


def chapter_code(chapter: str, function: str) -> dict:
    """Runs the code cell of `chapter` that defines `function`, alone; returns the names it defines."""
    notebook = json.loads((BOOK / f"{chapter}.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    (source,) = [text for text in sources if re.search(rf"^def {function}\(", text, re.MULTILINE)]
    namespace = {"keras": keras, "layers": layers, "math": math, "np": np, "resnet_lib": resnet_lib}
    exec(compile(source, f"{chapter}.ipynb, the cell defining {function}", "exec"), namespace)
    return namespace


def assert_same_network(ours: keras.Model, library: keras.Model) -> None:
    assert ours.get_config() == library.get_config()  # every layer's name, class, settings and inputs
    assert [type(layer) for layer in ours.layers] == [type(layer) for layer in library.layers]
    assert ours.count_params() == library.count_params()
    resnet_lib.transfer_weights(library, ours)
    images = np.random.default_rng(0).random((16, *ours.input_shape[1:]), dtype="float32")
    np.testing.assert_array_equal(ours(images, training=False), library(images, training=False))


@pytest.mark.parametrize("depth, batch_norm, input_shape, num_classes", [
    (8, True, (16, 16, 3), 10), (20, True, (16, 16, 3), 10), (8, False, (16, 16, 3), 10), (14, True, (8, 8, 1), 6),
])
def test_chapter_1_plain_network_is_the_library_plain_network(depth, batch_norm, input_shape, num_classes):
    plain_network = chapter_code(CHAPTER_1, "plain_network")["plain_network"]
    ours = plain_network(depth, input_shape=input_shape, num_classes=num_classes, batch_norm=batch_norm)
    library = resnet_lib.build_network(depth, residual=False, input_shape=input_shape, num_classes=num_classes,
                                       batch_norm=batch_norm)
    assert_same_network(ours, library)


@pytest.mark.parametrize("depth, zero_init_residual, input_shape, num_classes", [
    (8, False, (16, 16, 3), 10), (20, False, (16, 16, 3), 10), (8, True, (16, 16, 3), 10), (14, False, (8, 8, 1), 6),
])
def test_chapter_2_residual_network_is_the_library_residual_network(depth, zero_init_residual, input_shape,
                                                                     num_classes):
    residual_network = chapter_code(CHAPTER_2, "residual_network")["residual_network"]
    ours = residual_network(depth, input_shape=input_shape, num_classes=num_classes,
                            zero_init_residual=zero_init_residual)
    library = resnet_lib.build_network(depth, residual=True, input_shape=input_shape, num_classes=num_classes,
                                       zero_init_residual=zero_init_residual)
    assert_same_network(ours, library)


def test_chapter_2_residual_network_is_chapter_1_plain_network_plus_shortcuts_and_additions():
    plain = chapter_code(CHAPTER_1, "plain_network")["plain_network"](14)
    residual = chapter_code(CHAPTER_2, "residual_network")["residual_network"](14)
    added = {layer.name: type(layer) for layer in residual.layers if layer.name not in {l.name for l in plain.layers}}
    assert set(added.values()) == {layers.Add, resnet_lib.ParameterFreeShortcut}
    for layer in plain.layers:
        config = {**residual.get_layer(layer.name).get_config(), "name": layer.name}
        assert config == layer.get_config(), layer.name
    assert residual.count_params() == plain.count_params()


def test_chapter_7_recipe_has_the_numbers_of_the_library_recipe():
    recipe = depth_sweep_recipe()
    code = chapter_code(CHAPTER_7, "train_one")
    schedule_defaults = inspect.signature(code["learning_rate_schedule"]).parameters
    train_defaults = inspect.signature(code["train_one"]).parameters
    assert schedule_defaults["epochs"].default == train_defaults["epochs"].default == recipe["epochs"]
    assert schedule_defaults["peak"].default == recipe["learning_rate"]
    assert schedule_defaults["warmup_epochs"].default == recipe["warmup_epochs"]
    assert train_defaults["batch_size"].default == recipe["batch_size"]


def test_chapter_7_schedule_warms_up_linearly_then_follows_a_cosine_to_zero():
    recipe = depth_sweep_recipe()
    steps_per_epoch = 23
    schedule = chapter_code(CHAPTER_7, "train_one")["learning_rate_schedule"](steps_per_epoch)
    warmup, total, peak = recipe["warmup_epochs"] * steps_per_epoch, recipe["epochs"] * steps_per_epoch, recipe["learning_rate"]
    for step in range(total + 5):
        if step < warmup:
            expected = peak * step / warmup
        else:
            expected = peak * 0.5 * (1 + math.cos(math.pi * min(step - warmup, total - warmup) / (total - warmup)))
        assert float(schedule(step)) == pytest.approx(expected, abs=1e-6), step


def test_chapter_7_shift_images_moves_every_image_by_at_most_the_shift():
    shift_images = chapter_code(CHAPTER_7, "train_one")["shift_images"]
    images = np.random.default_rng(1).random((50, 6, 7, 2), dtype="float32") + 1  # no zeros inside an image
    shifted = shift_images(images, 1, np.random.default_rng(0))
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    moves = set()
    for original, moved in zip(images, shifted):
        padded = np.pad(original, [(1, 1), (1, 1), (0, 0)])
        matches = [(dy, dx) for dy in range(3) for dx in range(3) if np.array_equal(padded[dy:dy + 6, dx:dx + 7], moved)]
        assert len(matches) == 1
        moves.add(matches[0])
    assert len(moves) == 9  # every move of up to 1 pixel occurs, the identity included


@pytest.mark.parametrize("residual", [True, False], ids=["residual", "plain"])
def test_chapter_7_train_one_trains_as_the_library_does_with_the_recipe(residual):
    """Same seed, same data: `train_one` gives the history of `resnet_lib.train` with the recipe's network,
    optimizer (SGD with momentum, warm-up then cosine) and shift augmentation, to the last bit."""
    recipe = depth_sweep_recipe()
    data = resnet_lib.load_dataset("digits", image_size=recipe["image_size"], channels=recipe["channels"])
    small = SimpleNamespace(x_train=data.x_train[:320], y_train=data.y_train[:320], x_test=data.x_test[:64],
                            y_test=data.y_test[:64], num_classes=data.num_classes)
    _, ours = chapter_code(CHAPTER_7, "train_one")["train_one"](8, residual, 3, small, stop_after=2)

    resnet_lib.set_seed(3)
    model = resnet_lib.build_network(8, residual, input_shape=small.x_train.shape[1:], num_classes=small.num_classes,
                                     zero_init_residual=residual and recipe["zero_init_residual"],
                                     batch_norm_momentum=recipe["batch_norm_momentum"])
    steps_per_epoch = math.ceil(len(small.x_train) / recipe["batch_size"])
    warmup = recipe["warmup_epochs"] * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(0.0, recipe["epochs"] * steps_per_epoch - warmup,
                                                      warmup_target=recipe["learning_rate"], warmup_steps=warmup)
    library = resnet_lib.train(model, small.x_train, small.y_train, validation_data=(small.x_test, small.y_test),
                               epochs=2, batch_size=recipe["batch_size"],
                               optimizer=keras.optimizers.SGD(schedule, momentum=recipe["momentum"]), seed=3,
                               progress=False, augment_shift=recipe["augment_shift"])
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert ours[key] == library[key], key
