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


def loss_along_with_predict(model, x, y, direction, alphas):
    """model.predict (NumPy probabilities) and Keras' loss, which clips them at 1e-7: as right as the logits."""
    original = model.get_weights()
    losses = []
    try:
        for alpha in alphas:
            model.set_weights([w + alpha * d for w, d in zip(original, direction)])
            probabilities = model.predict(x, verbose=0)
            losses.append(float(np.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities))))
    finally:
        model.set_weights(original)
    return losses


def loss_along_with_numpy_log(model, x, y, direction, alphas):
    """A hand-written cross-entropy in float64 on predict's probabilities: -log p of the true class, no clip."""
    original = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
    losses = []
    for alpha in alphas:
        model.set_weights([w + alpha * np.asarray(d, dtype=np.float64) for w, d in zip(original, direction)])
        probabilities = model.predict(x, batch_size=17, verbose=0).astype(np.float64)
        losses.append(-np.log(probabilities[np.arange(len(y)), y]).mean())
    model.set_weights(original)
    return np.array(losses)


def loss_along_one_hot_by_layer(model, x, y, direction, alphas):
    """One-hot labels and categorical cross-entropy, weights set layer by layer (model.weights' order)."""
    one_hot = keras.utils.to_categorical(y, model.output_shape[-1])
    original = [layer.get_weights() for layer in model.layers]
    losses = []
    for alpha in alphas:
        remaining = iter(direction)
        for layer, weights in zip(model.layers, original):
            layer.set_weights([w + alpha * next(remaining) for w in weights])
        probabilities = model(x, training=False)
        losses.append(float(keras.ops.mean(keras.losses.categorical_crossentropy(one_hot, probabilities))))
    for layer, weights in zip(model.layers, original):
        layer.set_weights(weights)
    return losses


LEARNER_STYLES = [loss_along_with_evaluate, loss_along_by_hand, loss_along_with_predict, loss_along_with_numpy_log,
                  loss_along_one_hot_by_layer]


@pytest.mark.parametrize("solution", LEARNER_STYLES)
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


def with_predict(move):
    """A mistake (`move`: the weights for each alpha, from the original ones) measured with model.predict and
    Keras' clipped loss instead of the logits."""
    def loss_along(model, x, y, direction, alphas):
        original = model.get_weights()
        losses = []
        for weights in move(original, direction, alphas):
            model.set_weights(weights)
            probabilities = model.predict(x, verbose=0)
            losses.append(float(np.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities))))
        model.set_weights(original)
        return losses
    return loss_along


def moved_cumulatively(original, direction, alphas):
    current = original
    for alpha in alphas:
        current = [w + alpha * d for w, d in zip(current, direction)]
        yield current


def moved_backwards(original, direction, alphas):
    for alpha in alphas:
        yield [w - alpha * d for w, d in zip(original, direction)]


def summed_with_predict(model, x, y, direction, alphas):
    return [len(x) * loss for loss in loss_along_with_predict(model, x, y, direction, alphas)]


def training_mode_with_numpy(model, x, y, direction, alphas):
    """Training mode, its probabilities taken to NumPy (so Keras' loss clips them), the weights put back."""
    original = model.get_weights()
    losses = []
    for alpha in alphas:
        model.set_weights([w + alpha * d for w, d in zip(original, direction)])
        probabilities = keras.ops.convert_to_numpy(model(x, training=True))
        losses.append(float(np.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities))))
    model.set_weights(original)
    return losses


@pytest.mark.parametrize("mistake, message", [
    (with_predict(moved_cumulatively), r"weights moved by every alpha so far"),
    (with_predict(moved_backwards), r"weights - alpha \* direction"),
    (summed_with_predict, r"sums over the 96 images: return the mean"),
    (training_mode_with_numpy, r"match the network in training mode.*training=False"),
], ids=["cumulative", "minus direction", "sum", "training mode"])
def test_mistakes_are_named_when_measured_with_clipped_probabilities(mistake, message):
    with pytest.raises(AssertionError, match=message):
        checks.check_loss_along(mistake)


def test_a_wrong_loss_names_both_right_values_where_they_differ():
    def off_by_a_bit(model, x, y, direction, alphas):
        return [loss * 1.01 for loss in loss_along_with_evaluate(model, x, y, direction, alphas)]

    with pytest.raises(AssertionError, match=r"at alpha = 1.0 your loss is .*expected .* from the logits or .* from "
                                             r"probabilities clipped at 1e-07"):
        checks.check_loss_along(off_by_a_bit)
