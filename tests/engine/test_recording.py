"""Spike recording: known spike patterns, per batch, over several recording windows."""
import numpy as np
import pytest

from eventprop.engine import GeNNModel, create_neuron_model

DT = 0.5
N_NEURONS = 70          # more than two 32-bit words, the last one partly used
N_REC = 7               # recording window (timesteps)

# Fires in step s when (s + id + 3*batch) is a multiple of (2 + id % 5)
pattern_neuron = create_neuron_model(
    "Pattern",
    threshold_condition_code=(
        "(((unsigned int)(t / dt + 0.5) + id + 3 * batch) % (2 + id % 5)) == 0"))


def expected_pattern(steps, batch):
    """(times_ms, ids) of the pattern neuron in ``steps`` for one batch, sorted."""
    s, i = np.meshgrid(np.asarray(steps), np.arange(N_NEURONS), indexing="ij")
    fire = ((s + i + 3 * batch) % (2 + i % 5)) == 0
    return sort_spikes(s[fire] * DT, i[fire])


def sort_spikes(times, ids):
    times, ids = np.asarray(times, dtype=np.float64), np.asarray(ids, dtype=np.int64)
    order = np.lexsort((ids, times))
    return times[order], ids[order]


def pattern_model(precision, batch_size):
    model = GeNNModel(precision, "rec_pattern")
    model.dt = DT
    model.batch_size = batch_size
    pop = model.add_neuron_population("pop", N_NEURONS, pattern_neuron)
    pop.spike_recording_enabled = True
    model.build()
    return model, pop


def check_window(pop, steps, batch_size):
    data = pop.spike_recording_data
    assert isinstance(data, list) and len(data) == batch_size
    for b, (times, ids) in enumerate(data):
        # Recorded in time order
        assert np.all(np.diff(times) >= 0)
        got_t, got_i = sort_spikes(times, ids)
        exp_t, exp_i = expected_pattern(steps, b)
        assert len(exp_t) > 0
        np.testing.assert_array_equal(got_t, exp_t)
        np.testing.assert_array_equal(got_i, exp_i)
    return data


def test_recorded_pattern_over_several_windows(precision, batch_size):
    model, pop = pattern_model(precision, batch_size)
    model.load(num_recording_timesteps=N_REC)
    for window in range(4):
        # Alternate single steps and one native call per window
        if window % 2:
            model.run(N_REC)
        else:
            for _ in range(N_REC):
                model.step_time()
        model.pull_recording_buffers_from_device()
        steps = np.arange(window * N_REC, (window + 1) * N_REC)
        check_window(pop, steps, batch_size)


def test_recorded_pattern_differs_between_batches(precision, batch_size):
    model, pop = pattern_model(precision, batch_size)
    model.load(num_recording_timesteps=N_REC)
    model.run(N_REC)
    model.pull_recording_buffers_from_device()
    data = check_window(pop, np.arange(N_REC), batch_size)
    # Every batch has its own spikes: no two batches record the same set
    spikes = [set(zip(t.tolist(), i.tolist())) for t, i in data]
    for a in range(batch_size):
        for b in range(a + 1, batch_size):
            assert spikes[a] != spikes[b]


def test_spike_source_array_recorded_per_batch(precision, batch_size):
    n = 40
    n_rec = 20
    rng = np.random.default_rng(11)
    # Each (batch, neuron) has its own sorted spike steps, packed into one EGP
    spike_steps = [[np.sort(rng.choice(2 * n_rec, size=rng.integers(0, 6), replace=False))
                    for _ in range(n)] for _ in range(batch_size)]
    counts = np.array([[len(s) for s in row] for row in spike_steps])
    end = np.cumsum(counts.ravel()).reshape(batch_size, n)
    start = end - counts
    spike_times = np.concatenate([s for row in spike_steps for s in row]) * DT

    model = GeNNModel(precision, "rec_ssa")
    model.dt = DT
    model.batch_size = batch_size
    shape = (batch_size, n) if batch_size > 1 else (n,)
    pop = model.add_neuron_population("ssa", n, "SpikeSourceArray", {},
                                      {"startSpike": start.reshape(shape),
                                       "endSpike": end.reshape(shape)})
    pop.extra_global_params["spikeTimes"].set_init_values(spike_times)
    pop.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=n_rec)

    for window in range(2):
        model.run(n_rec)
        model.pull_recording_buffers_from_device()
        data = pop.spike_recording_data
        assert len(data) == batch_size
        lo, hi = window * n_rec, (window + 1) * n_rec
        for b, (times, ids) in enumerate(data):
            exp = [(s * DT, i) for i in range(n) for s in spike_steps[b][i] if lo <= s < hi]
            exp_t, exp_i = sort_spikes([e[0] for e in exp], [e[1] for e in exp])
            got_t, got_i = sort_spikes(times, ids)
            np.testing.assert_array_equal(got_t, exp_t)
            np.testing.assert_array_equal(got_i, exp_i)


def test_recording_data_before_buffer_full_raises(precision, batch_size):
    model, pop = pattern_model(precision, batch_size)
    model.load(num_recording_timesteps=N_REC)
    with pytest.raises(RuntimeError):
        pop.spike_recording_data
    model.run(N_REC - 1)
    model.pull_recording_buffers_from_device()
    with pytest.raises(RuntimeError):
        pop.spike_recording_data
    model.step_time()
    model.pull_recording_buffers_from_device()
    check_window(pop, np.arange(N_REC), batch_size)


def test_load_without_recording_timesteps_raises(precision, batch_size):
    model, pop = pattern_model(precision, batch_size)
    with pytest.raises(Exception):
        model.load()
    # The failed load left the model unloaded: a proper load still works
    model.load(num_recording_timesteps=N_REC)
    model.run(N_REC)
    check_window(pop, np.arange(N_REC), batch_size)


def test_populations_of_different_sizes_recorded_side_by_side(precision, batch_size):
    # Each recording buffer is sized by its own population (70 neurons: 3 words; 5: 1 word)
    model = GeNNModel(precision, "rec_two_sizes")
    model.dt = DT
    model.batch_size = batch_size
    big = model.add_neuron_population("big", N_NEURONS, pattern_neuron)
    small = model.add_neuron_population("small", 5, pattern_neuron)
    big.spike_recording_enabled = small.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=N_REC)
    model.run(N_REC)
    model.pull_recording_buffers_from_device()
    check_window(big, np.arange(N_REC), batch_size)
    for b, (times, ids) in enumerate(small.spike_recording_data):
        exp_t, exp_i = expected_pattern(np.arange(N_REC), b)
        keep = exp_i < 5
        got_t, got_i = sort_spikes(times, ids)
        np.testing.assert_array_equal(got_t, exp_t[keep])
        np.testing.assert_array_equal(got_i, exp_i[keep])
