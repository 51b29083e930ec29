"""Seeded training, JSON histories and per-layer gradient norms."""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from pathlib import Path

import keras
import numpy as np

from resnet_lib.batch_norm import batch_norm_kernel as use_batch_norm_kernel
from resnet_lib.batch_norm import choose_kernel
from resnet_lib.validation import check_images, check_int, check_labels, describe

OPTIMIZERS = ("adam", "sgd")

#: The speed options `train` uses, chosen by measurement on a 2-core CPU (bench/training_options.py;
#: the book's appendix on performance has the table). `onednn` is a process-wide setting that
#: `import resnet_lib` makes before TensorFlow is imported. XLA (`jit_compile`) stays off: on top of
#: oneDNN it made ResNet50 and the small depth-sweep networks slower, and Keras switches it off anyway
#: while TensorFlow's op determinism is on, which `train`'s seeding enables.
FAST_OPTIONS = {"onednn": True, "jit_compile": False}


def onednn_enabled() -> bool:
    """Whether TensorFlow runs its oneDNN kernels (decided once, when TensorFlow was imported)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:  # another backend, or a TensorFlow without this module
        return False
    return bool(_pywrap_util_port.IsMklEnabled())


_warned_about_onednn = False


def _warn_if_slow_kernels() -> None:
    global _warned_about_onednn
    if _warned_about_onednn or keras.backend.backend() != "tensorflow" or onednn_enabled():
        return
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip() == "0":
        return  # switched off on purpose
    _warned_about_onednn = True
    warnings.warn(
        "TensorFlow runs without its oneDNN kernels, which makes ResNet training several times slower on "
        "CPUs without AVX-512 (see the book's appendix on performance). TensorFlow was imported before "
        "resnet_lib: import resnet_lib first, or set the environment variable TF_ENABLE_ONEDNN_OPTS=1 before "
        "starting Python (set it to 0 to silence this warning).",
        RuntimeWarning,
        stacklevel=3,
    )


def set_seed(seed: int) -> None:
    """Seeds Python, NumPy and the backend, and makes TensorFlow's ops deterministic.

    After `set_seed(s)`, building and training the same model on the same data gives the same
    losses, bit for bit, on the same machine and library versions.
    """
    seed = check_int("seed", seed, minimum=0)
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


class ProgressBar(keras.callbacks.Callback):
    """A tqdm progress bar over epochs, named after the run, that shows the latest metrics (in notebooks too).

    Not `tqdm.keras.TqdmCallback`: that one opens its bar when it is made rather than when training
    starts, and cannot say which network it trains (a sweep trains dozens).
    """

    def __init__(self, epochs: int, description: str = "training"):
        super().__init__()
        self.epochs, self.description, self.bar = epochs, description, None

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.epochs, desc=self.description, unit="epoch")

    def on_epoch_end(self, epoch, logs=None):
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in (logs or {}).items()}, refresh=False)
        self.bar.update(1)

    def on_train_end(self, logs=None):
        self.bar.close()


class _EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def _loss_for(labels: np.ndarray) -> str:
    labels = np.asarray(labels)
    if labels.ndim == 1:
        return "sparse_categorical_crossentropy"
    if labels.ndim == 2:
        return "categorical_crossentropy"
    raise ValueError(
        f"Labels must be integer classes of shape (n,) or one-hot of shape (n, classes), received shape {labels.shape}."
    )


def _model_shapes(model: keras.Model):
    """(input shape without the batch axis, number of outputs) of a single-input, single-output model;
    None for what the model does not tell (e.g. a subclassed model that has not been built)."""
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        return None, None
    input_shape = tuple(inputs[0].shape[1:]) if inputs and len(inputs) == 1 else None
    num_outputs = outputs[0].shape[-1] if outputs and len(outputs) == 1 and len(outputs[0].shape) == 2 else None
    return input_shape, num_outputs


def _symbolic_outputs(model: keras.Model, x: np.ndarray):
    """The number of outputs of `model` on images like `x`, from a symbolic call (no computation);
    None if that call fails, in which case `fit` reports the problem itself."""
    try:
        output = model(keras.KerasTensor((None, *x.shape[1:]), dtype="float32"))  # symbolic: builds, computes nothing
    except Exception:  # noqa: BLE001 - any failure here will resurface, with Keras' message, in fit
        return None
    return output.shape[-1] if isinstance(output, keras.KerasTensor) and len(output.shape) == 2 else None


def _check_data(model: keras.Model, x, y, x_name: str, y_name: str):
    """Checks images and labels against each other and the model; returns them as NumPy arrays."""
    input_shape, num_outputs = _model_shapes(model)
    x = check_images(x_name, x, input_shape=input_shape)
    if num_outputs is None:  # a model that does not declare its outputs (subclassed, Sequential without Input)
        num_outputs = _symbolic_outputs(model, x)
    y = check_labels(y_name, y, num_classes=num_outputs)
    if len(x) != len(y):
        raise ValueError(f"`{x_name}` has {len(x)} images but `{y_name}` has {len(y)} labels; pass one label per image.")
    return x, y


def _make_optimizer(optimizer, learning_rate):
    if isinstance(optimizer, keras.optimizers.Optimizer):
        if learning_rate is not None:
            raise ValueError("Pass `learning_rate` only with an optimizer name; an optimizer instance has its own.")
        return optimizer
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"`optimizer` must be one of {OPTIMIZERS} or a keras optimizer, received {optimizer!r}.")
    learning_rate = 1e-3 if learning_rate is None else float(learning_rate)
    if not learning_rate > 0:
        raise ValueError(f"`learning_rate` must be positive, received {learning_rate!r}.")
    if optimizer == "adam":
        return keras.optimizers.Adam(learning_rate)
    return keras.optimizers.SGD(learning_rate, momentum=0.9)


class EpochBatches(keras.utils.PyDataset):
    """The training set in batches, in a new order every epoch, drawn from a seed (and freshly shifted with `shift`).

    `fit(x, y, shuffle=True)` cannot do this reproducibly: under `keras.utils.set_random_seed` Keras' own
    shuffle draws the same order in every epoch. Here one NumPy generator, seeded with `seed`, draws for
    each epoch a permutation of the images and then, with `shift` > 0, their shifts
    (`resnet_lib.data.random_shift`), so a run repeats bit for bit, its epochs differ, and it does so on
    every Keras backend. The batches are those of this loop, epoch after epoch:

        rng = np.random.default_rng(seed)
        for epoch in range(epochs):
            order = rng.permutation(len(x))
            x_epoch, y_epoch = random_shift(x[order], shift, rng), y[order]
            model.fit(x_epoch, y_epoch, batch_size=batch_size, shuffle=False, ...)

    Two ways to feed them to one `fit`: this object itself, a `keras.utils.PyDataset` for every backend
    (pass `epoch_callback()` to `fit` too: the draws then follow the epochs `fit` starts, not the calls
    Keras makes to look at the data), or, on TensorFlow, `tf_dataset(epochs)`, which `train` uses.

    Args:
        x: images, (n, height, width, channels).
        y: labels, (n,) or (n, classes).
        batch_size: images per batch; the last batch of an epoch holds the rest.
        seed: seed of the orders and shifts.
        shift: if > 0, move each image by up to this many pixels, anew every epoch.
    """

    def __init__(self, x, y, batch_size: int, seed: int, shift: int = 0):
        super().__init__()
        self.x, self.y, self.batch_size, self.shift = x, y, batch_size, shift
        self.rng = np.random.default_rng(seed)
        self.epochs_drawn = 0
        self.x_epoch = self.y_epoch = None

    def _draw(self):
        """The next epoch's order and, with `shift`, its offsets (`resnet_lib.data.shift_offsets`), else None."""
        from resnet_lib.data import shift_offsets

        order = self.rng.permutation(len(self.x))
        offsets = shift_offsets(len(self.x), self.shift, self.rng) if self.shift else None
        self.epochs_drawn += 1
        return order, offsets

    def draw_epoch(self) -> None:
        """Draws the next epoch: a permutation of the images, then (with `shift`) their shifts."""
        from resnet_lib.data import apply_shifts

        order, offsets = self._draw()
        self.x_epoch, self.y_epoch = self.x[order], self.y[order]
        if offsets is not None:
            self.x_epoch = apply_shifts(self.x_epoch, offsets, self.shift)

    def epoch_callback(self) -> keras.callbacks.Callback:
        """The callback that draws epoch e + 1 when `fit` begins it (the first is drawn when first read)."""
        batches = self

        class DrawEpoch(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                while batches.epochs_drawn < epoch + 1:
                    batches.draw_epoch()

        return DrawEpoch()

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int):
        if self.x_epoch is None:  # Keras reads a batch to learn the shapes before the first epoch begins
            self.draw_epoch()
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x_epoch[batch], self.y_epoch[batch]

    def tf_dataset(self, epochs: int):
        """The next `epochs` epochs' batches as one `tf.data.Dataset` (TensorFlow only), for
        `fit(dataset, epochs=epochs, steps_per_epoch=len(self))`: the same batches, faster.

        Why: on a 2-core CPU, ResNet50 fed through a pipeline with Python in it (Keras reads a
        PyDataset through `tf.data.Dataset.from_generator`, batch by batch; a generator of whole
        epochs was no better) trained about a quarter slower, in every epoch, than fed from arrays
        (each in its own process; bench/training_options.py). So the draws are made here, for all
        `epochs` at once (the same draws in the same order as the loop above), and TensorFlow gathers
        every batch from the images by index, as Keras' own pipeline for arrays does, and shifts it
        (`_shift_in_tensorflow`, equal to `apply_shifts`), the next batch while the current one trains.
        """
        import tensorflow as tf

        draws = [self._draw() for _ in range(check_int("epochs", epochs, minimum=1))]
        orders = np.stack([order for order, _ in draws])
        offsets = np.stack([o if o is not None else np.zeros((len(self.x), 2), np.int64) for _, o in draws])
        batch_size, shift = self.batch_size, self.shift

        def epoch_in_batches(order, offsets):
            return tf.data.Dataset.from_tensor_slices((order, offsets)).batch(batch_size)

        def gather(batch, data):
            (order, offsets), (x, y) = batch, data
            images = tf.gather(x, order)
            return (_shift_in_tensorflow(images, offsets, shift) if shift else images), tf.gather(y, order)

        indices = tf.data.Dataset.from_tensor_slices((orders, offsets)).flat_map(epoch_in_batches)
        images_and_labels = tf.data.Dataset.from_tensors((self.x, self.y)).repeat()  # not captured in `gather`
        options = tf.data.Options()
        options.experimental_optimization.apply_default_optimizations = False  # as in Keras' pipeline for arrays
        dataset = tf.data.Dataset.zip((indices, images_and_labels)).map(gather).with_options(options)
        return dataset.apply(tf.data.experimental.assert_cardinality(epochs * len(self))).prefetch(1)


