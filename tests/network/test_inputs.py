"""Examples to spike steps: the grid, duplicates, cropping, delay lines and dropout."""
import numpy as np

from models import NO_STEP
from simulators.inputs import encode_batch


def encode(X, **kw):
    args = dict(batch_size=2, num_input=3, n_delay=0, delay=0.0, dt=0.5, trial_steps=10,
                max_spikes=10, p_drop=0.0, rng=np.random.default_rng(0))
    args.update(kw)
    return encode_batch(X, **args)


def spikes_of(start, end, steps, b, i):
    return steps[start[b, i]:end[b, i]].tolist()


def test_each_spike_goes_to_the_first_step_starting_at_or_after_it():
    X = [(np.array([0.0, 0.5, 0.6, 1.2, 4.9, 5.0]), np.array([0, 0, 0, 1, 2, 2]))]
    start, end, steps = encode(X)
    assert spikes_of(start, end, steps, 0, 0) == [0, 1, 2]
    assert spikes_of(start, end, steps, 0, 1) == [3]
    assert spikes_of(start, end, steps, 0, 2) == []          # 4.9 -> step 10: cropped
    assert np.all(start[1] == end[1])                        # padding slot is empty


def test_spikes_in_one_step_are_one_spike():
    X = [(np.array([1.1, 1.2, 1.5, 0.1]), np.array([1, 1, 1, 1]))]
    start, end, steps = encode(X)
    assert spikes_of(start, end, steps, 0, 1) == [1, 3]


def test_delay_copies_replay_each_channel_later():
    X = [(np.array([0.0, 1.0]), np.array([0, 2]))]
    start, end, steps = encode(X, n_delay=2, delay=1.5)
    assert start.shape == (2, 9)
    assert spikes_of(start, end, steps, 0, 0) == [0]
    assert spikes_of(start, end, steps, 0, 3) == [3]
    assert spikes_of(start, end, steps, 0, 6) == [6]
    assert spikes_of(start, end, steps, 0, 8) == [8]


def test_dropout_removes_the_expected_fraction():
    rng = np.random.default_rng(1)
    X = [(rng.uniform(0, 5, 3000), rng.integers(0, 3, 3000))]
    kw = dict(trial_steps=1000, dt=0.005, max_spikes=1000)
    kept = spike_count(encode(X, p_drop=0.3, rng=np.random.default_rng(2), **kw))
    total = spike_count(encode(X, **kw))
    assert abs(kept / total - 0.7) < 0.03


def spike_count(encoded):
    start, end, _ = encoded
    return int(np.sum(end - start))


def test_each_run_of_steps_follows_a_separator_and_the_last_is_followed_by_one():
    # The input neuron walks its run until it reads the separator, in either direction
    X = [(np.array([0.0, 0.5, 1.2]), np.array([0, 0, 2]))]
    start, end, steps = encode(X)
    assert np.all(steps[start - 1] == NO_STEP)
    assert np.all(steps[end] == NO_STEP)
    assert spike_count((start, end, steps)) == np.count_nonzero(steps != NO_STEP)
    assert steps[-1] == NO_STEP


def test_whole_ms_times_take_the_steps_of_the_same_times_in_floating_point():
    # Integer times on a grid of whole ms are turned into steps in integers; the steps must be
    # those of the same times as floats, at dt 1 and 2, with and without delay copies
    rng = np.random.default_rng(3)
    X = [(rng.integers(0, 30, 200).astype(np.uint16), rng.integers(0, 3, 200))
         for _ in range(2)]
    floats = [(t.astype(np.float64), i) for t, i in X]
    for kw in (dict(dt=1.0), dict(dt=2.0), dict(dt=2.0, n_delay=2, delay=3.0)):
        kw = dict(trial_steps=12, max_spikes=30, **kw)
        for whole, real in zip(encode(X, **kw), encode(floats, **kw)):
            np.testing.assert_array_equal(whole, real)
        assert spike_count(encode(X, **kw)) > 20
