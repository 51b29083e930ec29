"""Fixtures shared by the test files.

Keras is imported inside the fixtures, not here: under pytest-xdist the controlling process loads this file too,
but runs no test, and importing TensorFlow there would delay every worker's start by some 8 seconds.
"""

import gc

import numpy as np
import pytest


def pytest_collection_finish(session):
    """Once the test modules are imported (Keras and TensorFlow with them), their objects are set aside from
    Python's garbage collector (`gc.freeze`): they live to the end of the run anyway, and every full
    collection would otherwise walk through all of them again (about a tenth of a test file's time)."""
    gc.freeze()


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    """Every test starts with fresh layer-name counters and a fixed seed.

    Without Python's garbage collection (`free_memory=False`): a full collection after every test
    costs about half a second once TensorFlow is loaded, minutes over the suite; Python still
    collects on its own schedule.
    """
    import keras

    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(1234)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(20161)
