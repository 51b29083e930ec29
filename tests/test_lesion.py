"""Lesion studies (resnet_lib.lesion): deleting blocks at test time, and the paths through a ResNet."""

import itertools
import math

import keras
import numpy as np
import pytest
from keras import layers

from resnet_lib import ParameterFreeShortcut, build_network, lesion
from resnet_lib.analysis import randomize_batch_norm

INPUT_SHAPE = (8, 8, 1)
DEPTH14_BLOCKS = ["stage1_block1", "stage1_block2", "stage2_block1", "stage2_block2", "stage3_block1", "stage3_block2"]


def network(residual=True, depth=14, seed=0, zero_init_residual=False):
    """A network whose batch norms matter (random scales, shifts and moving statistics, as after training)."""
    keras.utils.set_random_seed(seed)
    model = build_network(depth, residual=residual, input_shape=INPUT_SHAPE, num_classes=10,
                          zero_init_residual=zero_init_residual)
    randomize_batch_norm(model, seed=seed)
    if zero_init_residual:  # every branch ends at gamma = beta = 0: each block is the identity
        for layer in model.layers:
            if layer.name.endswith("_bn2"):
                gamma, beta, moving_mean, moving_variance = layer.get_weights()
                layer.set_weights([np.zeros_like(gamma), np.zeros_like(beta), moving_mean, moving_variance])
    return model


@pytest.fixture(scope="module")
def images():
    generator = np.random.default_rng(3)
    return generator.random((40, *INPUT_SHAPE)).astype("float32"), np.arange(40) % 10


def predict(model, x):
    return model.predict(x, verbose=0)


# ---------------------------------------------------------------------------------------------------
# The blocks
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("residual", [True, False])
def test_blocks_are_listed_in_order_with_the_downsampling_ones_marked(residual):
    found = lesion.blocks(network(residual))
    assert [block.name for block in found] == DEPTH14_BLOCKS
    assert [block.downsampling for block in found] == [False, False, True, False, True, False]
    assert (found[2].stage, found[2].block) == (2, 1)
    assert len(lesion.blocks(build_network(20, input_shape=INPUT_SHAPE))) == 9  # (depth - 2) / 2


# ---------------------------------------------------------------------------------------------------
# delete_blocks
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("residual", [True, False])
def test_deleting_no_block_gives_the_models_own_outputs(images, residual):
    model = network(residual)
    same = lesion.delete_blocks(model, [])
    np.testing.assert_array_equal(predict(same, images[0]), predict(model, images[0]))
    assert same.count_params() == model.count_params() and same.name == f"{model.name}_lesioned"


@pytest.mark.parametrize("deleted", [["stage1_block2"], [(2, 1)], ["stage3_block1", (1, 1)], DEPTH14_BLOCKS])
def test_deleting_blocks_of_a_zero_initialised_resnet_changes_nothing(images, deleted):
    """Each such block is exactly the identity (or the parameter-free downsampling): so is its deletion."""
    model = network(zero_init_residual=True)
    intact = predict(model, images[0])
    assert intact.std(axis=0).max() > 1e-3  # the network computes something image-dependent
    np.testing.assert_allclose(predict(lesion.delete_blocks(model, deleted), images[0]), intact, rtol=0, atol=1e-6)


@pytest.mark.parametrize("deleted", [["stage1_block2"], ["stage2_block1"]])
def test_deleting_a_block_changes_a_plain_networks_outputs(images, deleted):
    model = network(residual=False)
    changed = predict(lesion.delete_blocks(model, deleted), images[0])
    assert np.abs(changed - predict(model, images[0])).max() > 1e-3


