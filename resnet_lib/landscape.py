"""Loss landscapes: filter-normalised random directions, 2-D loss surfaces, linear interpolation, curvature.

Two ways to look at the loss around a trained network:

* **Loss surface** (Li et al., 2018, "Visualizing the Loss Landscape of Neural Nets"): two random
  directions d1, d2 in weight space, each *filter-normalised* (`filter_normalized_direction`), and
  the loss L(theta + alpha * d1 + beta * d2) on a grid of (alpha, beta) (`loss_surface`). Without
  the normalisation the picture would depend on the scale of the weights, which batch norm leaves
  free; with it, a step of 1 moves every filter by its own norm, so networks can be compared.
* **Linear interpolation** (Goodfellow et al., 2015, "Qualitatively characterizing neural network
  optimization problems"): the loss along the straight line L((1 - t) theta_init + t theta_final)
  from the initial to the trained weights, t a little beyond [0, 1] on both sides (`interpolation`).

How rough a surface is: `principal_curvatures` (the eigenvalues of the finite-difference Hessian of
the surface at every interior grid point), `curvature_ratio` (Li et al.'s |lambda_min / lambda_max|
map, for the 2-D surface) and `nonconvexity` (the share of grid points with negative curvature).

The loss is the cross-entropy of the model's softmax output (sparse for integer labels, as
`resnet_lib.train` uses), averaged over the images; a weight-decay penalty is not part of it.
Keras computes it, here as in training and `model.evaluate`, from the logits behind the softmax,
not from probabilities clipped at 1e-7, so it is not capped at -log(1e-7) = 16.1: far from the
minimum it can reach hundreds.
Every evaluation runs the model in inference mode (`training=False`): batch norm uses its
*moving* statistics, which the directions leave as they are. That is what the reference code of
Li et al. does (tomgoldstein/loss-landscape, `evaluation.py` calls `net.eval()`, and its
`dir_type="weights"` directions span the parameters only, not the running statistics), and it
makes the loss at a point a fixed function of the weights, independent of how the images are batched.

Points are evaluated quickly: the weights of a grid point are set inside one compiled TensorFlow
function (`variable.assign` of theta + alpha * d1 + beta * d2 from arrays held as constants), then
one compiled forward pass per batch. The model's own weights are put back afterwards, also when
the computation stops on an error or Ctrl-C.
"""

from __future__ import annotations

import math
import numbers
import time

import keras
import numpy as np

from resnet_lib.validation import check_int, describe

#: The interpolation coefficients `interpolation` uses by default: -0.25 to 1.25 in steps of 0.05,
#: 0 and 1 exactly among them.
DEFAULT_TS = np.round(np.linspace(-0.25, 1.25, 31), 10)

#: Images per forward pass: all 512 images of the book's landscape subset in one batch.
DEFAULT_BATCH_SIZE = 512


# ---------------------------------------------------------------------------------------------------
# Directions
# ---------------------------------------------------------------------------------------------------


def _check_model(model) -> keras.Model:
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model, received {type(model).__name__}.")
    if not model.weights:
        raise ValueError(f"`model` {model.name!r} has no weights (is it built?); build it or call it on a batch first.")
    return model


def _has_direction(variable) -> bool:
    """Whether Li et al.'s `ignore="biasbn"` rule gives this weight a random direction: a trainable
    array of rank 2 or more (convolution and dense kernels); biases, batch-norm gamma/beta (rank 1)
    and the non-trainable moving statistics get none."""
    return bool(variable.trainable) and len(variable.shape) >= 2


