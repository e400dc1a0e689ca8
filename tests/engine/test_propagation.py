"""Spike and spike-like-event propagation through DENSE and SPARSE synapse groups.

Most tests use the binary-decoder pattern of GeNN's feature tests: 16 presynaptic
neurons, neuron i firing once in step i, connected to 4 postsynaptic neurons with
weight 1 where bit j of (i + 1) is set. A spike emitted in step n reaches ``Isyn``
in step n + 1, so after ``step_time`` has been called T times the postsynaptic
neurons hold the binary digits of T - 1 (modulo 16: neuron 15 sets no bit, as in
GeNN's test, which stops after 16 steps; these run past the end of the train).

To keep the batch instances from being trivially identical, batch b fires every
presynaptic neuron b steps later than batch 0 (each batch indexes its own
segment of the shared ``spikeTimes`` array), so batch b decodes T - 1 - b.
"""
import numpy as np
import pytest

from eventprop.engine import (VarAccess, VarAccessMode, create_neuron_model,
                              create_var_init_snippet, create_var_ref,
                              create_weight_update_model, init_postsynaptic, init_var,
                              init_weight_update)

from helpers import add_spike_source, as_batched, make_model, per_batch, pulled, steps_of

N_PRE, N_POST = 16, 4
DT = 1.0
BITS = np.array([[((i + 1) >> j) & 1 for j in range(N_POST)] for i in range(N_PRE)],
                dtype=np.float64)          # BITS[i, j]: bit j of (i + 1)
N_STEPS = N_PRE + 8                         # beyond the last spike (batch offset <= 4)
MATRIX_TYPES = ("DENSE", "SPARSE")

# A neuron that exposes its synaptic input as a variable and never spikes
POST_MODEL = create_neuron_model("DecoderPost", vars=[("x", "scalar")], sim_code="x = Isyn;")

