"""Which Keras backend the tests run on: TensorFlow for `make test`, JAX or PyTorch for `make test-backends`."""

import importlib.util
import os

import keras


def test_keras_runs_on_the_backend_asked_for():
    asked = os.environ.get("KERAS_BACKEND", "tensorflow")
    assert keras.backend.backend() == asked
    if asked != "tensorflow":
        # make test-backends' environments have no TensorFlow: resnet_lib's core must not need it.
        assert importlib.util.find_spec("tensorflow") is None, "TensorFlow is installed beside another backend"
        import resnet_lib

        assert resnet_lib.build_network(8).count_params() > 0
