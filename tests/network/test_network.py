"""Behaviour of EventPropNetwork: trial boundaries, partial batches, overflow, learning."""
import os
import tracemalloc

import numpy as np
import pytest

from eventprop.engine import GeNNModel
from eventprop.params import ParameterError
from simulators.base import EventPropNetwork
from simulators.inputs import SpikeOverflowError

SMALL = dict(NUM_HIDDEN=8, DT_MS=0.1, TRIAL_MS=20.0, N_BATCH=4, PRECISION="double",
             MODEL_SEED=5, INPUT_HIDDEN_MEAN=1.0, INPUT_HIDDEN_STD=0.5,
             HIDDEN_OUTPUT_MEAN=0.5, HIDDEN_OUTPUT_STD=0.5, N_MAX_SPIKE=40, PDROP_INPUT=0.0)


def examples(n, seed=0):
    rng = np.random.default_rng(seed)
    X = [(rng.uniform(0, 15, 15), rng.integers(0, 4, 15)) for _ in range(n)]
    return X, rng.integers(0, 3, n)


def network(**p):
    # the backend of this run of the test (see conftest.py)
    return EventPropNetwork({**SMALL, "BACKEND": os.environ["EVENTPROP_BACKEND"], **p}, 4, 3)


def assert_same_gradients(a, b, rtol=1e-12):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=rtol, atol=1e-15, err_msg=key)


def test_zero_input_gives_zero_gradient():
    net = network()
    X = [(np.zeros(0), np.zeros(0, int))] * 3
    loss, grads = net.gradients(X, [0, 1, 2])
    assert loss == pytest.approx(np.log(3))   # all outputs at rest: uniform probabilities
    for key, g in grads.items():
        assert np.all(g == 0), key


@pytest.mark.parametrize("loss_type", ["sum_weigh_exp", "first_spike", "avg_xentropy", "max"])
def test_the_same_batch_twice_gives_identical_results(loss_type):
    net = network(LOSS_TYPE=loss_type, HIDDEN_OUTPUT_MEAN=1.5, RECURRENT=True)
    X, Y = examples(4)
    first = net.gradients(X, Y)
    net.gradients(*examples(4, seed=1))          # another batch in between
    second = net.gradients(X, Y)
    assert first[0] == second[0]
    assert_same_gradients(first[1], second[1], rtol=0)


def test_partial_batch_gradient_equals_full_batch():
    X, Y = examples(3)
    partial = network(N_BATCH=4).gradients(X, Y)
    full = network(N_BATCH=3).gradients(X, Y)
    assert partial[0] == pytest.approx(full[0], rel=1e-12)
    assert_same_gradients(partial[1], full[1])


def test_gradient_of_many_batches_is_the_mean_over_examples():
    X, Y = examples(7)
    net = network()
    loss, grads = net.gradients(X, Y)
    parts = [net.gradients(X[:4], Y[:4]), net.gradients(X[4:], Y[4:])]
    assert loss == pytest.approx((4 * parts[0][0] + 3 * parts[1][0]) / 7, rel=1e-12)
    for key in grads:
        np.testing.assert_allclose(grads[key], (4 * parts[0][1][key] + 3 * parts[1][1][key]) / 7,
                                   rtol=1e-10, atol=1e-15)


def test_too_small_spike_ring_is_an_error_naming_population_and_size():
    net = network(N_MAX_SPIKE=2, INPUT_HIDDEN_MEAN=8.0)
    X = [(np.arange(4.0), np.arange(4))]
    with pytest.raises(SpikeOverflowError, match=r"'hidden0'.*N_MAX_SPIKE >= \d+"):
        net.loss(X, [0])


def test_overflow_can_be_counted_instead():
    net = network(N_MAX_SPIKE=2, INPUT_HIDDEN_MEAN=8.0, SPIKE_OVERFLOW="count")
    result = net.evaluate_batch([(np.arange(4.0), np.arange(4))], [0])
    counts = np.array(net.hidden[0].vars["n_spk"].view)
    assert result.lost_spikes == np.maximum(counts - 2, 0).sum() > 0