# A presynaptic neuron that fires (or, through V, flags a spike-like event) in the step
# where t == tspike and that records its own input (from addToPre) in x
PRE_SPIKE_MODEL = create_neuron_model(
    "DecoderPreSpike",
    vars=[("x", "scalar"), ("tspike", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
    sim_code="x = Isyn;",
    threshold_condition_code="fabs(t - tspike) < 0.5 * dt")

PRE_EVENT_MODEL = create_neuron_model(
    "DecoderPreEvent",
    vars=[("x", "scalar"), ("V", "scalar"),
          ("tspike", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
    sim_code="""
    x = Isyn;
    V = (fabs(t - tspike) < 0.5 * dt) ? 1.0 : 0.0;
    """)

PRE_EXTRA_INPUT_MODEL = create_neuron_model(
    "DecoderPreExtraInput",
    vars=[("x", "scalar"), ("y", "scalar"),
          ("tspike", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
    additional_input_vars=[("Ipre", "scalar", 0.0)],
    sim_code="""
    x = Isyn;
    y = Ipre;
    """,
    threshold_condition_code="fabs(t - tspike) < 0.5 * dt")

# The decoder weights computed on the fly from the synapse indices
DECODER_SNIPPET = create_var_init_snippet(
    "Decoder",
    var_init_code="""
    const unsigned int j_value = (1 << id_post);
    value = (((id_pre + 1) & j_value) != 0) ? 1.0 : 0.0;
    """)

# StaticPulse whose weight has one copy per batch instance
BATCHED_PULSE = create_weight_update_model(
    "BatchedStaticPulse", vars=[("g", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
    pre_spike_syn_code="addToPost(g);")

EVENT_PULSE = create_weight_update_model(
    "EventPulse", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_neuron_var_refs=[("V", "scalar", VarAccessMode.READ_ONLY)],
    pre_event_threshold_condition_code="V > 0.5",
    pre_event_syn_code="addToPost(g);")

PRE_PULSE = create_weight_update_model(
    "PrePulse", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_spike_syn_code="addToPre(g);")

PRE_EVENT_PULSE = create_weight_update_model(
    "PreEventPulse", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_neuron_var_refs=[("V", "scalar", VarAccessMode.READ_ONLY)],
    pre_event_threshold_condition_code="V > 0.5",
    pre_event_syn_code="addToPre(g);")


# ---------------------------------------------------------------------------
# helpers







def decoder_source(model, batch_size, name="src"):
    """Source neuron i fires in step i + b in batch b."""
    return add_spike_source(model, name, [[[i + b] for i in range(N_PRE)]
                                          for b in range(batch_size)], DT)


def tspike(batch_size):
    """Spike time of presynaptic neuron i in batch b: step i + b."""
    return per_batch(DT * (np.arange(N_PRE)[None, :] + np.arange(batch_size)[:, None]),
                     batch_size)


def decoder_connections(extra_zero=False, seed=1):
    """(pre, post, g) for the decoder in a shuffled order; with extra_zero, pairs whose
    bit is clear are connected too, with weight 0."""
    pre, post = np.nonzero(np.ones_like(BITS) if extra_zero else BITS)
    g = BITS[pre, post]
    order = np.random.default_rng(seed).permutation(pre.size)
    return pre[order], post[order], g[order]


def decode(x):
    """GeNN's decoder check: sum of 2^j over the outputs that are exactly 1."""
    return np.sum((x == 1.0) * (1 << np.arange(x.shape[-1])), axis=-1)


def expected_value(timestep, batch_size):
    """Value decoded by each batch after `timestep` steps: T - 1 - b while a spike is
    arriving (the 4 outputs hold it modulo 16, so neuron 15 decodes as 0), else 0."""
    v = timestep - 1 - np.arange(batch_size)
    return np.where((v >= 1) & (v <= N_PRE), v % (1 << N_POST), 0)


def expected_bits(timestep, batch_size):
    v = expected_value(timestep, batch_size)
    return ((v[:, None] >> np.arange(N_POST)) & 1).astype(np.float64)




def run_decoder(model, posts, batch_size, scale=None):
    """Step through the spike train, checking the decoded output of every population in
    ``posts`` (a population or a dict label -> population) after every step."""
    posts = posts if isinstance(posts, dict) else {"post": posts}
    scale = np.ones(batch_size) if scale is None else np.asarray(scale)
    for _ in range(N_STEPS):
        model.step_time()
        expected = expected_bits(model.timestep, batch_size) * scale[:, None]
        for label, post in posts.items():
            x = as_batched(pulled(post.vars["x"]), batch_size)
            msg = f"{label}, after {model.timestep} steps"
            np.testing.assert_array_equal(decode(x / scale[:, None]),
                                          expected_value(model.timestep, batch_size),
                                          err_msg=msg)
            np.testing.assert_array_equal(x, expected, err_msg=msg)


# ---------------------------------------------------------------------------
# spikes, addToPost

def test_decoder_dense_weight_array(precision, batch_size):
    model = make_model(precision, batch_size, "propagation", DT)
    src = decoder_source(model, batch_size)
    post = model.add_neuron_population("post", N_POST, POST_MODEL, {}, {"x": 0.0})
    model.add_synapse_population("syn", "DENSE", src, post,
                                 init_weight_update("StaticPulse", {}, {"g": BITS.flatten()}),
                                 init_postsynaptic("DeltaCurr"))
    model.build()
    model.load()
    run_decoder(model, post, batch_size)


# A neuron that sums its synaptic input over the run
COUNTING_POST_MODEL = create_neuron_model("CountingPost", vars=[("x", "scalar")],
                                          sim_code="x += Isyn;")
N_LARGE = 2500        # more neurons than one round of the cuda backend's spike lists (1024)


def test_every_spike_of_a_large_population_arrives_once(precision, batch_size):
    # One-to-one synapses of weight 1: each target counts its source's spikes
    steps = 12
    spikes = np.random.default_rng(11).random((steps, batch_size, N_LARGE)) < 0.3
    model = make_model(precision, batch_size, "large_population", DT)
    src = add_spike_source(model, "src", steps_of(spikes), DT)
    post = model.add_neuron_population("post", N_LARGE, COUNTING_POST_MODEL, {}, {"x": 0.0})
    syn = model.add_synapse_population("syn", "SPARSE", src, post,
                                       init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                       init_postsynaptic("DeltaCurr"))
    syn.set_sparse_connections(np.arange(N_LARGE), np.arange(N_LARGE))
    model.build()
    model.load()
    model.run(steps + 1)          # a spike reaches its target one step later
    np.testing.assert_array_equal(as_batched(pulled(post.vars["x"]), batch_size),
                                  spikes.sum(axis=0))


def test_decoder_dense_var_init_snippet(precision, batch_size):
    model = make_model(precision, batch_size, "propagation", DT)
    src = decoder_source(model, batch_size)
    post = model.add_neuron_population("post", N_POST, POST_MODEL, {}, {"x": 0.0})
    syn = model.add_synapse_population(
        "syn", "DENSE", src, post,
        init_weight_update("StaticPulse", {}, {"g": init_var(DECODER_SNIPPET)}),
        init_postsynaptic("DeltaCurr"))
    model.build()
    model.load()
    np.testing.assert_array_equal(pulled(syn.vars["g"]), BITS.flatten())
    run_decoder(model, post, batch_size)


def test_decoder_sparse_static_pulse(precision, batch_size):
    # Every pair connected, in a shuffled order, with the weights in the same order:
    # the weights must follow their synapses
    model = make_model(precision, batch_size, "propagation", DT)
    src = decoder_source(model, batch_size)
    post = model.add_neuron_population("post", N_POST, POST_MODEL, {}, {"x": 0.0})
    pre_ind, post_ind, g = decoder_connections(extra_zero=True)
    syn = model.add_synapse_population("syn", "SPARSE", src, post,
                                       init_weight_update("StaticPulse", {}, {"g": g}),
                                       init_postsynaptic("DeltaCurr"))
    syn.set_sparse_connections(pre_ind, post_ind)
    model.build()
    model.load()
    run_decoder(model, post, batch_size)


def test_decoder_sparse_constant_weight(precision, batch_size):
    # Only the pairs whose bit is set are connected; the weight is a parameter
    model = make_model(precision, batch_size, "propagation", DT)
    src = decoder_source(model, batch_size)
    post = model.add_neuron_population("post", N_POST, POST_MODEL, {}, {"x": 0.0})
    pre_ind, post_ind, _ = decoder_connections()
    syn = model.add_synapse_population(
        "syn", "SPARSE", src, post, init_weight_update("StaticPulseConstantWeight", {"g": 1.0}),
        init_postsynaptic("DeltaCurr"))
    syn.set_sparse_connections(pre_ind, post_ind)
    model.build()
    model.load()
    run_decoder(model, post, batch_size)


def test_decoder_batch_specific_weights(precision, batch_size):
    # The weights of batch b are (b + 1) times the decoder's; one DENSE and one SPARSE
    # pathway from the same source
    model = make_model(precision, batch_size, "propagation", DT)
    src = decoder_source(model, batch_size)
    scale = np.arange(1, batch_size + 1, dtype=np.float64)
    posts = {}
    for matrix_type in MATRIX_TYPES:
        post = posts[matrix_type] = model.add_neuron_population(
            f"post_{matrix_type}", N_POST, POST_MODEL, {}, {"x": 0.0})
        if matrix_type == "DENSE":
            g = scale[:, None] * BITS.flatten()[None, :]
        else:
            pre_ind, post_ind, g_syn = decoder_connections(extra_zero=True, seed=7)
            g = scale[:, None] * g_syn[None, :]
        syn = model.add_synapse_population(
            f"syn_{matrix_type}", matrix_type, src, post,
            init_weight_update(BATCHED_PULSE, {}, {"g": per_batch(g, batch_size)}),
            init_postsynaptic("DeltaCurr"))
        if matrix_type == "SPARSE":
            syn.set_sparse_connections(pre_ind, post_ind)
    model.build()
    model.load()
    for matrix_type in MATRIX_TYPES:
        # A duplicated weight has a batch axis only when there is more than one batch
        g = model.synapse_populations[f"syn_{matrix_type}"].vars["g"]
        assert g.view.ndim == (2 if batch_size > 1 else 1)
    run_decoder(model, posts, batch_size, scale=scale)


def test_one_step_latency(precision, batch_size):
    # One spike in step 5 (step 5 + b in batch b) must change Isyn in step 6 + b only
    spike_step, w = 5, 0.75
    model = make_model(precision, batch_size, "propagation", DT)
    src = add_spike_source(model, "src", [[[spike_step + b]] for b in range(batch_size)], DT)
    src.spike_recording_enabled = True
    post = model.add_neuron_population("post", 1, POST_MODEL, {}, {"x": 0.0})
    model.add_synapse_population("syn", "DENSE", src, post,
                                 init_weight_update("StaticPulse", {}, {"g": w}),
                                 init_postsynaptic("DeltaCurr"))
    model.build()
    n_steps = spike_step + batch_size + 3
    model.load(num_recording_timesteps=n_steps)
    x = np.empty((n_steps, batch_size))
    for n in range(n_steps):
        model.step_time()
        x[n] = as_batched(pulled(post.vars["x"]), batch_size)[:, 0]
    model.pull_recording_buffers_from_device()
    for b in range(batch_size):
        times, ids = src.spike_recording_data[b]
        np.testing.assert_array_equal(times, [DT * (spike_step + b)])
        np.testing.assert_array_equal(ids, [0])
        expected = np.zeros(n_steps)
        expected[spike_step + b + 1] = w
        np.testing.assert_array_equal(x[:, b], expected)


# ---------------------------------------------------------------------------
# spike-like events, addToPost

def test_decoder_spike_like_events(precision, batch_size):
    # Presynaptic neuron i sets V = 1 in step i (+ b) and never spikes; the event
    # condition reads V through a presynaptic variable reference
    model = make_model(precision, batch_size, "propagation", DT)
    pre = model.add_neuron_population("pre", N_PRE, PRE_EVENT_MODEL, {},
                                      {"x": 0.0, "V": 0.0, "tspike": tspike(batch_size)})
    posts = {}
    for matrix_type in MATRIX_TYPES:
        post = posts[matrix_type] = model.add_neuron_population(
            f"post_{matrix_type}", N_POST, POST_MODEL, {}, {"x": 0.0})
        if matrix_type == "DENSE":
            g = BITS.flatten()
        else:
            pre_ind, post_ind, g = decoder_connections(extra_zero=True, seed=3)
        syn = model.add_synapse_population(
            f"syn_{matrix_type}", matrix_type, pre, post,
            init_weight_update(EVENT_PULSE, {}, {"g": g},
                               pre_var_refs={"V": create_var_ref(pre, "V")}),
            init_postsynaptic("DeltaCurr"))
        if matrix_type == "SPARSE":
            syn.set_sparse_connections(pre_ind, post_ind)
    model.build()
    model.load()
    run_decoder(model, posts, batch_size)


# ---------------------------------------------------------------------------
# addToPre: presynaptic neuron i fires in step i (+ b) and receives sum_j g[i, j], the
# decoder's value (i + 1) % 16, in its input one step later. Each test has a DENSE and
# a SPARSE pathway, each with its own presynaptic and postsynaptic population.

PRE_WEIGHTS = BITS * (1 << np.arange(N_POST))[None, :]   # row sums are (i + 1) % 16


def pre_connections(matrix_type, seed):
    if matrix_type == "DENSE":
        return None, None, PRE_WEIGHTS.flatten()
    pre_ind, post_ind = np.nonzero(BITS)
    order = np.random.default_rng(seed).permutation(pre_ind.size)
    pre_ind, post_ind = pre_ind[order], post_ind[order]
    return pre_ind, post_ind, PRE_WEIGHTS[pre_ind, post_ind]


def expected_pre_input(timestep, batch_size):
    """(B, 16): presynaptic neuron i of batch b holds (i + 1) % 16 after step i + b + 1."""
    i = np.arange(N_PRE)[None, :]
    fired = i == (timestep - 2 - np.arange(batch_size))[:, None]
    return np.where(fired, (i + 1.0) % (1 << N_POST), 0.0)


def add_pre_decoders(model, batch_size, pre_model, pre_vars, wu_model, seed,
                     pre_var_refs=None, pre_target_var=None):
    """One (pre, post) pair per matrix type; returns {matrix_type: (pre, post)}."""
    pops = {}
    for matrix_type in MATRIX_TYPES:
        pre = model.add_neuron_population(f"pre_{matrix_type}", N_PRE, pre_model, {},
                                          dict(pre_vars, tspike=tspike(batch_size)))
        post = model.add_neuron_population(f"post_{matrix_type}", N_POST, POST_MODEL, {},
                                           {"x": 0.0})
        pre_ind, post_ind, g = pre_connections(matrix_type, seed)
        syn = model.add_synapse_population(
            f"syn_{matrix_type}", matrix_type, pre, post,
            init_weight_update(wu_model, {}, {"g": g}, pre_var_refs=pre_var_refs or {}),
            init_postsynaptic("DeltaCurr"))
        if matrix_type == "SPARSE":
            syn.set_sparse_connections(pre_ind, post_ind)
        if pre_target_var is not None:
            syn.pre_target_var = pre_target_var
        pops[matrix_type] = (pre, post)
    return pops


def run_pre_decoders(model, pops, batch_size, var="x", zero_var=None):
    for _ in range(N_STEPS):
        model.step_time()
        expected = expected_pre_input(model.timestep, batch_size)
        for matrix_type, (pre, post) in pops.items():
            msg = f"{matrix_type}, after {model.timestep} steps"
            np.testing.assert_array_equal(as_batched(pulled(pre.vars[var]), batch_size),
                                          expected, err_msg=msg)
            if zero_var is not None:
                np.testing.assert_array_equal(pulled(pre.vars[zero_var]), 0.0, err_msg=msg)
            # Nothing is sent forwards
            np.testing.assert_array_equal(pulled(post.vars["x"]), 0.0, err_msg=msg)


def test_add_to_pre_from_spikes(precision, batch_size):
    model = make_model(precision, batch_size, "propagation", DT)
    pops = add_pre_decoders(model, batch_size, PRE_SPIKE_MODEL, {"x": 0.0}, PRE_PULSE, seed=11)
    model.build()
    model.load()
    run_pre_decoders(model, pops, batch_size)


def test_add_to_pre_from_spike_like_events(precision, batch_size):
    model = make_model(precision, batch_size, "propagation", DT)
    pops = add_pre_decoders(model, batch_size, PRE_EVENT_MODEL, {"x": 0.0, "V": 0.0},
                            PRE_EVENT_PULSE, seed=12, pre_var_refs={"V": "V"})
    model.build()
    model.load()
    run_pre_decoders(model, pops, batch_size)


def test_add_to_pre_target_var(precision, batch_size):
    # With pre_target_var = "Ipre" the input arrives in the additional input variable
    # (reset to 0 every step) and Isyn stays 0
    model = make_model(precision, batch_size, "propagation", DT)
    pops = add_pre_decoders(model, batch_size, PRE_EXTRA_INPUT_MODEL, {"x": 0.0, "y": 0.0},
                            PRE_PULSE, seed=13, pre_target_var="Ipre")
    model.build()
    model.load()
    run_pre_decoders(model, pops, batch_size, var="y", zero_var="x")


# ---------------------------------------------------------------------------
# wide dense rows, which the cpu backend updates as vectors where the synapse code allows

N_WIDE = 300          # more synapses in a row than a vector holds, and not a multiple of one
WIDE_ROW_SUM = N_WIDE * (N_WIDE + 1) / 2.0    # of g = 1 .. N_WIDE: exact in any order

COUNTING_PULSE = create_weight_update_model(
    "CountingPulse", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    extra_global_params=[("count", "scalar*")],
    pre_spike_syn_code="count[batch * num_pre + id_pre] += g;")


def wide_rows(model, batch_size, wu_model):
    """Presynaptic neuron i fires in step i + b, on N_WIDE synapses of weights 1 .. N_WIDE."""
    pre = model.add_neuron_population("pre", N_PRE, PRE_SPIKE_MODEL, {},
                                      {"x": 0.0, "tspike": tspike(batch_size)})
    post = model.add_neuron_population("post", N_WIDE, POST_MODEL, {}, {"x": 0.0})
    g = np.tile(np.arange(1.0, N_WIDE + 1.0), N_PRE)
    syn = model.add_synapse_population("syn", "DENSE", pre, post,
                                       init_weight_update(wu_model, {}, {"g": g}),
                                       init_postsynaptic("DeltaCurr"))
    return pre, syn


def test_add_to_pre_sums_a_wide_dense_row(precision, batch_size):
    model = make_model(precision, batch_size, "wide_add_to_pre", DT)
    pre, _ = wide_rows(model, batch_size, PRE_PULSE)
    model.build()
    model.load()
    i = np.arange(N_PRE)[None, :]
    for _ in range(N_STEPS):
        model.step_time()
        fired = i == (model.timestep - 2 - np.arange(batch_size))[:, None]
        np.testing.assert_array_equal(as_batched(pulled(pre.vars["x"]), batch_size),
                                      np.where(fired, WIDE_ROW_SUM, 0.0),
                                      err_msg=f"after {model.timestep} steps")


def test_synapse_code_writing_shared_memory_sees_every_synapse(precision, batch_size, backend):
    # All synapses of a row add to one element of an extra global parameter: each addition
    # must see the one before it, so this row is not updated as a vector
    if backend == "cuda":
        pytest.skip("the cpu backend's promise: on a GPU the synapses of a row are threads, and "
                    "plain writes of many threads to one element race there (as in GeNN)")
    model = make_model(precision, batch_size, "wide_shared_write", DT)
    _, syn = wide_rows(model, batch_size, COUNTING_PULSE)
    syn.extra_global_params["count"].set_init_values(np.zeros(batch_size * N_PRE))
    model.build()
    model.load()
    for _ in range(N_STEPS):
        model.step_time()
    np.testing.assert_array_equal(pulled(syn.extra_global_params["count"]),
                                  np.full(batch_size * N_PRE, WIDE_ROW_SUM))
