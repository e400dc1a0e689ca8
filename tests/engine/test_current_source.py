"""Current sources: the built-in DC, custom models with parameters, variables and
neuron variable references, ``target_var`` and several sources on one population.

Current sources inject into the neuron's input in the step itself (after the
postsynaptic models, before ``sim_code``); GeNN resets ``Isyn`` and every additional
input variable to its declared initial value at the start of each step.
"""
import numpy as np

from eventprop.engine import (VarAccessMode, create_current_source_model,
                              create_neuron_model, create_var_ref)

from helpers import as_batched, make_model, per_batch, pulled, rtol

DT = 0.5
N_STEPS = 25
N = 4

# x: this step's input; V: the input summed over steps
PROBE = create_neuron_model("Probe", vars=[("x", "scalar"), ("V", "scalar")],
                            sim_code="x = Isyn; V += Isyn;")

PROBE_EXTRA = create_neuron_model(
    "ProbeExtra", vars=[("x", "scalar"), ("y", "scalar"), ("V", "scalar")],
    additional_input_vars=[("Iextra", "scalar", 0.0)],
    sim_code="x = Isyn; y = Iextra; V += Iextra;")

# level follows level <- rate * level + 1 and the injected current is amp * level
GEOMETRIC = create_current_source_model(
    "Geometric", params=["amp", "rate"], vars=[("level", "scalar")],
    injection_code="""
    injectCurrent(amp * level);
    level = rate * level + 1.0;
    """)

# A current that reads the membrane variable of the neuron it is attached to
LEAK = create_current_source_model(
    "Leak", params=["g"], neuron_var_refs=[("V", "scalar", VarAccessMode.READ_ONLY)],
    injection_code="injectCurrent(-g * V);")

INTEGRATOR = create_neuron_model("Integrator", vars=[("V", "scalar"), ("x", "scalar")],
                                 sim_code="x = Isyn; V += dt * Isyn;")










def initial_levels(batch_size):
    """Different per neuron and per batch instance."""
    return np.arange(batch_size)[:, None] + 2.0 * np.arange(N)[None, :]


def test_dc_current_source(precision, batch_size):
    amp = 0.75
    model = make_model(precision, batch_size, "dc", DT)
    pop = model.add_neuron_population("pop", N, PROBE, {}, {"x": 0.0, "V": 0.0})
    model.add_current_source("dc", "DC", pop, {"amp": amp})
    model.build()
    model.load()
    for n in range(1, N_STEPS + 1):
        model.step_time()
        # The input is amp in every step: it is injected afresh, never accumulated
        np.testing.assert_array_equal(pulled(pop.vars["x"]), amp, err_msg=f"step {n}")
        np.testing.assert_array_equal(pulled(pop.vars["V"]), amp * n, err_msg=f"step {n}")


def test_custom_current_source_params_and_var(precision, batch_size):
    amp, rate = 1.5, 0.5
    model = make_model(precision, batch_size, "custom_cs", DT)
    pop = model.add_neuron_population("pop", N, PROBE, {}, {"x": 0.0, "V": 0.0})
    level0 = initial_levels(batch_size)
    cs = model.add_current_source("geo", GEOMETRIC, pop, {"amp": amp, "rate": rate},
                                  {"level": per_batch(level0, batch_size)})
    model.build()
    model.load()
    assert cs.vars["level"].view.shape == ((batch_size, N) if batch_size > 1 else (N,))
    level = level0.copy()
    for n in range(N_STEPS):
        model.step_time()
        x = amp * level
        level = rate * level + 1.0
        np.testing.assert_allclose(as_batched(pulled(pop.vars["x"]), batch_size), x,
                                   rtol=rtol(precision), err_msg=f"step {n}")
        np.testing.assert_allclose(as_batched(pulled(cs.vars["level"]), batch_size), level,
                                   rtol=rtol(precision), err_msg=f"step {n}")


def test_current_source_neuron_var_ref(precision, batch_size):
    # I = -g V with V read from the target population: V decays geometrically
    g = 0.2
    V0 = 1.0 + np.arange(batch_size)[:, None] + 0.5 * np.arange(N)[None, :]
    model = make_model(precision, batch_size, "cs_var_ref", DT)
    pop = model.add_neuron_population("pop", N, INTEGRATOR, {},
                                      {"V": per_batch(V0, batch_size), "x": 0.0})
    model.add_current_source("leak", LEAK, pop, {"g": g}, var_refs={"V": create_var_ref(pop, "V")})
    model.build()
    model.load()
    V = V0.copy()
    for n in range(N_STEPS):
        model.step_time()
        x = -g * V
        V = V + DT * x
        np.testing.assert_allclose(as_batched(pulled(pop.vars["x"]), batch_size), x,
                                   rtol=rtol(precision), err_msg=f"step {n}")
        np.testing.assert_allclose(as_batched(pulled(pop.vars["V"]), batch_size), V,
                                   rtol=rtol(precision), err_msg=f"step {n}")


def test_current_source_target_var(precision, batch_size):
    # A DC source aimed at an additional input variable: Isyn stays 0 and the
    # additional input holds amp in every step (it is reset before each step)
    amp = 0.5
    model = make_model(precision, batch_size, "cs_target", DT)
    pop = model.add_neuron_population("pop", N, PROBE_EXTRA, {}, {"x": 0.0, "y": 0.0, "V": 0.0})
    cs = model.add_current_source("dc", "DC", pop, {"amp": amp})
    cs.target_var = "Iextra"
    model.build()
    model.load()
    for n in range(1, N_STEPS + 1):
        model.step_time()
        np.testing.assert_array_equal(pulled(pop.vars["x"]), 0.0, err_msg=f"step {n}")
        np.testing.assert_array_equal(pulled(pop.vars["y"]), amp, err_msg=f"step {n}")
        np.testing.assert_array_equal(pulled(pop.vars["V"]), amp * n, err_msg=f"step {n}")


def test_current_sources_sum(precision, batch_size):
    # Two DC sources and a custom one on the same population add up in Isyn
    amp_a, amp_b, amp, rate = 0.5, -0.125, 2.0, 0.5
    model = make_model(precision, batch_size, "cs_sum", DT)
    pop = model.add_neuron_population("pop", N, PROBE, {}, {"x": 0.0, "V": 0.0})
    model.add_current_source("dc_a", "DC", pop, {"amp": amp_a})
    model.add_current_source("dc_b", "DC", pop, {"amp": amp_b})
    level0 = initial_levels(batch_size)
    model.add_current_source("geo", GEOMETRIC, pop, {"amp": amp, "rate": rate},
                             {"level": per_batch(level0, batch_size)})
    model.build()
    model.load()
    level, total = level0.copy(), np.zeros((batch_size, N))
    for n in range(N_STEPS):
        model.step_time()
        x = amp_a + amp_b + amp * level
        level = rate * level + 1.0
        total = total + x
        np.testing.assert_allclose(as_batched(pulled(pop.vars["x"]), batch_size), x,
                                   rtol=rtol(precision), err_msg=f"step {n}")
        np.testing.assert_allclose(as_batched(pulled(pop.vars["V"]), batch_size), total,
                                   rtol=rtol(precision), err_msg=f"step {n}")