def _shift_in_tensorflow(images, offsets, max_shift: int):
    """`resnet_lib.data.apply_shifts` in TensorFlow ops, for a batch inside a tf.data pipeline: the same
    copies of the same pixels (tests/test_training.py checks them equal)."""
    import tensorflow as tf

    height, width = images.shape[1], images.shape[2]
    padded = tf.pad(images, [[0, 0], [max_shift, max_shift], [max_shift, max_shift], [0, 0]])
    rows = offsets[:, :1] + tf.range(height, dtype=offsets.dtype)  # (batch, height): the padded rows kept
    columns = offsets[:, 1:] + tf.range(width, dtype=offsets.dtype)
    kept_rows = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(kept_rows, columns, axis=2, batch_dims=1)


def build_training_state(model: keras.Model, x_batch, y_batch) -> None:
    """Creates a compiled model's optimizer slots and metric totals now, from the shapes of one batch.

    Keras creates them inside the first training step when no distribution strategy is set, and on
    TensorFlow a `tf.function` that creates variables is traced a second time without them: the first
    epoch then starts after two traces of the whole training step. Created beforehand (as `fit` itself
    does under a strategy, with Keras' `_symbolic_build`), the step is traced once: ResNet50's first
    `fit` takes about 17 s instead of 34 s on a 2-core CPU, and the training is the same, bit for bit
    (tests/test_training.py checks both). Nothing to do on JAX or PyTorch, or for a model whose state
    exists already; a Keras without `_symbolic_build` traces twice, as before.

    Args:
        model: a compiled `keras.Model`.
        x_batch, y_batch: a batch of images and labels as `fit` will see them (only shapes and dtypes are read).
    """
    build = getattr(model, "_symbolic_build", None)
    if build is not None and keras.backend.backend() == "tensorflow":
        build(data_batch=(x_batch, y_batch))


