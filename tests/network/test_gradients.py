"""EventProp gradients against central finite differences of the loss.

Tiny networks (4 inputs, 6 hidden, 3 outputs, 3 examples in a batch of 4) in double
precision with dt = 0.25 us, so that the gradient's time discretisation error is O(dt / tau)
~ 1e-4. Each weight array is perturbed along its own gradient; the perturbation is the
smallest that moves some spike by at least 200 steps with no spike appearing or
disappearing (see finite_differences.py).

Tolerances: where no spike moves (the loss is smooth in those weights), only the O(dt)
discretisation separates the two: 0.3 %. Where spikes move, the finite difference also sees
every spike time rounded to its step, a relative error of about 1/(steps moved) per spike
that the fit over twelve perturbations averages down: 2 %.
"""
import os

import numpy as np
import pytest

import models
from simulators.base import EventPropNetwork

from finite_differences import directional_derivative

BASE = dict(NUM_HIDDEN=6, DT_MS=0.00025, TRIAL_MS=20.0, N_BATCH=4, PRECISION="double",
            MODEL_SEED=3, INPUT_HIDDEN_MEAN=1.0, INPUT_HIDDEN_STD=0.5,
            HIDDEN_OUTPUT_MEAN=0.5, HIDDEN_OUTPUT_STD=0.5, N_MAX_SPIKE=50, PDROP_INPUT=0.0,
            TAU_0=2.0, ALPHA=0.01)
# Spike-time losses need every label neuron to spike (a silent one has a flat loss), and the
# max loss needs its maximum away from the kink a negative weight puts into V (see README)
POSITIVE_OUTPUT = dict(HIDDEN_OUTPUT_MEAN=1.5, HIDDEN_OUTPUT_STD=0.3)
SMOOTH_TOLERANCE = 3e-3
SPIKE_TOLERANCE = 2e-2


def examples():
    rng = np.random.default_rng(0)
    X = [(rng.uniform(0, 12, 12), rng.integers(0, 4, 12)) for _ in range(3)]
    return X, np.array([0, 1, 2])


def check_all_arrays(p):
    net = EventPropNetwork({**BASE, "BACKEND": os.environ["EVENTPROP_BACKEND"], **p}, 4, 3)
    X, Y = examples()
    loss, grads = net.gradients(X, Y)
    assert np.isclose(loss, net.loss(X, Y), rtol=1e-12)
    assert set(grads) == set(net.get_weights())
    errors = {}
    for key, g in grads.items():
        norm = np.linalg.norm(g)
        assert norm > 0, f"{key}: zero gradient"
        slope, shift, eps = directional_derivative(net, X, Y, key, g / norm)
        error = abs(slope - norm) / norm
        tolerance = SPIKE_TOLERANCE if shift else SMOOTH_TOLERANCE
        assert error < tolerance, (f"{key}: finite difference {slope:.6g}, gradient {norm:.6g} "
                                   f"(eps {eps}, spikes moved up to {shift} steps)")
        errors[key] = error
    print(f"largest relative errors {p}: {errors}")
    return errors


@pytest.mark.parametrize("loss_type", models.LOSS_TYPES)
def test_every_loss(loss_type):
    extra = POSITIVE_OUTPUT if loss_type in models.FIRST_SPIKE_LOSSES + ("max",) else {}
    check_all_arrays({"LOSS_TYPE": loss_type, **extra})


@pytest.mark.parametrize("architecture", [
    dict(RECURRENT=True, HIDDEN_HIDDEN_STD=0.3),
    dict(N_HID_LAYER=2, HIDDEN_HIDDENFWD_MEAN=0.8, HIDDEN_HIDDENFWD_STD=0.4),
    dict(N_HID_LAYER=2, RECURRENT=True, HIDDEN_HIDDEN_STD=0.2, HIDDEN_HIDDENFWD_MEAN=0.8,
         HIDDEN_HIDDENFWD_STD=0.4),
    dict(HIDDEN_NEURON_TYPE="ALIF", B_INCR=0.3, TAU_B=10.0),
    dict(HIDDEN_NEURON_TYPE="hetLIF", OUTPUT_NEURON_TYPE="hetLI"),
    dict(TRAIN_TAU=True, TRAIN_TAU_OUTPUT=True, HIDDEN_NEURON_TYPE="hetLIF",
         OUTPUT_NEURON_TYPE="hetLI"),
    dict(V_RESET=-0.3, V_THRESH=0.8),
    dict(N_INPUT_DELAY=2, INPUT_DELAY=3.0, INPUT_HIDDEN_MEAN=0.5),
], ids=["recurrent", "two_layers", "two_layers_recurrent", "ALIF", "hetLIF", "train_tau",
        "v_reset", "input_delays"])
def test_architectures(architecture):
    check_all_arrays({"LOSS_TYPE": "sum_weigh_exp", **architecture})
