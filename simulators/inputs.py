"""Turning examples (spike times in ms, channel ids) into the input population's spike steps."""
import numpy as np


class SpikeOverflowError(RuntimeError):
    """A neuron had more spikes in one trial than its ring (N_MAX_SPIKE) holds."""


def encode_batch(X, batch_size, num_input, n_delay, delay, dt, trial_steps, max_spikes,
                 p_drop, rng):
    """``startSpike``, ``endSpike`` (batch_size, neurons) and the sorted spike steps of a batch.

    A spike at time t is emitted in the first step whose start time is >= t; several spikes of
    one channel in one step are one spike; spikes at or after the trial end are cropped. Delay
    copy c (neurons c * num_input ...) replays every channel c * ``delay`` ms later. With
    ``p_drop``, each spike is dropped with that probability (input dropout)."""
    n_neurons = num_input * (n_delay + 1)
    times, ids = [], []
    for b, example in enumerate(X):
        try:
            t, i = example
        except (TypeError, ValueError):
            raise ValueError(f"example {b}: expected a pair (spike times in ms, channel ids)") \
                from None
        t, i = np.asarray(t), np.asarray(i)
        if t.ndim != 1 or t.shape != i.shape:
            raise ValueError(f"example {b}: spike times and channel ids must be 1-D arrays of "
                             f"the same length, got shapes {t.shape} and {i.shape}")
        if len(i) and (not np.issubdtype(i.dtype, np.integer) or i.min() < 0
                       or i.max() >= num_input):
            raise ValueError(f"example {b}: channel ids must be integers in "
                             f"[0, {num_input - 1}]")
        if not np.issubdtype(t.dtype, np.number) or not np.all(np.isfinite(t)) or \
                (len(t) and t.min() < 0):
            raise ValueError(f"example {b}: spike times must be finite and >= 0 ms")
        times.append(t)
        ids.append(i)
    # one example at a time, so that the temporaries scale with an example, not the batch
    starts = np.zeros((batch_size, n_neurons), dtype=np.int64)
    counts = np.zeros((batch_size, n_neurons), dtype=np.int64)
    steps, total = [], 0
    for b, (t, i) in enumerate(zip(times, ids)):
        keys = np.concatenate([
            _keys(t.astype(np.float64), i.astype(np.int64) + c * num_input, c * delay, dt,
                  trial_steps)
            for c in range(n_delay + 1)])
        keys.sort()
        first = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        keys = keys[first]
        if p_drop > 0.0:
            keys = keys[rng.random(len(keys)) >= p_drop]
        counts[b] = np.bincount(keys // trial_steps, minlength=n_neurons)
        starts[b] = total + np.cumsum(counts[b]) - counts[b]
        total += len(keys)
        steps.append((keys % trial_steps).astype(np.int32))
    if counts.max(initial=0) > max_spikes:
        b, worst = np.unravel_index(np.argmax(counts), counts.shape)
        raise SpikeOverflowError(
            f"population 'input': neuron {worst} of example {b} has {counts[b, worst]} "
            f"spikes in one trial, more than N_MAX_SPIKE = {max_spikes}; "
            f"set N_MAX_SPIKE >= {counts.max()}")
    return (starts.astype(np.int32), (starts + counts).astype(np.int32),
            np.concatenate(steps) if steps else np.zeros(0, dtype=np.int32))


def _keys(times, neurons, delay, dt, trial_steps):
    """neuron * trial_steps + step of each spike inside the trial, ``delay`` ms late."""
    # 1e-6 steps of slack so that a time on the grid maps to its own step
    step = np.ceil((times + delay) / dt - 1e-6).astype(np.int64)
    inside = step < trial_steps
    return neurons[inside] * trial_steps + step[inside]
