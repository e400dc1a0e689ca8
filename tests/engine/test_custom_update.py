"""Custom updates: resets through variable references, batch and neuron
reductions, custom-update-to-custom-update references, EGP references and ``t``.

Every expected value is computed independently with NumPy / SciPy from the
values written into the model through its views.
"""
import numpy as np
import pytest
from scipy.special import softmax

from eventprop.engine import (CustomUpdateVarAccess, VarAccess,
                              VarAccessMode, create_current_source_model,
                              create_custom_update_model, create_egp_ref,
                              create_neuron_model, create_out_post_var_ref,
                              create_postsynaptic_model, create_var_ref,
                              create_weight_update_model, create_wu_var_ref,
                              init_postsynaptic, init_weight_update)

from helpers import make_model, pulled, with_batch_axis

DT = 1.0

# ---------------------------------------------------------------------------
# Shared model definitions

# A neuron whose state grows by a known, batch- and id-dependent amount each step
counter_neuron = create_neuron_model(
    "Counter", vars=[("V", "scalar")],
    sim_code="V += 1.0 + id + 100.0 * batch;")

# A neuron with one per-batch variable and no dynamics
state_neuron = create_neuron_model("State", vars=[("X", "scalar")])

# A presynaptic neuron that fires in every step when id <= batch
firing_neuron = create_neuron_model("FireIfIdLeBatch", threshold_condition_code="id <= batch")

# A postsynaptic model that injects and keeps its input (no decay, no reset)
holding_psm = create_postsynaptic_model("Holding", sim_code="injectCurrent(inSyn);")

static_pulse_ro = create_weight_update_model(
    "PulseRO", vars=[("g", "scalar", VarAccess.READ_ONLY)], pre_spike_syn_code="addToPost(g);")

# Per-synapse variable that grows by a batch-, pre- and post-dependent amount per step
growing_syn = create_weight_update_model(
    "Growing", vars=[("w", "scalar")],
    synapse_dynamics_code="w += 1.0 + id_pre * 10.0 + id_post + 1000.0 * batch;")

gradient_syn = create_weight_update_model(
    "GradientSyn", vars=[("g", "scalar", VarAccess.READ_ONLY), ("Gradient", "scalar")],
    pre_spike_syn_code="addToPost(g);")

set_value = create_custom_update_model(
    "SetValue", params=["value"], var_refs=[("X", "scalar")], update_code="X = value;")






def rng_values(shape, dtype, seed):
    # Values spread over +-100 and distinct, negative ones included (for MAX)
    rng = np.random.default_rng(seed)
    return rng.uniform(-100.0, 100.0, size=shape).astype(dtype)


def seq_sum(arr, dtype):
    """Sum over axis 0 in order, in the model's precision (as a loop over batches does)."""
    out = np.zeros(arr.shape[1:], dtype=dtype)
    for row in arr:
        out = (out + row).astype(dtype)
    return out


def dtype_of(precision):
    return np.float32 if precision == "float" else np.float64


# ---------------------------------------------------------------------------
# Resets through variable references

def test_reset_neuron_var_through_var_ref(precision, batch_size):
    model = make_model(precision, batch_size, "cu_reset_neuron", DT)
    n = 6
    pop = model.add_neuron_population("pop", n, counter_neuron, {}, {"V": 0.0})
    model.add_custom_update("reset", "Reset", set_value, {"value": -3.5}, {},
                            {"X": create_var_ref(pop, "V")})
    model.build()
    model.load()

    inc = 1.0 + np.arange(n)[None, :] + 100.0 * np.arange(batch_size)[:, None]
    for _ in range(3):
        model.step_time()
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["V"]), batch_size), 3 * inc)

    model.custom_update("Reset")
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["V"]), batch_size),
                                  np.full((batch_size, n), -3.5))

    model.step_time()
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["V"]), batch_size), -3.5 + inc)