def filter_normalized_direction(model: keras.Model, seed: int) -> list[np.ndarray]:
    """A random direction in weight space, filter-normalised as in Li et al. (2018).

    For every convolution or dense kernel W, a Gaussian array D of the same shape is drawn and
    each of its filters rescaled to the norm of the same filter of W: D_i <- D_i / ||D_i|| * ||W_i||.
    A filter is one output channel: `W[..., i]` (Keras kernels put the output axis last: (kh, kw,
    in, out) for a convolution, (in, out) for a dense layer; the i-th row of a PyTorch weight, as
    in the reference code). Biases, batch-norm gamma and beta, and every non-trainable weight (the
    moving statistics) get a zero direction: Li et al.'s `ignore="biasbn"`.

    The arrays are drawn from `numpy.random.default_rng(seed)`, one standard normal array per
    kernel, in the order of `model.weights`; the same seed on the same weights gives the same
    direction, bit for bit, on any machine. The book uses seeds 0 and 1 for d1 and d2. The norms
    are those of the weights *now*: call this on the trained model.

    Args:
        model: a built `keras.Model`.
        seed: seed of the Gaussian draws, >= 0.

    Returns:
        One float32 array per entry of `model.weights`, of the same shape (zeros where ignored).
    """
    model = _check_model(model)
    seed = check_int("seed", seed, minimum=0)
    generator = np.random.default_rng(seed)
    direction = []
    for variable in model.weights:
        if not _has_direction(variable):
            direction.append(np.zeros(variable.shape, dtype=np.float32))
            continue
        weights = np.asarray(variable.numpy(), dtype=np.float64)
        random = generator.standard_normal(weights.shape)
        filter_axes = tuple(range(weights.ndim - 1))  # everything but the output axis
        weight_norms = np.sqrt(np.sum(weights**2, axis=filter_axes, keepdims=True))
        random_norms = np.sqrt(np.sum(random**2, axis=filter_axes, keepdims=True))
        direction.append((random * weight_norms / (random_norms + 1e-10)).astype(np.float32))
    return direction


def _check_weight_list(model: keras.Model, name: str, arrays, hint: str) -> list[np.ndarray]:
    """`arrays` as float32 arrays, one per entry of `model.weights` and of the same shape, all finite."""
    if isinstance(arrays, (str, bytes, np.ndarray)) or not hasattr(arrays, "__len__"):
        raise TypeError(f"`{name}` must be a list of arrays, one per entry of `model.weights`; received "
                        f"{describe(arrays)}. {hint}")
    if len(arrays) != len(model.weights):
        raise ValueError(f"`{name}` has {len(arrays)} arrays but the model has {len(model.weights)} weights "
                         f"(`model.weights`). {hint}")
    checked = []
    for index, (array, variable) in enumerate(zip(arrays, model.weights)):
        array = np.asarray(array)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"`{name}[{index}]` must be a numeric array, received dtype {array.dtype}.")
        if tuple(array.shape) != tuple(variable.shape):
            raise ValueError(f"`{name}[{index}]` has shape {tuple(array.shape)}, but the weight {variable.path!r} "
                             f"has shape {tuple(variable.shape)}. {hint}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"`{name}[{index}]` (for {variable.path!r}) holds NaN or infinite values.")
        checked.append(array.astype(np.float32, copy=False))
    return checked


# ---------------------------------------------------------------------------------------------------
# Evaluating the loss at the model's current weights
# ---------------------------------------------------------------------------------------------------


def _require_tensorflow(what: str) -> None:
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"{what} needs the TensorFlow backend, but Keras uses {keras.backend.backend()!r}.")


