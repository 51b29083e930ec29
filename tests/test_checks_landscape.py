"""checks.check_loss_along (chapter 8): correct solutions in two styles pass; each usual mistake is named."""

import keras
import numpy as np
import pytest

from resnet_lib import checks


def loss_along_with_evaluate(model, x, y, direction, alphas):
    """The chapter's solution style: set_weights, then model.evaluate (the check compiles the model)."""
    original = model.get_weights()
    losses = []
    try:
        for alpha in alphas:
            model.set_weights([w + alpha * d for w, d in zip(original, direction)])
            losses.append(model.evaluate(x, y, batch_size=len(x), verbose=0)[0])
    finally:
        model.set_weights(original)
    return losses


def loss_along_by_hand(network, images, labels, step, coefficients):
    """Another learner's style: variable.assign, a forward pass in inference mode, NumPy's mean; other names."""
    saved = [variable.numpy().copy() for variable in network.weights]
    result = np.zeros(len(coefficients))
    for index, coefficient in enumerate(coefficients):
        for variable, start, change in zip(network.weights, saved, step):
            variable.assign(start + coefficient * change)
        probabilities = network(images, training=False)
        per_image = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
        result[index] = np.mean(keras.ops.convert_to_numpy(per_image))  # any Keras backend
    for variable, start in zip(network.weights, saved):
        variable.assign(start)
    return result


@pytest.mark.parametrize("solution", [loss_along_with_evaluate, loss_along_by_hand])
def test_correct_solutions_pass(solution, capsys):
    checks.check_loss_along(solution)
    assert capsys.readouterr().out.startswith(f"Well done: {solution.__name__} gives the loss")


def without_restoring(model, x, y, direction, alphas):
    original = model.get_weights()
    losses = []
    for alpha in alphas:
        model.set_weights([w + alpha * d for w, d in zip(original, direction)])
        losses.append(model.evaluate(x, y, verbose=0)[0])
    return losses


def in_training_mode(model, x, y, direction, alphas):
    original = model.get_weights()
    losses = []
    for alpha in alphas:
        model.set_weights([w + alpha * d for w, d in zip(original, direction)])
        probabilities = model(x, training=True)
        losses.append(float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities))))
    model.set_weights(original)
    return losses



def training_mode_restoring_trainable_weights(model, x, y, direction, alphas):
    """Puts back what it moved (the trainable weights), but training mode moved the statistics too."""
    saved = [variable.numpy().copy() for variable in model.trainable_weights]
    steps = [d for variable, d in zip(model.weights, direction) if variable.trainable]
    losses = []
    for alpha in alphas:
        for variable, start, change in zip(model.trainable_weights, saved, steps):
            variable.assign(start + alpha * change)
        probabilities = model(x, training=True)
        losses.append(float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities))))
    for variable, start in zip(model.trainable_weights, saved):
        variable.assign(start)
    return losses


def step_by_step(model, x, y, direction, alphas):
    original = model.get_weights()
    current = original
    losses = []
    for alpha in alphas:
        current = [w + alpha * d for w, d in zip(current, direction)]
        model.set_weights(current)
        losses.append(model.evaluate(x, y, verbose=0)[0])
    model.set_weights(original)
    return losses


def summed(model, x, y, direction, alphas):
    return [len(x) * loss for loss in loss_along_with_evaluate(model, x, y, direction, alphas)]


def backwards(model, x, y, direction, alphas):
    return loss_along_with_evaluate(model, x, y, direction, [-alpha for alpha in alphas])


def with_accuracy(model, x, y, direction, alphas):
    original = model.get_weights()
    results = []
    for alpha in alphas:
        model.set_weights([w + alpha * d for w, d in zip(original, direction)])
        results.append(model.evaluate(x, y, verbose=0))
    model.set_weights(original)
    return results


def unfinished(model, x, y, direction, alphas):
    raise NotImplementedError()


def forgot_return(model, x, y, direction, alphas):
    loss_along_with_evaluate(model, x, y, direction, alphas)


def wrong_order(x, y, model, direction, alphas):
    return loss_along_with_evaluate(model, x, y, direction, alphas)


@pytest.mark.parametrize("mistake, message", [
    (without_restoring, r"leaves the model with other weights than it had .*model\.set_weights\(original\)"),
    (in_training_mode, r"match the network in training mode.*training=False"),
    (training_mode_restoring_trainable_weights, r"changed batch norm's moving statistics .* training mode"),
    (step_by_step, r"weights moved by every alpha so far"),
    (summed, r"sums over the 96 images: return the mean"),
    (backwards, r"weights - alpha \* direction"),
    (with_accuracy, r"returned 8 value\(s\) in the shape \(4, 2\), expected 4: .*not the accuracy too"),
    (unfinished, r"NotImplementedError"),
    (forgot_return, r"returned None.*return losses"),
    (wrong_order, r"another order.*my_loss_along|wrong_order\(model, x, y, direction, alphas\)"),
])
def test_mistakes_are_named(mistake, message):
    with pytest.raises(AssertionError, match=message):
        checks.check_loss_along(mistake)