def test_reset_current_source_var_through_var_ref(precision, batch_size):
    model = make_model(precision, batch_size, "cu_reset_cs", DT)
    n = 4
    integrator = create_neuron_model("Integrator", vars=[("V", "scalar")], sim_code="V += Isyn;")
    ramp = create_current_source_model(
        "Ramp", vars=[("A", "scalar")],
        injection_code="A += 1.0 + batch; injectCurrent(A);")
    pop = model.add_neuron_population("pop", n, integrator, {}, {"V": 0.0})
    cs = model.add_current_source("ramp", ramp, pop, {}, {"A": 0.0})
    model.add_custom_update("reset", "Reset", set_value, {"value": 0.0}, {},
                            {"X": create_var_ref(cs, "A")})
    model.build()
    model.load()

    slope = (1.0 + np.arange(batch_size))[:, None] * np.ones((1, n))
    for _ in range(3):
        model.step_time()
    # A = 3 * slope; V = slope * (1 + 2 + 3)
    np.testing.assert_array_equal(with_batch_axis(pulled(cs.vars["A"]), batch_size), 3 * slope)
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["V"]), batch_size), 6 * slope)

    model.custom_update("Reset")
    np.testing.assert_array_equal(with_batch_axis(pulled(cs.vars["A"]), batch_size), 0.0 * slope)
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["V"]), batch_size), 6 * slope)

    model.step_time()
    model.step_time()
    # The ramp restarts from zero: V += slope, then V += 2 * slope
    np.testing.assert_array_equal(with_batch_axis(pulled(cs.vars["A"]), batch_size), 2 * slope)
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["V"]), batch_size), 9 * slope)


@pytest.mark.parametrize("matrix_type", ["DENSE", "SPARSE"])
def test_reset_synapse_var_through_wu_var_ref(precision, batch_size, matrix_type):
    model = make_model(precision, batch_size, "cu_reset_syn", DT)
    n_pre, n_post = 3, 4
    pre = model.add_neuron_population("pre", n_pre, state_neuron, {}, {"X": 0.0})
    post = model.add_neuron_population("post", n_post, state_neuron, {}, {"X": 0.0})
    sg = model.add_synapse_population(
        "syn", matrix_type, pre, post, init_weight_update(growing_syn, {}, {"w": 0.0}),
        init_postsynaptic("DeltaCurr"))
    if matrix_type == "SPARSE":
        pre_ind = np.array([2, 0, 1, 2, 0, 1])
        post_ind = np.array([3, 1, 0, 0, 2, 3])
        sg.set_sparse_connections(pre_ind, post_ind)
    else:
        pre_ind, post_ind = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
        pre_ind, post_ind = pre_ind.ravel(), post_ind.ravel()
    model.add_custom_update("reset", "Reset", set_value, {"value": 7.0}, {},
                            {"X": create_wu_var_ref(sg, "w")})
    model.build()
    model.load()

    order = np.lexsort((post_ind, pre_ind))
    pre_s, post_s = pre_ind[order], post_ind[order]
    inc = (1.0 + pre_s * 10.0 + post_s)[None, :] + 1000.0 * np.arange(batch_size)[:, None]
    for _ in range(2):
        model.step_time()
    sg.vars["w"].pull_from_device()
    np.testing.assert_array_equal(with_batch_axis(sg.vars["w"].values, batch_size), 2 * inc)

    model.custom_update("Reset")
    sg.vars["w"].pull_from_device()
    np.testing.assert_array_equal(with_batch_axis(sg.vars["w"].values, batch_size),
                                  np.full(inc.shape, 7.0))
    model.step_time()
    sg.vars["w"].pull_from_device()
    np.testing.assert_array_equal(with_batch_axis(sg.vars["w"].values, batch_size), 7.0 + inc)


