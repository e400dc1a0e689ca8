"""Random numbers: distributions (Kolmogorov-Smirnov tests against SciPy), seeding,
reproducibility and independence between batches.

All tests share one model definition (so it compiles once per precision and batch
size): a neuron population drawing in ``sim_code`` and holding variables
initialised by ``init_var`` snippets, and a DENSE synapse population with the same
initialised variables.
"""
import numpy as np
import pytest
from scipy import stats

from eventprop.engine import (GeNNModel, create_neuron_model, create_weight_update_model,
                              init_postsynaptic, init_var, init_weight_update)

from helpers import pulled, with_batch_axis

N_NEURONS = 3000
N_PRE, N_POST = 50, 60
P_MIN = 0.001     # KS p-value below which a sample is rejected

INITS = {
    "Uniform": ({"min": -2.0, "max": 3.0}, stats.uniform(loc=-2.0, scale=5.0)),
    "Normal": ({"mean": 1.5, "sd": 0.5}, stats.norm(loc=1.5, scale=0.5)),
    "NormalClipped": ({"mean": 0.0, "sd": 1.0, "min": -0.5, "max": 1.5},
                      stats.truncnorm(a=-0.5, b=1.5, loc=0.0, scale=1.0)),
}

rng_neuron = create_neuron_model(
    "RngNeuron",
    vars=[("U", "scalar"), ("N", "scalar"),
          ("Uniform", "scalar"), ("Normal", "scalar"), ("NormalClipped", "scalar")],
    sim_code="U = gennrand_uniform(); N = gennrand_normal();")

init_only_syn = create_weight_update_model(
    "InitOnly", vars=[("Uniform", "scalar"), ("Normal", "scalar"), ("NormalClipped", "scalar")])


def rng_model(precision, batch_size, seed, name="rng_model"):
    model = GeNNModel(precision, name)
    model.batch_size = batch_size
    model.seed = seed
    inits = {k: init_var(k, p) for k, (p, _) in INITS.items()}
    pop = model.add_neuron_population("pop", N_NEURONS, rng_neuron, {},
                                      {"U": 0.0, "N": 0.0, **inits})
    pre = model.add_neuron_population("pre", N_PRE, rng_neuron, {},
                                      {"U": 0.0, "N": 0.0, **inits})
    post = model.add_neuron_population("post", N_POST, rng_neuron, {},
                                       {"U": 0.0, "N": 0.0, **inits})
    sg = model.add_synapse_population("syn", "DENSE", pre, post,
                                      init_weight_update(init_only_syn, {}, dict(inits)),
                                      init_postsynaptic("DeltaCurr"))
    model.build()
    model.load()
    return model, pop, sg




def snapshot(model, pop, sg, steps=2):
    """Initial values and the draws of ``steps`` steps, as one flat float64 array."""
    parts = [pop.vars[k].values.ravel() for k in INITS]
    parts += [sg.vars[k].values.ravel() for k in INITS]
    for _ in range(steps):
        model.step_time()
        pop.pull_state_from_device()
        parts += [pop.vars["U"].values.ravel(), pop.vars["N"].values.ravel()]
    return np.concatenate(parts).astype(np.float64)


# ---------------------------------------------------------------------------
# Distributions

@pytest.mark.parametrize("var, dist", [("U", stats.uniform()), ("N", stats.norm())])
def test_sim_code_draws_ks(precision, batch_size, var, dist):
    model, pop, _ = rng_model(precision, batch_size, seed=1234)
    for step in range(3):
        model.step_time()
        samples = with_batch_axis(np.asarray(pulled(pop.vars[var]), dtype=np.float64), batch_size)
        for b in range(batch_size):
            assert stats.kstest(samples[b], dist.cdf).pvalue > P_MIN, (step, b)
    if var == "U":
        assert samples.min() >= 0.0 and samples.max() <= 1.0


@pytest.mark.parametrize("snippet", list(INITS))
def test_init_var_neuron_ks(precision, batch_size, snippet):
    _, pop, _ = rng_model(precision, batch_size, seed=1234)
    samples = with_batch_axis(np.asarray(pop.vars[snippet].view, dtype=np.float64), batch_size)
    dist = INITS[snippet][1]
    lo, hi = dist.support()
    assert samples.min() >= lo and samples.max() <= hi
    for b in range(batch_size):
        assert stats.kstest(samples[b], dist.cdf).pvalue > P_MIN, b