def test_too_many_input_spikes_for_the_ring_is_an_error():
    net = network(N_MAX_SPIKE=3)
    X = [(np.arange(5.0), np.zeros(5, int))]
    with pytest.raises(SpikeOverflowError, match="'input': neuron 0 of example 0 has 5 spikes"):
        net.loss(X, [0])


def test_defining_the_network_allocates_no_host_copy_of_its_spike_rings(monkeypatch):
    # rings sized for N_MAX_SPIKE are mostly empty: the engine's zeroed arrays, taken as they
    # fill, hold them; a zeroed array given as their initial values would cost their whole
    # size in host memory (peak taken when the definition is done, before the build)
    ring_bytes = SMALL["N_BATCH"] * SMALL["NUM_HIDDEN"] * 100_000 * 8   # ring_ImV, double
    peaks = []
    build = GeNNModel.build

    def build_after_the_peak_so_far(model, *args, **kwargs):
        peaks.append(tracemalloc.get_traced_memory()[1])
        return build(model, *args, **kwargs)
    monkeypatch.setattr(GeNNModel, "build", build_after_the_peak_so_far)
    tracemalloc.start()
    try:
        network(N_MAX_SPIKE=100_000)
    finally:
        tracemalloc.stop()
    assert peaks[0] < ring_bytes / 5


def test_one_small_step_lowers_the_loss():
    net = network(ETA=1e-3)
    X, Y = examples(4)
    before = net.loss(X, Y)
    net.train_batch(X, Y)
    assert net.loss(X, Y) < before


def test_training_on_a_batch_learns_it():
    net = network(ETA=3e-2)
    X, Y = examples(4, seed=2)
    before = net.loss(X, Y)
    for _ in range(40):
        net.train_batch(X, Y)
    assert net.loss(X, Y) < 0.7 * before


def test_adam_step_matches_numpy():
    net = network(ETA=1e-3)
    X, Y = examples(3)
    w0 = net.get_weights()
    _, g = net.gradients(X, Y)
    net.train_batch(X, Y)
    w1 = net.get_weights()
    for key in w0:
        # first Adam step: m_hat = g, v_hat = g^2, so the step is eta g / (|g| + eps)
        expected = w0[key] - 1e-3 * g[key] / (np.abs(g[key]) + 1e-8)
        np.testing.assert_allclose(w1[key], expected, rtol=1e-6, atol=1e-12, err_msg=key)


def test_trained_taus_are_clamped():
    net = network(TRAIN_TAU=True, ETA=1.0, MIN_TAU_M=19.5, MIN_TAU_SYN=4.5, N_MAX_SPIKE=400)
    X, Y = examples(4)
    for _ in range(3):
        net.train_batch(X, Y)
    w = net.get_weights()
    assert w["hidden0.tau_m"].min() == 19.5 and w["hidden0.tau_syn"].min() >= 4.5
    assert not np.allclose(w["hidden0.tau_m"], 20.0)


def test_untrained_arrays_do_not_change():
    net = network(TRAIN_W=False)
    X, Y = examples(4)
    w0 = net.get_weights()
    net.train_batch(X, Y)
    w1 = net.get_weights()
    np.testing.assert_array_equal(w0["in_to_hid"], w1["in_to_hid"])
    assert not np.array_equal(w0["hid_to_out"], w1["hid_to_out"])


def test_set_weights_round_trip_and_errors():
    net = network()
    w = net.get_weights()
    w["in_to_hid"][0, 0] = 0.25
    net.set_weights({"in_to_hid": w["in_to_hid"]})
    assert net.get_weights()["in_to_hid"][0, 0] == 0.25
    with pytest.raises(KeyError, match="in_to_hid"):
        net.set_weights({"in_to_hidden": w["in_to_hid"]})
    with pytest.raises(ValueError, match=r"shape \(4, 8\)"):
        net.set_weights({"in_to_hid": w["in_to_hid"].T})