@pytest.mark.parametrize("residual", [True, False])
def test_deleting_a_downsampling_block_keeps_the_shapes_and_drops_exactly_its_layers(images, residual):
    model = network(residual)
    lesioned = lesion.delete_blocks(model, ["stage2_block1"])
    assert lesioned.output.shape == (None, 10) and predict(lesioned, images[0]).shape == (40, 10)
    block_layers = [layer for layer in model.layers if layer.name.startswith("stage2_block1_")]
    assert lesioned.count_params() == model.count_params() - sum(layer.count_params() for layer in block_layers)
    shortcuts = [layer for layer in lesioned.layers if isinstance(layer, ParameterFreeShortcut)]
    assert "stage2_block1_shortcut" in [layer.name for layer in shortcuts]
    assert not any(layer.name.startswith("stage2_block1_conv") for layer in lesioned.layers)
    if residual:  # the block's own parameter-free shortcut, shared
        assert lesioned.get_layer("stage2_block1_shortcut") is model.get_layer("stage2_block1_shortcut")


def test_the_lesioned_model_shares_the_trained_layers(images):
    model = network()
    lesioned = lesion.delete_blocks(model, ["stage1_block1"])
    assert lesioned.get_layer("stage3_block2_conv2") is model.get_layer("stage3_block2_conv2")
    before = predict(lesioned, images[0])
    kernel = model.get_layer("predictions").kernel
    kernel.assign(kernel.numpy() * 2)  # a change to the trained model shows in the lesioned one
    assert np.abs(predict(lesioned, images[0]) - before).max() > 1e-3


def test_delete_blocks_bad_arguments():
    model = network(depth=8)
    with pytest.raises(ValueError, match=r"names stage4_block1, which 'resnet8' does not have. Valid blocks: "
                                         r"stage1_block1, stage2_block1, stage3_block1"):
        lesion.delete_blocks(model, ["stage4_block1"])
    with pytest.raises(ValueError, match=r"names stage1_block1 more than once"):
        lesion.delete_blocks(model, ["stage1_block1", (1, 1)])
    with pytest.raises(ValueError, match=r"holds 'block1', which is not a block name.*Valid blocks"):
        lesion.delete_blocks(model, ["block1"])
    with pytest.raises(ValueError, match=r"holds 2.5, which is neither a name nor a \(stage, block\) pair"):
        lesion.delete_blocks(model, [2.5])
    with pytest.raises(ValueError, match=r"`blocks` must be a list of blocks, received an int"):
        lesion.delete_blocks(model, 3)
    # A single name or pair is one block.
    assert len(lesion.delete_blocks(model, "stage1_block1").layers) == len(lesion.delete_blocks(model, (1, 1)).layers)


def test_models_other_than_build_networks_are_refused():
    with pytest.raises(TypeError, match="`model` must be a keras.Model made by resnet_lib.build_network"):
        lesion.blocks("resnet20")
    inputs = keras.Input(INPUT_SHAPE)
    other = keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Flatten()(inputs)), name="other")
    with pytest.raises(ValueError, match=r"'other' is not a network of resnet_lib.build_network \(no layer named "
                                         r"stage\{s\}_block\{b\}_out\)"):
        lesion.delete_blocks(other, [])
    lesioned = lesion.delete_blocks(network(depth=8), ["stage1_block1"])
    with pytest.raises(ValueError, match="is not the network they were built in .* name them all in one call"):
        lesion.delete_blocks(lesioned, ["stage2_block1"])


# ---------------------------------------------------------------------------------------------------
# single_block_lesions and random_lesions
# ---------------------------------------------------------------------------------------------------


def loss_and_accuracy(model, x, y):
    probabilities = predict(model, x)
    return (float(keras.losses.sparse_categorical_crossentropy(y, probabilities).numpy().mean()),
            float(np.mean(probabilities.argmax(axis=1) == y)))


@pytest.mark.parametrize("residual", [True, False])
def test_single_block_lesions_match_the_deleted_models(images, residual):
    x, y = images
    model = network(residual, depth=8)
    result = lesion.single_block_lesions(model, x, y, batch_size=16)
    assert result["blocks"] == ["stage1_block1", "stage2_block1", "stage3_block1"]
    assert result["downsampling"] == [False, True, True]
    intact_loss, intact_accuracy = loss_and_accuracy(model, x, y)
    assert result["intact_loss"] == pytest.approx(intact_loss, rel=1e-5)
    assert result["intact_accuracy"] == pytest.approx(intact_accuracy)
    for name, loss, accuracy in zip(result["blocks"], result["loss"], result["accuracy"]):
        expected_loss, expected_accuracy = loss_and_accuracy(lesion.delete_blocks(model, [name]), x, y)
        assert loss == pytest.approx(expected_loss, rel=1e-5), name
        assert accuracy == pytest.approx(expected_accuracy), name
    assert result["loss"] != [result["intact_loss"]] * 3


