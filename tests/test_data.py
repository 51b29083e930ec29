"""The data loaders, on the bundled digits and on small SIGNS-layout files the tests write."""

import contextlib
import hashlib
import socket
import threading
import time

import h5py
import keras
import numpy as np
import pytest

from resnet_lib import DatasetUnavailableError, load_dataset
from resnet_lib.files import new_file_mode
from resnet_lib import data as data_module


def write_signs_file(path, prefix, count, rng, classes=6, size=64, layout_ok=True):
    with h5py.File(path, "w") as file:
        file[f"{prefix}_set_x"] = rng.integers(0, 256, size=(count, size, size, 3), dtype=np.uint8)
        file[f"{prefix}_set_y" if layout_ok else "labels"] = rng.integers(0, classes, size=count)
        file["list_classes"] = np.arange(classes)
    return path


@pytest.fixture
def signs_dir(tmp_path, rng):
    write_signs_file(tmp_path / "train_signs.h5", "train", 12, rng)
    write_signs_file(tmp_path / "test_signs.h5", "test", 6, rng)
    return tmp_path


def sha256_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- digits, the offline default -----------------------------------------------------------------

def test_digits_default_split_shapes_and_range():
    data = load_dataset()
    assert data.x_train.shape == (1437, 32, 32, 3) and data.x_test.shape == (360, 32, 32, 3)
    assert data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() and data.x_train.max() == 1.0
    assert data.y_train.dtype == np.int64 and data.class_names == tuple("0123456789") and data.num_classes == 10
    # Stratified: every class holds 20 % of the test set, to within one image.
    counts = np.bincount(data.y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37


def test_digits_are_deterministic_and_respect_size_and_channels():
    first, second = load_dataset("digits"), load_dataset("digits")
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_test, second.y_test)

    grey = load_dataset("digits", image_size=(16, 24), channels=1, normalize=False)
    assert grey.x_train.shape == (1437, 16, 24, 1) and grey.x_train.dtype == np.uint8
    native = load_dataset("digits", image_size=8, channels=1, normalize=False)
    from sklearn.datasets import load_digits

    digits = load_digits()
    # The upsampled training images are real scans: each equals one of sklearn's, rescaled.
    scaled = np.round(digits.images * 255 / 16).astype(np.uint8)
    first_image = native.x_train[0, :, :, 0]
    assert any(np.array_equal(first_image, image) for image in scaled)



def test_resizing_ignores_a_channels_first_keras_setting():
    import keras

    expected = load_dataset("digits", image_size=32)
    keras.config.set_image_data_format("channels_first")
    try:
        data = load_dataset("digits", image_size=32)
    finally:
        keras.config.set_image_data_format("channels_last")
    assert data.x_train.shape == (1437, 32, 32, 3)
    np.testing.assert_array_equal(data.x_train, expected.x_train)

# --- SIGNS ---------------------------------------------------------------------------------------

def test_signs_from_a_local_folder(signs_dir):
    data = load_dataset("signs", data_dir=signs_dir)
    assert data.x_train.shape == (12, 64, 64, 3) and data.x_test.shape == (6, 64, 64, 3)
    assert data.class_names == ("0", "1", "2", "3", "4", "5")
    with h5py.File(signs_dir / "train_signs.h5") as file:
        np.testing.assert_array_equal(data.y_train, file["train_set_y"][:])
        np.testing.assert_allclose(data.x_train, file["train_set_x"][:] / 255.0, atol=1e-6)
    assert load_dataset("signs", data_dir=signs_dir, image_size=32).x_test.shape == (6, 32, 32, 3)


def test_signs_missing_file(signs_dir):
    (signs_dir / "test_signs.h5").unlink()
    with pytest.raises(FileNotFoundError, match=r"`data_dir` .* lacks test_signs.h5"):
        load_dataset("signs", data_dir=signs_dir)
    with pytest.raises(FileNotFoundError, match=r"`data_dir` .* is not a folder"):
        load_dataset("signs", data_dir=signs_dir / "nowhere")


def test_signs_corrupt_file(signs_dir):
    (signs_dir / "train_signs.h5").write_bytes(b"this is not an HDF5 file")
    with pytest.raises(ValueError, match=r"train_signs.h5' is not a readable HDF5 file"):
        load_dataset("signs", data_dir=signs_dir)


def test_signs_wrong_layout(signs_dir, rng):
    write_signs_file(signs_dir / "train_signs.h5", "train", 4, rng, layout_ok=False)
    with pytest.raises(ValueError, match=r"does not have the SIGNS layout: missing key\(s\) train_set_y"):
        load_dataset("signs", data_dir=signs_dir)


