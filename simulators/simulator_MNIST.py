"""Latency-coded MNIST: each pixel brighter than 1 spikes once, bright pixels first.

Usage as in the reference code::

    from simulators.simulator_MNIST import p, mnist_model
    p["NUM_HIDDEN"] = 256
    mnist_model(p).train(p)

The training images are shuffled once (TRAIN_DATA_SEED): the first N_TRAIN train, the last
N_VALIDATE validate; the test images are shuffled with TEST_DATA_SEED and the first N_TEST
kept. ``train_test`` trains on all 60,000 training images.
"""
import numpy as np

from eventprop.data import latency_spike_times, load_mnist
from eventprop.params import ParameterError, boolean, choice, class_list, integer

from .base import RUN_DEFAULTS, ExampleSet, Simulator, phase_columns
from .defaults import p as NETWORK_DEFAULTS

p = dict(NETWORK_DEFAULTS)
p.update(RUN_DEFAULTS)
p.update({
    "NAME": "mnist",
    "DEBUG_HIDDEN_N": False,      # hidden spike statistics in NAME_results.txt
    "N_EPOCH": 20,
    "N_TRAIN": 55000,              # training images (first of the shuffled 60,000)
    "N_VALIDATE": 5000,            # validation images (last of the shuffled 60,000)
    "N_TEST": 10000,               # test images
    "DOWNLOAD": True,             # fetch missing MNIST files into DATA_DIR/MNIST/raw
    "REDUCED_CLASSES": None,      # a list of digits to keep, e.g. [0, 1]; None: all ten
    "EVALUATION": "random",       # the validation images are a random part of the training set
    "AVG_SNSUM": False,            # batch-averaged spike counts: SHD simulator only
    "CUDA_VISIBLE_DEVICES": True,  # the cuda backend uses the first visible GPU
    "DT_MS": 1.0,
    "TRIAL_MS": 20.0,
    "N_MAX_SPIKE": 50,
    "NUM_HIDDEN": 128,
    "INPUT_HIDDEN_MEAN": 0.078,
    "INPUT_HIDDEN_STD": 0.045,
    "HIDDEN_OUTPUT_MEAN": 0.2,
    "HIDDEN_OUTPUT_STD": 0.37,
    "HIDDEN_HIDDEN_MEAN": 0.2,
    "HIDDEN_HIDDEN_STD": 0.37,
    "PDROP_INPUT": 0.2,
    "LBD_UPPER": 5e-6,
    "LBD_LOWER": 1e-3,
    "NU_UPPER": 2.0,
    "RHO_UPPER": 5000.0,
    "GLB_UPPER": 1e-5,
    "ETA": 0.01,
    "LOSS_TYPE": "sum_weigh_exp",   # the reference default avg_xentropy learns slower here
    "TAU_0": 0.5,
    "TAU_1": 6.4,
    "ALPHA": 3e-3,
})


class MNIST(Simulator):
    defaults = p
    rules = {"N_TRAIN": integer(1), "N_VALIDATE": integer(0), "N_TEST": integer(1),
             "DEBUG_HIDDEN_N": boolean, "DOWNLOAD": boolean, "REDUCED_CLASSES": class_list,
             "EVALUATION": choice("random"),
             "AVG_SNSUM": choice(False),
             "CUDA_VISIBLE_DEVICES": choice(True)}
    num_input = 28 * 28
    results_header = "# epoch train_accuracy train_loss eval_accuracy eval_loss\n"

    def check(self, p=None):
        p = super().check(p)
        for key, limit in (("N_TRAIN", 60000), ("N_VALIDATE", 60000), ("N_TEST", 10000)):
            if p[key] > limit:
                raise ParameterError(f"parameter '{key}' = {p[key]} is invalid: MNIST has "
                                     f"{limit} such images")
        if p["REDUCED_CLASSES"] and max(p["REDUCED_CLASSES"]) > 9:
            raise ParameterError(f"parameter 'REDUCED_CLASSES' = {p['REDUCED_CLASSES']!r} is "
                                 "invalid: MNIST has the digits 0-9")
        return p

    def num_output(self, p):
        return len(p["REDUCED_CLASSES"]) if p["REDUCED_CLASSES"] else 10

    def splits(self, p, full_train=False):
        data = load_mnist(p["DATA_DIR"], download=p["DOWNLOAD"])

        def encode(images):
            return latency_spike_times(images, p["TRIAL_MS"], p["DT_MS"])

        def keep(images, labels, order):
            images, labels = images[order], labels[order]
            if p["REDUCED_CLASSES"]:
                # label i is the i-th digit of REDUCED_CLASSES
                lookup = np.full(10, -1)
                lookup[p["REDUCED_CLASSES"]] = np.arange(len(p["REDUCED_CLASSES"]))
                mask = lookup[labels] >= 0
                images, labels = images[mask], lookup[labels[mask]]
            return ExampleSet(images, labels, encode)

        train_order = np.random.default_rng(p["TRAIN_DATA_SEED"]).permutation(60000)
        test_order = np.random.default_rng(p["TEST_DATA_SEED"]).permutation(10000)
        x, y = data["train_images"], data["train_labels"]
        return {"train": keep(x, y, train_order if full_train else
                              train_order[:p["N_TRAIN"]]),
                "validation": keep(x, y, train_order[len(train_order) - p["N_VALIDATE"]:])
                if p["N_VALIDATE"] else None,
                "test": keep(data["test_images"], data["test_labels"],
                             test_order[:p["N_TEST"]])}

    def results_line(self, epoch, phases, epoch_seconds, elapsed, hidden_stats):
        line = [epoch] + phase_columns(phases)
        if self.p["DEBUG_HIDDEN_N"]:
            for stats in hidden_stats:
                line += list(stats[:4])
        return " ".join(str(x) for x in line)


mnist_model = MNIST   # the reference code's name
