"""Datasets for the book, with an offline default.

`load_dataset(name)` returns a `Dataset` of train/test images and integer labels plus the class
names, always the same for the same arguments:

* `"digits"`: the offline default. scikit-learn ships 1,797 real 8x8 scans of handwritten digits;
  they are upsampled to `image_size` (32x32 by default) with a fixed stratified split of 1,437
  training and 360 test images. Works without any network.
* `"signs"`: the SIGNS hand-sign images (6 classes, 64x64x3) of the deeplearning.ai assignment, in
  its h5 layout (`train_signs.h5`, `test_signs.h5`), read from `data_dir`, or downloaded from
  `url` with sha256 verification into a cache.
* `"cifar10"`: CIFAR-10 through `keras.datasets` (needs internet the first time).
"""

from __future__ import annotations

import contextlib
import hashlib
import numbers
import os
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np

from resnet_lib._network import socket_timeout

DATASETS = ("digits", "signs", "cifar10")
DEFAULT_IMAGE_SIZE = {"digits": 32, "signs": 64, "cifar10": 32}
SIGNS_FILES = ("train_signs.h5", "test_signs.h5")
SIGNS_KEYS = {"train_signs.h5": ("train_set_x", "train_set_y"), "test_signs.h5": ("test_set_x", "test_set_y")}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DIGITS_TEST_SIZE = 360
DIGITS_SPLIT_SEED = 0
#: Train + test images of the data sets whose size is fixed (SIGNS is counted once its files are read).
IMAGE_COUNTS = {"digits": 1797, "cifar10": 60000}
#: The float32 arrays may take at most this share of the machine's memory: converting and resizing
#: holds about 3.25 arrays of their size at its peak (measured on digits at 256 and 384 pixels).
MEMORY_SHARE = 0.25


class DatasetUnavailableError(RuntimeError):
    """The data set cannot be had here: no network, or no local copy. The message says what to do."""


