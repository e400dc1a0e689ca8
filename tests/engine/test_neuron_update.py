"""The neuron update: threshold, reset and auto-refractory spiking, whichever way the
backend arranges the loop (one pass, or dynamics first and spikes second)."""
import numpy as np
import pytest

from eventprop.engine import (VarAccess, VarAccessMode, create_neuron_model, create_var_ref,
                              create_weight_update_model, init_postsynaptic,
                              init_weight_update)
from eventprop.engine.backends.layout import flag_type, two_pass

from helpers import as_batched, make_model, per_batch, pulled

N = 37          # not a multiple of 8: the spike scan must handle the last partial word
STEPS = 40

# V ramps up by a per-neuron rate; the threshold stays true once V passes 1
ramp = create_neuron_model(
    "Ramp", params=["thresh"], vars=[("V", "scalar"), ("rate", "scalar"), ("count", "int")],
    sim_code="V += rate;", threshold_condition_code="V >= thresh",
    reset_code="count++;", auto_refractory_required=True)

# Integrate-and-fire whose reset reads a local of sim_code (an overshoot), so the reset
# must run in the same scope as sim_code
overshoot = create_neuron_model(
    "Overshoot", vars=[("V", "scalar"), ("rate", "scalar")],
    sim_code="V += rate; const scalar over = V - 1.0;",
    threshold_condition_code="over >= 0.0", reset_code="V = over;")

# The same dynamics without the local: the reset recomputes the overshoot
plain = create_neuron_model(
    "Plain", vars=[("V", "scalar"), ("rate", "scalar")],
    sim_code="V += rate;", threshold_condition_code="V >= 1.0", reset_code="V -= 1.0;")


def rates(batch_size):
    return 0.05 + 0.31 * np.random.default_rng(3).random((batch_size, N))


def record(model, pop, steps):
    """Run ``steps`` steps; the spikes of each batch instance as sorted (step, id)."""
    model.run(steps)
    return [sorted(zip(np.round(times / model.dt).astype(int), ids))
            for times, ids in pop.spike_recording_data]


def reference_fire_and_reset(rate, steps):
    """Spike steps of V += rate; spike when V >= 1; V -= 1 (float64)."""
    out = []
    for r in rate:
        V, fired = np.zeros_like(r), []
        for s in range(steps):
            V = V + r
            hit = np.nonzero(V >= 1.0)[0]
            fired += [(s, int(i)) for i in hit]
            V[hit] -= 1.0
        out.append(sorted(fired))
    return out


def test_auto_refractory_spikes_on_rising_edge_only(precision, batch_size):
    r = rates(batch_size)
    model = make_model(precision, batch_size, "auto_refractory", 1.0)
    pop = model.add_neuron_population("pop", N, ramp, {"thresh": 1.0},
                                      {"V": 0.0, "rate": per_batch(r, batch_size), "count": 0})
    pop.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=STEPS)
    spikes = record(model, pop, STEPS)
    # The threshold turns true once, at the first step with (s + 1) * rate >= 1
    first = np.ceil(1.0 / r).astype(int) - 1
    for b in range(batch_size):
        expected = sorted((int(s), i) for i, s in enumerate(first[b]) if s < STEPS)
        assert spikes[b] == expected
    np.testing.assert_array_equal(as_batched(pulled(pop.vars["count"]), batch_size),
                                  (first < STEPS).astype(int))


@pytest.mark.parametrize("neuron", [overshoot, plain], ids=["reset_reads_sim_local", "plain"])
def test_threshold_and_reset_match_reference(precision, batch_size, neuron):
    r = rates(batch_size)
    model = make_model(precision, batch_size, "fire_reset_" + neuron.class_name, 1.0)
    pop = model.add_neuron_population("pop", N, neuron, {},
                                      {"V": 0.0, "rate": per_batch(r, batch_size)})
    pop.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=STEPS)
    spikes = record(model, pop, STEPS)
    expected = reference_fire_and_reset(r.astype(np.float32 if precision == "float"
                                                 else np.float64), STEPS)
    for b in range(batch_size):
        assert spikes[b] == expected[b]