def compiled_evaluation(forward, x: np.ndarray, y: np.ndarray, batch_size: int, extra_specs=()):
    """A function (*extra) -> (mean loss, accuracy) on (x, y), compiled once (also used by `resnet_lib.lesion`).

    The images are cut into batches of `batch_size` held as constants; each batch runs through one
    `tf.function` (traced once: its batch axis is left open, so a shorter last batch is no new trace).

    Args:
        forward: function (images, *extra) -> class probabilities, (batch, classes), the output of
            a softmax; e.g. `lambda images: model(images, training=False)`.
        x: images, (n, height, width, channels), float32.
        y: labels, (n,) integers or (n, classes) one-hot.
        batch_size: images per forward pass.
        extra_specs: `tf.TensorSpec`s of further tensor arguments of `forward`, passed to every batch.

    Returns:
        evaluate(*extra) -> (mean cross-entropy, accuracy) as Python floats, the cross-entropy the
        one `resnet_lib.train` compiles (sparse for integer labels), from the softmax's logits.
    """
    import tensorflow as tf

    from resnet_lib.training import _loss_for

    loss_function = keras.losses.get(_loss_for(y))
    labels_dtype = tf.int32 if y.ndim == 1 else tf.float32
    batches = [(tf.constant(x[start:start + batch_size], tf.float32),
                tf.constant(y[start:start + batch_size], labels_dtype))
               for start in range(0, len(x), batch_size)]

    @tf.function(input_signature=[tf.TensorSpec((None, *x.shape[1:]), tf.float32),
                                  tf.TensorSpec((None, *y.shape[1:]), labels_dtype), *extra_specs])
    def batch_sums(images, labels, *extra):
        probabilities = forward(images, *extra)
        losses = loss_function(labels, probabilities)
        classes = labels if y.ndim == 1 else tf.argmax(labels, axis=-1, output_type=tf.int32)
        correct = tf.equal(tf.argmax(probabilities, axis=-1, output_type=tf.int32), classes)
        return tf.reduce_sum(tf.cast(losses, tf.float64)), tf.reduce_sum(tf.cast(correct, tf.float64))

    def evaluate(*extra) -> tuple[float, float]:
        total_loss = total_correct = 0.0
        for images, labels in batches:
            loss, correct = batch_sums(images, labels, *extra)
            total_loss += float(loss)
            total_correct += float(correct)
        return total_loss / len(x), total_correct / len(x)

    return evaluate


def _model_evaluation(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int):
    """A function () -> (mean loss, accuracy) of `model` at its current weights, in inference mode."""
    return compiled_evaluation(lambda images: model(images, training=False), x, y, batch_size)


def _check_inputs(model, x, y, batch_size):
    from resnet_lib.training import _check_data

    x, y = _check_data(model, x, y, "x", "y")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    return np.asarray(x, dtype=np.float32), y, batch_size


def _callback_or_none(callback):
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None, received {describe(callback)}.")
    return callback


# ---------------------------------------------------------------------------------------------------
# Loss surface
# ---------------------------------------------------------------------------------------------------


def grid_coordinates(steps: int, span: float) -> np.ndarray:
    """`steps` evenly spaced coordinates from -span to span, symmetric; 0 exactly among them when `steps` is odd."""
    steps = check_int("steps", steps, minimum=2)
    if isinstance(span, bool) or not isinstance(span, numbers.Real) or not (math.isfinite(span) and span > 0):
        raise ValueError(f"`span` must be a positive finite number, received {span!r}.")
    half = (steps - 1) / 2
    return float(span) * (np.arange(steps) - half) / half


def _compiled_point_setter(variables, base, first, second):
    """A compiled function (alpha, beta) that sets each variable to base + alpha * first + beta * second."""
    import tensorflow as tf

    constants = [(tf.constant(b), tf.constant(f), tf.constant(s)) for b, f, s in zip(base, first, second)]

    @tf.function(input_signature=[tf.TensorSpec((), tf.float32), tf.TensorSpec((), tf.float32)])
    def set_point(alpha, beta):
        for variable, (b, f, s) in zip(variables, constants):
            variable.assign(b + alpha * f + beta * s)

    return set_point