def train(
    model: keras.Model,
    x_train,
    y_train,
    *,
    validation_data=None,
    epochs: int = 10,
    batch_size: int = 32,
    optimizer="adam",
    learning_rate: float | None = None,
    seed: int = 0,
    progress: bool = True,
    callbacks=(),
    augment_shift: int = 0,
    batch_norm_kernel: str = "auto",
) -> dict:
    """Compiles and fits `model` reproducibly and returns its history as a plain dict.

    The loss follows the labels: sparse categorical cross-entropy for integer labels of shape
    (n,), categorical cross-entropy for one-hot labels of shape (n, classes). Accuracy is tracked.
    Call `set_seed(seed)` *before building* the model as well if the initial weights must repeat;
    `train` seeds the shuffling and dropout with `seed`.

    Args:
        model: an uncompiled or compiled `keras.Model` ending in a softmax; it is (re)compiled.
        x_train: images, (n, height, width, channels).
        y_train: labels, (n,) integers or (n, classes) one-hot.
        validation_data: optional (x_val, y_val) evaluated after every epoch.
        epochs: number of passes over the training data.
        batch_size: images per gradient step.
        optimizer: "adam", "sgd" (with momentum 0.9) or a `keras.optimizers.Optimizer`.
        learning_rate: for a named optimizer; default 1e-3.
        seed: seed of the batch order, new every epoch (and of the shifts).
        progress: show a progress bar over epochs.
        callbacks: further Keras callbacks.
        augment_shift: if > 0, every epoch trains on a fresh copy of `x_train` in which each image
            is moved by up to this many pixels (`resnet_lib.data.random_shift`), drawn from `seed`.
        batch_norm_kernel: how the model's batch norms train: "auto" (default: TensorFlow's fused
            kernel on a CPU, where it is faster, Keras' own layer elsewhere), "fused" or "keras". The
            model keeps its `keras.layers.BatchNormalization` layers either way (`resnet_lib.batch_norm`);
            the two kernels agree to float32 round-off, not bit for bit.

    Returns:
        {"loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...],
        "epoch_seconds": [...]}: one float per epoch (the `val_` entries only with
        `validation_data`). The batches come from `EpochBatches`.

    Raises:
        ValueError: before anything is compiled, for bad arguments and for data that training would
            choke on or silently learn nothing from: images that are not a non-empty, numeric, finite
            (n, height, width, channels) array of the model's input shape; integer labels outside
            0..outputs - 1, NaN or fractional (3.0 is fine, 0.5 is not); one-hot rows of the wrong
            width or that do not sum to 1; as many labels as images; `validation_data` that is not a
            pair (x_val, y_val) with the same checks and labels in the same form as `y_train`.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model, received {type(model).__name__}.")
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    augment_shift = check_int("augment_shift", augment_shift, minimum=0)
    set_seed(seed)  # first: checking the data may build an unbuilt model, whose weights should follow `seed`
    x_train, y_train = _check_data(model, x_train, y_train, "x_train", "y_train")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(
                f"`validation_data` must be a pair (x_val, y_val), received {describe(validation_data)}."
            )
        validation_data = _check_data(model, *validation_data, "validation_data[0]", "validation_data[1]")
        if validation_data[1].ndim != y_train.ndim:
            forms = {1: "integer labels of shape (n,)", 2: "one-hot labels of shape (n, classes)"}
            raise ValueError(
                f"The labels of `validation_data` must take the same form as `y_train`, {forms[y_train.ndim]}; "
                f"received shape {validation_data[1].shape}."
            )
    kernel = choose_kernel(model, batch_norm_kernel)  # refuses a bad choice before anything is compiled
    _warn_if_slow_kernels()
    model.compile(optimizer=_make_optimizer(optimizer, learning_rate), loss=_loss_for(y_train), metrics=["accuracy"],
                  jit_compile=FAST_OPTIONS["jit_compile"])
    build_training_state(model, x_train[:batch_size], y_train[:batch_size])  # the step is traced once, not twice

    timer = _EpochTimer()
    batches = EpochBatches(x_train, y_train, batch_size, seed, shift=augment_shift)
    if keras.backend.backend() == "tensorflow":  # the same batches, faster (see EpochBatches.tf_dataset)
        data, steps, all_callbacks = batches.tf_dataset(epochs), len(batches), [timer, *callbacks]
    else:
        data, steps, all_callbacks = batches, None, [batches.epoch_callback(), timer, *callbacks]
    all_callbacks += [ProgressBar(epochs, f"training {model.name}")] if progress else []
    with use_batch_norm_kernel(model, kernel):
        history = model.fit(data, epochs=epochs, steps_per_epoch=steps, shuffle=False, validation_data=validation_data,
                            validation_batch_size=batch_size, verbose=0, callbacks=all_callbacks).history
    history = {key: [float(v) for v in values] for key, values in history.items()}
    history["epoch_seconds"] = [float(s) for s in timer.seconds]
    return history


def save_history(history: dict, path) -> Path:
    """Writes a history dict (lists of floats, plus any JSON-able metadata) as JSON.

    Non-finite numbers (a diverged loss) are stored as null and come back as NaN.
    """
    if not isinstance(history, dict):
        raise TypeError(f"`history` must be a dict, received {type(history).__name__}.")

    from resnet_lib.files import write_atomically

    return write_atomically(path, json.dumps(_json_values(history), indent=1, allow_nan=False) + "\n")


def load_history(path) -> dict:
    """Reads a history written by `save_history`; stored nulls in number lists become NaN."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No history file at {str(path)!r}.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        found = "UTF-16 text" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "not UTF-8 text"
        raise ValueError(
            f"{str(path)!r} is {found} ({error}); histories are JSON in UTF-8, as `save_history` writes them. "
            "Save the file again as UTF-8 (an editor or PowerShell may have re-encoded it)."
        ) from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        ended = error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string")  # both: at the end
        cut = " (it ends mid-way: the file was cut short)" if ended and text.strip() else ""
        raise ValueError(f"{str(path)!r} is not valid JSON{cut}: {error}.") from error
    if not isinstance(data, dict):
        raise ValueError(f"{str(path)!r} must hold a JSON object, found {type(data).__name__}.")

    return _nan_restored(data)