def test_weight_keys_of_a_deep_recurrent_network():
    net = network(N_HID_LAYER=3, RECURRENT=True, TRAIN_TAU=True)
    assert set(net.get_weights()) == {
        "in_to_hid", "hid_to_hidfwd0", "hid_to_hidfwd1", "hid_to_hid0", "hid_to_hid1",
        "hid_to_hid2", "hid_to_out", "hidden0.tau_m", "hidden0.tau_syn", "hidden1.tau_m",
        "hidden1.tau_syn", "hidden2.tau_m", "hidden2.tau_syn"}


def test_hetlif_taus_are_gamma_draws_within_bounds():
    net = network(HIDDEN_NEURON_TYPE="hetLIF", NUM_HIDDEN=500, TRAIN_TAU=True)
    w = net.get_weights()
    assert w["hidden0.tau_m"].min() >= 3.0 and w["hidden0.tau_m"].max() <= 60.0
    assert w["hidden0.tau_m"].std() > 5.0
    assert w["hidden0.tau_m"].mean() == pytest.approx(20.0, rel=0.1)


def test_dropout_only_in_training():
    X, Y = examples(4)
    a = network(PDROP_INPUT=0.5)
    b = network(PDROP_INPUT=0.0)
    assert a.loss(X, Y) == b.loss(X, Y)      # evaluation never drops


def test_hidden_noise_is_gaussian_of_the_stated_size_and_only_in_training():
    # no input: V starts at 0 and after the first step holds only the noise, A N(0,1) sqrt(dt)
    A, B = 0.3, 64
    silent = [(np.zeros(0), np.zeros(0, int))] * B
    net = EventPropNetwork({**SMALL, "BACKEND": os.environ["EVENTPROP_BACKEND"], "N_BATCH": B,
                            "HIDDEN_NOISE": A, "V_THRESH": 100.0}, 4, 3,
                           record_vars=[("hidden0", "V")])
    V = net.train_batch(silent, np.zeros(B, int), record=True).recording["vars"]["hidden0.V"]
    first = V[0].ravel()
    assert np.std(first) == pytest.approx(A * np.sqrt(SMALL["DT_MS"]), rel=0.15)
    assert abs(np.mean(first)) < 4 * A * np.sqrt(SMALL["DT_MS"] / first.size)
    V = net.evaluate_batch(silent, np.zeros(B, int), record=True).recording["vars"]["hidden0.V"]
    assert np.all(V == 0.0)
    X, Y = examples(4)
    assert network(HIDDEN_NOISE=A).loss(X, Y) == network().loss(X, Y)


def test_hidden_dropout_drops_every_crossing_at_one_and_only_in_training():
    X, Y = examples(4)
    net = network(PDROP_HIDDEN=1.0)
    assert net.evaluate_batch(X, Y).spikes["hidden0"] > 0
    assert net.train_batch(X, Y).spikes["hidden0"] == 0
    assert network(PDROP_HIDDEN=0.5).loss(X, Y) == network().loss(X, Y)


# -- regularisation ---------------------------------------------------------------------

def regularisation_gradient(**p):
    """Input-weight gradient when the loss cannot reach the hidden layer (output weights 0),
    so that only the regularisation drives the hidden adjoints."""
    net = network(HIDDEN_OUTPUT_MEAN=0.0, HIDDEN_OUTPUT_STD=0.0, **p)
    return net.gradients(*examples(4))[1]["in_to_hid"]


def test_no_regularisation_no_hidden_gradient():
    assert np.all(regularisation_gradient() == 0)