def loss_surface(
    model: keras.Model,
    x,
    y,
    directions=None,
    steps: int = 25,
    span: float = 1.0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    callback=None,
) -> dict:
    """The loss and accuracy of `model` on (x, y) over a 2-D grid around its weights (Li et al., 2018).

    At grid point (i, j) the weights are theta + alphas[i] * d1 + betas[j] * d2, theta the weights
    the model has when called. The loss is the mean cross-entropy in inference mode (batch norm
    with its moving statistics, which stay as they are; see the module's docstring). The model's
    weights are restored when the function returns, raises, or is interrupted (Ctrl-C).

    Args:
        model: a built `keras.Model` ending in a softmax, e.g. a trained `build_network(...)`.
        x: images, (n, height, width, channels), the model's input shape.
        y: labels, (n,) integers or (n, classes) one-hot.
        directions: (d1, d2), each a list of arrays shaped as `model.weights` (see
            `filter_normalized_direction`; only the weights whose direction is not all zero are
            moved). Default: `filter_normalized_direction(model, 0)` and `(model, 1)`.
        steps: grid points along each axis (>= 2); an odd number puts theta itself on the grid, at
            (steps // 2, steps // 2).
        span: the grid runs from -span to span along both directions.
        batch_size: images per forward pass.
        callback: optional function called after every grid point as `callback(i, j, loss, accuracy)`,
            e.g. to show progress; an exception it raises stops the computation (weights restored).

    Returns:
        {"alphas": (steps,), "betas": (steps,), "loss": (steps, steps), "accuracy": (steps, steps),
        "seconds_per_point": float}; `loss[i, j]` belongs to (alphas[i], betas[j]).

    Raises:
        ValueError: bad arguments (the message names the argument), or directions that do not
            match `model.weights`.
    """
    _require_tensorflow("loss_surface")
    import tensorflow as tf

    model = _check_model(model)
    x, y, batch_size = _check_inputs(model, x, y, batch_size)
    alphas = grid_coordinates(steps, span)
    betas = alphas.copy()
    callback = _callback_or_none(callback)
    if directions is None:
        directions = (filter_normalized_direction(model, 0), filter_normalized_direction(model, 1))
    if isinstance(directions, (str, bytes)) or not hasattr(directions, "__len__") or len(directions) != 2:
        raise ValueError(f"`directions` must be a pair (d1, d2) of direction lists, received {describe(directions)}.")
    hint = "Make directions with filter_normalized_direction(model, seed) for this very model."
    first, second = (_check_weight_list(model, f"directions[{k}]", d, hint) for k, d in enumerate(directions))

    moved = [index for index in range(len(model.weights)) if np.any(first[index]) or np.any(second[index])]
    variables = [model.weights[index] for index in moved]
    original = [np.array(variable.numpy()) for variable in variables]
    loss = np.full((len(alphas), len(betas)), np.nan)
    accuracy = np.full_like(loss, np.nan)
    try:
        set_point = _compiled_point_setter(variables, original, [first[i] for i in moved], [second[i] for i in moved])
        evaluate = _model_evaluation(model, x, y, batch_size)
        set_point(tf.constant(0.0), tf.constant(0.0))  # traces both functions before the clock starts
        evaluate()
        start = time.perf_counter()
        for i, alpha in enumerate(alphas):
            for j, beta in enumerate(betas):
                set_point(tf.constant(alpha, tf.float32), tf.constant(beta, tf.float32))
                loss[i, j], accuracy[i, j] = evaluate()
                if callback is not None:
                    callback(i, j, loss[i, j], accuracy[i, j])
        seconds = (time.perf_counter() - start) / loss.size
    finally:
        for variable, value in zip(variables, original):
            variable.assign(value)
    return {"alphas": alphas, "betas": betas, "loss": loss, "accuracy": accuracy, "seconds_per_point": seconds}


# ---------------------------------------------------------------------------------------------------
# Linear interpolation
# ---------------------------------------------------------------------------------------------------


def _moving_variance_indices(model: keras.Model) -> set[int]:
    """Positions in `model.weights` of the moving variances of the batch-norm layers (nested models too)."""
    variances = set()

    def visit(layer):
        if isinstance(layer, keras.layers.BatchNormalization):
            variances.add(id(layer.moving_variance))
        for inner in getattr(layer, "layers", ()):
            visit(inner)

    visit(model)
    return {index for index, variable in enumerate(model.weights) if id(variable) in variances}


def interpolated_weights(initial, final, t: float, geometric=()) -> list[np.ndarray]:
    """The weights (1 - t) * initial + t * final, computed in float64 and returned as float32.

    The entries whose positions are in `geometric` are interpolated geometrically instead,
    initial ** (1 - t) * final ** t (for the batch-norm moving variances: it stays positive where a
    straight line would cross zero, and agrees with the straight line at t = 0 and t = 1). At
    t = 0 and t = 1 the result is `initial` and `final` exactly.

    Args:
        initial: list of arrays.
        final: list of arrays of the same shapes.
        t: the interpolation coefficient (any real number).
        geometric: positions (in the lists) to interpolate geometrically; their values must be >= 0.

    Returns:
        A list of float32 arrays, one per entry of `initial`.
    """
    t = float(t)
    result = []
    for index, (start, end) in enumerate(zip(initial, final)):
        start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
        if index in geometric:
            value = np.power(start, 1.0 - t) * np.power(end, t)
        else:
            value = (1.0 - t) * start + t * end
        result.append(value.astype(np.float32))
    return result


