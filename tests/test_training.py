"""Seeded training, JSON histories and gradient norms."""

import math

import keras
import numpy as np
import pytest

from resnet_lib import build_network, gradient_norms, load_dataset, load_history, save_history, set_seed, train


@pytest.fixture(scope="module")
def small_digits():
    data = load_dataset("digits", image_size=16)
    return data.x_train[:192], data.y_train[:192], data.x_test[:64], data.y_test[:64]


def short_run(data, seed, **kwargs):
    x_train, y_train, x_test, y_test = data
    set_seed(seed)
    model = build_network(8, input_shape=(16, 16, 3))
    return train(model, x_train, y_train, validation_data=(x_test, y_test), epochs=2, batch_size=32,
                 seed=seed, progress=False, **kwargs)


@pytest.mark.slow  # trains
def test_same_seed_gives_the_same_losses(small_digits):
    first, second = short_run(small_digits, seed=3), short_run(small_digits, seed=3)
    assert first["loss"] == second["loss"] and first["val_loss"] == second["val_loss"]
    assert short_run(small_digits, seed=4)["loss"] != first["loss"]


def counting_traces(model: keras.Model) -> list:
    """Counts how often the model's training step runs as Python: once per trace of TensorFlow's step function."""
    traces, step = [], model.train_step

    def counted(data):
        traces.append(1)
        return step(data)

    model.train_step = counted
    return traces


@pytest.mark.slow  # trains
def test_train_traces_its_step_once_and_trains_as_keras_fit_does(small_digits):
    """`build_training_state` creates the optimizer's and metrics' variables before the first step, so TensorFlow
    traces the step once, where Keras' own fit traces it twice; the losses and weights are fit's, bit for bit."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tracing a tf.function: TensorFlow only")
    x_train, y_train, x_test, y_test = small_digits
    set_seed(0)
    ours = build_network(8, input_shape=(16, 16, 3))
    our_traces = counting_traces(ours)
    history = train(ours, x_train, y_train, validation_data=(x_test, y_test), epochs=2, batch_size=32, seed=0,
                    progress=False)

    set_seed(0)
    plain = build_network(8, input_shape=(16, 16, 3))
    plain_traces = counting_traces(plain)
    set_seed(0)  # as `train` does, after the model is built
    plain.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=False)
    fitted = documented_loop(plain, x_train, y_train, (x_test, y_test), epochs=2, batch_size=32, seed=0)
    assert len(our_traces) == 1
    assert len(plain_traces) == 2, "Keras' fit no longer traces the step twice: build_training_state may be obsolete"
    for key in fitted:
        assert history[key] == [float(v) for v in fitted[key]], (key, history[key], fitted[key])
    assert all(np.array_equal(a, b) for a, b in zip(ours.get_weights(), plain.get_weights()))


def documented_loop(model, x, y, validation_data, *, epochs, batch_size, seed, shift=0):
    """The loop `EpochBatches` documents, written with Keras' fit alone: a seeded permutation (and shifts) per
    epoch, one fit per epoch without Keras' shuffle, batch norm on the kernel `train` picks."""
    from resnet_lib.batch_norm import batch_norm_kernel
    from resnet_lib.data import random_shift

    rng, history = np.random.default_rng(seed), {}
    with batch_norm_kernel(model):
        for epoch in range(epochs):
            order = rng.permutation(len(x))
            x_epoch = random_shift(x[order], shift, rng) if shift else x[order]
            fitted = model.fit(x_epoch, y[order], batch_size=batch_size, shuffle=False, initial_epoch=epoch,
                               epochs=epoch + 1, validation_data=validation_data, verbose=0)
            for key, values in fitted.history.items():
                history.setdefault(key, []).extend(values)
    return history


