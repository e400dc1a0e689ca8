"""The loss of each example, from what the output population holds after the forward pass."""
import numpy as np

import models


def log_softmax(x, axis):
    # numpy's own, so that importing the network does not import scipy (0.2 s, 20 MB)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def example_losses(p, logit, labels, fwd_v=None):
    """Loss per example of ``p["LOSS_TYPE"]``.

    ``logit`` (examples, classes): the output's softmax argument (the weighted mean of V for
    the sum family, the maximum of V for max, -t / TAU_0 for the first-spike losses);
    ``fwd_v`` (examples, classes, steps): V at every step (avg_xentropy)."""
    loss_type = p["LOSS_TYPE"]
    rows = np.arange(len(labels))
    if loss_type == "avg_xentropy":
        return -log_softmax(np.asarray(fwd_v, np.float64), axis=1)[rows, labels, :].mean(axis=1)
    logit = np.asarray(logit, np.float64)
    loss = -log_softmax(logit, axis=1)[rows, labels]
    if loss_type in models.FIRST_SPIKE_LOSSES:
        T = p["TRIAL_MS"]
        # A silent label neuron's time term is that of a spike at the trial end
        t_label = np.minimum(-logit[rows, labels] * p["TAU_0"], T)
        if loss_type == "first_spike":
            loss += p["ALPHA"] / (1.01 * T - t_label)
        else:
            loss += p["ALPHA"] * (np.exp(t_label / p["TAU_1"]) - 1.0)
    return loss
