"""Finite differences of ``EventPropNetwork.loss`` along a direction, for gradient tests.

The loss of a discrete-time simulation moves a spike only in whole steps, so a perturbation
must move spikes by many steps (while no spike appears or disappears) for the finite
difference to see spike timing: with the largest spike shift K steps, rounding each spike
time to its step is a relative error of about 1/K. The slope is fitted to the loss at six
perturbations, which averages this rounding and removes the curvature term.
"""
import numpy as np

FRACTIONS = np.concatenate([-np.linspace(1, 1 / 6, 6), np.linspace(1 / 6, 1, 6)])
EPSILONS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


def spike_state(net):
    """Per spiking population: spike counts and the rings of spike steps (copies), the ring
    as (batch instance * neuron, slot): the models keep slot k of all neurons side by side."""
    out = {}
    nmax = net.p["N_MAX_SPIKE"]
    for pop in net.hidden + [net.output]:
        if "n_spk" in pop.vars:
            pop.vars["n_spk"].pull_from_device()
            ring = pop.extra_global_params["ring_step"]
            ring.pull_from_device()
            slots = np.array(ring.view).reshape(-1, nmax, pop.num_neurons)
            out[pop.name] = (np.array(pop.vars["n_spk"].view),
                             slots.transpose(0, 2, 1).reshape(-1, nmax))
    return out


def _shift(net, a, b):
    nmax = net.p["N_MAX_SPIKE"]
    shift = 0
    for name in a:
        counts = np.minimum(a[name][0], nmax).ravel()
        ra, rb = a[name][1], b[name][1]
        for row in np.flatnonzero(counts):
            c = counts[row]
            shift = max(shift, int(np.abs(ra[row, :c] - rb[row, :c]).max()))
    return shift


def directional_derivative(net, X, Y, key, direction, min_shift=200):
    """(finite-difference slope of the loss along ``direction`` for weights ``key``, largest
    spike shift in steps, epsilon), at the smallest epsilon of EPSILONS that moves some spike
    by at least ``min_shift`` steps with no spike count changing anywhere; where no spike
    moves at all (a loss smooth in these weights), at the smallest epsilon."""
    w0 = net.get_weights()[key]
    net.loss(X, Y)
    reference = spike_state(net)
    shifts = []
    try:
        for eps in EPSILONS:
            losses, states = [], []
            for f in FRACTIONS:
                net.set_weights({key: w0 + f * eps * direction})
                losses.append(net.loss(X, Y))
                states.append(spike_state(net))
            if not all(np.array_equal(s[name][0], reference[name][0])
                       for s in states for name in reference):
                break
            shift = _shift(net, states[0], states[-1])
            shifts.append(shift)
            if shift >= min_shift or (eps == EPSILONS[0] and shift == 0):
                return np.polyfit(FRACTIONS * eps, losses, 2)[1], shift, eps
    finally:
        net.set_weights({key: w0})
    raise AssertionError(f"{key}: no perturbation moves spikes by {min_shift} steps without "
                         f"changing a spike count (largest shifts {shifts})")
