"""Postsynaptic models: ExpCurr decay, custom models with their own variables and
neuron variable references, and routing input into additional input variables.

Spike trains come from SpikeSourceArray populations with a different random train
per neuron and per batch instance; every quantity is checked after every step
against a NumPy reference of GeNN's step: the synapses first add the spikes of the
previous step into inSyn, then the postsynaptic model injects its current.
"""
import numpy as np

from eventprop.engine import (VarAccess, VarAccessMode, create_neuron_model,
                              create_postsynaptic_model, create_var_ref, init_postsynaptic,
                              init_weight_update)

from helpers import add_spike_source, as_batched, make_model, pulled, rtol, steps_of

DT = 0.5
N_STEPS = 60

# A neuron that exposes its synaptic input as a variable and never spikes
PROBE = create_neuron_model("Probe", vars=[("x", "scalar")], sim_code="x = Isyn;")










def random_trains(seed, batch_size, n, prob=0.25):
    """Boolean (N_STEPS, B, n): whether neuron i of batch b fires in step s. No spikes in
    the last steps, so the decay after the last spike is seen too."""
    spikes = np.random.default_rng(seed).random((N_STEPS, batch_size, n)) < prob
    spikes[-10:] = False
    return spikes




def arriving(spikes, W, n):
    """Input the synapses add to inSyn in step n: the spikes of step n - 1 through W."""
    return spikes[n - 1].astype(np.float64) @ W if n > 0 else 0.0


def test_exp_curr_decay(precision, batch_size):
    tau = 4.0
    W = np.array([[0.5, 1.0], [1.5, 0.25], [2.0, 0.75]])
    model = make_model(precision, batch_size, "exp_curr", DT)
    spikes = random_trains(1, batch_size, 3)
    src = add_spike_source(model, "src", steps_of(spikes), DT)
    post = model.add_neuron_population("post", 2, PROBE, {}, {"x": 0.0})
    syn = model.add_synapse_population("syn", "DENSE", src, post,
                                       init_weight_update("StaticPulse", {}, {"g": W.flatten()}),
                                       init_postsynaptic("ExpCurr", {"tau": tau}))
    model.build()
    model.load()

    decay = np.exp(-DT / tau)
    init = tau * (1.0 - np.exp(-DT / tau)) / DT
    in_syn = np.zeros((batch_size, 2))
    for n in range(N_STEPS):
        model.step_time()
        in_syn = in_syn + arriving(spikes, W, n)
        x = init * in_syn
        in_syn = in_syn * decay
        np.testing.assert_allclose(as_batched(pulled(post.vars["x"]), batch_size), x,
                                   rtol=rtol(precision), err_msg=f"Isyn in step {n}")
        # out_post holds inSyn after this step's decay; always (B, n)
        np.testing.assert_allclose(np.asarray(pulled(syn.out_post), dtype=np.float64), in_syn,
                                   rtol=rtol(precision), err_msg=f"inSyn after step {n}")
    # Every batch had input, which is still decaying after the last spike
    assert np.count_nonzero(spikes) > 10 and np.all(x > 0.0)


# A conductance-like model: the arriving input accumulates in its own per-neuron
# conductance, which drives the neuron towards a per-neuron reversal potential E
# read through a neuron variable reference to the target's V.
COND_PSM = create_postsynaptic_model(
    "DecayingConductance",
    params=["tau"],
    derived_params=[("decay", lambda p, dt: np.exp(-dt / p["tau"]))],
    vars=[("gsyn", "scalar"), ("E", "scalar", VarAccess.READ_ONLY)],
    neuron_var_refs=[("V", "scalar", VarAccessMode.READ_ONLY)],
    sim_code="""
    gsyn += inSyn;
    inSyn = 0.0;
    injectCurrent(gsyn * (E - V));
    gsyn *= decay;
    """)

INTEGRATOR = create_neuron_model(
    "Integrator", params=["k"], vars=[("V", "scalar"), ("I", "scalar")],
    sim_code="""
    I = Isyn;
    V += k * dt * Isyn;
    """)


