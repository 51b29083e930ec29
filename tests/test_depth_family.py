"""The 6n+2 plain/residual family of He et al. (2016)."""

import keras
import numpy as np
import pytest
from keras import layers

from resnet_lib import ParameterFreeShortcut, build_network, valid_depths
from resnet_lib.analysis import trainable_parameters

# He et al. (2016), Table 6: 0.27M, 0.46M, 0.66M, 0.85M parameters for depths 20, 32, 44, 56.
PAPER_PARAMETERS = {20: 0.27e6, 32: 0.46e6, 44: 0.66e6, 56: 0.85e6}


@pytest.mark.parametrize("depth", [8, 14, 20, 32, 44, 56])
def test_plain_and_residual_networks_have_exactly_the_same_parameter_count(depth):
    residual, plain = build_network(depth), build_network(depth, residual=False)
    assert residual.count_params() == plain.count_params()
    assert residual.name == f"resnet{depth}" and plain.name == f"plain{depth}"
    if depth in PAPER_PARAMETERS:
        assert trainable_parameters(residual) == pytest.approx(PAPER_PARAMETERS[depth], rel=0.01)


@pytest.mark.parametrize("depth", [8, 20])
def test_depth_counts_weighted_layers(depth):
    model = build_network(depth, residual=False)
    weighted = [layer for layer in model.layers if isinstance(layer, (layers.Conv2D, layers.Dense))]
    assert len(weighted) == depth
    assert sum(isinstance(layer, layers.Add) for layer in build_network(depth).layers) == (depth - 2) // 2


def test_stages_halve_the_feature_map_and_double_the_filters():
    model = build_network(20, input_shape=(32, 32, 3), num_classes=10)
    assert model.get_layer("stage1_block3_out").output.shape == (None, 32, 32, 16)
    assert model.get_layer("stage2_block1_out").output.shape == (None, 16, 16, 32)
    assert model.get_layer("stage3_block3_out").output.shape == (None, 8, 8, 64)
    assert model.output.shape == (None, 10)
    shortcuts = [layer for layer in model.layers if isinstance(layer, ParameterFreeShortcut)]
    assert [s.name for s in shortcuts] == ["stage2_block1_shortcut", "stage3_block1_shortcut"]


def test_options_batch_norm_off_and_zero_initialised_residuals():
    without_bn = build_network(14, batch_norm=False)
    assert not any(isinstance(layer, layers.BatchNormalization) for layer in without_bn.layers)
    assert without_bn.count_params() == build_network(14, residual=False, batch_norm=False).count_params()

    zero_init = build_network(14, zero_init_residual=True)
    last_bns = [layer for layer in zero_init.layers if layer.name.endswith("_bn2")]
    assert len(last_bns) == 6 and all(not np.any(bn.get_weights()[0]) for bn in last_bns)
    assert np.all(zero_init.get_layer("stage1_block1_bn1").get_weights()[0] == 1)
    assert build_network(14, batch_norm_momentum=0.8).get_layer("stem_bn").momentum == 0.8

    regularised = build_network(8, weight_decay=1e-4)
    assert regularised.get_layer("stem_conv").kernel_regularizer is not None
    assert len(regularised.losses) == 8


@pytest.mark.parametrize("depth", [7, 9, 10, 21, 2, -4])
def test_bad_depth_lists_valid_depths(depth):
    with pytest.raises(ValueError, match=r"`depth` must be 6n \+ 2.*valid depths: 8, 14, 20.*received"):
        build_network(depth)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (dict(depth=20.0), TypeError, r"`depth` must be an integer"),
        (dict(depth=20, residual="yes"), TypeError, r"`residual` must be True or False"),
        (dict(depth=20, num_classes=1), ValueError, r"`num_classes` must be at least 2"),
        (dict(depth=20, input_shape=(4, 4, 3)), ValueError, r"`input_shape` must be at least 8x8"),
        (dict(depth=20, input_shape=(32, 32)), ValueError, r"`input_shape` must have rank 3"),
        (dict(depth=20, residual=False, zero_init_residual=True), ValueError, r"`zero_init_residual=True` only applies"),
        (dict(depth=20, weight_decay=-1.0), ValueError, r"`weight_decay` must be >= 0"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        build_network(**kwargs)


def test_networks_deeper_than_the_recursion_limit_build_and_the_limit_is_restored():
    """Keras assembles a functional model by walking its layers recursively, about 6 frames per
    plain block, so build_network(1202) used to die of RecursionError after half a minute. Here the
    limit is lowered so that a small plain network (110 layers, about 330 frames) exceeds it."""
    import sys

    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        model = build_network(110, residual=False, input_shape=(8, 8, 1), num_classes=2)
        assert sys.getrecursionlimit() == 250  # restored
    finally:
        sys.setrecursionlimit(previous)
    weighted = [layer for layer in model.layers if isinstance(layer, (layers.Conv2D, layers.Dense))]
    assert len(weighted) == 110


def test_valid_depths():
    assert valid_depths(56) == [8, 14, 20, 26, 32, 38, 44, 50, 56]


@pytest.mark.parametrize("residual", [True, False])
def test_no_lambda_layers_and_safe_mode_round_trip(tmp_path, residual, rng):
    model = build_network(14, residual=residual, input_shape=(16, 16, 1), num_classes=3, zero_init_residual=residual)
    assert not any(isinstance(layer, layers.Lambda) for layer in model.layers)
    # Move the batch-norm statistics away from their initial values so that they must be saved.
    model.compile("sgd", "sparse_categorical_crossentropy")
    images = rng.uniform(size=(8, 16, 16, 1)).astype("float32")
    model.fit(images, np.arange(8) % 3, epochs=1, verbose=0)

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.count_params() == model.count_params()
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)