def test_signs_labels_out_of_range(signs_dir, rng):
    write_signs_file(signs_dir / "test_signs.h5", "test", 4, rng, classes=9)
    with h5py.File(signs_dir / "test_signs.h5", "a") as file:
        del file["list_classes"]
        file["list_classes"] = np.arange(3)
    with pytest.raises(ValueError, match=r"labels must lie in 0..2"):
        load_dataset("signs", data_dir=signs_dir)


def test_signs_download_verifies_and_caches(signs_dir, tmp_path):
    """A file:// URL stands in for the web: same code path, no network."""
    url = signs_dir.as_uri()
    digests = {name: sha256_of(signs_dir / name) for name in ("train_signs.h5", "test_signs.h5")}
    cache = tmp_path / "cache"
    data = load_dataset("signs", url=url, sha256=digests, cache_dir=cache)
    assert data.x_train.shape == (12, 64, 64, 3)
    assert sorted(p.name for p in cache.iterdir()) == ["test_signs.h5", "train_signs.h5"]
    assert all((cache / name).stat().st_mode & 0o777 == new_file_mode() for name in digests)  # not mkstemp's 0o600

    # Cached and verified: usable without the URL, and not downloaded again.
    (signs_dir / "train_signs.h5").unlink()
    again = load_dataset("signs", cache_dir=cache)
    np.testing.assert_array_equal(again.x_train, data.x_train)
    load_dataset("signs", url=url, sha256=digests, cache_dir=cache)


def test_signs_checksum_mismatch_keeps_nothing(signs_dir, tmp_path):
    digests = {"train_signs.h5": "0" * 64, "test_signs.h5": sha256_of(signs_dir / "test_signs.h5")}
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=r"Checksum mismatch .*train_signs.h5.*not kept"):
        load_dataset("signs", url=signs_dir.as_uri(), sha256=digests, cache_dir=cache)
    assert list(cache.iterdir()) == []


def test_signs_download_requires_checksums(signs_dir, tmp_path):
    with pytest.raises(ValueError, match=r"`sha256` must map each of train_signs.h5, test_signs.h5"):
        load_dataset("signs", url=signs_dir.as_uri(), cache_dir=tmp_path)


def test_signs_no_network_says_what_to_do(tmp_path):
    with socket.socket() as probe:  # a port on this machine that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    digests = {"train_signs.h5": "0" * 64, "test_signs.h5": "0" * 64}
    with pytest.raises(DatasetUnavailableError, match=r"Could not download .*data_dir=.*load_dataset\('digits'\)"):
        load_dataset("signs", url=f"http://127.0.0.1:{port}/signs", sha256=digests, cache_dir=tmp_path, timeout=5)


def test_signs_download_gives_up_on_a_silent_server_without_a_process_wide_timeout(tmp_path):
    """A server that accepts the connection and never answers: the download stops after `timeout`
    seconds with the same clear error, keeps nothing, and leaves the process's socket default alone
    (keras.utils.get_file, which has no timeout of its own, would wait forever here)."""
    default, seen = socket.getdefaulttimeout(), []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()

        def answer_never():
            connection, _ = server.accept()
            with connection, contextlib.suppress(OSError):
                seen.append(socket.getdefaulttimeout())  # while the download waits for an answer
                connection.settimeout(20)  # a client without a timeout fails the test instead of hanging it
                while connection.recv(1024):  # until the client gives up and closes
                    pass

        thread = threading.Thread(target=answer_never, daemon=True)
        thread.start()
        digests = {"train_signs.h5": "0" * 64, "test_signs.h5": "0" * 64}
        start = time.perf_counter()
        with pytest.raises(DatasetUnavailableError, match=r"Could not download .*train_signs.h5: timed out.*data_dir="):
            load_dataset("signs", url=f"http://127.0.0.1:{server.getsockname()[1]}", sha256=digests,
                         cache_dir=tmp_path, timeout=1)
        assert time.perf_counter() - start < 30
        thread.join(10)
    assert seen == [default] and socket.getdefaulttimeout() == default
    assert list(tmp_path.iterdir()) == []


def test_signs_not_available_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_LIB_CACHE", str(tmp_path))
    with pytest.raises(DatasetUnavailableError, match=r"not available locally. Pass data_dir="):
        load_dataset("signs")


# --- CIFAR-10 (keras.datasets, stubbed: no test touches the network) ------------------------------

def test_cifar10_converts_keras_arrays(monkeypatch, rng):
    fake = ((rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, (5, 1))),
            (rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, (3, 1))))
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", lambda: fake)
    data = load_dataset("cifar10")
    assert data.x_train.shape == (5, 32, 32, 3) and data.y_train.shape == (5,)
    np.testing.assert_array_equal(data.y_test, fake[1][1].reshape(-1))
    assert data.class_names[0] == "airplane" and len(data.class_names) == 10