def test_reset_out_post_through_out_post_var_ref(precision, batch_size):
    model = make_model(precision, batch_size, "cu_reset_outpost", DT)
    n_pre, n_post = 3, 4
    pre = model.add_neuron_population("pre", n_pre, firing_neuron)
    post = model.add_neuron_population("post", n_post, state_neuron, {}, {"X": 0.0})
    g = (np.arange(n_pre * n_post, dtype=float) + 1.0) * 0.5
    sg = model.add_synapse_population(
        "syn", "DENSE", pre, post, init_weight_update(static_pulse_ro, {}, {"g": g}),
        init_postsynaptic(holding_psm))
    model.add_custom_update("reset", "Reset", set_value, {"value": 0.0}, {},
                            {"X": create_out_post_var_ref(sg)})
    model.build()
    model.load()

    g2 = g.reshape(n_pre, n_post)
    # Presynaptic neurons with id <= batch fire in every step
    active = (np.arange(n_pre)[None, :] <= np.arange(batch_size)[:, None]).astype(float)
    per_step = active @ g2                     # (batch, n_post) input per step
    for _ in range(4):
        model.step_time()
    # Spikes of steps 0..2 have arrived (those of step 3 arrive in step 4)
    assert sg.out_post.view.shape == (batch_size, n_post)
    np.testing.assert_array_equal(pulled(sg.out_post), 3 * per_step)

    model.custom_update("Reset")
    np.testing.assert_array_equal(pulled(sg.out_post), np.zeros((batch_size, n_post)))

    model.step_time()
    np.testing.assert_array_equal(pulled(sg.out_post), per_step)


# ---------------------------------------------------------------------------
# Batch reductions

gradient_reduce = create_custom_update_model(
    "GradientReduce",
    vars=[("Reduced", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_SUM),
          ("MaxGrad", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_MAX)],
    var_refs=[("Gradient", "scalar")],
    update_code="""
    Reduced = Gradient;
    MaxGrad = Gradient;
    Gradient = 0;
    """)


# Small reductions, and reductions large enough for the cpu backend to share them among 1,
# 2 or 3 threads (neurons in blocks, the last one partial; synapses row by row), which must
# still give the sums in batch order exactly
LARGE = 33 * 1024 + 37
THREADED = [{"backend": "cpu", "num_threads": k} for k in (1, 2, 3)]


@pytest.mark.parametrize("n, backend", [(37, {})] + [(LARGE, t) for t in THREADED])
def test_batch_reduction_of_neuron_var(precision, batch_size, n, backend):
    dtype = dtype_of(precision)
    model = make_model(precision, batch_size, "cu_batch_reduce_neuron", DT, **backend)
    pop = model.add_neuron_population("pop", n, state_neuron, {}, {"X": 0.0})
    cu = model.add_custom_update("reduce", "Reduce", gradient_reduce, {},
                                 {"Reduced": 0.0, "MaxGrad": 0.0},
                                 {"Gradient": create_var_ref(pop, "X")})
    model.build()
    model.load()
    assert cu.vars["Reduced"].view.shape == (n,)
    assert cu.vars["MaxGrad"].view.shape == (n,)

    grad = rng_values((batch_size, n), dtype, 1)
    pop.vars["X"].view[:] = grad.reshape(pop.vars["X"].view.shape)
    pop.vars["X"].push_to_device()
    model.custom_update("Reduce")
    cu.vars["Reduced"].pull_from_device()
    cu.vars["MaxGrad"].pull_from_device()
    pop.vars["X"].pull_from_device()

    np.testing.assert_array_equal(cu.vars["Reduced"].view, seq_sum(grad, dtype))
    np.testing.assert_array_equal(cu.vars["MaxGrad"].view, grad.max(axis=0))
    np.testing.assert_array_equal(pop.vars["X"].view, 0.0)

    # A second reduction starts afresh (it is not accumulated onto the first)
    grad2 = rng_values((batch_size, n), dtype, 2)
    pop.vars["X"].view[:] = grad2.reshape(pop.vars["X"].view.shape)
    pop.vars["X"].push_to_device()
    model.custom_update("Reduce")
    np.testing.assert_array_equal(pulled(cu.vars["Reduced"]), seq_sum(grad2, dtype))
    np.testing.assert_array_equal(pulled(cu.vars["MaxGrad"]), grad2.max(axis=0))


@pytest.mark.parametrize("matrix_type", ["DENSE", "SPARSE"])
@pytest.mark.parametrize("n_pre, n_post, backend",
                         [(5, 7, {})] + [(270, 250, t) for t in THREADED])