@pytest.mark.parametrize("snippet", list(INITS))
def test_init_var_dense_synapse_ks(precision, batch_size, snippet):
    _, _, sg = rng_model(precision, batch_size, seed=1234)
    samples = with_batch_axis(np.asarray(sg.vars[snippet].view, dtype=np.float64), batch_size)
    assert samples.shape == (batch_size, N_PRE * N_POST)
    dist = INITS[snippet][1]
    lo, hi = dist.support()
    assert samples.min() >= lo and samples.max() <= hi
    for b in range(batch_size):
        assert stats.kstest(samples[b], dist.cdf).pvalue > P_MIN, b


# ---------------------------------------------------------------------------
# Seeding and independence

def test_same_seed_identical_on_reload(precision, batch_size):
    model, pop, sg = rng_model(precision, batch_size, seed=42)
    first = snapshot(model, pop, sg)
    model.unload()
    model.load()
    np.testing.assert_array_equal(snapshot(model, pop, sg), first)


def test_same_seed_identical_on_rebuild(precision, batch_size):
    model, pop, sg = rng_model(precision, batch_size, seed=42)
    first = snapshot(model, pop, sg)
    model.unload()
    model2, pop2, sg2 = rng_model(precision, batch_size, seed=42)
    np.testing.assert_array_equal(snapshot(model2, pop2, sg2), first)


def test_different_seeds_differ(precision, batch_size):
    model, pop, sg = rng_model(precision, batch_size, seed=1)
    a_init = [pop.vars[k].values for k in INITS] + [sg.vars[k].values for k in INITS]
    model.step_time()
    pop.pull_state_from_device()
    a_sim = [pop.vars["U"].values, pop.vars["N"].values]
    model.unload()
    model, pop, sg = rng_model(precision, batch_size, seed=2)
    b_init = [pop.vars[k].values for k in INITS] + [sg.vars[k].values for k in INITS]
    model.step_time()
    pop.pull_state_from_device()
    b_sim = [pop.vars["U"].values, pop.vars["N"].values]
    # Continuous draws: with different seeds no value should coincide
    for a, b in zip(a_init + a_sim, b_init + b_sim):
        assert np.mean(a == b) < 0.01


def test_successive_steps_draw_different_numbers(precision, batch_size):
    model, pop, _ = rng_model(precision, batch_size, seed=7)
    model.step_time()
    pop.pull_state_from_device()
    u1, n1 = pop.vars["U"].values, pop.vars["N"].values
    model.step_time()
    pop.pull_state_from_device()
    u2, n2 = pop.vars["U"].values, pop.vars["N"].values
    assert np.mean(u1 == u2) < 0.01 and np.mean(n1 == n2) < 0.01
    # Successive draws are uncorrelated
    assert abs(np.corrcoef(u1.ravel(), u2.ravel())[0, 1]) < 0.1


def test_batches_draw_different_numbers(precision):
    batch_size = 5
    model, pop, sg = rng_model(precision, batch_size, seed=99)
    arrays = [pop.vars[k].view for k in INITS] + [sg.vars[k].view for k in INITS]
    model.step_time()
    arrays += [pulled(pop.vars["U"]).copy(), pulled(pop.vars["N"]).copy()]
    for arr in arrays:
        assert arr.shape[0] == batch_size
        for a in range(batch_size):
            for b in range(a + 1, batch_size):
                assert np.mean(arr[a] == arr[b]) < 0.01
                assert abs(np.corrcoef(arr[a], arr[b])[0, 1]) < 0.1


def test_restored_rng_state_repeats_the_draws(precision, batch_size):
    # get_rng_state / set_rng_state: a checkpoint resumes with the same random numbers,
    # also where the step count restarts (as it does in every trial of a network)
    model, pop, _ = rng_model(precision, batch_size, seed=5, name="rng_state")
    model.run(3)
    state = model.get_rng_state()
    draws = []
    for _ in range(2):
        model.timestep = 0
        model.step_time()
        draws.append(pulled(pop.vars["U"]).copy())
    assert not np.array_equal(draws[0], draws[1])   # a restarted step draws anew
    model.set_rng_state(state)
    model.timestep = 0
    model.step_time()
    np.testing.assert_array_equal(pulled(pop.vars["U"]), draws[0])
