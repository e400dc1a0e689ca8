"""Continuous synapse dynamics, weight-update pre/post variables and their code, and
``model.run(n)`` against ``n`` calls of ``step_time()``.

Synapse groups run before neuron groups in every step, so ``synapse_dynamics_code``
in step n sees the neuron variables as they were left by step n - 1.
"""
import numpy as np

from eventprop.engine import (VarAccess, VarAccessMode, create_current_source_model,
                              create_neuron_model, create_var_ref, create_weight_update_model,
                              init_postsynaptic, init_weight_update)

from helpers import (add_spike_source, as_batched, make_model, per_batch, pulled, rtol,
                     steps_of)

DT = 0.5
N_STEPS = 30
MATRIX_TYPES = ("DENSE", "SPARSE")

PROBE = create_neuron_model("Probe", vars=[("x", "scalar")], sim_code="x = Isyn;")

# A positive signal that differs per neuron and per batch (through phase)
OSCILLATOR = create_neuron_model(
    "Oscillator", vars=[("r", "scalar"), ("phase", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
    sim_code="r = 1.0 + 0.5 * sin(0.7 * t + phase);")

DYN_TO_POST = create_weight_update_model(
    "DynamicsToPost", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_neuron_var_refs=[("r", "scalar", VarAccessMode.READ_ONLY)],
    synapse_dynamics_code="addToPost(g * r);")

DYN_TO_PRE = create_weight_update_model(
    "DynamicsToPre", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    post_neuron_var_refs=[("r", "scalar", VarAccessMode.READ_ONLY)],
    synapse_dynamics_code="addToPre(g * r);")

# Exponentially decaying traces of the pre- and postsynaptic spikes; the presynaptic
# trace also scales the weight each spike delivers
TRACES = create_weight_update_model(
    "Traces", params=["tauPre", "tauPost"],
    derived_params=[("decayPre", lambda p, dt: np.exp(-dt / p["tauPre"])),
                    ("decayPost", lambda p, dt: np.exp(-dt / p["tauPost"]))],
    vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_vars=[("tpre", "scalar")], post_vars=[("tpost", "scalar")],
    pre_spike_syn_code="addToPost(g * tpre);",
    pre_spike_code="tpre += 1.0;",
    pre_dynamics_code="tpre *= decayPre;",
    post_spike_code="tpost += 0.5;",
    post_dynamics_code="tpost *= decayPost;")

TAU_PRE, TAU_POST = 3.0, 6.0


# ---------------------------------------------------------------------------
# helpers









def random_trains(seed, batch_size, n, prob=0.3):
    """Boolean (N_STEPS, B, n): whether neuron i of batch b fires in step s."""
    return np.random.default_rng(seed).random((N_STEPS, batch_size, n)) < prob




def random_weights(matrix_type, n_pre, n_post, seed):
    """(W, pre, post, g): the full weight matrix (0 where unconnected) and, for SPARSE,
    the connections in a shuffled order with their weights."""
    rng = np.random.default_rng(seed)
    W = rng.uniform(0.1, 1.0, (n_pre, n_post))
    if matrix_type == "DENSE":
        return W, None, None, W.flatten()
    mask = rng.random((n_pre, n_post)) < 0.5
    mask[0, :] = True          # a full row
    mask[1, :] = False         # an empty row
    W = np.where(mask, W, 0.0)
    pre, post = np.nonzero(mask)
    order = rng.permutation(pre.size)
    pre, post = pre[order], post[order]
    return W, pre, post, W[pre, post]


def add_synapses(model, name, matrix_type, src, trg, wu, g, pre, post, ps="DeltaCurr",
                 ps_params=None, **refs):
    syn = model.add_synapse_population(
        name, matrix_type, src, trg, init_weight_update(wu, {}, {"g": g}, **refs),
        init_postsynaptic(ps, ps_params or {}))
    if matrix_type == "SPARSE":
        syn.set_sparse_connections(pre, post)
    return syn


def oscillator_vars(batch_size, n, seed):
    rng = np.random.default_rng(seed)
    return {"r": per_batch(rng.uniform(0.5, 1.5, (batch_size, n)), batch_size),
            "phase": per_batch(rng.uniform(0.0, 2 * np.pi, (batch_size, n)), batch_size)}


# ---------------------------------------------------------------------------
# synapse_dynamics_code

def test_synapse_dynamics_add_to_post(precision, batch_size):
    # x = r @ W in every step, r as left by the previous step
    n_pre, n_post = 6, 3
    model = make_model(precision, batch_size, "dyn_post", DT)
    pre = model.add_neuron_population("pre", n_pre, OSCILLATOR, {},
                                      oscillator_vars(batch_size, n_pre, 1))
    pathways = {}
    for k, matrix_type in enumerate(MATRIX_TYPES):
        W, pre_ind, post_ind, g = random_weights(matrix_type, n_pre, n_post, 10 + k)
        post = model.add_neuron_population(f"post_{matrix_type}", n_post, PROBE, {}, {"x": 0.0})
        add_synapses(model, f"syn_{matrix_type}", matrix_type, pre, post, DYN_TO_POST, g,
                     pre_ind, post_ind, pre_var_refs={"r": create_var_ref(pre, "r")})
        pathways[matrix_type] = (post, W)
    model.build()
    model.load()
    r_prev = as_batched(pulled(pre.vars["r"]), batch_size)
    for n in range(N_STEPS):
        model.step_time()
        for matrix_type, (post, W) in pathways.items():
            np.testing.assert_allclose(as_batched(pulled(post.vars["x"]), batch_size),
                                       r_prev @ W, rtol=rtol(precision),
                                       err_msg=f"{matrix_type}, step {n}")
        r_prev = as_batched(pulled(pre.vars["r"]), batch_size)


def test_synapse_dynamics_add_to_pre(precision, batch_size):
    # Presynaptic input y = W @ r_post in every step, r_post as left by the previous step
    n_pre, n_post = 6, 3
    model = make_model(precision, batch_size, "dyn_pre", DT)
    post = model.add_neuron_population("post", n_post, OSCILLATOR, {},
                                       oscillator_vars(batch_size, n_post, 2))
    pathways = {}
    for k, matrix_type in enumerate(MATRIX_TYPES):
        W, pre_ind, post_ind, g = random_weights(matrix_type, n_pre, n_post, 20 + k)
        pre = model.add_neuron_population(f"pre_{matrix_type}", n_pre, PROBE, {}, {"x": 0.0})
        add_synapses(model, f"syn_{matrix_type}", matrix_type, pre, post, DYN_TO_PRE, g,
                     pre_ind, post_ind, post_var_refs={"r": "r"})
        pathways[matrix_type] = (pre, W)
    model.build()
    model.load()
    r_prev = as_batched(pulled(post.vars["r"]), batch_size)
    for n in range(N_STEPS):
        model.step_time()
        for matrix_type, (pre, W) in pathways.items():
            np.testing.assert_allclose(as_batched(pulled(pre.vars["x"]), batch_size),
                                       r_prev @ W.T, rtol=rtol(precision),
                                       err_msg=f"{matrix_type}, step {n}")
        r_prev = as_batched(pulled(post.vars["r"]), batch_size)


# ---------------------------------------------------------------------------
# weight-update pre/post variables

def test_wu_pre_post_traces(precision, batch_size):
    # Each step: trace *= decay (dynamics code), then += jump if the neuron spiked
    n_pre, n_post = 5, 3
    model = make_model(precision, batch_size, "traces", DT)
    pre_spikes = random_trains(1, batch_size, n_pre)
    post_spikes = random_trains(2, batch_size, n_post, prob=0.2)
    src = add_spike_source(model, "pre", steps_of(pre_spikes), DT)
    trg = add_spike_source(model, "post", steps_of(post_spikes), DT)
    tpre0 = 0.1 * (1 + np.arange(batch_size)[:, None] + np.arange(n_pre)[None, :])
    tpost0 = 0.2 * (1 + np.arange(batch_size)[:, None] * np.arange(n_post)[None, :])
    syn = model.add_synapse_population(
        "syn", "DENSE", src, trg,
        init_weight_update(TRACES, {"tauPre": TAU_PRE, "tauPost": TAU_POST}, {"g": 1.0},
                           pre_vars={"tpre": per_batch(tpre0, batch_size)},
                           post_vars={"tpost": per_batch(tpost0, batch_size)}),
        init_postsynaptic("DeltaCurr"))
    model.build()
    model.load()
    assert syn.pre_vars["tpre"].view.shape == ((batch_size, n_pre) if batch_size > 1
                                               else (n_pre,))
    assert syn.post_vars["tpost"].view.shape == ((batch_size, n_post) if batch_size > 1
                                                 else (n_post,))
    tpre, tpost = tpre0.copy(), tpost0.copy()
    for n in range(N_STEPS):
        model.step_time()
        tpre = tpre * np.exp(-DT / TAU_PRE) + 1.0 * pre_spikes[n]
        tpost = tpost * np.exp(-DT / TAU_POST) + 0.5 * post_spikes[n]
        np.testing.assert_allclose(as_batched(pulled(syn.pre_vars["tpre"]), batch_size),
                                   tpre, rtol=rtol(precision), err_msg=f"step {n}")
        np.testing.assert_allclose(as_batched(pulled(syn.post_vars["tpost"]), batch_size),
                                   tpost, rtol=rtol(precision), err_msg=f"step {n}")


def test_wu_pre_var_in_pre_spike_syn_code(precision, batch_size):
    # A spike of step n - 1 delivers g * tpre to Isyn in step n, with tpre as it was left
    # by step n - 1 (including that spike's own increment)
    n_pre, n_post = 5, 3
    model = make_model(precision, batch_size, "trace_weights", DT)
    spikes = random_trains(3, batch_size, n_pre)
    src = add_spike_source(model, "pre", steps_of(spikes), DT)
    pathways = {}
    for k, matrix_type in enumerate(MATRIX_TYPES):
        W, pre_ind, post_ind, g = random_weights(matrix_type, n_pre, n_post, 30 + k)
        post = model.add_neuron_population(f"post_{matrix_type}", n_post, PROBE, {}, {"x": 0.0})
        model_syn = model.add_synapse_population(
            f"syn_{matrix_type}", matrix_type, src, post,
            init_weight_update(TRACES, {"tauPre": TAU_PRE, "tauPost": TAU_POST}, {"g": g},
                               pre_vars={"tpre": 0.0}, post_vars={"tpost": 0.0}),
            init_postsynaptic("DeltaCurr"))
        if matrix_type == "SPARSE":
            model_syn.set_sparse_connections(pre_ind, post_ind)
        pathways[matrix_type] = (post, W)
    model.build()
    model.load()
    tpre = np.zeros((batch_size, n_pre))
    delivered = np.zeros((batch_size, n_pre))
    for n in range(N_STEPS):
        model.step_time()
        for matrix_type, (post, W) in pathways.items():
            np.testing.assert_allclose(as_batched(pulled(post.vars["x"]), batch_size),
                                       delivered @ W, rtol=rtol(precision),
                                       err_msg=f"{matrix_type}, step {n}")
        tpre = tpre * np.exp(-DT / TAU_PRE) + spikes[n]
        delivered = spikes[n] * tpre


# ---------------------------------------------------------------------------
# run(n) == n x step_time()

NOISE = create_current_source_model("Noise", params=["sd"],
                                    injection_code="injectCurrent(sd * gennrand_normal());")

LIF_PARAMS = {"C": 1.0, "TauM": 10.0, "Vrest": 0.0, "Vreset": 0.0, "Vthresh": 1.0,
              "Ioffset": 0.1, "TauRefrac": 1.0}


def build_mixed_model(precision, batch_size):
    """Spike sources, LIF neurons with noise, ExpCurr and trace synapses, spike
    recording and continuous synapse dynamics."""
    n_src, n_lif, n_probe, steps = 8, 6, 3, 40
    model = make_model(precision, batch_size, "run_vs_step", DT)
    model.seed = 1234
    rng = np.random.default_rng(5)
    spikes = rng.random((steps, batch_size, n_src)) < 0.3
    src = add_spike_source(model, "src", steps_of(spikes), DT)
    lif = model.add_neuron_population(
        "lif", n_lif, "LIF", LIF_PARAMS,
        {"V": per_batch(rng.uniform(0.0, 1.0, (batch_size, n_lif)), batch_size),
         "RefracTime": 0.0})
    lif.spike_recording_enabled = True
    probe = model.add_neuron_population("probe", n_probe, PROBE, {}, {"x": 0.0})
    model.add_current_source("noise", NOISE, lif, {"sd": 0.3})
    add_synapses(model, "exp", "DENSE", src, lif, "StaticPulse",
                 rng.uniform(0.0, 0.8, n_src * n_lif), None, None, ps="ExpCurr",
                 ps_params={"tau": 5.0})
    W, pre, post, g = random_weights("SPARSE", n_src, n_lif, 6)
    model.add_synapse_population(
        "traces", "SPARSE", src, lif,
        init_weight_update(TRACES, {"tauPre": TAU_PRE, "tauPost": TAU_POST}, {"g": g},
                           pre_vars={"tpre": 0.0}, post_vars={"tpost": 0.0}),
        init_postsynaptic("DeltaCurr")).set_sparse_connections(pre, post)
    W, pre, post, g = random_weights("DENSE", n_lif, n_probe, 7)
    add_synapses(model, "dyn", "DENSE", lif, probe, DYN_TO_POST, g, None, None,
                 pre_var_refs={"r": "V"})
    model.build()
    model.load(num_recording_timesteps=steps)
    return model, steps


def state(model):
    """Every variable of every group, and every synapse group's postsynaptic input."""
    out = {}
    for group in (list(model.neuron_populations.values())
                  + list(model.synapse_populations.values())
                  + list(model.current_sources.values())):
        for table in ("vars", "pre_vars", "post_vars", "psm_vars"):
            for name, var in getattr(group, table, {}).items():
                out[f"{group.name}.{table}.{name}"] = np.copy(pulled(var))
        if hasattr(group, "out_post"):
            out[f"{group.name}.out_post"] = np.copy(pulled(group.out_post))
    return out


def test_run_matches_step_time(precision, batch_size):
    stepped, steps = build_mixed_model(precision, batch_size)
    for _ in range(steps):
        stepped.step_time()
    ran, _ = build_mixed_model(precision, batch_size)
    ran.run(0)
    ran.run(17)
    ran.run(steps - 17)
    assert ran.timestep == stepped.timestep == steps
    assert ran.t == stepped.t
    a, b = state(stepped), state(ran)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(b[key], a[key], err_msg=key)
    stepped.pull_recording_buffers_from_device()
    ran.pull_recording_buffers_from_device()
    rec_a = stepped.neuron_populations["lif"].spike_recording_data
    rec_b = ran.neuron_populations["lif"].spike_recording_data
    assert len(rec_a) == len(rec_b) == batch_size
    for (ta, ia), (tb, ib) in zip(rec_a, rec_b):
        np.testing.assert_array_equal(tb, ta)
        np.testing.assert_array_equal(ib, ia)
    # The comparison is not vacuous: the LIF neurons spiked in every batch
    assert all(len(t) > 0 for t, _ in rec_a)
