"""SPARSE connectivity drawn by FixedProbability: its statistics, its reproducibility
from the model seed, and that spikes travel exactly along the connections reported."""
import numpy as np
import pytest
from scipy import stats

from eventprop.engine import create_neuron_model, init_postsynaptic, init_sparse_connectivity, \
    init_weight_update

from helpers import add_spike_source, as_batched, make_model, pulled

N_PRE, N_POST = 40, 30
PROBE = create_neuron_model("Probe", vars=[("x", "scalar")], sim_code="x = Isyn;")


def fixed_probability_model(precision, batch_size, prob, seed):
    model = make_model(precision, batch_size, "fixed_prob", 1.0)
    model.seed = seed
    # Presynaptic neuron i fires in step i only, in every batch instance
    src = add_spike_source(model, "src", [[[i] for i in range(N_PRE)]] * batch_size, 1.0)
    post = model.add_neuron_population("post", N_POST, PROBE, {}, {"x": 0.0})
    sg = model.add_synapse_population(
        "syn", "SPARSE", src, post, init_weight_update("StaticPulse", {}, {"g": 1.0}),
        init_postsynaptic("DeltaCurr"), init_sparse_connectivity("FixedProbability",
                                                                 {"prob": prob}))
    model.build()
    model.load()
    return model, sg, post


def connections(sg):
    return sorted(zip(sg.get_sparse_pre_inds().tolist(), sg.get_sparse_post_inds().tolist()))


def test_number_of_connections_is_binomial(precision):
    prob = 0.2
    counts = []
    for seed in range(1, 6):
        _, sg, _ = fixed_probability_model(precision, 1, prob, seed)
        counts.append(len(connections(sg)))
    # Each pair is connected independently: the total is Binomial(N_PRE * N_POST, prob)
    n = N_PRE * N_POST
    lo, hi = stats.binom.ppf([0.0005, 0.9995], n, prob)
    assert all(lo <= c <= hi for c in counts), counts
    assert len(set(counts)) > 1, "different seeds drew the same connectivity"


def test_same_seed_same_connectivity(precision):
    _, a, _ = fixed_probability_model(precision, 1, 0.3, 7)
    _, b, _ = fixed_probability_model(precision, 1, 0.3, 7)
    assert connections(a) == connections(b)


@pytest.mark.parametrize("prob", [0.0, 0.25, 1.0])
def test_spikes_follow_the_connections(precision, batch_size, prob):
    model, sg, post = fixed_probability_model(precision, batch_size, prob, 11)
    conn = np.zeros((N_PRE, N_POST))
    pre, post_ind = sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()
    conn[pre, post_ind] = 1.0
    assert conn.sum() == len(pre)        # no pair twice
    if prob == 1.0:
        assert conn.all()
    # values come back in (pre, post) order, one per connection
    assert sg.vars["g"].values.shape[-1] == len(pre)
    for step in range(N_PRE + 1):
        model.step_time()
        expected = conn[step - 1] if step > 0 else np.zeros(N_POST)
        np.testing.assert_array_equal(as_batched(pulled(post.vars["x"]), batch_size),
                                      np.tile(expected, (batch_size, 1)))


def test_probability_out_of_range_is_an_error(precision):
    with pytest.raises(ValueError, match="prob"):
        fixed_probability_model(precision, 1, 1.5, 1)
