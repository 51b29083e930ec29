import keras
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    """Every test starts with fresh layer-name counters and a fixed seed."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(1234)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(20161)