@pytest.mark.slow  # trains
def test_train_with_shifts_and_a_short_last_batch_is_the_documented_loop_bit_for_bit(small_digits):
    """On TensorFlow `train` feeds `fit` through `EpochBatches.tf_dataset` (elsewhere through the PyDataset): the
    epochs it draws, shifted, in batches of 40 whose last holds 32, train the network exactly as the loop
    `EpochBatches` documents (one plain fit per epoch on arrays) does: the same losses and weights, bit for bit."""
    x_train, y_train, x_test, y_test = small_digits
    set_seed(0)
    ours = build_network(8, input_shape=(16, 16, 3))
    history = train(ours, x_train, y_train, validation_data=(x_test, y_test), epochs=3, batch_size=40, seed=7,
                    augment_shift=1, progress=False)
    set_seed(0)
    plain = build_network(8, input_shape=(16, 16, 3))
    set_seed(7)
    plain.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=False)
    fitted = documented_loop(plain, x_train, y_train, (x_test, y_test), epochs=3, batch_size=40, seed=7, shift=1)
    for key in fitted:
        assert history[key] == [float(v) for v in fitted[key]], (key, history[key], fitted[key])
    assert all(np.array_equal(a, b) for a, b in zip(ours.get_weights(), plain.get_weights()))


@pytest.mark.parametrize("shift", [0, 1, 3])
def test_the_tf_dataset_holds_the_documented_loops_batches_epoch_after_epoch(small_digits, shift):
    """`EpochBatches.tf_dataset(epochs)` draws as the documented loop does (orders, then shifts, epoch by epoch)
    and gathers and shifts every batch in TensorFlow to the same pixels `random_shift` gives, bit for bit."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.data: TensorFlow only")
    from resnet_lib.data import random_shift
    from resnet_lib.training import EpochBatches

    x_train, y_train, _, _ = small_digits
    rng, expected = np.random.default_rng(5), []
    for _ in range(3):
        order = rng.permutation(len(x_train))
        expected.append((random_shift(x_train[order], shift, rng) if shift else x_train[order], y_train[order]))

    batches = EpochBatches(x_train, y_train, 50, seed=5, shift=shift)
    dataset = batches.tf_dataset(3)
    assert int(dataset.cardinality()) == 12 and batches.epochs_drawn == 3
    read = [(x.numpy(), y.numpy()) for x, y in dataset]
    assert [len(y) for _, y in read] == [50, 50, 50, 42] * 3
    for epoch, (x_epoch, y_epoch) in enumerate(expected):
        in_epoch = read[4 * epoch:4 * epoch + 4]
        assert np.array_equal(np.concatenate([x for x, _ in in_epoch]), x_epoch)
        assert np.array_equal(np.concatenate([y for _, y in in_epoch]), y_epoch)


@pytest.mark.slow  # trains
def test_a_fit_on_the_tf_dataset_trains_its_epochs_without_running_out(small_digits):
    """`fit(tf_dataset(n), epochs=n, steps_per_epoch=len(batches))` trains n epochs (or as many as EarlyStopping
    lets it) and never says Keras' 'Your input ran out of data'."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.data: TensorFlow only")
    import warnings

    from resnet_lib.training import EpochBatches

    x_train, y_train, _, _ = small_digits
    for epochs, callbacks, trained in [(3, [], 3),
                                       (6, [keras.callbacks.EarlyStopping(monitor="loss", min_delta=100.0,
                                                                          patience=0)], 2)]:
        set_seed(0)
        model = build_network(8, input_shape=(16, 16, 3))
        model.compile("sgd", "sparse_categorical_crossentropy")
        batches = EpochBatches(x_train, y_train, 64, seed=5)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Keras warns when a dataset runs out of data
            fitted = model.fit(batches.tf_dataset(epochs), epochs=epochs, steps_per_epoch=len(batches),
                               shuffle=False, verbose=0, callbacks=callbacks)
        assert len(fitted.history["loss"]) == trained