def test_random_lesions_sample_sets_of_k_blocks_reproducibly(images):
    x, y = images
    model = network(residual=False)  # 6 blocks
    result = lesion.random_lesions(model, x, y, k_values=[0, 1, 3, 6], samples=10, seed=5)
    assert result["k"] == [0, 1, 3, 6] and result["num_blocks"] == 6
    assert result["samples"] == [1, 6, 10, 1]  # C(6, 0) = 1, C(6, 1) = 6 <= 10: all; C(6, 3) = 20 > 10: sampled
    assert result["exhaustive"] == [True, True, False, True]
    intact_loss, intact_accuracy = loss_and_accuracy(model, x, y)
    assert result["accuracies"][0] == [pytest.approx(intact_accuracy)]
    for row, k in enumerate(result["k"]):
        accuracies = result["accuracies"][row]
        assert len(accuracies) == result["samples"][row]
        assert result["min"][row] <= result["mean"][row] <= result["max"][row]
        assert result["mean"][row] == pytest.approx(np.mean(accuracies))
    assert result["accuracies"][3] == [pytest.approx(loss_and_accuracy(lesion.delete_blocks(model, DEPTH14_BLOCKS),
                                                                         x, y)[1])]
    again = lesion.random_lesions(model, x, y, k_values=[0, 1, 3, 6], samples=10, seed=5)
    assert again["accuracies"] == result["accuracies"]


def test_lesion_subsets_are_distinct_and_all_of_them_when_few():
    generator = np.random.default_rng(0)
    subsets, exhaustive = lesion.lesion_subsets(27, 2, 50, generator)
    assert len(subsets) == len(set(subsets)) == 50 and not exhaustive
    assert all(len(s) == 2 and s[0] < s[1] for s in subsets)
    assert lesion.lesion_subsets(4, 2, 50, generator) == (list(itertools.combinations(range(4), 2)), True)


def test_lesion_study_bad_arguments(images):
    x, y = images
    model = network(depth=8)
    with pytest.raises(ValueError, match=r"`k_values` must hold whole numbers of blocks in 0..3 \(the network has 3 "
                                         r"blocks\), received 4"):
        lesion.random_lesions(model, x, y, k_values=[1, 4])
    with pytest.raises(ValueError, match="`k_values` lists 1 more than once"):
        lesion.random_lesions(model, x, y, k_values=[1, 1])
    with pytest.raises(ValueError, match="`k_values` is empty"):
        lesion.random_lesions(model, x, y, k_values=[])
    with pytest.raises(ValueError, match="`samples` must be at least 1"):
        lesion.random_lesions(model, x, y, k_values=[1], samples=0)
    with pytest.raises(ValueError, match="`x` holds images of shape"):
        lesion.single_block_lesions(model, np.zeros((2, 16, 16, 1), "float32"), y[:2])
    with pytest.raises(ValueError, match="`y` must hold integer class labels in 0..9"):
        lesion.single_block_lesions(model, x, y + 5)


# ---------------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 3, 9, 27, 54])
def test_path_lengths_are_binomial(n):
    distribution = lesion.path_length_distribution(n)
    assert distribution["length"] == list(range(n + 1))
    assert distribution["paths"] == [math.comb(n, k) for k in range(n + 1)]
    assert sum(distribution["paths"]) == 2**n  # exact integers, also beyond float precision at n = 54
    assert sum(distribution["share"]) == pytest.approx(1.0)
    assert distribution["share"][n // 2] == max(distribution["share"])


def test_path_length_distribution_bad_arguments():
    with pytest.raises(ValueError, match="`n` must be at least 0"):
        lesion.path_length_distribution(-1)
    with pytest.raises(TypeError, match="`n` must be an integer"):
        lesion.path_length_distribution(2.0)