def test_batch_reduction_of_synapse_var(precision, batch_size, matrix_type, n_pre, n_post,
                                        backend):
    dtype = dtype_of(precision)
    model = make_model(precision, batch_size, "cu_batch_reduce_syn", DT, **backend)
    pre = model.add_neuron_population("pre", n_pre, state_neuron, {}, {"X": 0.0})
    post = model.add_neuron_population("post", n_post, state_neuron, {}, {"X": 0.0})
    sg = model.add_synapse_population(
        "syn", matrix_type, pre, post,
        init_weight_update(gradient_syn, {}, {"g": 0.0, "Gradient": 0.0}),
        init_postsynaptic("DeltaCurr"))
    if matrix_type == "SPARSE":
        rng = np.random.default_rng(3)
        mask = rng.random((n_pre, n_post)) < 0.5
        mask[1, :] = False  # an empty row
        pre_ind, post_ind = np.nonzero(mask)
        perm = rng.permutation(len(pre_ind))
        sg.set_sparse_connections(pre_ind[perm], post_ind[perm])
        n_syn = len(pre_ind)
    else:
        n_syn = n_pre * n_post
    cu = model.add_custom_update("reduce", "Reduce", gradient_reduce, {},
                                 {"Reduced": 0.0, "MaxGrad": 0.0},
                                 {"Gradient": create_wu_var_ref(sg, "Gradient")})
    model.build()
    model.load()

    grad = rng_values((batch_size, n_syn), dtype, 4)
    sg.vars["Gradient"].values = grad.reshape(sg.vars["Gradient"].values.shape)
    sg.vars["Gradient"].push_to_device()
    model.custom_update("Reduce")
    cu.vars["Reduced"].pull_from_device()
    cu.vars["MaxGrad"].pull_from_device()
    sg.vars["Gradient"].pull_from_device()

    assert cu.vars["Reduced"].values.shape == (n_syn,)
    np.testing.assert_array_equal(cu.vars["Reduced"].values, seq_sum(grad, dtype))
    np.testing.assert_array_equal(cu.vars["MaxGrad"].values, grad.max(axis=0))
    np.testing.assert_array_equal(sg.vars["Gradient"].values, 0.0)


@pytest.mark.parametrize("mode", ["REDUCE_SUM", "REDUCE_MAX"])
def test_reduction_var_ref_into_read_only_neuron_var(precision, batch_size, mode):
    dtype = dtype_of(precision)
    model = make_model(precision, batch_size, "cu_reduce_ref", DT)
    n = 9
    neuron = create_neuron_model(
        "TwoVars", vars=[("X", "scalar"), ("S", "scalar", VarAccess.READ_ONLY)])
    reduce = create_custom_update_model(
        "ReduceInto", var_refs=[("X", "scalar", VarAccessMode.READ_ONLY),
                                ("S", "scalar", VarAccessMode[mode])],
        update_code="S = X;")
    pop = model.add_neuron_population("pop", n, neuron, {}, {"X": 0.0, "S": 1000.0})
    model.add_custom_update("reduce", "Reduce", reduce, {}, {},
                            {"X": create_var_ref(pop, "X"), "S": create_var_ref(pop, "S")})
    model.build()
    model.load()
    assert pop.vars["S"].view.shape == (n,)

    x = rng_values((batch_size, n), dtype, 5)
    pop.vars["X"].view[:] = x.reshape(pop.vars["X"].view.shape)
    pop.vars["X"].push_to_device()
    model.custom_update("Reduce")
    expected = seq_sum(x, dtype) if mode == "REDUCE_SUM" else x.max(axis=0)
    # The reduction replaces the old value of S (1000) rather than adding to it
    np.testing.assert_array_equal(pulled(pop.vars["S"]), expected)
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["X"]), batch_size), x)


def test_batched_update_cannot_write_shared_var_through_read_write_ref(precision, batch_size):
    # As in GeNN, an update referencing a duplicated variable has the batch
    # dimension whatever the batch size, and a READ_WRITE reference to a variable
    # without it (READ_ONLY here) is refused
    model = make_model(precision, batch_size, "cu_bad_ref", DT)
    neuron = create_neuron_model(
        "TwoVars", vars=[("X", "scalar"), ("S", "scalar", VarAccess.READ_ONLY)])
    copy = create_custom_update_model(
        "Copy", var_refs=[("X", "scalar", VarAccessMode.READ_ONLY), ("S", "scalar")],
        update_code="S = X;")
    pop = model.add_neuron_population("pop", 4, neuron, {}, {"X": 0.0, "S": 0.0})
    with pytest.raises(Exception):
        model.add_custom_update("copy", "Copy", copy, {}, {},
                                {"X": create_var_ref(pop, "X"), "S": create_var_ref(pop, "S")})