@pytest.mark.slow  # trains
def test_every_epoch_takes_a_new_order_drawn_from_the_seed_and_callbacks_see_one_fit(small_digits):
    """The batches `train` feeds are those of the documented loop, epoch by epoch (with shifts too), the orders
    differ between epochs, and Keras callbacks see one fit: EarlyStopping stops a run."""
    from resnet_lib.data import random_shift
    from resnet_lib.training import EpochBatches

    x_train, y_train, _, _ = small_digits
    seen = []

    class Recording(EpochBatches):
        def __getitem__(self, index):
            batch = super().__getitem__(index)
            seen.append((self.epochs_drawn, index, batch[1].copy()))
            return batch

    batches = Recording(x_train, y_train, 64, seed=5, shift=1)
    set_seed(0)
    model = build_network(8, input_shape=(16, 16, 3))
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(batches, epochs=3, shuffle=False, verbose=0, callbacks=[batches.epoch_callback()])
    rng, expected = np.random.default_rng(5), []
    for _ in range(3):
        order = rng.permutation(len(x_train))
        random_shift(x_train[order], 1, rng)
        expected.append(y_train[order])
    assert {epoch for epoch, _, _ in seen} == {1, 2, 3}
    assert all(np.array_equal(labels, expected[epoch - 1][index * 64:(index + 1) * 64]) for epoch, index, labels in seen)
    assert not np.array_equal(expected[0], expected[1])

    set_seed(0)
    stopped = train(build_network(8, input_shape=(16, 16, 3)), x_train, y_train, epochs=6, batch_size=32,
                    augment_shift=1, progress=False,
                    callbacks=[keras.callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=0)])
    assert len(stopped["loss"]) == 2  # of 6: it stops after its second epoch, which did not improve by 100


@pytest.mark.slow  # trains
def test_the_batch_norm_kernel_is_an_argument_auto_is_fused_here_and_keras_agrees_to_round_off(small_digits):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the fused kernel is TensorFlow's")
    auto, fused, own = (short_run(small_digits, seed=1, batch_norm_kernel=kernel) for kernel in ("auto", "fused", "keras"))
    assert auto["loss"] == fused["loss"] and auto["val_loss"] == fused["val_loss"]
    np.testing.assert_allclose(own["loss"], fused["loss"], rtol=1e-3)
    with pytest.raises(ValueError, match="batch_norm_kernel must be one of"):
        short_run(small_digits, seed=1, batch_norm_kernel="cudnn")


def test_gradient_norms_leave_the_model_as_they_found_it(small_digits):
    """A forward pass in training mode moves batch norm's moving statistics; `gradient_norms` puts them back, so
    measuring before training changes nothing of the training that follows."""
    x_train, y_train, _, _ = small_digits
    set_seed(0)
    model = build_network(8, input_shape=(16, 16, 3))
    before = [w.copy() for w in model.get_weights()]
    gradient_norms(model, x_train[:64], y_train[:64])
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_history_is_a_plain_dict_of_per_epoch_floats(small_digits):
    history = short_run(small_digits, seed=0)
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds"}
    assert all(len(values) == 2 and all(isinstance(v, float) for v in values) for values in history.values())
    assert history["loss"][1] < history["loss"][0]  # it learns


def test_one_hot_labels_and_sgd(small_digits):
    x_train, y_train, x_test, y_test = small_digits
    one_hot = np.eye(10)[y_train]
    set_seed(0)
    history = train(build_network(8, input_shape=(16, 16, 3)), x_train, one_hot, epochs=1,
                    optimizer="sgd", learning_rate=0.01, progress=True)
    assert set(history) == {"loss", "accuracy", "epoch_seconds"} and math.isfinite(history["loss"][0])


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (dict(epochs=0), ValueError, r"`epochs` must be at least 1"),
        (dict(batch_size=2.5), TypeError, r"`batch_size` must be an integer"),
        (dict(optimizer="rmsprop"), ValueError, r"`optimizer` must be one of"),
        (dict(learning_rate=-1.0), ValueError, r"`learning_rate` must be positive"),
    ],
)
def test_bad_training_arguments_name_the_argument(small_digits, kwargs, error, pattern):
    x_train, y_train, _, _ = small_digits
    with pytest.raises(error, match=pattern):
        train(build_network(8, input_shape=(16, 16, 3)), x_train, y_train, progress=False, **kwargs)


def test_mismatched_data_is_refused(small_digits):
    x_train, y_train, _, _ = small_digits
    model = build_network(8, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match=r"`x_train` has 192 images but `y_train` has 10 labels; pass one label per image"):
        train(model, x_train, y_train[:10], progress=False)
    with pytest.raises(ValueError, match=r"`y_train` must be integer class labels of shape \(n,\) or one-hot .*received shape \(192, 2, 5\)"):
        train(model, x_train, np.zeros((192, 2, 5)), progress=False)
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model"):
        train("resnet", x_train, y_train)