def test_cifar10_offline_says_what_to_do(monkeypatch):
    def offline():
        raise Exception("URL fetch failure on https://www.cs.toronto.edu/...: [Errno -3] name resolution")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(DatasetUnavailableError, match=r"needs internet access.*load_dataset\('digits'\)"):
        load_dataset("cifar10")


# --- bad arguments ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "args, kwargs, pattern",
    [
        (("mnist",), {}, r"`name` must be one of 'digits', 'signs', 'cifar10', received 'mnist'"),
        (("digits",), dict(image_size=0), r"`image_size` must be a positive int"),
        (("digits",), dict(image_size=(32, 32, 3)), r"`image_size` must be a positive int"),
        (("digits",), dict(channels=2), r"`channels` must be 1 or 3"),
        (("digits",), dict(data_dir="."), r"`data_dir` only applies to name='signs'"),
        (("signs",), dict(data_dir=".", url="http://example.invalid"), r"either `data_dir`.*or `url`"),
    ],
)
def test_bad_arguments_name_the_argument(args, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        load_dataset(*args, **kwargs)


def test_huge_image_size_is_refused_before_anything_is_resized(monkeypatch):
    monkeypatch.setattr(data_module, "_to_format", lambda *a, **k: pytest.fail("resized despite the size"))
    monkeypatch.setattr(data_module, "_load_digits", lambda: pytest.fail("loaded despite the size"))
    # 1797 x 10000 x 10000 x 3 x 4 bytes = 2008 GiB: more than any machine's memory.
    with pytest.raises(ValueError, match=r"`image_size` 10000x10000 is too large for the 1797 images of 'digits': as "
                                         r"float32 they would need 2008.3 GiB \(1797 x 10000 x 10000 x 3 channels x 4 bytes\)"):
        load_dataset("digits", image_size=10000)


def test_image_size_limit_is_a_quarter_of_the_memory(monkeypatch):
    monkeypatch.setattr(data_module, "_physical_memory", lambda: 16 * 2**30)
    monkeypatch.setattr(data_module, "_load_cifar10", lambda timeout: pytest.fail("downloaded despite the size"))
    with pytest.raises(ValueError, match=r"would need 33.6 GiB \(60000 x 224 x 224 x 3 channels x 4 bytes\), more than "
                                         r"the limit of 4.0 GiB, a quarter of this machine's 16.0 GiB of memory .*"
                                         r"Choose image_size=77 or less\."):
        load_dataset("cifar10", image_size=224)
    with pytest.raises(ValueError, match=r"Choose image_size=446 or less"):
        load_dataset("digits", image_size=447)
    assert load_dataset("digits", image_size=8).x_train.shape == (1437, 8, 8, 3)  # well within


def test_signs_image_size_is_checked_once_the_files_are_counted(signs_dir, monkeypatch):
    monkeypatch.setattr(data_module, "_physical_memory", lambda: 2**30)
    monkeypatch.setattr(data_module, "_to_format", lambda *a, **k: pytest.fail("resized despite the size"))
    with pytest.raises(ValueError, match=r"too large for the 18 images of 'signs'"):
        load_dataset("signs", data_dir=signs_dir, image_size=2500)


def test_signs_files_must_hold_numeric_non_empty_arrays(signs_dir, rng):
    path = signs_dir / "train_signs.h5"
    with h5py.File(path, "a") as file:
        del file["train_set_y"]
        file["train_set_y"] = np.array([b"cat"] * 12)
    with pytest.raises(ValueError, match=r"train_signs.h5': `train_set_x` and `train_set_y` must hold numbers, found "
                                         r"dtypes uint8 and \|S3"):
        load_dataset("signs", data_dir=signs_dir)
    write_signs_file(path, "train", 0, rng)
    with pytest.raises(ValueError, match=r"train_signs.h5': `train_set_x` holds no images \(shape \(0, 64, 64, 3\)\)"):
        load_dataset("signs", data_dir=signs_dir)
    write_signs_file(path, "train", 3, rng)
    with h5py.File(path, "a") as file:
        del file["train_set_y"]
        file["train_set_y"] = np.array([0.0, 2.5, 1.0])
    with pytest.raises(ValueError, match=r"`train_set_y` must hold integer class labels, found 2.5"):
        load_dataset("signs", data_dir=signs_dir)


def test_module_lists_its_datasets():
    assert data_module.DATASETS == ("digits", "signs", "cifar10")