def interpolation(
    model: keras.Model,
    initial_weights,
    final_weights,
    x,
    y,
    ts=DEFAULT_TS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    callback=None,
) -> dict:
    """The loss along the straight line from `initial_weights` to `final_weights` (Goodfellow et al., 2015).

    At coefficient t the model gets the weights (1 - t) * initial + t * final, every entry of
    `model.weights`: the parameters, and also the batch-norm moving statistics, so that t = 0 and
    t = 1 give exactly the two networks' own losses in inference mode. The moving means follow the
    straight line; the moving variances are interpolated geometrically (`interpolated_weights`),
    since a straight line would take them below zero beyond the ends (t < 0 or t > 1) and make the
    loss NaN. Note that an untrained network's moving statistics are their initial values (mean 0,
    variance 1), not the batch statistics its first training step used, so its loss in inference
    mode can differ a lot from the first training loss (for a deep plain network, it is much higher).

    The model's own weights are restored when the function returns, raises, or is interrupted.

    Args:
        model: a built `keras.Model` ending in a softmax; it only lends its architecture.
        initial_weights: `model.get_weights()` of the network at initialisation (a list of arrays,
            one per entry of `model.weights`).
        final_weights: `model.get_weights()` of the trained network.
        x: images, (n, height, width, channels).
        y: labels, (n,) integers or (n, classes) one-hot.
        ts: the coefficients, a 1-D sequence of finite numbers (default `DEFAULT_TS`: -0.25 to 1.25).
        batch_size: images per forward pass.
        callback: optional function called after every point as `callback(index, t, loss, accuracy)`.

    Returns:
        {"t": (len(ts),), "loss": (len(ts),), "accuracy": (len(ts),)} as float64 arrays.
    """
    _require_tensorflow("interpolation")
    model = _check_model(model)
    x, y, batch_size = _check_inputs(model, x, y, batch_size)
    hint = "Pass the lists that `model.get_weights()` returns for the two networks."
    initial = _check_weight_list(model, "initial_weights", initial_weights, hint)
    final = _check_weight_list(model, "final_weights", final_weights, hint)
    ts = np.asarray(ts, dtype=np.float64) if np.asarray(ts).dtype.kind in "biuf" else None
    if ts is None or ts.ndim != 1 or ts.size == 0 or not np.all(np.isfinite(ts)):
        raise ValueError("`ts` must be a non-empty 1-D sequence of finite numbers, e.g. np.linspace(-0.25, 1.25, 31).")
    callback = _callback_or_none(callback)
    variances = _moving_variance_indices(model)
    negative = [model.weights[i].path for i in sorted(variances) if (initial[i] < 0).any() or (final[i] < 0).any()]
    if negative:
        raise ValueError(f"The moving variance {negative[0]!r} is negative in `initial_weights` or `final_weights`; "
                         "these must be weights that `model.get_weights()` returned.")

    original = model.get_weights()
    loss, accuracy = np.full(len(ts), np.nan), np.full(len(ts), np.nan)
    try:
        evaluate = _model_evaluation(model, x, y, batch_size)
        for index, t in enumerate(ts):
            model.set_weights(interpolated_weights(initial, final, t, variances))
            loss[index], accuracy[index] = evaluate()
            if callback is not None:
                callback(index, float(t), loss[index], accuracy[index])
    finally:
        model.set_weights(original)
    return {"t": ts, "loss": loss, "accuracy": accuracy}


# ---------------------------------------------------------------------------------------------------
# Curvature of a 2-D surface
# ---------------------------------------------------------------------------------------------------


