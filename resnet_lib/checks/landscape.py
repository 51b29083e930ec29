"""The check of the loss-along-a-direction exercise (chapter 8): `check_loss_along`.

The learner's function gets a small residual network of the book (`build_network(8, residual=True)`)
whose batch norms carry random moving statistics (`analysis.randomize_batch_norm`), so that a forward
pass in training mode, which normalises with the batch's own statistics instead, gives a clearly
different loss; 96 digits; a filter-normalised direction; and unevenly spaced, unsorted
coefficients, so that a function which assumes a grid, or moves the weights step by step without
going back, shows. The check computes the right losses itself, and for each usual mistake the
losses that mistake would give, and names the one the learner's numbers match.

Two measurements are equally right and differ where the network puts a probability below 1e-7 on
the true class (at alpha = 1 here): the cross-entropy from the logits (what Keras computes on the
model's own output, `model(x)` on TensorFlow, `evaluate`) and from the probabilities clipped at
1e-7 (Keras' loss on `model.predict`'s NumPy output). A result is accepted, and a mistake
recognised, anywhere between the two.
"""

from __future__ import annotations

import keras
import numpy as np

from resnet_lib.checks._learner import call, check_signature, fail, fresh_session, well_done

#: The coefficients the check asks for: unsorted, unevenly spaced, zero among them.
ALPHAS = (0.5, -0.25, 0.0, 1.0)
IMAGES = 96


def _problem(seed: int = 0):
    """The network, images, labels and direction the check uses (the same every time)."""
    from resnet_lib.analysis import randomize_batch_norm
    from resnet_lib.data import load_dataset
    from resnet_lib.landscape import filter_normalized_direction
    from resnet_lib.models import build_network

    fresh_session()
    keras.utils.set_random_seed(seed)
    data = load_dataset("digits", image_size=8, channels=1)
    x, y = data.x_train[:IMAGES], data.y_train[:IMAGES]
    model = build_network(8, residual=True, input_shape=x.shape[1:], num_classes=data.num_classes)
    randomize_batch_norm(model, seed=seed)
    # Compiled, so that a learner may measure with model.evaluate as well as by hand.
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, filter_normalized_direction(model, seed)


#: The smallest probability Keras' cross-entropy takes the log of (`keras.config.epsilon()`): it clips a
#: probability into [EPSILON, 1 - EPSILON] when it has no logits to start from.
EPSILON = 1e-7


def _features(model):
    """The model up to its softmax head's input (the penultimate features), and that head."""
    head = model.get_layer("predictions")
    return keras.Model(model.input, head.input), head