class Dataset(NamedTuple):
    """Train and test arrays of one data set.

    Attributes:
        x_train: images, (n_train, height, width, channels); float32 in [0, 1], or uint8 in
            [0, 255] with `normalize=False`.
        y_train: integer class labels, (n_train,), int64.
        x_test: images, (n_test, height, width, channels).
        y_test: integer class labels, (n_test,).
        class_names: one name per class; label `k` is `class_names[k]`.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def load_dataset(
    name: str = "digits",
    *,
    image_size=None,
    channels: int = 3,
    normalize: bool = True,
    data_dir=None,
    url: str | None = None,
    sha256: dict | None = None,
    cache_dir=None,
    timeout: float = 60.0,
) -> Dataset:
    """Loads a data set as train/test arrays, deterministically.

    Args:
        name: `"digits"` (offline default), `"signs"` or `"cifar10"`.
        image_size: output height and width, an int or (height, width); by default 32 for digits
            and CIFAR-10 and 64 for SIGNS. Images are resized bilinearly when it differs. The size is
            bounded by memory: the images as float32 (n_images x height x width x channels x 4
            bytes) may take at most a quarter (`MEMORY_SHARE`) of the machine's physical memory (or
            of its container's limit),
            because resizing briefly holds about three more arrays of that size; above that the
            call would run out of memory, so it stops first, saying how much it would need and the
            largest size that fits (on a 16 GiB machine, with 3 channels: 446 pixels for digits, 77
            for CIFAR-10). It is a share of all the memory, not of what is free now, so the same call
            gives the same answer on the same machine. (Where Python cannot tell the memory size,
            on Windows without psutil, there is no bound.)
        channels: 1 (grey) or 3 (RGB; grey images are repeated across channels).
        normalize: scale pixels to float32 in [0, 1]; otherwise uint8 in [0, 255].
        data_dir: SIGNS only: folder holding `train_signs.h5` and `test_signs.h5`.
        url: SIGNS only: base URL the two files are downloaded from (`url + "/train_signs.h5"`).
        sha256: SIGNS only, required with `url`: {file name: expected sha256 hex digest}.
        cache_dir: SIGNS only: where downloads are kept; default `$RESNET_LIB_CACHE/signs` or
            `~/.cache/resnet_lib/signs`. A verified copy there is used without `url`.
        timeout: seconds to wait on the network.

    Returns:
        A `Dataset` (x_train, y_train, x_test, y_test, class_names).

    Raises:
        ValueError: unknown `name`, bad `image_size`/`channels`, images too large for the memory
            (checked before loading where the number of images is known, always before resizing),
            a corrupt file, a wrong h5 layout, non-numeric or empty arrays in it, or a checksum
            mismatch.
        FileNotFoundError: a SIGNS file missing from `data_dir`.
        DatasetUnavailableError: the data needs a download that failed (e.g. no network).
    """
    if name not in DATASETS:
        raise ValueError(
            f"`name` must be one of {', '.join(map(repr, DATASETS))}, received {name!r}. "
            "'digits' works offline; 'signs' needs its h5 files; 'cifar10' needs internet."
        )
    size = _check_image_size(DEFAULT_IMAGE_SIZE[name] if image_size is None else image_size)
    if isinstance(channels, bool) or channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3, received {channels!r}.")
    if name != "signs":
        for argument, value in (("data_dir", data_dir), ("url", url), ("sha256", sha256), ("cache_dir", cache_dir)):
            if value is not None:
                raise ValueError(f"`{argument}` only applies to name='signs', but name={name!r}.")
    if name in IMAGE_COUNTS:  # before downloading or loading anything
        _check_memory(name, IMAGE_COUNTS[name], size, channels)

    if name == "digits":
        x_train, y_train, x_test, y_test, class_names = _load_digits()
    elif name == "signs":
        x_train, y_train, x_test, y_test, class_names = _load_signs(data_dir, url, sha256, cache_dir, timeout)
        _check_memory(name, len(x_train) + len(x_test), size, channels)  # counted now, before resizing
    else:
        x_train, y_train, x_test, y_test, class_names = _load_cifar10(timeout)

    x_train, x_test = (_to_format(x, size, channels, normalize) for x in (x_train, x_test))
    return Dataset(x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), tuple(class_names))


def _check_image_size(image_size) -> tuple[int, int]:
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in image_size)
    ):
        raise ValueError(f"`image_size` must be a positive int or (height, width), received {image_size!r}.")
    return int(image_size[0]), int(image_size[1])


def _physical_memory() -> int | None:
    """Bytes of memory of this machine, or of its container where a (cgroup v2) limit is lower; None
    where neither os.sysconf nor psutil tells."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not POSIX (Windows)
        try:
            import psutil
        except ImportError:
            return None
        memory = int(psutil.virtual_memory().total)
    with contextlib.suppress(OSError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()  # "max" when unlimited
        if limit.isdigit():
            memory = min(memory, int(limit))
    return memory


def _check_memory(name: str, n_images: int, size, channels: int) -> None:
    """Refuses an `image_size` whose float32 arrays would not fit in MEMORY_SHARE of the memory."""
    memory = _physical_memory()
    if memory is None:
        return  # no way to know; documented in load_dataset
    needed, limit = n_images * size[0] * size[1] * channels * 4, MEMORY_SHARE * memory
    if needed <= limit:
        return
    largest = int((limit / (n_images * channels * 4)) ** 0.5)
    gib = 2**30
    raise ValueError(
        f"`image_size` {size[0]}x{size[1]} is too large for the {n_images} images of {name!r}: as float32 they "
        f"would need {needed / gib:.1f} GiB ({n_images} x {size[0]} x {size[1]} x {channels} channels x 4 bytes), "
        f"more than the limit of {limit / gib:.1f} GiB, a quarter of this machine's {memory / gib:.1f} GiB of memory "
        f"(resizing briefly holds about three more copies). Choose image_size={largest} or less."
    )


def _to_format(images: np.ndarray, size, channels: int, normalize: bool) -> np.ndarray:
    """uint8 (n, h, w, c) images -> resized, with `channels` channels, optionally in [0, 1]."""
    images = images.astype(np.float32)
    if images.shape[-1] == 3 and channels == 1:
        images = images @ np.array([0.299, 0.587, 0.114], dtype=np.float32)[:, None]
    elif images.shape[-1] == 1 and channels == 3:
        images = np.repeat(images, 3, axis=-1)
    if tuple(images.shape[1:3]) != size:
        from keras import ops

        # Our arrays are (n, h, w, c) whatever keras.config.image_data_format() says.
        images = ops.convert_to_numpy(
            ops.image.resize(images, size, interpolation="bilinear", data_format="channels_last"))
    images = np.clip(np.round(images), 0, 255)
    return (images / 255.0).astype(np.float32) if normalize else images.astype(np.uint8)


def _load_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images[..., None] * (255.0 / 16.0)  # 0..16 grey levels -> 0..255
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=DIGITS_TEST_SIZE, stratify=digits.target, random_state=DIGITS_SPLIT_SEED
    )
    return x_train, y_train, x_test, y_test, [str(d) for d in range(10)]


