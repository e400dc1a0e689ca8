"""Turning examples (spike times in ms, channel ids) into the input population's spike steps."""
import numpy as np

from models import NO_STEP


class SpikeOverflowError(RuntimeError):
    """A neuron had more spikes in one trial than its ring (N_MAX_SPIKE) holds."""


def encode_batch(X, batch_size, num_input, n_delay, delay, dt, trial_steps, max_spikes,
                 p_drop, rng, out=None):
    """``startSpike``, ``endSpike`` (batch_size, neurons) and the input population's
    ``spikeStep`` for a batch: the sorted spike steps of neuron i of instance b are
    ``spikeStep[startSpike[b, i]:endSpike[b, i]]``, each neuron's run preceded by
    ``models.NO_STEP`` and the whole followed by one. ``spikeStep`` is the start of ``out``
    (an integer array of ``spike_step_capacity`` elements whose type holds the steps; by
    default a new int32 one).

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
    # one example at a time, so that the temporaries scale with an example, not the batch.
    # A spike of neuron i at step s is the key (i << shift) + s - NO_STEP and neuron i's
    # separator the key i << shift, so that one sort lays out every neuron's separator and
    # then its steps in order, and the low bits of the keys plus NO_STEP are spikeStep
    shift = (trial_steps - 1 - NO_STEP).bit_length()
    key_type = np.int32 if n_neurons << shift < 2**31 else np.int64
    separators = np.arange(n_neurons, dtype=key_type) << shift
    low = key_type((1 << shift) - 1)
    starts = np.zeros((batch_size, n_neurons), dtype=np.int64)
    counts = np.zeros((batch_size, n_neurons), dtype=np.int64)
    if out is None:
        out = np.empty(spike_step_capacity(batch_size, n_neurons, max_spikes), np.int32)
    total = 0
    for b in range(batch_size):
        keys = [separators]
        if b < len(times):
            keys += [_keys(times[b], ids[b], c * num_input, c * delay, dt, trial_steps, shift,
                           key_type) for c in range(n_delay + 1)]
        keys = np.concatenate(keys)
        keys.sort()
        first = np.ones(len(keys), dtype=bool)       # spikes of one neuron in one step are one
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        steps = keys[first]
        steps &= low
        if p_drop > 0.0:
            kept = np.ones(len(steps), dtype=bool)
            spike = steps != 0
            kept[spike] = rng.random(np.count_nonzero(spike)) >= p_drop
            steps = steps[kept]
        steps += NO_STEP
        separator = np.flatnonzero(steps == NO_STEP)
        counts[b, :-1] = separator[1:]               # a run ends at the next separator
        counts[b, -1] = len(steps)
        counts[b] -= separator + 1
        if counts[b].max(initial=0) > max_spikes:
            worst = np.argmax(counts[b])
            raise SpikeOverflowError(
                f"population 'input': neuron {worst} of example {b} has {counts[b, worst]} "
                f"spikes in one trial, more than N_MAX_SPIKE = {max_spikes}; "
                f"set N_MAX_SPIKE >= {counts[b, worst]}")
        starts[b] = total + separator + 1
        out[total:total + len(steps)] = steps
        total += len(steps)
    out[total] = NO_STEP
    return (starts.astype(np.int32), (starts + counts).astype(np.int32), out[:total + 1])


def spike_step_capacity(batch_size, n_neurons, max_spikes):
    """The length of ``spikeStep`` that holds any batch ``encode_batch`` accepts."""
    return batch_size * n_neurons * (max_spikes + 1) + 1


def _keys(times, channels, first_neuron, delay, dt, trial_steps, shift, key_type):
    """The key (neuron << shift) + step - NO_STEP of each spike inside the trial, ``delay`` ms
    late, for the neurons ``first_neuron + channel``; the step is the first whose start is at
    or after the spike."""
    if np.issubdtype(times.dtype, np.integer) and float(dt).is_integer() and \
            float(delay).is_integer():
        # whole ms on a grid of whole ms (how eventprop.data keeps SHD at DT_MS = 1): exact in
        # integers, and the same steps as the rounding below
        step = times.astype(np.int64) + int(delay)
        if dt != 1:
            step = -(-step // int(dt))
    else:
        # 1e-6 steps of slack so that a time on the grid maps to its own step
        step = np.add(times, delay, dtype=np.float64)
        step /= dt
        step -= 1e-6
        np.ceil(step, out=step)
    if len(step) and step.max() >= trial_steps:
        inside = step < trial_steps
        step, channels = step[inside], channels[inside]
    keys = channels.astype(key_type)
    keys += first_neuron
    keys <<= shift
    keys += step.astype(key_type, copy=False)
    keys -= NO_STEP
    return keys
