"""The neuron update: threshold, reset and auto-refractory spiking, whichever way the
backend arranges the loop (one pass, or dynamics first and spikes second)."""
import numpy as np
import pytest

from eventprop.engine import create_neuron_model

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
