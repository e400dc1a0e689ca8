"""Helpers shared by the engine tests."""
import numpy as np

from eventprop.engine import GeNNModel


def make_model(precision, batch_size, name, dt, **backend):
    """A model on the backend of the test, or on the one that ``backend`` names (with its
    preferences, e.g. backend="cpu", num_threads=2)."""
    model = GeNNModel(precision, name, **backend)
    model.dt = dt
    model.batch_size = batch_size
    return model


def per_batch(values, batch_size):
    """Initial values given per batch instance, shaped like pygenn's view."""
    values = np.asarray(values)
    return values if batch_size > 1 else values[0]


def with_batch_axis(values, batch_size):
    """Values shaped like a duplicated variable's view, with the batch axis kept at B == 1."""
    values = np.asarray(values)
    return values[np.newaxis] if batch_size == 1 else values


def as_batched(view, batch_size):
    """A float64 (B, n) copy of a duplicated variable's view, for any batch size."""
    return np.array(view, dtype=np.float64).reshape(batch_size, -1)


def rtol(precision):
    return 1e-5 if precision == "float" else 1e-12


def add_spike_source(model, name, spike_steps, dt):
    """SpikeSourceArray in which neuron i of batch b fires in the steps spike_steps[b][i]."""
    B, n = len(spike_steps), len(spike_steps[0])
    times, start, end = [], np.zeros((B, n), np.uint32), np.zeros((B, n), np.uint32)
    for b in range(B):
        for i in range(n):
            start[b, i] = len(times)
            times.extend(dt * s for s in sorted(spike_steps[b][i]))
            end[b, i] = len(times)
    pop = model.add_neuron_population(name, n, "SpikeSourceArray", {},
                                      {"startSpike": per_batch(start, B),
                                       "endSpike": per_batch(end, B)})
    pop.extra_global_params["spikeTimes"].set_init_values(np.array(times))
    return pop


def steps_of(spikes):
    """spike_steps[b][i] for add_spike_source from a (steps, B, n) boolean array."""
    _, B, n = spikes.shape
    return [[np.nonzero(spikes[:, b, i])[0] for i in range(n)] for b in range(B)]


def pulled(var):
    """The view of a loaded model's variable or EGP, after pulling it from the device."""
    var.pull_from_device()
    return var.view