def _json_values(value):
    """`value` as `save_history` stores it: plain JSON types, non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): _json_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_values(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _nan_restored(value):
    """Stored JSON as `load_history` returns it: the nulls of number lists back to NaN."""
    if isinstance(value, dict):
        return {k: _nan_restored(v) for k, v in value.items()}
    if isinstance(value, list) and value and all(v is None or isinstance(v, (int, float)) for v in value):
        return [math.nan if v is None else v for v in value]
    if isinstance(value, list):
        return [_nan_restored(v) for v in value]
    return value


def as_stored(history: dict) -> dict:
    """`history` as `load_history` would read it back after `save_history` wrote it (no file involved)."""
    return _nan_restored(json.loads(json.dumps(_json_values(history), allow_nan=False)))


def gradient_norms(model: keras.Model, x, y, *, training: bool = True) -> dict[str, float]:
    """L2 norm of the loss gradient with respect to each convolution and dense kernel, for one batch.

    Useful to see gradients shrink (or not) from the output back to the input. The loss is the
    cross-entropy matching the labels (see `train`).

    Args:
        model: a `keras.Model` ending in a softmax.
        x: a batch of images, (batch, height, width, channels).
        y: its labels, (batch,) integers or (batch, classes) one-hot.
        training: run batch norm in training mode (batch statistics), as during a training step.

    Returns:
        {layer name: gradient norm}, from the input side to the output side.

    The model is left as it was found: a forward pass in training mode moves batch norm's moving
    statistics (and a dropout layer's seed), so every non-trainable variable is restored afterwards, and
    measuring before training changes nothing of the training that follows.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model, received {type(model).__name__}.")
    x, y = _check_data(model, x, y, "x", "y")
    loss_fn = keras.losses.get(_loss_for(y))
    kernels = [(layer.name, layer.kernel) for layer in model.layers if getattr(layer, "kernel", None) is not None]
    if not kernels:
        raise ValueError(f"Model {model.name!r} has no convolution or dense kernels.")
    x = np.asarray(x, dtype=np.float32)
    state = [keras.ops.convert_to_numpy(variable.value) for variable in model.non_trainable_variables]
    try:
        norms = _KERNEL_GRADIENT_NORMS.get(keras.backend.backend(), _unsupported_gradients)(
            model, loss_fn, x, y, training, [k for _, k in kernels])
    finally:
        for variable, value in zip(model.non_trainable_variables, state):
            variable.assign(value)
    return {name: norm for (name, _), norm in zip(kernels, norms)}


# One way per Keras backend to differentiate the mean loss with respect to some variables and take the
# gradients' L2 norms: Keras 3 has no backend-neutral gradient, so each backend's own autodiff is used (as
# Keras' own train steps do).

def _tensorflow_gradients(model, loss_fn, x, y, training, variables):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(loss_fn(y, model(tf.convert_to_tensor(x), training=training)))
    return [float(tf.norm(g)) for g in tape.gradient(loss, [variable.value for variable in variables])]


def _jax_gradients(model, loss_fn, x, y, training, variables):
    import jax

    trainable = [variable.value for variable in model.trainable_variables]
    non_trainable = [variable.value for variable in model.non_trainable_variables]
    positions = [next(i for i, v in enumerate(model.trainable_variables) if v is variable) for variable in variables]

    def loss(values):
        predictions, _ = model.stateless_call(values, non_trainable, x, training=training)
        return keras.ops.mean(loss_fn(y, predictions))

    gradients = jax.grad(loss)(trainable)
    return [_norm(gradients[i]) for i in positions]


def _torch_gradients(model, loss_fn, x, y, training, variables):
    import torch

    loss = keras.ops.mean(loss_fn(y, model(x, training=training)))
    gradients = torch.autograd.grad(loss, [variable.value for variable in variables])
    return [_norm(g.detach().cpu().numpy()) for g in gradients]


def _norm(gradient) -> float:
    return float(np.linalg.norm(np.asarray(gradient, dtype=np.float64)))


def _unsupported_gradients(model, *_):
    raise RuntimeError(f"gradient_norms supports Keras' tensorflow, jax and torch backends, not "
                       f"{keras.backend.backend()!r}.")


_KERNEL_GRADIENT_NORMS = {"tensorflow": _tensorflow_gradients, "jax": _jax_gradients, "torch": _torch_gradients}