def test_neuron_reduction_through_var_ref(precision, batch_size):
    # REDUCE_SUM / REDUCE_MAX references into READ_ONLY_SHARED_NEURON variables
    # reduce over the neurons of each batch
    dtype = dtype_of(precision)
    model = make_model(precision, batch_size, "cu_neuron_reduce_ref", DT)
    n = 13
    neuron = create_neuron_model(
        "WithTotals", vars=[("X", "scalar"),
                            ("Total", "scalar", VarAccess.READ_ONLY_SHARED_NEURON),
                            ("Largest", "scalar", VarAccess.READ_ONLY_SHARED_NEURON)])
    reduce = create_custom_update_model(
        "ReduceNeurons", var_refs=[("X", "scalar", VarAccessMode.READ_ONLY),
                                   ("Total", "scalar", VarAccessMode.REDUCE_SUM),
                                   ("Largest", "scalar", VarAccessMode.REDUCE_MAX)],
        update_code="Total = X; Largest = X;")
    pop = model.add_neuron_population("pop", n, neuron, {},
                                      {"X": 0.0, "Total": 500.0, "Largest": 500.0})
    model.add_custom_update("reduce", "Reduce", reduce, {}, {},
                            {k: create_var_ref(pop, k) for k in ("X", "Total", "Largest")})
    model.build()
    model.load()
    shared_shape = (batch_size, 1) if batch_size > 1 else (1,)
    assert pop.vars["Total"].view.shape == shared_shape

    x = rng_values((batch_size, n), dtype, 9)
    pop.vars["X"].view[:] = x.reshape(pop.vars["X"].view.shape)
    pop.vars["X"].push_to_device()
    model.custom_update("Reduce")
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["Total"]), batch_size)[:, 0],
                                  seq_sum(x.T, dtype))
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["Largest"]), batch_size)[:, 0],
                                  x.max(axis=1))


# ---------------------------------------------------------------------------
# Neuron reductions: softmax in three custom update groups

softmax_max = create_custom_update_model(
    "SoftmaxMax",
    vars=[("MaxX", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_MAX)],
    var_refs=[("X", "scalar", VarAccessMode.READ_ONLY)],
    update_code="MaxX = X;")
softmax_sum = create_custom_update_model(
    "SoftmaxSum",
    vars=[("SumExp", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM)],
    var_refs=[("X", "scalar", VarAccessMode.READ_ONLY),
              ("MaxX", "scalar", VarAccessMode.READ_ONLY)],
    update_code="SumExp = exp(X - MaxX);")
softmax_norm = create_custom_update_model(
    "SoftmaxNorm",
    var_refs=[("X", "scalar", VarAccessMode.READ_ONLY),
              ("MaxX", "scalar", VarAccessMode.READ_ONLY),
              ("SumExp", "scalar", VarAccessMode.READ_ONLY),
              ("Y", "scalar")],
    update_code="Y = exp(X - MaxX) / SumExp;")