def test_custom_postsynaptic_model_vars_and_neuron_var_refs(precision, batch_size):
    tau, k = 3.0, 0.05
    E = np.array([2.0, 3.0, 4.0])
    W = np.array([[0.2, 0.1, 0.3], [0.05, 0.25, 0.15]])
    V0 = np.array([0.1, 0.2, 0.3])      # positive and rising: no cancellation near 0
    model = make_model(precision, batch_size, "custom_psm", DT)
    spikes = random_trains(2, batch_size, 2, prob=0.3)
    src = add_spike_source(model, "src", steps_of(spikes), DT)
    post = model.add_neuron_population("post", 3, INTEGRATOR, {"k": k}, {"V": V0, "I": 0.0})
    syn = model.add_synapse_population(
        "syn", "DENSE", src, post, init_weight_update("StaticPulse", {}, {"g": W.flatten()}),
        init_postsynaptic(COND_PSM, {"tau": tau}, {"gsyn": 0.0, "E": E},
                          var_refs={"V": create_var_ref(post, "V")}))
    model.build()
    model.load()
    assert syn.psm_vars["gsyn"].view.shape == ((batch_size, 3) if batch_size > 1 else (3,))
    assert syn.psm_vars["E"].view.shape == (3,)

    decay = np.exp(-DT / tau)
    gsyn = np.zeros((batch_size, 3))
    V = np.tile(V0, (batch_size, 1))
    for n in range(N_STEPS):
        model.step_time()
        gsyn = gsyn + arriving(spikes, W, n)
        I = gsyn * (E - V)           # V of the previous step: PSMs run before sim_code
        gsyn = gsyn * decay
        V = V + k * DT * I
        msg = f"step {n}"
        np.testing.assert_allclose(as_batched(pulled(post.vars["I"]), batch_size), I,
                                   rtol=rtol(precision), err_msg=msg)
        np.testing.assert_allclose(as_batched(pulled(syn.psm_vars["gsyn"]), batch_size), gsyn,
                                   rtol=rtol(precision), err_msg=msg)
        np.testing.assert_allclose(as_batched(pulled(post.vars["V"]), batch_size), V,
                                   rtol=rtol(precision), err_msg=msg)
        # inSyn is consumed every step
        np.testing.assert_array_equal(pulled(syn.out_post), 0.0, err_msg=msg)
    assert np.all(V > V0 + 0.1)


TWO_INPUTS = create_neuron_model(
    "TwoInputs", vars=[("x", "scalar"), ("y", "scalar")],
    additional_input_vars=[("Iextra", "scalar", 0.0)],
    sim_code="""
    x = Isyn;
    y = Iextra;
    """)


def test_post_target_var_additional_input(precision, batch_size):
    # Two DeltaCurr inputs, one into Isyn and one into the additional input variable;
    # each must hold exactly this step's input (both are reset every step)
    w_isyn, w_extra = 1.0, 2.0
    model = make_model(precision, batch_size, "post_target", DT)
    spikes_a = random_trains(3, batch_size, 1, prob=0.5)
    spikes_b = random_trains(4, batch_size, 1, prob=0.5)
    src_a = add_spike_source(model, "src_a", steps_of(spikes_a), DT)
    src_b = add_spike_source(model, "src_b", steps_of(spikes_b), DT)
    post = model.add_neuron_population("post", 1, TWO_INPUTS, {}, {"x": 0.0, "y": 0.0})
    model.add_synapse_population("syn_a", "DENSE", src_a, post,
                                 init_weight_update("StaticPulse", {}, {"g": w_isyn}),
                                 init_postsynaptic("DeltaCurr"))
    syn_b = model.add_synapse_population("syn_b", "DENSE", src_b, post,
                                         init_weight_update("StaticPulse", {}, {"g": w_extra}),
                                         init_postsynaptic("DeltaCurr"))
    syn_b.post_target_var = "Iextra"
    model.build()
    model.load()
    for n in range(N_STEPS):
        model.step_time()
        msg = f"step {n}"
        np.testing.assert_array_equal(as_batched(pulled(post.vars["x"]), batch_size),
                                      arriving(spikes_a, np.array([[w_isyn]]), n)
                                      * np.ones((batch_size, 1)), err_msg=msg)
        np.testing.assert_array_equal(as_batched(pulled(post.vars["y"]), batch_size),
                                      arriving(spikes_b, np.array([[w_extra]]), n)
                                      * np.ones((batch_size, 1)), err_msg=msg)
    # Consecutive spikes occur, so an input that was not reset would have accumulated
    assert np.any(spikes_b[1:] & spikes_b[:-1])


BIASED_INPUT = create_neuron_model(
    "BiasedInput", vars=[("x", "scalar"), ("y", "scalar")],
    additional_input_vars=[("Ibias", "scalar", 0.25)],
    sim_code="""
    x = Isyn;
    y = Ibias;
    """)


def test_post_target_var_exp_curr_initial_value(precision, batch_size):
    # ExpCurr into an additional input variable whose declared initial value is 0.25:
    # every step it starts again from 0.25 and receives init * inSyn
    tau, w = 2.0, 1.5
    model = make_model(precision, batch_size, "post_target_exp", DT)
    spikes = random_trains(5, batch_size, 1, prob=0.3)
    src = add_spike_source(model, "src", steps_of(spikes), DT)
    post = model.add_neuron_population("post", 1, BIASED_INPUT, {}, {"x": 0.0, "y": 0.0})
    syn = model.add_synapse_population("syn", "DENSE", src, post,
                                       init_weight_update("StaticPulse", {}, {"g": w}),
                                       init_postsynaptic("ExpCurr", {"tau": tau}))
    syn.post_target_var = "Ibias"
    model.build()
    model.load()
    decay = np.exp(-DT / tau)
    init = tau * (1.0 - np.exp(-DT / tau)) / DT
    in_syn = np.zeros((batch_size, 1))
    for n in range(N_STEPS):
        model.step_time()
        in_syn = in_syn + arriving(spikes, np.array([[w]]), n)
        y = 0.25 + init * in_syn
        in_syn = in_syn * decay
        np.testing.assert_allclose(as_batched(pulled(post.vars["y"]), batch_size), y,
                                   rtol=rtol(precision), err_msg=f"step {n}")
        np.testing.assert_array_equal(pulled(post.vars["x"]), 0.0, err_msg=f"step {n}")