def _check_grid(loss, alphas, betas):
    loss = np.asarray(loss, dtype=np.float64)
    alphas, betas = np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64)
    if alphas.ndim != 1 or betas.ndim != 1:
        raise ValueError(f"`alphas` and `betas` must be 1-D, received shapes {alphas.shape} and {betas.shape}.")
    if loss.shape != (len(alphas), len(betas)):
        raise ValueError(f"`loss` must have shape (len(alphas), len(betas)) = ({len(alphas)}, {len(betas)}), "
                         f"received {loss.shape}.")
    if min(loss.shape) < 3:
        raise ValueError(f"The grid must be at least 3x3 for second differences, received {loss.shape}.")
    spacings = []
    for name, axis in (("alphas", alphas), ("betas", betas)):
        steps = np.diff(axis)
        if not (np.all(np.isfinite(steps)) and steps[0] > 0 and np.allclose(steps, steps[0], rtol=1e-6, atol=0)):
            raise ValueError(f"`{name}` must be increasing and evenly spaced, as `loss_surface` returns them.")
        spacings.append(float(steps[0]))
    return loss, spacings


def principal_curvatures(loss, alphas, betas) -> tuple[np.ndarray, np.ndarray]:
    """The eigenvalues of the finite-difference Hessian of a 2-D surface, at every interior grid point.

    Central differences: L_aa = (L[i+1, j] - 2 L[i, j] + L[i-1, j]) / h_a^2, L_bb likewise, and
    L_ab = (L[i+1, j+1] - L[i+1, j-1] - L[i-1, j+1] + L[i-1, j-1]) / (4 h_a h_b); the eigenvalues of
    [[L_aa, L_ab], [L_ab, L_bb]] are their mean -/+ sqrt(((L_aa - L_bb) / 2)^2 + L_ab^2). Li et al.
    (2018, section 7) show that these principal curvatures of the projected surface are weighted
    averages of the eigenvalues of the full Hessian: negative curvature here means the full
    Hessian has negative eigenvalues too (the converse does not hold).

    Args:
        loss: (len(alphas), len(betas)) values, `loss[i, j]` at (alphas[i], betas[j]); at least 3x3.
        alphas: increasing, evenly spaced coordinates of the first axis.
        betas: likewise for the second axis.

    Returns:
        (smaller, larger): two arrays of shape (len(alphas) - 2, len(betas) - 2), the eigenvalues at
        the interior points (i + 1, j + 1); NaN where a neighbour is not finite.
    """
    loss, (step_a, step_b) = _check_grid(loss, alphas, betas)
    centre = loss[1:-1, 1:-1]
    second_aa = (loss[2:, 1:-1] - 2 * centre + loss[:-2, 1:-1]) / step_a**2
    second_bb = (loss[1:-1, 2:] - 2 * centre + loss[1:-1, :-2]) / step_b**2
    second_ab = (loss[2:, 2:] - loss[2:, :-2] - loss[:-2, 2:] + loss[:-2, :-2]) / (4 * step_a * step_b)
    mean = (second_aa + second_bb) / 2
    radius = np.hypot((second_aa - second_bb) / 2, second_ab)
    return mean - radius, mean + radius


