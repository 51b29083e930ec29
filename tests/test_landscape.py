"""Loss landscapes (resnet_lib.landscape): filter-normalised directions, 2-D surfaces, interpolation, curvature."""

import keras
import numpy as np
import pytest

from resnet_lib import build_network, landscape
from resnet_lib.analysis import randomize_batch_norm

INPUT_SHAPE = (8, 8, 1)


def small_network(residual=True, depth=8, seed=0):
    keras.utils.set_random_seed(seed)
    model = build_network(depth, residual=residual, input_shape=INPUT_SHAPE, num_classes=10)
    randomize_batch_norm(model, seed=seed)  # moving statistics and scales that matter, as after training
    return model


@pytest.fixture(scope="module")
def images():
    generator = np.random.default_rng(7)
    return generator.random((48, *INPUT_SHAPE)).astype("float32"), np.arange(48) % 10


def own_loss_and_accuracy(model, x, y):
    """The loss and accuracy `model.evaluate` reports (from the softmax's logits, as in training)."""
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(x, y, batch_size=len(x), verbose=0)
    return float(loss), float(accuracy)


def filter_norms(array):
    return np.linalg.norm(array.reshape(-1, array.shape[-1]), axis=0)


# ---------------------------------------------------------------------------------------------------
# Directions
# ---------------------------------------------------------------------------------------------------


def test_direction_filters_have_the_norms_of_the_weight_filters_and_biases_and_batch_norm_get_none():
    model = small_network()
    direction = landscape.filter_normalized_direction(model, seed=0)
    assert len(direction) == len(model.weights)
    kernels = 0
    for variable, array in zip(model.weights, direction):
        assert array.shape == tuple(variable.shape) and array.dtype == np.float32
        if variable.path.endswith("kernel"):  # convolution kernels (kh, kw, in, out), the dense kernel (in, out)
            kernels += 1
            np.testing.assert_allclose(filter_norms(array), filter_norms(variable.numpy()), rtol=1e-5)
            assert not np.allclose(array, variable.numpy())  # random, not the weights themselves
        else:  # dense bias, batch-norm gamma and beta, moving mean and variance
            assert not array.any(), f"{variable.path} got a non-zero direction"
    assert kernels == 8  # depth 8: seven convolutions and the dense layer
    dense = model.get_layer("predictions").kernel
    dense_direction = direction[[v.path for v in model.weights].index(dense.path)]
    np.testing.assert_allclose(np.linalg.norm(dense_direction, axis=0), np.linalg.norm(dense.numpy(), axis=0),
                               rtol=1e-5)