# --- SIGNS ----------------------------------------------------------------------------------------

def _default_cache_dir() -> Path:
    root = os.environ.get("RESNET_LIB_CACHE") or Path.home() / ".cache" / "resnet_lib"
    return Path(root) / "signs"


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, destination: Path, expected_sha256: str, timeout: float) -> None:
    """Downloads `url` to `destination` atomically, keeping it only if its sha256 matches.

    Not `keras.utils.get_file`, measured with Keras 3.15: it takes no timeout (its `urlretrieve`
    waited on a silent server for as long as we let it, unless the process-wide socket default is
    changed), writes straight to the final name (a killed download leaves a partial file that
    the cache would then trust), keeps a file that fails its checksum, and says neither which file
    nor what hash it received. `urlopen(timeout=)` bounds this one connection only.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=destination.name + ".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file, urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                file.write(chunk)
        actual = _sha256_of(Path(temporary))
        if actual != expected_sha256.lower():
            raise ValueError(
                f"Checksum mismatch for {url}: expected sha256 {expected_sha256}, got {actual}. The file was "
                "not kept. Check the URL and the `sha256` you passed."
            )
        from resnet_lib.files import new_file_mode

        os.chmod(temporary, new_file_mode())  # mkstemp's file is its owner's only; a download is not a secret
        os.replace(temporary, destination)
    except (urllib.error.URLError, socket.timeout, ConnectionError) as error:
        raise DatasetUnavailableError(
            f"Could not download {url}: {getattr(error, 'reason', error)}. If you are offline, put "
            f"{' and '.join(SIGNS_FILES)} in a folder and pass data_dir=..., or use the offline default "
            "load_dataset('digits')."
        ) from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def _signs_files(data_dir, url, sha256, cache_dir, timeout) -> list[Path]:
    if data_dir is not None:
        if url is not None:
            raise ValueError("Pass either `data_dir` (local files) or `url` (download), not both.")
        folder = Path(data_dir)
        if not folder.is_dir():
            raise FileNotFoundError(f"`data_dir` {str(folder)!r} is not a folder.")
        paths = [folder / file_name for file_name in SIGNS_FILES]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise FileNotFoundError(
                f"`data_dir` {str(folder)!r} lacks {', '.join(missing)}. The SIGNS data set is the pair "
                f"{' and '.join(SIGNS_FILES)} from the deeplearning.ai ResNet assignment."
            )
        return paths

    cache = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    paths = [cache / file_name for file_name in SIGNS_FILES]
    if url is None:
        if all(p.is_file() for p in paths):
            return paths  # verified when they were downloaded
        raise DatasetUnavailableError(
            "The SIGNS data set is not available locally. Pass data_dir='folder with "
            f"{' and '.join(SIGNS_FILES)}', or url='base URL' with sha256={{file name: digest}} to download "
            f"it into {str(cache)!r}; offline, use load_dataset('digits')."
        )
    if not isinstance(sha256, dict) or any(not isinstance(sha256.get(f), str) for f in SIGNS_FILES):
        raise ValueError(
            f"`sha256` must map each of {', '.join(SIGNS_FILES)} to its expected sha256 hex digest when "
            f"`url` is given (downloads are always verified), received {sha256!r}."
        )
    for path in paths:
        if path.is_file() and _sha256_of(path) == sha256[path.name].lower():
            continue
        _download(url.rstrip("/") + "/" + path.name, path, sha256[path.name], timeout)
    return paths


def _read_signs_file(path: Path, keys):
    import h5py

    x_key, y_key = keys
    try:
        with h5py.File(path, "r") as file:
            missing = [k for k in (x_key, y_key, "list_classes") if k not in file]
            if missing:
                raise ValueError(
                    f"{str(path)!r} does not have the SIGNS layout: missing key(s) {', '.join(missing)} (it has "
                    f"{', '.join(sorted(file.keys())) or 'no keys'}); expected {x_key}, {y_key} and list_classes."
                )
            images, labels, classes = np.asarray(file[x_key]), np.asarray(file[y_key]), np.asarray(file["list_classes"])
    except OSError as error:
        raise ValueError(f"{str(path)!r} is not a readable HDF5 file ({error}); it may be corrupt or truncated.") from error

    labels = labels.reshape(-1)
    if images.dtype.kind not in "biuf" or labels.dtype.kind not in "biuf":
        raise ValueError(
            f"{str(path)!r}: `{x_key}` and `{y_key}` must hold numbers, found dtypes {images.dtype} and {labels.dtype}."
        )
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) != len(labels):
        raise ValueError(
            f"{str(path)!r}: `{x_key}` must be (n, height, width, 3) images with one `{y_key}` label each; found "
            f"shapes {images.shape} and {labels.shape}."
        )
    if len(images) == 0:
        raise ValueError(f"{str(path)!r}: `{x_key}` holds no images (shape {images.shape}).")
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):  # NaN fails this too
        raise ValueError(f"{str(path)!r}: `{y_key}` must hold integer class labels, found {labels[labels != np.round(labels)][0].item()!r}.")
    if labels.min() < 0 or labels.max() >= len(classes):
        raise ValueError(f"{str(path)!r}: labels must lie in 0..{len(classes) - 1} (list_classes), found {labels.min()}..{labels.max()}.")
    return images, labels, [c.decode() if isinstance(c, bytes) else str(c) for c in classes.tolist()]


def _load_signs(data_dir, url, sha256, cache_dir, timeout):
    train_path, test_path = _signs_files(data_dir, url, sha256, cache_dir, timeout)
    x_train, y_train, class_names = _read_signs_file(train_path, SIGNS_KEYS[train_path.name])
    x_test, y_test, test_class_names = _read_signs_file(test_path, SIGNS_KEYS[test_path.name])
    if class_names != test_class_names:
        raise ValueError(f"The SIGNS files disagree on list_classes: {class_names} vs {test_class_names}.")
    return x_train, y_train, x_test, y_test, class_names


# --- CIFAR-10 -------------------------------------------------------------------------------------

def _load_cifar10(timeout):
    import keras

    try:
        with socket_timeout(timeout):
            (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as error:  # keras.utils.get_file reports failures with a bare Exception
        raise DatasetUnavailableError(
            f"Could not load CIFAR-10 through keras.datasets ({error}). It needs internet access the first "
            "time (then it is cached in ~/.keras/datasets). Offline, use load_dataset('digits')."
        ) from error
    return x_train, y_train.reshape(-1), x_test, y_test.reshape(-1), list(CIFAR10_CLASSES)


# --- augmentation ---------------------------------------------------------------------------------

def random_shift(images, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Moves every image by a random whole number of pixels, filling the uncovered border with zeros.

    This is the pad-and-crop augmentation of He et al. (2016, section 4.2: pad 4 pixels, crop 32x32
    at random), scaled to the image: each image moves independently by dy, dx in
    [-max_shift, max_shift].

    Args:
        images: (n, height, width, channels).
        max_shift: largest shift in pixels, 0 <= max_shift < min(height, width).
        rng: a `numpy.random.Generator`; the same generator state gives the same shifts.

    Returns:
        An array of the same shape and dtype as `images`.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"`images` must have shape (n, height, width, channels), received shape {images.shape}.")
    from resnet_lib.validation import check_int

    max_shift = check_int("max_shift", max_shift, minimum=0)
    height, width = images.shape[1:3]
    if max_shift >= min(height, width):
        raise ValueError(f"`max_shift` must be smaller than the image size {height}x{width}, received {max_shift}.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` must be a numpy.random.Generator (np.random.default_rng(seed)), received {rng!r}.")
    if max_shift == 0:
        return images.copy()
    return apply_shifts(images, shift_offsets(len(images), max_shift, rng), max_shift)


def shift_offsets(count: int, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """The draw behind `random_shift`: for each of `count` images, where its window starts in the image
    padded by `max_shift` on every side, (row, column) in [0, 2 * max_shift]; an offset of
    `max_shift` leaves the image in place. Shape (count, 2), int64."""
    return rng.integers(0, 2 * max_shift + 1, size=(count, 2))


def apply_shifts(images: np.ndarray, offsets: np.ndarray, max_shift: int) -> np.ndarray:
    """Moves `images` (n, height, width, channels) by `offsets` (n, 2) from `shift_offsets`."""
    height, width = images.shape[1:3]
    padding = ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0))
    padded = np.pad(images, padding)
    rows = offsets[:, 0, None] + np.arange(height)  # (n, height): which padded rows each image keeps
    columns = offsets[:, 1, None] + np.arange(width)
    return padded[np.arange(len(images))[:, None, None], rows[:, :, None], columns[:, None, :]]