def curvature_ratio(loss, alphas, betas) -> np.ndarray:
    """Li et al.'s non-convexity map |lambda_min / lambda_max|, from the 2-D surface's own Hessian.

    Li et al. (2018, Figure 6) compute it from the extreme eigenvalues of the *full* Hessian (with
    Hessian-vector products); this is the cheap version on the plotted surface: the smaller and
    larger principal curvature of `principal_curvatures`. A point without negative curvature
    (smaller >= 0) gives 0; otherwise |smaller| / |larger|: small where the negative curvature is
    slight next to the positive one, 1 or more at a saddle or a local maximum (inf where the
    larger curvature is exactly 0).

    Args and the shape of the result as `principal_curvatures`.
    """
    smaller, larger = principal_curvatures(loss, alphas, betas)
    negative = np.maximum(-smaller, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(negative > 0, negative / np.abs(larger), 0.0)
    return np.where(np.isnan(smaller), np.nan, ratio)


def _rounding_floor(loss: np.ndarray, spacing: float) -> np.ndarray:
    """The smallest curvature second differences of float32 losses can resolve at each interior point:
    a few float32 rounding errors of the largest loss in the 3x3 neighbourhood, over spacing^2."""
    rows, columns = loss.shape
    shifted = [np.abs(loss[i:rows - 2 + i, j:columns - 2 + j]) for i in range(3) for j in range(3)]
    neighbourhood = np.max(shifted, axis=0)
    return 16 * np.finfo(np.float32).eps * neighbourhood / spacing**2


def nonconvex_points(loss, alphas, betas, *, tolerance: float = 0.01) -> np.ndarray:
    """Where the surface curves downwards: the interior grid points `nonconvexity` counts.

    A point is non-convex when its smaller principal curvature (`principal_curvatures`) is negative
    and, in size, more than `tolerance` times its larger one (Li et al.'s ratio |lambda_min /
    lambda_max|, `curvature_ratio`, above `tolerance`), and larger than second differences of
    float32 losses can resolve there (in flat stretches rounding decides the sign).

    Args:
        loss: (len(alphas), len(betas)) loss values, as `loss_surface` returns them; at least 3x3.
        alphas: the grid's first coordinates.
        betas: its second coordinates.
        tolerance: the ratio |smaller / larger| (>= 0) a negative curvature must exceed to count.

    Returns:
        A boolean array (len(alphas) - 2, len(betas) - 2), True at the non-convex interior points
        (i + 1, j + 1); False where a curvature is not finite.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or not tolerance >= 0:
        raise ValueError(f"`tolerance` must be a number >= 0, received {tolerance!r}.")
    smaller, larger = principal_curvatures(loss, alphas, betas)
    grid, spacings = _check_grid(loss, alphas, betas)
    with np.errstate(invalid="ignore"):
        threshold = np.maximum(tolerance * np.abs(larger), _rounding_floor(grid, min(spacings)))
        return np.isfinite(larger) & (smaller < -threshold)


def nonconvexity(loss, alphas, betas, *, tolerance: float = 0.01, radius: float | None = None) -> float:
    """The share of interior grid points where the surface curves downwards in some direction.

    A point counts as non-convex when its smaller principal curvature (`principal_curvatures`) is
    negative and, in size, more than `tolerance` times its larger one: where Li et al.'s ratio
    |lambda_min / lambda_max| (`curvature_ratio`) exceeds `tolerance`. The criterion is local, so
    it does not depend on how steep the surface is elsewhere (a loss surface spans several orders
    of magnitude, from the minimum to the edge of the grid). Curvatures too small for second
    differences of float32 losses to resolve (flat stretches, where rounding decides the sign)
    never count. The result is 0 for a convex bowl, 1 for a saddle, in between for an egg-crate.

    Pass the loss itself, not its logarithm (which Li et al. plot): convexity is a property of the
    loss, and a logarithm adds negative curvature of its own wherever the loss is steep (the
    Hessian of log L is H / L - g g^T / L^2), so a convex bowl would read as non-convex.

    Even a well-behaved landscape may curve downwards far from its minimum; `radius` restricts
    the count to the points within that distance of the centre (0, 0), where the trained network sits.

    Args:
        loss: (len(alphas), len(betas)) loss values, as `loss_surface` returns them; at least 3x3.
        alphas: the grid's first coordinates.
        betas: its second coordinates.
        tolerance: the ratio |smaller / larger| (>= 0) a negative curvature must exceed to count.
        radius: only count interior points with sqrt(alpha^2 + beta^2) <= radius (None: all).

    Returns:
        The share in [0, 1] among the counted points whose curvatures are finite; NaN if there is
        none.
    """
    negative = nonconvex_points(loss, alphas, betas, tolerance=tolerance)
    smaller, larger = principal_curvatures(loss, alphas, betas)
    counted = np.isfinite(smaller) & np.isfinite(larger)
    if radius is not None:
        if isinstance(radius, bool) or not isinstance(radius, numbers.Real) or not radius > 0:
            raise ValueError(f"`radius` must be a positive number or None, received {radius!r}.")
        alpha_grid, beta_grid = np.meshgrid(np.asarray(alphas)[1:-1], np.asarray(betas)[1:-1], indexing="ij")
        counted &= np.hypot(alpha_grid, beta_grid) <= radius
    if not counted.any():
        return float("nan")
    return float(np.mean(negative[counted]))
