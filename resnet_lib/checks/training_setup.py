"""The check of the training set-up exercise (chapter 6): `check_training_setup`.

Both of the learner's functions are checked on constructed inputs with known answers: images whose
largest pixel is 200 (so scaling by the batch's maximum shows) and labels in which one class never
occurs (so a number of classes guessed from the labels shows); a small softmax model whose
predictions are set by its weights, so that the loss and accuracy the learner compiled can be
compared with values computed by hand; the learning rate read through the optimizer at chosen
steps. Then the two together must train a small classifier.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from resnet_lib.checks._learner import call, check_signature, fail, fresh_session, well_done


def check_prepare_data(prepare_data) -> None:
    """The first half of the exercise: scaling by 255 (not by the batch's largest pixel) and one-hot labels
    with `num_classes` columns, on 12 constructed images.

    Raises:
        AssertionError: naming the mistake.
    """
    name = getattr(prepare_data, "__name__", "your function")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 201, size=(12, 4, 4, 3), dtype=np.uint8)  # the largest pixel is 200, not 255
    images[0, 0, 0, 0] = 0
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2])  # class 9 never occurs
    result = call(prepare_data, "With 12 images of 4x4x3 pixels and 10 classes", images.copy(), labels.copy(), 10)
    if result is None:
        fail(f"{name} returned None: it must return the pair `(x, y)`. Did you forget `return x, y`?")
    if not isinstance(result, tuple) or len(result) != 2:
        fail(f"{name} must return a pair `(x, y)`, received {type(result).__name__}.")
    x, y = (np.asarray(part) for part in result)
    if x.shape != images.shape:
        fail(f"{name}: x has shape {x.shape}, expected the images' shape {images.shape}.")
    if not np.issubdtype(x.dtype, np.floating):
        fail(f"{name}: x has dtype {x.dtype}; convert to float32 before dividing, "
             "`images.astype(\"float32\") / 255.0`.")
    expected = images.astype("float32") / 255.0
    if float(x.max()) > 1.0 + 1e-6:
        fail(f"{name}: x is not normalised: its largest value is {float(x.max()):g}. Divide by 255 so that pixels "
             "lie in [0, 1].")
    if not np.allclose(x, expected, atol=1e-6):
        if np.allclose(x, images / images.max(), atol=1e-6):
            fail(f"{name}: x is divided by the largest pixel of these images ({images.max()}), not by 255. The "
                 "scale must not depend on the batch: the test images must be scaled exactly like the training images.")
        fail(f"{name}: x should be images / 255 (values in [0, 1]); it differs by up to "
             f"{float(np.abs(x - expected).max()):.3g}.")
    if y.ndim == 1:
        fail(f"{name}: y has shape {y.shape}: integer labels. With categorical cross-entropy the labels must be "
             "one-hot, shape (number of images, num_classes): `keras.utils.to_categorical(labels, num_classes)`.")
    if y.shape != (len(labels), 10):
        fail(f"{name}: y has shape {y.shape}, expected {(len(labels), 10)}. Pass num_classes to "
             "`keras.utils.to_categorical`: without it, the number of classes is guessed from the largest label "
             "present, and class 9 does not occur here.")
    if not (np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1) and np.array_equal(y.argmax(axis=1), labels)):
        fail(f"{name}: y is not the one-hot encoding of the labels (one 1 per row, at the label's position).")


def _rate(value) -> float:
    return float(keras.ops.convert_to_numpy(value))


def _check_optimizer(optimizer, name: str) -> None:
    """Adam, as asked: not SGD or RMSprop, and not AdamW (Adam with weight decay, a subclass of Adam)."""
    class_name = type(optimizer).__name__
    config = optimizer.get_config()
    if isinstance(optimizer, keras.optimizers.AdamW):
        fail(f"{name}: the optimizer is AdamW, Adam with decoupled weight decay (weight_decay="
             f"{config.get('weight_decay'):g}), which shrinks every weight a little at each step. The exercise asks "
             "for plain Adam: `keras.optimizers.Adam(schedule)`.")
    if not isinstance(optimizer, keras.optimizers.Adam):
        details = f" (momentum={config['momentum']:g})" if config.get("momentum") else ""
        fail(f"{name}: the optimizer is {class_name}{details}; the exercise asks for Adam: "
             "`keras.optimizers.Adam(schedule)`, with the cosine schedule as its learning rate.")
    if config.get("weight_decay"):
        fail(f"{name}: your Adam has weight_decay={config['weight_decay']:g}; the exercise asks for Adam without "
             "weight decay: `keras.optimizers.Adam(schedule)`.")


def _check_schedule(optimizer, name: str, learning_rate: float, steps: int) -> None:
    """The rate at steps 0, T/4, T/2, 3T/4 and T must follow learning_rate * (1 + cos(pi t / T)) / 2.

    The rate is read through the optimizer's public `learning_rate` at chosen values of its
    `iterations`, so any schedule, the library's or the learner's own, is evaluated as training would.
    """
    try:
        serialized = optimizer.get_config().get("learning_rate")
    except Exception:  # noqa: BLE001 - a learning rate Keras cannot serialize: evaluate it all the same
        serialized = None
    if isinstance(serialized, (int, float)):
        fail(f"{name}: the learning rate is a constant ({_rate(optimizer.learning_rate):g}). The recipe decays it "
             "along a cosine to zero over the run: `keras.optimizers.schedules.CosineDecay(learning_rate, steps)`.")
    schedule = serialized.get("class_name", "a schedule") if isinstance(serialized, dict) else type(serialized).__name__
    rates = {}
    try:
        for step in (0, steps // 4, steps // 2, 3 * steps // 4, steps):
            optimizer.iterations.assign(step)
            rates[step] = _rate(optimizer.learning_rate)
    finally:
        optimizer.iterations.assign(0)
    if not np.isclose(rates[0], learning_rate, rtol=1e-3):
        fail(f"{name}: the learning rate starts at {rates[0]:g}, but learning_rate={learning_rate:g} was asked for "
             f"(your schedule is {schedule}).")
    cosine = {step: learning_rate * (1 + np.cos(np.pi * step / steps)) / 2 for step in rates}
    step = max(rates, key=lambda s: abs(rates[s] - cosine[s]))
    if abs(rates[step] - cosine[step]) <= 1e-3 * learning_rate:
        return
    found = (f"at step {step} of {steps} the rate is {rates[step]:.4g}, where the cosine decay gives "
             f"{cosine[step]:.4g} = learning_rate * (1 + cos(pi * {step} / {steps})) / 2")
    if schedule != "CosineDecay":
        fail(f"{name}: your schedule is {schedule}, not a cosine decay: {found}. Use "
             "`keras.optimizers.schedules.CosineDecay(learning_rate, steps)`.")
    if step == steps:
        fail(f"{name}: after `steps` steps the learning rate is still {rates[step]:g}; it should have decayed to 0 "
             "(give the schedule `steps` as its decay_steps, and leave alpha at 0).")
    fail(f"{name}: your CosineDecay does not go from learning_rate to 0 over `steps` steps: {found}. Use "
         "`keras.optimizers.schedules.CosineDecay(learning_rate, steps)`: decay_steps=steps, no warm-up, alpha=0.")


def _metric_class(model, metric_name: str) -> str | None:
    """The class of the compiled metric called `metric_name`, from the public compile config, if it is an object."""
    def search(entry):
        if isinstance(entry, dict):
            if entry.get("config", {}).get("name") == metric_name and "class_name" in entry:
                return entry["class_name"]
            entries = entry.values()
        elif isinstance(entry, (list, tuple)):
            entries = entry
        else:
            return None
        return next((found for found in map(search, entries) if found), None)
    return search((model.get_compile_config() or {}).get("metrics"))


def _check_accuracy(model, results: dict, name: str) -> None:
    """An accuracy metric ("accuracy", "acc", CategoricalAccuracy, ...) that reports 0.5 on half-right predictions."""
    accuracies = {key: value for key, value in results.items() if key != "loss" and "acc" in key.lower()}
    if not accuracies:
        others = [key for key in results if key != "loss"]
        listed = f" (your metrics: {others})" if others else ""
        fail(f"{name}: no accuracy metric{listed}: add metrics=[\"accuracy\"] so that fit and evaluate report it.")
    if any(np.isclose(value, 0.5, atol=1e-6) for value in accuracies.values()):
        return
    key, value = next(iter(accuracies.items()))
    metric_class = _metric_class(model, key)
    if metric_class == "Accuracy":
        fail(f"{name}: the metric `{key}` is keras.metrics.Accuracy, which counts predictions exactly equal to the "
             f"labels: a softmax probability never equals a one-hot 1, so it reports {value:g} where half of the "
             "predictions are right. Use metrics=[\"accuracy\"] (the string: Keras then picks the accuracy for "
             "one-hot labels) or keras.metrics.CategoricalAccuracy().")
    described = f"`{key}` ({metric_class})" if metric_class else f"`{key}`"
    fail(f"{name}: the accuracy metric {described} reports {value:g} where half of the predictions are right; use "
         "metrics=[\"accuracy\"] (which matches one-hot labels to the softmax output).")


def _explain_evaluation_failure(model, name: str, error: Exception) -> None:
    """Fails naming the sparse loss or metric that made `evaluate` fail on one-hot labels."""
    compiled = (model.get_compile_config() or {})
    failure = f"evaluating with one-hot labels failed ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
    if "sparse" in str(compiled.get("loss")).lower():
        fail(f"{name}: {failure}. With one-hot labels the loss is \"categorical_crossentropy\"; "
             "\"sparse_categorical_crossentropy\" expects integer labels.")
    metrics = [entry.get("class_name", entry) if isinstance(entry, dict) else entry
               for entry in compiled.get("metrics") or []]
    if "sparse" in str(metrics).lower():
        fail(f"{name}: {failure}. Your metrics are {metrics}: a sparse accuracy expects integer labels. With one-hot "
             "labels use metrics=[\"accuracy\"] or keras.metrics.CategoricalAccuracy().")
    fail(f"{name}: {failure}. With one-hot labels use loss=\"categorical_crossentropy\" and metrics=[\"accuracy\"].")


def check_compile_model(compile_model) -> None:
    """The second half of the exercise: Adam with a cosine decay, categorical cross-entropy on probabilities,
    and an accuracy that counts right, on a small softmax model whose predictions are known.

    Raises:
        AssertionError: naming the mistake.
    """
    name = getattr(compile_model, "__name__", "your function")
    fresh_session()
    inputs = keras.Input((2,), name="features")
    outputs = layers.Dense(3, activation="softmax", name="probabilities")(inputs)
    model = keras.Model(inputs, outputs)
    returned = call(compile_model, "With a small softmax model, learning_rate=0.01 and steps=40", model, 0.01, 40)
    if returned is not None and returned is not model:
        fail(f"{name} returned a different model; compile the model it receives (and return it, or nothing).")
    if not getattr(model, "compiled", False) or model.optimizer is None:
        fail(f"{name}: the model is not compiled: call `model.compile(optimizer=..., loss=..., metrics=[...])`.")
    _check_optimizer(model.optimizer, name)
    _check_schedule(model.optimizer, name, 0.01, 40)

    loss_config = model.loss.get_config() if isinstance(model.loss, keras.losses.Loss) else {}
    if loss_config.get("from_logits"):
        # Keras' TensorFlow backend quietly undoes this mistake when the softmax is in the graph, so the
        # loss value cannot show it; other backends and eager code compute a wrong loss.
        fail(f"{name}: the loss treats the model's softmax probabilities as logits (from_logits=True). The "
             "model already ends in a softmax: use from_logits=False, the default.")

    # Constructed predictions: kernel 0 and bias log(p) make the model output p for every input.
    probabilities = np.array([0.7, 0.2, 0.1], dtype="float32")
    model.get_layer("probabilities").set_weights([np.zeros((2, 3), "float32"), np.log(probabilities)])
    features = np.zeros((4, 2), "float32")
    labels = np.array([0, 0, 1, 2])
    one_hot = np.eye(3, dtype="float32")[labels]
    expected_loss = float(-np.log(probabilities[labels]).mean())
    try:
        results = model.evaluate(features, one_hot, verbose=0, return_dict=True)
    except Exception as error:  # noqa: BLE001
        _explain_evaluation_failure(model, name, error)
    loss = results.get("loss")
    if loss is None or not np.isclose(loss, expected_loss, rtol=1e-3):
        from_logits = float(keras.ops.convert_to_numpy(keras.losses.categorical_crossentropy(
            one_hot, probabilities[None].repeat(4, 0), from_logits=True)).mean())
        if loss is not None and np.isclose(loss, from_logits, rtol=1e-3):
            fail(f"{name}: the loss treats the model's softmax probabilities as logits (from_logits=True). The "
                 "model already ends in a softmax: use from_logits=False, the default.")
        fail(f"{name}: on predictions (0.7, 0.2, 0.1) and labels (0, 0, 1, 2) the loss is {loss}, but categorical "
             f"cross-entropy gives {expected_loss:.4f}. Use loss=\"categorical_crossentropy\".")
    _check_accuracy(model, results, name)


def check_training_setup(prepare_data, compile_model) -> None:
    """Checks the chapter-6 exercise: preparing images and labels, and compiling a classifier.

    Args:
        prepare_data: `my_prepare_data(images, labels, num_classes)` returning `(x, y)`: float pixels in
            [0, 1] (divided by 255) and one-hot labels of shape (n, num_classes).
        compile_model: `my_compile_model(model, learning_rate, steps)`, compiling `model` with Adam and a
            cosine decay from `learning_rate` to 0 over `steps` steps, categorical cross-entropy and accuracy.

    Raises:
        AssertionError: naming the mistake (no normalisation, scaling by the batch's maximum, integer
            labels, a wrong number of classes, another optimizer than Adam, a constant learning rate or
            another schedule than the cosine, the wrong loss or `from_logits`, no accuracy or one that
            counts wrongly), checked on constructed inputs with known answers.
    """
    for function, parameters in ((prepare_data, ("images", "labels", "num_classes")),
                                 (compile_model, ("model", "learning_rate", "steps"))):
        if callable(function):
            check_signature(function, parameters)
    check_prepare_data(prepare_data)
    check_compile_model(compile_model)
    # Behaviour: the two together train a small softmax classifier on separable points.
    fresh_session()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, size=240)
    centres = np.array([[40, 40], [200, 60], [120, 220]])
    points = np.clip(centres[labels] + rng.normal(0, 12, size=(240, 2)), 0, 255).astype(np.uint8)
    x, y = call(prepare_data, "With 240 two-pixel images", points.reshape(240, 1, 1, 2), labels, 3)
    inputs = keras.Input((1, 1, 2))
    hidden = layers.Dense(16, activation="relu")(layers.Flatten()(inputs))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(hidden))
    call(compile_model, "Training a small classifier", model, 0.05, 8 * 8)
    history = model.fit(x, y, batch_size=30, epochs=8, verbose=0)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    if not last < 0.7 * first:
        fail(f"With your preparation and compile set-up a small classifier does not learn three separable "
             f"clusters: the loss went from {first:.3f} to {last:.3f} in 8 epochs.")
    keras.backend.clear_session()
    well_done(f"data preparation and compile set-up are right, and a small classifier trained with them "
              f"goes from loss {first:.2f} to {last:.2f}.")


__all__ = ["check_compile_model", "check_prepare_data", "check_training_setup"]