def test_softmax_with_neuron_reductions(precision, batch_size):
    dtype = dtype_of(precision)
    model = make_model(precision, batch_size, "cu_softmax", DT)
    n = 11
    neuron = create_neuron_model("XY", vars=[("X", "scalar"), ("Y", "scalar")])
    pop = model.add_neuron_population("pop", n, neuron, {}, {"X": 0.0, "Y": 0.0})
    cu_max = model.add_custom_update("max", "SoftmaxMax", softmax_max, {}, {"MaxX": 0.0},
                                     {"X": create_var_ref(pop, "X")})
    cu_sum = model.add_custom_update("sum", "SoftmaxSum", softmax_sum, {}, {"SumExp": 0.0},
                                     {"X": create_var_ref(pop, "X"),
                                      "MaxX": create_var_ref(cu_max, "MaxX")})
    model.add_custom_update("norm", "SoftmaxNorm", softmax_norm, {}, {},
                            {"X": create_var_ref(pop, "X"),
                             "MaxX": create_var_ref(cu_max, "MaxX"),
                             "SumExp": create_var_ref(cu_sum, "SumExp"),
                             "Y": create_var_ref(pop, "Y")})
    model.build()
    model.load()
    shared_shape = (batch_size, 1) if batch_size > 1 else (1,)
    assert cu_max.vars["MaxX"].view.shape == shared_shape
    assert cu_sum.vars["SumExp"].view.shape == shared_shape

    x = np.random.default_rng(6).normal(0.0, 3.0, size=(batch_size, n)).astype(dtype)
    pop.vars["X"].view[:] = x.reshape(pop.vars["X"].view.shape)
    pop.vars["X"].push_to_device()
    model.custom_update("SoftmaxMax")
    model.custom_update("SoftmaxSum")
    model.custom_update("SoftmaxNorm")
    pop.vars["Y"].pull_from_device()

    x64 = x.astype(np.float64)
    np.testing.assert_array_equal(with_batch_axis(pulled(cu_max.vars["MaxX"]), batch_size)[:, 0],
                                  x.max(axis=1))
    rtol = 1e-5 if precision == "float" else 1e-12
    np.testing.assert_allclose(with_batch_axis(pulled(cu_sum.vars["SumExp"]), batch_size)[:, 0],
                               np.exp(x64 - x64.max(axis=1, keepdims=True)).sum(axis=1),
                               rtol=rtol)
    np.testing.assert_allclose(with_batch_axis(pop.vars["Y"].view, batch_size),
                               softmax(x64, axis=1), rtol=rtol)


# ---------------------------------------------------------------------------
# Custom update variables referenced by other custom updates

def test_custom_update_var_referenced_by_custom_update(precision, batch_size):
    model = make_model(precision, batch_size, "cu_ref_cu", DT)
    n = 5
    accumulate = create_custom_update_model(
        "Accumulate", vars=[("Acc", "scalar")],
        var_refs=[("X", "scalar", VarAccessMode.READ_ONLY)], update_code="Acc += X;")
    copy_back = create_custom_update_model(
        "CopyBack", params=["factor"],
        var_refs=[("Acc", "scalar", VarAccessMode.READ_ONLY), ("Y", "scalar")],
        update_code="Y = factor * Acc;")
    neuron = create_neuron_model("XY", vars=[("X", "scalar"), ("Y", "scalar")])
    pop = model.add_neuron_population("pop", n, neuron, {}, {"X": 0.0, "Y": 0.0})
    acc = model.add_custom_update("acc", "Accumulate", accumulate, {}, {"Acc": 0.5},
                                  {"X": create_var_ref(pop, "X")})
    model.add_custom_update("copy", "CopyBack", copy_back, {"factor": 2.0}, {},
                            {"Acc": create_var_ref(acc, "Acc"), "Y": create_var_ref(pop, "Y")})
    model.build()
    model.load()
    assert acc.vars["Acc"].view.shape == ((batch_size, n) if batch_size > 1 else (n,))

    x = np.arange(batch_size * n, dtype=float).reshape(batch_size, n) - 7.0
    pop.vars["X"].view[:] = x.reshape(pop.vars["X"].view.shape)
    pop.vars["X"].push_to_device()
    model.custom_update("Accumulate")
    model.custom_update("Accumulate")
    model.custom_update("CopyBack")
    np.testing.assert_array_equal(with_batch_axis(pulled(acc.vars["Acc"]), batch_size),
                                  0.5 + 2 * x)
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["Y"]), batch_size),
                                  2.0 * (0.5 + 2 * x))