def _with(values, index, value, dtype=None):
    values = np.array(values, dtype=dtype)
    values[index] = value
    return values


LABELS = np.arange(192) % 10  # what small_digits' model (10 outputs) is trained on here


@pytest.mark.parametrize(
    "labels, pattern",
    [
        (_with(LABELS, 3, np.nan, float), r"`y_train` must hold integer class labels in 0..9 \(the model has 10 outputs\), found nan at index 3\.$"),
        (_with(LABELS, 17, 10), r"`y_train` must hold integer class labels in 0..9 \(the model has 10 outputs\), found 10 at index 17\.$"),
        (_with(LABELS, 5, -1), r"in 0..9 \(the model has 10 outputs\), found -1 at index 5\.$"),
        (_with(LABELS, 2, 0.5, float), r"in 0..9 \(the model has 10 outputs\), found 0.5 at index 2\.$"),
        (LABELS + 1, r"found 10 at index 9\. The labels run 1..10: subtract 1 so that they count from 0\."),
        (np.eye(9)[LABELS % 9], r"`y_train` holds one-hot labels 9 wide \(shape \(192, 9\)\), but the model has 10 outputs\. .*to_categorical\(labels, 10\)"),
        (LABELS[:, None], r"`y_train` holds one-hot labels 1 wide .*must be flattened to \(n,\): y.reshape\(-1\)"),
        (_with(np.eye(10)[LABELS], 4, 0.5), r"`y_train` must hold one-hot rows, non-negative and summing to 1, found \[0.5 .*at index 4\."),
        (np.array(["cat"] * 192), r"`y_train` must be a numeric array of integer class labels .* dtype <U3"),
        (LABELS[:0], r"`y_train` holds no labels \(shape \(0,\)\); pass one per image\."),
    ],
)
def test_bad_labels_are_named_before_training(small_digits, labels, pattern, monkeypatch):
    x_train = small_digits[0]
    model = build_network(8, input_shape=(16, 16, 3))
    monkeypatch.setattr(model, "compile", lambda *a, **k: pytest.fail("compiled despite bad labels"))
    with pytest.raises(ValueError, match=pattern):
        train(model, x_train, labels, progress=False)


@pytest.mark.parametrize(
    "images, pattern",
    [
        (np.array([np.zeros((16, 16, 3)), np.zeros((8, 8, 3))], dtype=object),
         r"`x_train` must be a numeric array of images of shape \(n, height, width, channels\), received an ndarray of "
         r"shape \(2,\) and dtype object\. Are the images of different sizes\? Resize them"),
        ([np.zeros((16, 16, 3)), np.zeros((8, 8, 3))], r"`x_train` must be a numeric array .* but a list of 2 items could not be made into one array"),
        (np.zeros((0, 16, 16, 3), "float32"), r"`x_train` holds no images \(shape \(0, 16, 16, 3\)\); pass at least one\."),
        (np.zeros((2, 16, 16), "float32"), r"`x_train` must be images of shape \(n, height, width, channels\), received shape \(2, 16, 16\)\. Add a channel axis"),
        (np.zeros((2, 8, 8, 3), "float32"), r"`x_train` holds images of shape \(8, 8, 3\), but the model takes \(16, 16, 3\)\. Resize them"),
        (_with(np.zeros((2, 16, 16, 3), "float32"), (1, 4, 4, 0), np.nan), r"`x_train` must hold finite pixel values, found NaN or infinity in image 1\."),
    ],
)
def test_bad_images_are_named_before_training(images, pattern, monkeypatch):
    model = build_network(8, input_shape=(16, 16, 3))
    monkeypatch.setattr(model, "compile", lambda *a, **k: pytest.fail("compiled despite bad images"))
    with pytest.raises(ValueError, match=pattern):
        train(model, images, np.zeros(2, int), progress=False)


