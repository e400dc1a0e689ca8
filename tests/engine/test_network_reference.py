"""A whole network against an independent NumPy simulation of GeNN's step semantics.

Input spike trains -> built-in LIF hidden layer (DENSE input, SPARSE or DENSE recurrence)
-> leaky-integrator outputs, all through ExpCurr synapses. The engine performs plain IEEE
operations in a known order (no fused multiply-add), so the NumPy simulation below,
written in the same order and precision, must agree bit for bit: the same spikes at the
same steps and the same hidden and output voltages. The one exception: the cuda backend adds
a sparse group's input atomically, in an order that CUDA leaves open, so with the sparse
recurrence its voltages agree to a few units in the last place of the precision.
"""
import numpy as np
import pytest

from eventprop.engine import GeNNModel, create_neuron_model, init_postsynaptic, init_weight_update

from helpers import add_spike_source, as_batched, make_model, pulled, steps_of

DT, STEPS = 0.5, 300
N_IN, N_HID, N_OUT = 20, 30, 4
TAU_SYN = 5.0
LIF = {"C": 1.0, "TauM": 20.0, "Vrest": 0.0, "Vreset": 0.0, "Vthresh": 1.0, "Ioffset": 0.0,
       "TauRefrac": 2.0}

leaky_integrator = create_neuron_model(
    "LeakyIntegrator", params=["tau"],
    derived_params=[("alpha", lambda p, dt: np.exp(-dt / p["tau"]))],
    vars=[("V", "scalar")], sim_code="V = (alpha * V) + ((1.0 - alpha) * Isyn);")


def network(batch_size, seed=5):
    rng = np.random.default_rng(seed)
    spikes = rng.random((STEPS, batch_size, N_IN)) < 0.04
    w_in = rng.normal(0.6, 0.4, (N_IN, N_HID))
    rec_pre, rec_post = np.nonzero(rng.random((N_HID, N_HID)) < 0.3)
    w_rec = rng.normal(0.0, 0.5, rec_pre.size)
    w_out = rng.normal(0.0, 0.5, (N_HID, N_OUT))
    return spikes, w_in, (rec_pre, rec_post, w_rec), w_out


def simulate_numpy(precision, spikes, w_in, rec, w_out):
    f = np.float32 if precision == "float" else np.float64
    B = spikes.shape[1]
    rec_pre, rec_post, w_rec = rec
    W_rec = np.zeros((N_HID, N_HID), f)
    W_rec[rec_pre, rec_post] = w_rec
    W_in, W_out = w_in.astype(f), w_out.astype(f)
    decay, init = f(np.exp(-DT / TAU_SYN)), f(TAU_SYN * (1.0 - np.exp(-DT / TAU_SYN)) / DT)
    exp_tc, r_mem = f(np.exp(-DT / LIF["TauM"])), f(LIF["TauM"] / LIF["C"])
    alpha_out = f(np.exp(-DT / 10.0))
    in_syn_hid_in, in_syn_hid_rec = np.zeros((B, N_HID), f), np.zeros((B, N_HID), f)
    in_syn_out = np.zeros((B, N_OUT), f)
    V, refrac = np.zeros((B, N_HID), f), np.zeros((B, N_HID), f)
    V_out = np.zeros((B, N_OUT), f)
    hid_spiked = np.zeros((B, N_HID), bool)
    hidden_spikes, v_hid, v_out = [], [], []
    for step in range(STEPS):
        # Synapses: the spikes of the previous step, in order of neuron id
        for b in range(B):
            if step > 0:
                for i in np.nonzero(spikes[step - 1, b])[0]:
                    in_syn_hid_in[b] += W_in[i]
            for i in np.nonzero(hid_spiked[b])[0]:
                in_syn_hid_rec[b] += W_rec[i]
                in_syn_out[b] += W_out[i]
        # Hidden neurons: inputs in the order the synapse groups were added
        isyn = f(0) + init * in_syn_hid_in
        in_syn_hid_in *= decay
        isyn = isyn + init * in_syn_hid_rec
        in_syn_hid_rec *= decay
        active = refrac <= f(0)
        a = ((isyn + f(LIF["Ioffset"])) * r_mem) + f(LIF["Vrest"])
        V = np.where(active, a - (exp_tc * (a - V)), V)
        refrac = np.where(active, refrac, refrac - f(DT))
        hid_spiked = (refrac <= f(0)) & (V >= f(LIF["Vthresh"]))
        V = np.where(hid_spiked, f(LIF["Vreset"]), V)
        refrac = np.where(hid_spiked, f(LIF["TauRefrac"]), refrac)
        hidden_spikes.append(hid_spiked.copy())
        v_hid.append(V.copy())
        # Outputs
        isyn_out = f(0) + init * in_syn_out
        in_syn_out *= decay
        V_out = (alpha_out * V_out) + ((f(1) - alpha_out) * isyn_out)
        v_out.append(V_out.copy())
    return np.array(hidden_spikes), np.array(v_hid), np.array(v_out)


