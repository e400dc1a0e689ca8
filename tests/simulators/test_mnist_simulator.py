"""The MNIST simulator on the real MNIST files (in $EVENTPROP_DATA) and on missing ones."""
import os
import pathlib

import numpy as np
import pytest

from eventprop.data import MissingDataError, load_mnist
from eventprop.params import ParameterError
from simulators import simulator_MNIST
from simulators.base import EventPropNetwork
from simulators.simulator_MNIST import MNIST, mnist_model

DATA = os.environ.get("EVENTPROP_DATA")
needs_mnist = pytest.mark.skipif(
    not DATA or not (pathlib.Path(DATA) / "mnist").is_dir(),
    reason="needs the MNIST files: set EVENTPROP_DATA to a folder with mnist/ or MNIST/raw/")


def small(tmp_path, **changes):
    return {**simulator_MNIST.p, "OUT_DIR": str(tmp_path), "DATA_DIR": DATA, "DOWNLOAD": False,
            "N_TRAIN": 640, "N_VALIDATE": 320, "N_TEST": 320, "N_EPOCH": 2, "MODEL_SEED": 2,
            "PROGRESS": False, "BACKEND": os.environ["EVENTPROP_BACKEND"], **changes}


def test_missing_files_are_named(tmp_path):
    p = small(tmp_path, DATA_DIR=str(tmp_path / "nowhere"))
    with pytest.raises(MissingDataError, match="train-images-idx3-ubyte.gz"):
        mnist_model(p).train(p)


def test_more_images_than_mnist_has_is_an_error(tmp_path):
    with pytest.raises(ParameterError, match="N_TEST"):
        MNIST(small(tmp_path, N_TEST=10001))


@needs_mnist
def test_splits_follow_the_seeds(tmp_path):
    p = small(tmp_path, N_TRAIN=100, N_VALIDATE=50)
    data = MNIST(p).splits(p)
    raw = load_mnist(DATA)
    order = np.random.default_rng(p["TRAIN_DATA_SEED"]).permutation(60000)
    np.testing.assert_array_equal(data["train"].labels, raw["train_labels"][order[:100]])
    np.testing.assert_array_equal(data["validation"].labels, raw["train_labels"][order[-50:]])
    assert len(MNIST(p).splits(p, full_train=True)["train"]) == 60000
    X, Y = data["test"].batch(np.arange(3))
    # latency code: every spike inside the trial, one per bright pixel
    for (t, ids), image in zip(X, data["test"].inputs[:3]):
        assert len(ids) == np.sum(image.ravel() > 1)
        assert t.min() >= 2 * p["DT_MS"] and t.max() <= p["TRIAL_MS"] - 2 * p["DT_MS"]


@needs_mnist
def test_reduced_classes_relabel_in_the_given_order(tmp_path):
    p = small(tmp_path, REDUCED_CLASSES=[7, 2], N_TRAIN=2000)
    sim = MNIST(p)
    assert sim.num_output(p) == 2
    data = sim.splits(p)["train"]
    raw = load_mnist(DATA)
    order = np.random.default_rng(p["TRAIN_DATA_SEED"]).permutation(60000)[:2000]
    digits = raw["train_labels"][order]
    kept = digits[np.isin(digits, [7, 2])]
    np.testing.assert_array_equal(data.labels, (kept == 2).astype(int))


@needs_mnist
def test_a_short_run_learns(tmp_path):
    p = small(tmp_path, N_TRAIN=1280, N_EPOCH=3)
    sim = mnist_model(p)
    net = EventPropNetwork(sim.network_params(p), 784, 10)
    data = sim.splits(p)["validation"]
    correct = 0
    for start in range(0, len(data), 32):
        X, Y = data.batch(np.arange(start, min(start + 32, len(data))))
        correct += net.evaluate_batch(X, Y).n_correct
    untrained = correct / len(data)
    trained = sim.train(p)["validation"]["accuracy"]
    print(f"MNIST validation accuracy: untrained {untrained:.3f}, trained {trained:.3f}")
    assert trained > 0.6          # chance: 0.1
    assert trained > untrained + 0.3