def test_bad_validation_data_is_named_before_training(small_digits, monkeypatch):
    x_train, y_train, x_test, y_test = small_digits
    model = build_network(8, input_shape=(16, 16, 3))
    monkeypatch.setattr(model, "compile", lambda *a, **k: pytest.fail("compiled despite bad validation data"))
    cases = [
        (x_test, r"`validation_data` must be a pair \(x_val, y_val\), received an ndarray of shape \(64, 16, 16, 3\)\.$"),
        ((x_test, y_test, y_test), r"`validation_data` must be a pair \(x_val, y_val\), received a tuple of 3 items\."),
        ((x_test, _with(y_test, 17, 10)), r"`validation_data\[1\]` must hold integer class labels in 0..9 \(the model has 10 outputs\), found 10 at index 17\."),
        ((x_test, _with(y_test, 1, np.nan, float)), r"`validation_data\[1\]` must hold integer class labels .* found nan at index 1\."),
        ((x_test, y_test[:5]), r"`validation_data\[0\]` has 64 images but `validation_data\[1\]` has 5 labels"),
        ((x_test[:0], y_test[:0]), r"`validation_data\[0\]` holds no images"),
        ((x_test, np.eye(10)[y_test]), r"labels of `validation_data` must take the same form as `y_train`, integer labels of shape \(n,\); received shape \(64, 10\)"),
    ]
    for validation_data, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            train(model, x_train, y_train, validation_data=validation_data, progress=False)


@pytest.mark.slow  # trains
def test_integer_valued_float_labels_and_one_hot_validation_still_train(small_digits):
    x_train, y_train, x_test, y_test = small_digits
    set_seed(0)
    history = train(build_network(8, input_shape=(16, 16, 3)), x_train, y_train.astype("float32"),
                    validation_data=(x_test, y_test.astype(float)), epochs=1, progress=False)
    assert math.isfinite(history["loss"][0]) and math.isfinite(history["val_loss"][0])
    set_seed(0)
    history = train(build_network(8, input_shape=(16, 16, 3)), x_train, np.eye(10)[y_train],
                    validation_data=(x_test, np.eye(10, dtype="float32")[y_test]), epochs=1, progress=False)
    assert math.isfinite(history["loss"][0]) and math.isfinite(history["val_loss"][0])


def test_labels_are_checked_against_a_model_that_does_not_declare_its_outputs(rng):
    import keras

    model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])  # no Input
    with pytest.raises(ValueError, match=r"`y_train` must hold integer class labels in 0..2 \(the model has 3 outputs\), found 3 at index 3"):
        train(model, rng.uniform(size=(8, 4, 4, 1)), np.arange(8), progress=False)


def test_gradient_norms_check_their_batch_too(small_digits):
    x_train, y_train, _, _ = small_digits
    model = build_network(8, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match=r"`y` must hold integer class labels in 0..9 .*found 10 at index 0"):
        gradient_norms(model, x_train[:4], np.array([10, 0, 1, 2]))


def test_history_round_trips_through_json_including_a_diverged_loss(tmp_path):
    history = {"loss": [2.3, float("nan"), float("inf")], "accuracy": [0.1, 0.2, 0.3],
               "meta": {"seed": np.int64(3), "command": "python -m something"}}
    path = save_history(history, tmp_path / "runs" / "history.json")
    loaded = load_history(path)
    assert loaded["accuracy"] == [0.1, 0.2, 0.3] and loaded["meta"] == {"seed": 3, "command": "python -m something"}
    assert loaded["loss"][0] == 2.3 and math.isnan(loaded["loss"][1]) and math.isnan(loaded["loss"][2])
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"is not valid JSON"):
        load_history(tmp_path / "broken.json")
    with pytest.raises(FileNotFoundError, match=r"No history file"):
        load_history(tmp_path / "missing.json")


def test_gradient_norms_cover_every_kernel_from_input_to_output(small_digits):
    x_train, y_train, _, _ = small_digits
    set_seed(0)
    model = build_network(14, input_shape=(16, 16, 3))
    norms = gradient_norms(model, x_train[:32], y_train[:32])
    assert list(norms)[0] == "stem_conv" and list(norms)[-1] == "predictions"
    assert len(norms) == 14
    assert all(math.isfinite(n) and n > 0 for n in norms.values())
    # Same batch, same weights -> same numbers.
    assert gradient_norms(model, x_train[:32], y_train[:32]) == norms