def test_unbatched_optimiser_writes_read_only_synapse_var(precision, batch_size):
    dtype = dtype_of(precision)
    model = make_model(precision, batch_size, "cu_optimiser", DT)
    n_pre, n_post = 4, 6
    pre = model.add_neuron_population("pre", n_pre, state_neuron, {}, {"X": 0.0})
    post = model.add_neuron_population("post", n_post, state_neuron, {}, {"X": 0.0})
    g0 = rng_values(n_pre * n_post, dtype, 7)
    sg = model.add_synapse_population(
        "syn", "DENSE", pre, post,
        init_weight_update(gradient_syn, {}, {"g": g0, "Gradient": 0.0}),
        init_postsynaptic("DeltaCurr"))
    reduce = create_custom_update_model(
        "Reduce", vars=[("Reduced", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_SUM)],
        var_refs=[("Gradient", "scalar")],
        update_code="Reduced = Gradient; Gradient = 0;")
    sgd = create_custom_update_model(
        "SGD", params=["lr"],
        var_refs=[("g", "scalar"), ("Reduced", "scalar", VarAccessMode.READ_ONLY)],
        update_code="g -= lr * Reduced;")
    cu_reduce = model.add_custom_update("reduce", "GradientBatchReduce", reduce, {},
                                        {"Reduced": 0.0},
                                        {"Gradient": create_wu_var_ref(sg, "Gradient")})
    model.add_custom_update("sgd", "Optimise", sgd, {"lr": 0.25}, {},
                            {"g": create_wu_var_ref(sg, "g"),
                             "Reduced": create_wu_var_ref(cu_reduce, "Reduced")})
    model.build()
    model.load()
    assert sg.vars["g"].view.shape == (n_pre * n_post,)

    grad = rng_values((batch_size, n_pre * n_post), dtype, 8)
    sg.vars["Gradient"].view[:] = grad.reshape(sg.vars["Gradient"].view.shape)
    sg.vars["Gradient"].push_to_device()
    model.custom_update("GradientBatchReduce")
    model.custom_update("Optimise")

    reduced = seq_sum(grad, dtype)
    np.testing.assert_array_equal(pulled(cu_reduce.vars["Reduced"]), reduced)
    np.testing.assert_array_equal(pulled(sg.vars["g"]), g0 - dtype(0.25) * reduced)
    np.testing.assert_array_equal(pulled(sg.vars["Gradient"]), 0.0)


# ---------------------------------------------------------------------------
# EGP references and time

def test_egp_reference_in_custom_update(precision, batch_size):
    model = make_model(precision, batch_size, "cu_egp_ref", DT)
    n = 6
    neuron = create_neuron_model("WithEGP", vars=[("X", "scalar")],
                                 extra_global_params=[("table", "scalar*")])
    from_table = create_custom_update_model(
        "FromTable", var_refs=[("X", "scalar")], extra_global_param_refs=[("T", "scalar*")],
        update_code="X = T[batch * num_neurons + id];")
    pop = model.add_neuron_population("pop", n, neuron, {}, {"X": 0.0})
    table = np.arange(batch_size * n, dtype=float) * 0.5 + 1.0
    pop.extra_global_params["table"].set_init_values(table)
    model.add_custom_update("load", "Load", from_table, {}, {}, {"X": create_var_ref(pop, "X")},
                            {"T": create_egp_ref(pop, "table")})
    model.build()
    model.load()

    model.custom_update("Load")
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["X"]), batch_size),
                                  table.reshape(batch_size, n))

    # The reference sees changes to the referenced EGP
    egp = pop.extra_global_params["table"]
    egp.view[:] = -table
    egp.push_to_device()
    model.custom_update("Load")
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["X"]), batch_size),
                                  -table.reshape(batch_size, n))


def test_time_in_custom_update(precision, batch_size):
    model = make_model(precision, batch_size, "cu_time", DT)
    model.dt = 0.25
    n = 3
    stamp = create_custom_update_model("Stamp", var_refs=[("X", "scalar")], update_code="X = t;")
    pop = model.add_neuron_population("pop", n, state_neuron, {}, {"X": -1.0})
    model.add_custom_update("stamp", "Stamp", stamp, {}, {}, {"X": create_var_ref(pop, "X")})
    model.build()
    model.load()

    model.custom_update("Stamp")
    np.testing.assert_array_equal(pulled(pop.vars["X"]), 0.0)
    for _ in range(7):
        model.step_time()
    model.custom_update("Stamp")
    np.testing.assert_array_equal(pulled(pop.vars["X"]), 7 * 0.25)
    assert model.t == 7 * 0.25