def test_direction_is_reproducible_from_its_seed():
    model = small_network()
    first, again = landscape.filter_normalized_direction(model, 3), landscape.filter_normalized_direction(model, 3)
    other = landscape.filter_normalized_direction(model, 4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_direction_bad_arguments():
    with pytest.raises(TypeError, match="`model` must be a keras.Model"):
        landscape.filter_normalized_direction("resnet20", 0)
    with pytest.raises(ValueError, match="`seed` must be at least 0"):
        landscape.filter_normalized_direction(small_network(), -1)


# ---------------------------------------------------------------------------------------------------
# Loss surface
# ---------------------------------------------------------------------------------------------------


def test_surface_centre_is_the_models_own_loss_and_the_weights_come_back(images):
    x, y = images
    model = small_network(residual=False)
    before = model.get_weights()
    surface = landscape.loss_surface(model, x, y, steps=3, span=0.5, batch_size=20)  # 3 batches, the last one short
    assert surface["loss"].shape == surface["accuracy"].shape == (3, 3)
    np.testing.assert_array_equal(surface["alphas"], [-0.5, 0.0, 0.5])
    np.testing.assert_array_equal(surface["betas"], surface["alphas"])
    loss, accuracy = own_loss_and_accuracy(model, x, y)
    assert surface["loss"][1, 1] == pytest.approx(loss, rel=1e-5)
    assert surface["accuracy"][1, 1] == pytest.approx(accuracy)
    assert np.all(np.isfinite(surface["loss"])) and len(np.unique(surface["loss"])) == 9  # it moved elsewhere
    assert surface["seconds_per_point"] > 0
    for after, original in zip(model.get_weights(), before):
        np.testing.assert_array_equal(after, original)


def test_surface_along_zero_directions_is_flat(images):
    x, y = images
    model = small_network()
    zero = [np.zeros(v.shape, np.float32) for v in model.weights]
    surface = landscape.loss_surface(model, x[:16], y[:16], directions=(zero, zero), steps=2)
    np.testing.assert_allclose(surface["loss"], own_loss_and_accuracy(model, x[:16], y[:16])[0], rtol=1e-5)


@pytest.mark.parametrize("stop", [KeyboardInterrupt, RuntimeError])
def test_surface_restores_the_weights_when_stopped_mid_way(images, stop):
    x, y = images
    model = small_network()
    before = model.get_weights()
    visited = []

    def callback(i, j, loss, accuracy):
        visited.append((i, j))
        if len(visited) == 4:  # the model holds the weights of grid point (1, 0) now
            raise stop("stop here")

    with pytest.raises(stop, match="stop here"):
        landscape.loss_surface(model, x[:16], y[:16], steps=3, callback=callback)
    assert visited == [(0, 0), (0, 1), (0, 2), (1, 0)]
    for after, original in zip(model.get_weights(), before):
        np.testing.assert_array_equal(after, original)


def test_surface_bad_arguments(images):
    x, y = images
    model = small_network()
    direction = landscape.filter_normalized_direction(model, 0)
    with pytest.raises(ValueError, match="`steps` must be at least 2"):
        landscape.loss_surface(model, x, y, steps=1)
    with pytest.raises(ValueError, match="`span` must be a positive finite number"):
        landscape.loss_surface(model, x, y, span=0)
    with pytest.raises(ValueError, match="`directions` must be a pair"):
        landscape.loss_surface(model, x, y, directions=(direction,))
    with pytest.raises(ValueError, match=r"`directions\[1\]` has 3 arrays but the model has \d+ weights"):
        landscape.loss_surface(model, x, y, directions=(direction, direction[:3]))
    other = landscape.filter_normalized_direction(small_network(depth=14), 0)[: len(direction)]
    with pytest.raises(ValueError, match=r"`directions\[0\]\[\d+\]` has shape .* but the weight"):
        landscape.loss_surface(model, x, y, directions=(other, direction))
    with pytest.raises(ValueError, match="`x` holds images of shape"):
        landscape.loss_surface(model, np.zeros((4, 16, 16, 1), "float32"), y[:4])
    with pytest.raises(ValueError, match="`batch_size` must be at least 1"):
        landscape.loss_surface(model, x, y, batch_size=0)
    with pytest.raises(TypeError, match="`callback` must be callable"):
        landscape.loss_surface(model, x, y, callback="print")


def test_grid_coordinates_are_symmetric_with_zero_in_the_middle():
    coordinates = landscape.grid_coordinates(25, 1.0)
    assert coordinates[12] == 0.0 and coordinates[0] == -1.0 and coordinates[-1] == 1.0
    np.testing.assert_array_equal(coordinates, -coordinates[::-1])
    assert len(landscape.grid_coordinates(4, 2.0)) == 4 and 0.0 not in landscape.grid_coordinates(4, 2.0)


# ---------------------------------------------------------------------------------------------------
# Linear interpolation
# ---------------------------------------------------------------------------------------------------


def test_interpolation_ends_are_the_losses_of_the_two_weight_sets(images):
    x, y = images
    model = small_network(seed=1)
    initial = model.get_weights()
    final = small_network(seed=2).get_weights()  # another network's weights and moving statistics
    result = landscape.interpolation(model, initial, final, x, y, ts=[-0.25, 0.0, 0.5, 1.0, 1.25])
    assert result["loss"].shape == result["accuracy"].shape == result["t"].shape == (5,)
    assert np.all(np.isfinite(result["loss"]))  # beyond the ends too: the moving variances stay positive
    for after, original in zip(model.get_weights(), initial):
        np.testing.assert_array_equal(after, original)
    initial_loss, initial_accuracy = own_loss_and_accuracy(model, x, y)
    model.set_weights(final)
    final_loss, final_accuracy = own_loss_and_accuracy(model, x, y)
    assert result["loss"][1] == pytest.approx(initial_loss, rel=1e-5)
    assert result["loss"][3] == pytest.approx(final_loss, rel=1e-5)
    assert (result["accuracy"][1], result["accuracy"][3]) == pytest.approx((initial_accuracy, final_accuracy))


def test_interpolated_weights_are_exact_at_the_ends_and_keep_variances_positive():
    initial = [np.array([1.0, -2.0], np.float32), np.array([1.0, 0.5], np.float32)]
    final = [np.array([3.0, 0.1], np.float32), np.array([0.01, 2.0], np.float32)]
    for t, expected in ((0.0, initial), (1.0, final)):
        for got, want in zip(landscape.interpolated_weights(initial, final, t, geometric={1}), expected):
            np.testing.assert_array_equal(got, want)
    straight, variance = landscape.interpolated_weights(initial, final, 0.5, geometric={1})
    np.testing.assert_allclose(straight, [2.0, -0.95])
    np.testing.assert_allclose(variance, [0.1, 1.0], rtol=1e-6)  # sqrt(1 * 0.01), sqrt(0.5 * 2)
    beyond = landscape.interpolated_weights(initial, final, 1.25, geometric={1})[1]
    assert np.all(beyond > 0)  # a straight line would give 1.25 * 0.01 - 0.25 * 1 < 0


def test_interpolation_bad_arguments(images):
    x, y = images
    model = small_network()
    weights = model.get_weights()
    with pytest.raises(ValueError, match=r"`final_weights` has 2 arrays .*`model.get_weights\(\)"):
        landscape.interpolation(model, weights, weights[:2], x, y)
    with pytest.raises(TypeError, match="`initial_weights` must be a list of arrays"):
        landscape.interpolation(model, None, weights, x, y)
    with pytest.raises(ValueError, match="`ts` must be a non-empty 1-D sequence"):
        landscape.interpolation(model, weights, weights, x, y, ts=[])
    with pytest.raises(ValueError, match="`ts` must be a non-empty 1-D sequence"):
        landscape.interpolation(model, weights, weights, x, y, ts=[0.0, np.nan])


# ---------------------------------------------------------------------------------------------------
# Curvature
# ---------------------------------------------------------------------------------------------------

AXIS = np.linspace(-1.0, 1.0, 21)
ALPHA, BETA = np.meshgrid(AXIS, AXIS, indexing="ij")


def test_principal_curvatures_of_a_quadratic_are_its_hessian_eigenvalues():
    surface = 3 * ALPHA**2 + 2 * ALPHA * BETA + BETA**2  # Hessian [[6, 2], [2, 2]]: eigenvalues 4 -/+ sqrt(8)
    smaller, larger = landscape.principal_curvatures(surface, AXIS, AXIS)
    assert smaller.shape == larger.shape == (19, 19)
    np.testing.assert_allclose(smaller, 4 - np.sqrt(8), rtol=1e-9)
    np.testing.assert_allclose(larger, 4 + np.sqrt(8), rtol=1e-9)


def test_nonconvexity_of_synthetic_surfaces():
    assert landscape.nonconvexity(ALPHA**2 + BETA**2, AXIS, AXIS) == 0.0  # a convex bowl
    assert landscape.nonconvexity(ALPHA**2 - BETA**2, AXIS, AXIS) == 1.0  # a saddle everywhere
    egg_crate = -np.cos(3 * ALPHA) - np.cos(3 * BETA)  # a dimple at the centre, bumps around it
    assert 0.3 < landscape.nonconvexity(egg_crate, AXIS, AXIS) < 1.0
    # Only the bottom of the egg-crate's central dimple is within 0.3 of the centre: convex there.
    assert landscape.nonconvexity(egg_crate, AXIS, AXIS, radius=0.3) == 0.0


def test_nonconvex_points_show_where_the_egg_crate_curves_down():
    egg_crate = -np.cos(3 * ALPHA) - np.cos(3 * BETA)
    points = landscape.nonconvex_points(egg_crate, AXIS, AXIS)
    assert points.shape == (19, 19) and points.dtype == bool
    assert points.mean() == landscape.nonconvexity(egg_crate, AXIS, AXIS)
    assert not points[9, 9]  # the bottom of the central dimple (interior index 9 = grid point 10, (0, 0))
    # -cos(3 a) curves down where |3 a| > pi / 2: a point is non-convex when either coordinate is that far out.
    outside = np.abs(3 * AXIS[1:-1]) > np.pi / 2 + 0.05
    inside = np.abs(3 * AXIS[1:-1]) < np.pi / 2 - 0.05
    assert points[np.ix_(outside, outside)].all() and not points[np.ix_(inside, inside)].any()
    with pytest.raises(ValueError, match="`tolerance` must be a number >= 0, received -0.1"):
        landscape.nonconvex_points(egg_crate, AXIS, AXIS, tolerance=-0.1)


def test_nonconvexity_is_measured_on_the_loss_not_its_logarithm():
    """The logarithm of a convex bowl curves downwards away from its bottom: why `nonconvexity` takes the loss."""
    bowl = 0.1 + ALPHA**2 + BETA**2
    assert landscape.nonconvexity(bowl, AXIS, AXIS) == 0.0
    assert landscape.nonconvexity(np.log(bowl), AXIS, AXIS) > 0.5


def test_nonconvexity_ignores_rounding_noise_but_not_real_bumps_on_a_flat_stretch():
    generator = np.random.default_rng(0)
    valley_then_plateau = 1.0 + np.where(ALPHA < 0, ALPHA**2, 0.0)  # curvature 2, then flat
    rounding = generator.normal(scale=1e-8, size=ALPHA.shape)  # below float32 resolution at 1.0
    assert landscape.nonconvexity(valley_then_plateau + rounding, AXIS, AXIS, tolerance=0) == 0.0
    bumps = generator.normal(scale=1e-3, size=ALPHA.shape)  # real, if small, bumps
    assert landscape.nonconvexity(valley_then_plateau + bumps, AXIS, AXIS) > 0.2


def test_nonconvexity_tolerance_is_relative_to_the_curvature_at_the_same_point():
    slightly_saddled = 10 * ALPHA**2 - 0.05 * BETA**2  # |smaller / larger| = 0.1 / 20 = 0.005 everywhere
    assert landscape.nonconvexity(slightly_saddled, AXIS, AXIS) == 0.0  # below the default tolerance 0.01
    assert landscape.nonconvexity(slightly_saddled, AXIS, AXIS, tolerance=0.001) == 1.0


def test_curvature_ratio_is_zero_where_convex_and_large_at_a_saddle():
    np.testing.assert_array_equal(landscape.curvature_ratio(ALPHA**2 + BETA**2, AXIS, AXIS), 0.0)
    np.testing.assert_allclose(landscape.curvature_ratio(ALPHA**2 - 4 * BETA**2, AXIS, AXIS), 4.0, rtol=1e-9)


def test_curvature_bad_arguments():
    with pytest.raises(ValueError, match=r"`loss` must have shape \(len\(alphas\), len\(betas\)\) = \(21, 21\)"):
        landscape.nonconvexity(np.zeros((20, 21)), AXIS, AXIS)
    with pytest.raises(ValueError, match="at least 3x3"):
        landscape.nonconvexity(np.zeros((2, 2)), [0, 1], [0, 1])
    with pytest.raises(ValueError, match="`alphas` must be increasing and evenly spaced"):
        landscape.nonconvexity(np.zeros((3, 3)), [0, 1, 3], [0, 1, 2])
    with pytest.raises(ValueError, match="`tolerance` must be a number >= 0"):
        landscape.nonconvexity(ALPHA**2, AXIS, AXIS, tolerance=-1)
    with pytest.raises(ValueError, match="`radius` must be a positive number or None"):
        landscape.nonconvexity(ALPHA**2, AXIS, AXIS, radius=0)