def test_gradient_norms_match_the_analytic_gradient_of_softmax_regression(rng):
    """For softmax regression, d(mean cross-entropy)/dW = X^T (P - Y) / n: a reference we can trust."""
    import keras

    inputs = keras.Input((3, 3, 2))
    outputs = keras.layers.Dense(4, activation="softmax", name="predictions")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    x = rng.normal(size=(16, 3, 3, 2)).astype("float32")
    y = rng.integers(0, 4, size=16)

    flat = x.reshape(16, -1)
    kernel, bias = model.get_layer("predictions").get_weights()
    logits = flat @ kernel + bias
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    expected = np.linalg.norm(flat.T @ (probabilities - np.eye(4)[y]) / 16)

    assert gradient_norms(model, x, y)["predictions"] == pytest.approx(expected, rel=1e-4)
    assert gradient_norms(model, x, np.eye(4)[y])["predictions"] == pytest.approx(expected, rel=1e-4)


def test_residual_connections_keep_gradient_norms_level_across_depth(small_digits):
    """At initialisation, a plain 56-layer network with batch norm has gradient norms spread over
    more than three orders of magnitude from its first to its last layer; the residual network of
    the same depth keeps them within about one."""
    x_train, y_train, _, _ = small_digits
    spread = {}
    for residual in (False, True):
        set_seed(0)
        model = build_network(56, residual=residual, input_shape=(16, 16, 3))
        norms = np.array(list(gradient_norms(model, x_train[:64], y_train[:64]).values()))
        spread[residual] = norms.max() / norms.min()
    assert spread[False] > 1000 and spread[True] < 100


@pytest.mark.slow  # trains
def test_shift_augmentation_trains_reproducibly_on_fresh_shifts_each_epoch(small_digits):
    first, second = short_run(small_digits, seed=3, augment_shift=1), short_run(small_digits, seed=3, augment_shift=1)
    assert len(first["loss"]) == len(first["val_loss"]) == len(first["epoch_seconds"]) == 2
    assert first["loss"] == second["loss"]
    assert first["loss"] != short_run(small_digits, seed=3)["loss"]  # the shifts change what is trained on


def test_negative_augment_shift_is_refused(small_digits):
    with pytest.raises(ValueError, match="`augment_shift` must be at least 0, received -1"):
        short_run(small_digits, seed=0, augment_shift=-1)


#: oneDNN is TensorFlow's: on Keras' other backends (make test-backends) there is nothing to switch on.
tensorflow_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                     reason="oneDNN kernels are TensorFlow's; Keras runs on another backend")


@tensorflow_only
@pytest.mark.slow  # trains
def test_training_warns_once_when_the_fast_kernels_are_off(small_digits, monkeypatch):
    """No silent slowness: if TensorFlow came up without oneDNN, `train` says why and what to do."""
    import warnings

    from resnet_lib import training

    monkeypatch.setattr(training, "onednn_enabled", lambda: False)
    monkeypatch.setattr(training, "_warned_about_onednn", False)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    x, y = small_digits[:2]
    with pytest.warns(RuntimeWarning, match="import resnet_lib first, or set the environment variable TF_ENABLE_ONEDNN_OPTS=1"):
        train(build_network(8, input_shape=(16, 16, 3)), x, y, epochs=1, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        train(build_network(8, input_shape=(16, 16, 3)), x, y, epochs=1, progress=False)  # once is enough

    monkeypatch.setattr(training, "_warned_about_onednn", False)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")  # switched off on purpose: respected, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        train(build_network(8, input_shape=(16, 16, 3)), x, y, epochs=1, progress=False)


@tensorflow_only
def test_the_test_suite_runs_with_the_fast_kernels():
    """`make test` exports TF_ENABLE_ONEDNN_OPTS=1, so tests train as the book does (skip elsewhere)."""
    import os

    from resnet_lib.training import FAST_OPTIONS, onednn_enabled

    if os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "1":
        pytest.skip("run outside `make test`: TF_ENABLE_ONEDNN_OPTS is not 1")
    assert FAST_OPTIONS["onednn"] and onednn_enabled()