def simulate_engine(precision, batch_size, spikes, w_in, rec, w_out, recurrence="SPARSE"):
    model = make_model(precision, batch_size, "network_reference", DT)
    inp = add_spike_source(model, "inp", steps_of(spikes), DT)
    hid = model.add_neuron_population("hid", N_HID, "LIF", LIF, {"V": 0.0, "RefracTime": 0.0})
    out = model.add_neuron_population("out", N_OUT, leaky_integrator, {"tau": 10.0}, {"V": 0.0})
    exp_curr = init_postsynaptic("ExpCurr", {"tau": TAU_SYN})
    model.add_synapse_population("in_hid", "DENSE", inp, hid,
                                 init_weight_update("StaticPulse", {}, {"g": w_in.flatten()}),
                                 exp_curr)
    rec_pre, rec_post, w_rec = rec
    if recurrence == "SPARSE":
        g = w_rec
    else:   # the missing synapses add zero, which leaves every sum as it was
        g = np.zeros((N_HID, N_HID))
        g[rec_pre, rec_post] = w_rec
    sg = model.add_synapse_population("hid_hid", recurrence, hid, hid,
                                      init_weight_update("StaticPulse", {}, {"g": g.flatten()}),
                                      exp_curr)
    if recurrence == "SPARSE":
        sg.set_sparse_connections(rec_pre, rec_post)
    model.add_synapse_population("hid_out", "DENSE", hid, out,
                                 init_weight_update("StaticPulse", {}, {"g": w_out.flatten()}),
                                 exp_curr)
    hid.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=STEPS)
    v_hid, v_out = [], []
    for _ in range(STEPS):
        model.step_time()
        v_hid.append(as_batched(pulled(hid.vars["V"]), batch_size))
        v_out.append(as_batched(pulled(out.vars["V"]), batch_size))
    hidden = np.zeros((STEPS, batch_size, N_HID), bool)
    for b, (times, ids) in enumerate(hid.spike_recording_data):
        hidden[np.round(times / DT).astype(int), b, ids] = True
    return hidden, np.array(v_hid), np.array(v_out)


# The largest difference from the NumPy voltages, relative to their largest magnitude, where
# the order of the sums is open: a few tens of units in the last place, over 300 steps
REORDERED_TOLERANCE = {"float": 1e-5, "double": 1e-14}


@pytest.mark.parametrize("recurrence", ["SPARSE", "DENSE"])
def test_network_matches_numpy_simulation(precision, batch_size, recurrence, backend):
    spikes, w_in, rec, w_out = network(batch_size)
    ref_spikes, ref_v_hid, ref_v_out = simulate_numpy(precision, spikes, w_in, rec, w_out)
    hid_spikes, v_hid, v_out = simulate_engine(precision, batch_size, spikes, w_in, rec, w_out,
                                               recurrence)
    # The network is active: many hidden spikes, in every batch instance
    assert ref_spikes.sum(axis=(0, 2)).min() > 50
    np.testing.assert_array_equal(hid_spikes, ref_spikes)
    if recurrence == "SPARSE" and backend == "cuda":
        for v, ref in ((v_hid, ref_v_hid), (v_out, ref_v_out)):
            atol = REORDERED_TOLERANCE[precision] * np.abs(ref).max()
            np.testing.assert_allclose(v, ref, rtol=0, atol=atol)
    else:
        np.testing.assert_array_equal(v_hid, ref_v_hid)
        np.testing.assert_array_equal(v_out, ref_v_out)


def test_thread_count_does_not_change_results(precision):
    """Batch instances run in parallel but independently: 1 and 2 threads agree exactly."""
    spikes, w_in, rec, w_out = network(5)
    runs = []
    for threads in (1, 2):
        model = GeNNModel(precision, "threads", backend="cpu", num_threads=threads)
        model.dt = DT
        model.batch_size = 5
        model.seed = 3
        inp = add_spike_source(model, "inp", steps_of(spikes), DT)
        noisy = create_neuron_model(
            "NoisyLIF", vars=[("V", "scalar")],
            sim_code="V += (Isyn - V) / 20.0 + 0.05 * gennrand_normal();",
            threshold_condition_code="V >= 1.0", reset_code="V = 0.0;")
        hid = model.add_neuron_population("hid", N_HID, noisy, {}, {"V": 0.0})
        model.add_synapse_population("in_hid", "DENSE", inp, hid,
                                     init_weight_update("StaticPulse", {}, {"g": w_in.flatten()}),
                                     init_postsynaptic("ExpCurr", {"tau": TAU_SYN}))
        model.build()
        model.load()
        model.run(STEPS)
        runs.append(np.copy(pulled(hid.vars["V"])))
    np.testing.assert_array_equal(runs[0], runs[1])
