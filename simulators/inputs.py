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
        t, i = np.asarray(t, dtype=np.float64), np.asarray(i)
        if t.ndim != 1 or t.shape != i.shape:
            raise ValueError(f"example {b}: spike times and channel ids must be 1-D arrays of "
                             f"the same length, got shapes {t.shape} and {i.shape}")
        if len(i) and (not np.issubdtype(i.dtype, np.integer) or i.min() < 0
                       or i.max() >= num_input):
            raise ValueError(f"example {b}: channel ids must be integers in "
                             f"[0, {num_input - 1}]")
        if not np.all(np.isfinite(t)) or (len(t) and t.min() < 0):
            raise ValueError(f"example {b}: spike times must be finite and >= 0 ms")
        times.append(t)
        ids.append(i)
    slots = np.repeat(np.arange(len(times), dtype=np.int64), [len(t) for t in times])
    times = np.concatenate(times) if times else np.zeros(0)
    ids = np.concatenate(ids).astype(np.int64) if ids else np.zeros(0, np.int64)
    keys = []
    for c in range(n_delay + 1):
        # 1e-6 steps of slack so that a time on the grid maps to its own step
        step = np.ceil((times + c * delay) / dt - 1e-6).astype(np.int64)
        inside = step < trial_steps
        keys.append((slots[inside] * n_neurons + c * num_input + ids[inside]) * trial_steps
                    + step[inside])
    keys = np.sort(np.concatenate(keys)).astype(np.int64)
    first = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    keys = keys[first]
    if p_drop > 0.0:
        keys = keys[rng.random(len(keys)) >= p_drop]
    counts = np.bincount(keys // trial_steps, minlength=batch_size * n_neurons)
    if counts.max(initial=0) > max_spikes:
        worst = int(np.argmax(counts))
        raise SpikeOverflowError(
            f"population 'input': neuron {worst % n_neurons} of example {worst // n_neurons} has "
            f"{counts[worst]} spikes in one trial, more than N_MAX_SPIKE = {max_spikes}; "
            f"set N_MAX_SPIKE >= {counts.max()}")
    end = np.cumsum(counts)
    start = end - counts
    shape = (batch_size, n_neurons)
    return (start.reshape(shape).astype(np.int32), end.reshape(shape).astype(np.int32),
            (keys % trial_steps).astype(np.int32))