def test_reset_drawing_random_numbers_is_reproducible(precision, batch_size):
    """A reset that draws random numbers (the spike-time draws must stay in neuron order,
    so this runs in one pass) gives the same result for the same seed."""
    noisy = create_neuron_model(
        "NoisyReset", vars=[("V", "scalar"), ("rate", "scalar")],
        sim_code="V += rate;", threshold_condition_code="V >= 1.0",
        reset_code="V = 0.5 * gennrand_uniform();")
    finals = []
    for _ in range(2):
        model = make_model(precision, batch_size, "noisy_reset", 1.0)
        model.seed = 42
        pop = model.add_neuron_population("pop", N, noisy, {},
                                          {"V": 0.0, "rate": 0.3})
        model.build()
        model.load()
        model.run(STEPS)
        finals.append(np.copy(pulled(pop.vars["V"])))
        V = as_batched(pop.vars["V"].view, batch_size)
        assert np.all((V >= 0.0) & (V < 1.0))
    np.testing.assert_array_equal(finals[0], finals[1])


# An event of each group where V passed its level (after the dynamics, before the reset)
level_event = create_weight_update_model(
    "LevelEvent", params=["level"], vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_neuron_var_refs=[("V", "scalar", VarAccessMode.READ_ONLY)],
    pre_event_threshold_condition_code="V > level", pre_event_syn_code="addToPost(g);")
receiver = create_neuron_model("Receiver", vars=[("x", "scalar")], sim_code="x = Isyn;")


def test_spikes_and_many_event_groups_of_a_two_pass_update(precision, batch_size):
    """Nine event groups and the spikes of one population: more flags than 8 bits hold.
    Each group passes its events one to one to a receiver, which shows them a step later."""
    dtype = np.float32 if precision == "float" else np.float64
    levels = 0.1 * np.arange(1, 10)
    r = rates(batch_size)
    model = make_model(precision, batch_size, "many_events", 1.0)
    pop = model.add_neuron_population("pop", N, plain, {},
                                      {"V": 0.0, "rate": per_batch(r, batch_size)})
    pop.spike_recording_enabled = True
    receivers = []
    for k, level in enumerate(levels):
        post = model.add_neuron_population(f"post{k}", N, receiver, {}, {"x": 0.0})
        syn = model.add_synapse_population(
            f"syn{k}", "SPARSE", pop, post,
            init_weight_update(level_event, {"level": level}, {"g": 1.0},
                               pre_var_refs={"V": create_var_ref(pop, "V")}),
            init_postsynaptic("DeltaCurr"))
        syn.set_sparse_connections(np.arange(N), np.arange(N))
        receivers.append(post)
    assert two_pass(pop) and flag_type(pop) == "uint16_t"
    model.build()
    model.load(num_recording_timesteps=STEPS)

    V = np.zeros((batch_size, N), dtype)
    events = np.zeros((len(levels), batch_size, N), bool)   # of the previous step
    for _ in range(STEPS):
        model.step_time()
        for post, expected in zip(receivers, events):
            np.testing.assert_array_equal(as_batched(pulled(post.vars["x"]), batch_size),
                                          expected)
        V = V + r.astype(dtype)
        events = V > levels.astype(dtype)[:, None, None]
        V[V >= 1.0] -= dtype(1.0)
    assert events.any() and not events.all()
    spikes = [sorted(zip(np.round(times).astype(int), ids))
              for times, ids in pop.spike_recording_data]
    expected = reference_fire_and_reset(r.astype(dtype), STEPS)
    for b in range(batch_size):
        assert spikes[b] == expected[b]


def test_a_two_pass_update_that_writes_shared_memory_sees_every_neuron(precision, batch_size,
                                                                          backend):
    """Pass 1 is only declared free of dependencies between neurons (GCC ivdep) where the
    code writes nothing that neurons share; here each neuron adds to its batch's total."""
    if backend != "cpu":
        pytest.skip("on a GPU, unsynchronised writes to shared memory race, as in GeNN")
    summing = create_neuron_model(
        "SharedSum", vars=[("V", "scalar")], extra_global_params=[("total", "scalar*")],
        sim_code="V += 1.0;\ntotal[batch] += V;",
        threshold_condition_code="V > 1000.0", reset_code="V = 0.0;")
    model = make_model(precision, batch_size, "shared_sum", 1.0)
    pop = model.add_neuron_population("pop", N, summing, {}, {"V": 0.0})
    pop.extra_global_params["total"].set_init_values(np.zeros(batch_size))
    assert two_pass(pop)
    model.build()
    model.load()
    model.run(STEPS)
    total = pop.extra_global_params["total"]
    total.pull_from_device()
    np.testing.assert_allclose(total.view, N * STEPS * (STEPS + 1) / 2, rtol=1e-6)