def test_simple_regularisation_pushes_spike_counts_to_nu():
    too_many = regularisation_gradient(REG_TYPE="simple", LBD_UPPER=1e-3, LBD_LOWER=0.0,
                                       NU_UPPER=0.0)
    assert too_many.sum() > 0          # descent lowers input weights: fewer spikes
    too_few = regularisation_gradient(REG_TYPE="simple", LBD_UPPER=0.0, LBD_LOWER=1e-3,
                                      NU_UPPER=100.0)
    assert too_few.sum() < 0
    doubled = regularisation_gradient(REG_TYPE="simple", LBD_UPPER=2e-3, LBD_LOWER=0.0,
                                      NU_UPPER=0.0)
    np.testing.assert_allclose(doubled, 2 * too_many, rtol=1e-10)


def test_thomas1_adds_a_layer_term_only_above_rho():
    simple = dict(REG_TYPE="simple", LBD_UPPER=1e-3, LBD_LOWER=1e-3, NU_UPPER=1.0)
    base = regularisation_gradient(**simple)
    off = regularisation_gradient(**{**simple, "REG_TYPE": "Thomas1", "RHO_UPPER": 1e6,
                                     "GLB_UPPER": 1.0})
    np.testing.assert_allclose(off, base, rtol=1e-12)
    on = regularisation_gradient(**{**simple, "REG_TYPE": "Thomas1", "RHO_UPPER": 0.0,
                                    "GLB_UPPER": 1e-2})
    assert (on - base).sum() > 0


def test_thomas1_layer_count_is_the_sum_of_spike_counts():
    net = network(REG_TYPE="Thomas1")
    net.gradients(*examples(4))
    counts = np.array(net.hidden[0].vars["n_spk"].view)
    net.hidden[0].vars["layer_spikes"].pull_from_device()
    np.testing.assert_array_equal(np.ravel(net.hidden[0].vars["layer_spikes"].view),
                                  counts.sum(axis=1))


# -- rewiring ---------------------------------------------------------------------------

def silent_network(**p):
    """Hidden neurons 0 and 1 have no input weights, so they never spike."""
    net = network(**p)
    w = net.get_weights()["in_to_hid"]
    w[:, :2] = 0.0
    net.set_weights({"in_to_hid": w})
    net.evaluate_batch(*examples(4))
    return net, w


def test_silent_neurons_are_counted_and_redrawn():
    net, w = silent_network(REWIRE_SILENT=True)
    assert net.end_epoch() == {"hidden0": 2}
    after = net.get_weights()["in_to_hid"]
    assert np.all(after[:, :2] != 0)
    np.testing.assert_array_equal(after[:, 2:], w[:, 2:])


def test_rewire_lift_lifts_only_silent_neurons():
    net, w = silent_network(REWIRE_SILENT=True, REWIRE_LIFT=0.01)
    net.end_epoch()
    after = net.get_weights()["in_to_hid"]
    np.testing.assert_allclose(after[:, :2], 0.01)
    np.testing.assert_array_equal(after[:, 2:], w[:, 2:])


def test_without_rewiring_weights_stay():
    net, w = silent_network()
    assert net.end_epoch() == {"hidden0": 2}
    np.testing.assert_array_equal(net.get_weights()["in_to_hid"], w)


# -- parameters -------------------------------------------------------------------------

def test_unknown_key_suggests_the_nearest():
    with pytest.raises(ParameterError, match="unknown parameter 'NUM_HIDEN'.*'NUM_HIDDEN'"):
        network(NUM_HIDEN=4)


@pytest.mark.parametrize("key, value, valid", [
    ("LOSS_TYPE", "sum_exp", "one of 'first_spike'"),
    ("NUM_HIDDEN", 2.5, "an integer >= 1"),
    ("PDROP_INPUT", 1.5, r"a number in \[0.0, 1.0\]"),
    ("RECURRENT", 1, "True or False"),
    ("DT_MS", 0.0, "a number in"),
    ("BACKEND", "gpu", "'cuda'"),
])
def test_bad_values_name_key_and_what_is_valid(key, value, valid):
    with pytest.raises(ParameterError, match=f"'{key}'.*{valid}"):
        network(**{key: value})


