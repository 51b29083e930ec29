import keras
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    """Every test starts with fresh layer-name counters and a fixed seed.

    Without Python's garbage collection (`free_memory=False`): a full collection after every test
    costs about half a second once TensorFlow is loaded, minutes over the suite; Python still
    collects on its own schedule.
    """
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(1234)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(20161)