def _cross_entropies(features, head, x, y, training: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-image cross-entropies on (x, y) of the model `_features` split into `features` and `head`, both ways a
    learner may legitimately measure them.

    Returns:
        (exact, clipped): from the logits, in float64, as Keras computes it on a model's own output
        tensor (`model(x)` on TensorFlow, `evaluate`, `fit`); and from the softmax probabilities clipped
        into [EPSILON, 1 - EPSILON], as Keras' cross-entropy does on NumPy probabilities
        (`model.predict`). They differ where a probability falls below EPSILON; a learner who floors
        the probabilities less (`np.log(p)`, `p + 1e-9`) gets a value between the two.
    """
    hidden = np.asarray(keras.ops.convert_to_numpy(features(x, training=training)), dtype=np.float64)
    kernel, bias = (np.asarray(weight, dtype=np.float64) for weight in head.get_weights())
    logits = hidden @ kernel + bias
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    right = log_probabilities[np.arange(len(y)), np.asarray(y)]
    return -right, -np.log(np.clip(np.exp(right), EPSILON, 1 - EPSILON))


def _losses(model, x, y, direction, alphas, *, training=False, cumulative=False, reduce=np.mean):
    """The mean cross-entropy at weights + alpha * direction for each alpha (or, with `cumulative`, at
    weights moved by every alpha so far, as a loop that never goes back does); weights restored.

    Returns:
        (exact, clipped): one value per alpha each, as `_cross_entropies` computes them.
    """
    original = model.get_weights()
    features, head = _features(model)  # shares the model's layers: it sees every set_weights below
    exact, clipped = [], []
    try:
        position = [np.array(w, dtype=np.float32) for w in original]
        for alpha in alphas:
            start = position if cumulative else original
            position = [np.asarray(w + alpha * d, dtype=np.float32) for w, d in zip(start, direction)]
            model.set_weights(position)
            per_image = _cross_entropies(features, head, x, y, training)
            exact.append(float(reduce(per_image[0])))
            clipped.append(float(reduce(per_image[1])))
    finally:
        model.set_weights(original)
    return np.array(exact), np.array(clipped)


def _matches(values, losses) -> bool:
    """Whether `values` lie, alpha by alpha, between the clipped and the exact losses (float32 round-off
    aside): any legitimate way of measuring the mean cross-entropy lands there."""
    exact, clipped = losses
    if values.shape != exact.shape:
        return False
    low, high = np.minimum(exact, clipped), np.maximum(exact, clipped)
    slack = 1e-4 * np.maximum(1.0, np.abs(high)) + 1e-5
    return bool(np.all((values >= low - slack) & (values <= high + slack)))


def check_loss_along(loss_along) -> None:
    """Checks the chapter-8 exercise: the loss along one filter-normalised direction.

    Args:
        loss_along: `my_loss_along(model, x, y, direction, alphas)` returning one number per entry
            of `alphas`: the mean cross-entropy of `model` on `(x, y)` (integer labels) with its
            weights moved to `weights + alpha * direction`, measured in inference mode, and the
            model's weights as they were when the function returns.

    Raises:
        AssertionError: naming the mistake (weights not restored, batch norm in training mode, moves
            that add up instead of starting from the trained weights each time, a sum instead of a
            mean, the wrong sign, a result of the wrong length), found on a constructed problem.
    """
    if callable(loss_along):
        check_signature(loss_along, ("model", "x", "y", "direction", "alphas"))
    name = getattr(loss_along, "__name__", "your function")
    model, x, y, direction = _problem()
    before = model.get_weights()
    losses = _losses(model, x, y, direction, ALPHAS)
    expected = losses[0]
    description = f"With a residual network of depth 8, {IMAGES} digits and alphas {list(ALPHAS)}"
    result = call(loss_along, description, model, x, y, direction, list(ALPHAS))

    after = model.get_weights()
    changed = [weight.path for weight, old, new in zip(model.weights, before, after) if not np.array_equal(old, new)]
    if changed:
        moving = all("moving" in path for path in changed)
        model.set_weights(before)
        if moving:
            fail(f"{name} changed batch norm's moving statistics ({changed[0]}, ...): it ran the network in "
                 "training mode, which also updates them. Measure in inference mode: model(x, training=False), "
                 "model.predict or model.evaluate.")
        fail(f"{name} leaves the model with other weights than it had ({len(changed)} of {len(before)} arrays "
             f"differ, e.g. {changed[0]}). Keep a copy first, `original = model.get_weights()`, and put it back "
             "at the end, `model.set_weights(original)` (in a `finally:` block, so that an error cannot leave "
             "the network moved).")

    if result is None:
        fail(f"{name} returned None: it must return the losses, one per alpha. Did you forget `return losses`?")
    try:
        values = np.asarray(result, dtype=float)
    except (TypeError, ValueError):
        fail(f"{name} must return one number per alpha, received {type(result).__name__} that is not a list of "
             "numbers.")
    if values.shape != expected.shape:
        fail(f"{name} returned {values.size} value(s) in the shape {values.shape}, expected {len(ALPHAS)}: one "
             f"loss per alpha of {list(ALPHAS)}, in that order (return the loss only, not the accuracy too).")
    if _matches(values, losses):
        keras.backend.clear_session()
        well_done(f"{name} gives the loss at weights + alpha * direction for every alpha, in inference "
                  f"mode, and leaves the network as it was (loss {expected[2]:.3f} at alpha = 0, "
                  f"{expected[3]:.3f} at alpha = 1).")
        return

    mistakes = {
        "training": (_losses(model, x, y, direction, ALPHAS, training=True),
                     "match the network in training mode, where batch norm normalises with each batch's own "
                     "statistics. The landscape is a function of the weights only: measure in inference mode, "
                     "model(x, training=False), model.predict or model.evaluate."),
        "cumulative": (_losses(model, x, y, direction, ALPHAS, cumulative=True),
                       "are those of weights moved by every alpha so far: each point must start from the "
                       "trained weights, weights + alpha * direction, not from where the previous alpha left "
                       "them."),
        "sum": (_losses(model, x, y, direction, ALPHAS, reduce=np.sum),
                f"are sums over the {IMAGES} images: return the mean loss per image."),
        "sign": (_losses(model, x, y, direction, [-alpha for alpha in ALPHAS]),
                 "are those of weights - alpha * direction: move along +direction."),
    }
    for found, message in mistakes.values():
        if _matches(values, found):
            fail(f"{name}: your losses {np.round(values, 4).tolist()} {message}")
    clipped = losses[1]
    worst = int(np.argmax(np.minimum(np.abs(values - expected), np.abs(values - clipped))))
    between = (f"expected {expected[worst]:.5g}" if np.isclose(expected[worst], clipped[worst], rtol=1e-6) else
               f"expected {expected[worst]:.5g} from the logits or {clipped[worst]:.5g} from probabilities clipped at "
               f"{EPSILON:g} (model.predict with Keras' loss), or a value between")
    fail(f"{name}: at alpha = {ALPHAS[worst]} your loss is {values[worst]:.5g}, {between} "
         f"(all: {np.round(values, 4).tolist()} vs {np.round(expected, 4).tolist()}). The loss is the mean "
         "sparse categorical cross-entropy of the softmax output, with the weights at weights + alpha * "
         "direction (every array, in the order of model.weights).")