def test_trial_must_be_whole_steps():
    with pytest.raises(ParameterError, match="TRIAL_MS"):
        network(TRIAL_MS=20.05)


def test_bad_examples_are_refused():
    net = network()
    with pytest.raises(ValueError, match="channel ids must be integers in"):
        net.loss([(np.array([1.0]), np.array([4]))], [0])
    with pytest.raises(ValueError, match="labels must be integers"):
        net.loss(*examples(2)[:1], [0, 3])
    with pytest.raises(ValueError, match="do not fit in one batch"):
        net.train_batch(*examples(5))


def test_spikes_of_the_last_step_stay_in_their_trial():
    # Input spikes in the last forward step are delivered after the trial's end; after a
    # trial without a backward pass they must not reach the first step of the next trial
    last = [(np.array([SMALL["TRIAL_MS"] - SMALL["DT_MS"]]), np.array([c])) for c in range(4)]
    X, Y = examples(4)
    fresh = network().gradients(X, Y)
    for forward_only in ("evaluate_batch", "loss"):
        used = network()
        getattr(used, forward_only)(last, [0, 1, 2, 0])
        loss, grads = used.gradients(X, Y)
        assert loss == fresh[0], forward_only
        assert_same_gradients(grads, fresh[1], rtol=0)


def test_hidden_spikes_of_the_last_step_stay_in_their_trial():
    # A hidden spike of the last forward step has its backward spike in the step after the
    # trial, the one an evaluation runs to deliver the last spikes; it reaches the outgoing
    # synapses in the first step of the next trial, which must ignore it
    S = round(SMALL["TRIAL_MS"] / SMALL["DT_MS"])
    busy = [(np.arange(S) * SMALL["DT_MS"], np.arange(S) % 4) for _ in range(4)]
    strong = dict(INPUT_HIDDEN_MEAN=30.0, INPUT_HIDDEN_STD=3.0, N_MAX_SPIKE=S)
    recorder = EventPropNetwork({**SMALL, **strong, "BACKEND": os.environ["EVENTPROP_BACKEND"]},
                                4, 3, record_spikes=["hidden0"])
    spikes = recorder.evaluate_batch(busy, [0, 1, 2, 0], record=True).recording["spikes"]
    last_step = [np.any(np.round(t / SMALL["DT_MS"]) == S - 1) for t, _ in spikes["hidden0"]]
    assert any(last_step)
    X, Y = examples(4)
    fresh = network(**strong).gradients(X, Y)
    used = network(**strong)
    used.evaluate_batch(busy, [0, 1, 2, 0])
    loss, grads = used.gradients(X, Y)
    assert loss == fresh[0]
    assert_same_gradients(grads, fresh[1], rtol=0)


def test_spike_steps_beyond_16_bits_are_kept_whole():
    # Spike steps are stored in 16 bits only where the trial's steps fit. In a trial of 50,000
    # steps, an example whose spikes come 400 ms late (steps above 32,767) must give the
    # loss and gradient of the same example at the start: the network rests until then and
    # the max loss does not depend on when the maximum comes.
    early = [(np.arange(0.0, 10.0, 0.25), np.arange(40) % 4),
             (np.arange(0.5, 8.0, 0.25), np.arange(30) % 3)]
    late = [(t + 400.0, i) for t, i in early]
    Y = [0, 2]
    net = network(TRIAL_MS=500.0, DT_MS=0.01, LOSS_TYPE="max", RECURRENT=True,
                  N_MAX_SPIKE=200, N_BATCH=2)
    loss_early, grads_early = net.gradients(early, Y)
    loss_late, grads_late = net.gradients(late, Y)
    assert sum(net.trial_spikes.values()) > len(late[0][0]) + len(late[1][0])  # hidden spikes
    assert loss_late == pytest.approx(loss_early, rel=1e-12)
    assert_same_gradients(grads_late, grads_early, rtol=1e-9)
