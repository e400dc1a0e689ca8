"""Model lifecycle: load / unload / reload, several models at once, time keeping,
``run(n)`` against ``step_time()``, and the shapes of every kind of view."""
import numpy as np
import pytest

from eventprop.engine import (CustomUpdateVarAccess, GeNNModel, VarAccess, VarAccessMode,
                              create_current_source_model, create_custom_update_model,
                              create_neuron_model, create_var_ref,
                              create_weight_update_model, init_postsynaptic, init_var,
                              init_weight_update)

from helpers import pulled

DT = 0.5
N_IN, N_OUT = 12, 9

# ---------------------------------------------------------------------------
# A small but complete network: a patterned input population drives leaky
# neurons with noise through a DENSE and a SPARSE projection.

pattern_input = create_neuron_model(
    "PatternInput",
    threshold_condition_code="((id + (unsigned int)(t / dt + 0.5)) % 3) == 0")

leaky = create_neuron_model(
    "NoisyLeaky", params=["tau", "thresh"],
    vars=[("V", "scalar"), ("T", "scalar"), ("C", "unsigned int"),
          ("Bias", "scalar", VarAccess.READ_ONLY)],
    extra_global_params=[("gainEGP", "scalar*")],
    sim_code="""
    V += (-V + Isyn * gainEGP[id] + Bias) * (dt / tau) + 0.2 * gennrand_normal();
    T = t;
    """,
    threshold_condition_code="V >= thresh",
    reset_code="V = 0.0; C++;")

SPARSE_PRE = np.array([5, 0, 11, 3, 0, 7, 3, 9, 2, 5])
SPARSE_POST = np.array([1, 8, 0, 4, 2, 6, 0, 3, 5, 7])
SPARSE_G = np.linspace(-0.5, 1.5, len(SPARSE_PRE))
BIAS = np.linspace(0.5, 1.5, N_OUT)
GAIN = np.linspace(0.8, 1.2, N_OUT)


def life_model(precision, batch_size, seed=123, name="life", record=None):
    model = GeNNModel(precision, name)
    model.dt = DT
    model.batch_size = batch_size
    model.seed = seed
    inp = model.add_neuron_population("inp", N_IN, pattern_input)
    out = model.add_neuron_population(
        "out", N_OUT, leaky, {"tau": 4.0, "thresh": 1.0},
        {"V": init_var("Uniform", {"min": 0.0, "max": 0.5}), "T": -1.0, "C": 0, "Bias": BIAS})
    out.extra_global_params["gainEGP"].set_init_values(GAIN)
    model.add_synapse_population(
        "dense", "DENSE", inp, out,
        init_weight_update("StaticPulse", {}, {"g": init_var("Normal", {"mean": 0.3, "sd": 0.2})}),
        init_postsynaptic("ExpCurr", {"tau": 2.0}))
    sparse = model.add_synapse_population(
        "sparse", "SPARSE", inp, out,
        init_weight_update("StaticPulse", {}, {"g": SPARSE_G}),
        init_postsynaptic("DeltaCurr"))
    sparse.set_sparse_connections(SPARSE_PRE, SPARSE_POST)
    out.spike_recording_enabled = record is not None
    model.build()
    model.load(num_recording_timesteps=record)
    return model


def state(model):
    """Copies of every variable and input buffer of the life model, pulled from the device."""
    out = model.neuron_populations["out"]
    dense = model.synapse_populations["dense"]
    sparse = model.synapse_populations["sparse"]
    out.pull_state_from_device()
    out.extra_global_params["gainEGP"].pull_from_device()
    for sg in (dense, sparse):
        sg.vars["g"].pull_from_device()
        sg.out_post.pull_from_device()
    return {"V": out.vars["V"].values, "T": out.vars["T"].values, "C": out.vars["C"].values,
            "Bias": out.vars["Bias"].values, "gainEGP": out.extra_global_params["gainEGP"].values,
            "dense.g": dense.vars["g"].values, "sparse.g": sparse.vars["g"].values,
            "dense.out_post": dense.out_post.values, "sparse.out_post": sparse.out_post.values}


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# ---------------------------------------------------------------------------
# load / unload / reload

def test_views_raise_after_unload(precision, batch_size):
    model = life_model(precision, batch_size)
    out = model.neuron_populations["out"]
    dense = model.synapse_populations["dense"]
    model.step_time()
    model.unload()
    with pytest.raises(RuntimeError):
        out.vars["V"].view
    with pytest.raises(RuntimeError):
        out.vars["V"].values
    with pytest.raises(RuntimeError):
        dense.vars["g"].view
    with pytest.raises(RuntimeError):
        dense.out_post.view
    with pytest.raises(RuntimeError):
        out.extra_global_params["gainEGP"].view
    with pytest.raises(Exception):
        model.step_time()


def test_load_twice_and_step_before_load_raise(precision, batch_size):
    model = life_model(precision, batch_size)
    with pytest.raises(Exception):
        model.load()
    model.step_time()
    model.unload()
    with pytest.raises(Exception):
        model.step_time()
    with pytest.raises(Exception):
        model.run(3)


def test_reload_restores_initial_values(precision, batch_size):
    model = life_model(precision, batch_size)
    initial = state(model)
    # Initial values are what the model was given
    dtype = np.float32 if precision == "float" else np.float64
    np.testing.assert_array_equal(initial["Bias"], BIAS.astype(dtype))
    np.testing.assert_array_equal(initial["gainEGP"], GAIN.astype(dtype))
    np.testing.assert_array_equal(initial["T"], -1.0)
    np.testing.assert_array_equal(initial["C"], 0)
    order = np.lexsort((SPARSE_POST, SPARSE_PRE))
    np.testing.assert_array_equal(initial["sparse.g"], SPARSE_G[order].astype(dtype))

    model.run(20)
    model.neuron_populations["out"].vars["Bias"].view[:] = 99.0
    model.neuron_populations["out"].vars["Bias"].push_to_device()
    assert not np.array_equal(state(model)["V"], initial["V"])
    model.unload()
    model.load()
    assert_same_state(state(model), initial)


def test_reload_restarts_time(precision, batch_size):
    model = life_model(precision, batch_size)
    model.run(20)
    after_20 = state(model)
    model.unload()
    model.load()
    # A fresh runtime starts at timestep 0, as pygenn's load() does
    assert model.timestep == 0
    assert model.t == 0.0
    # ... and so repeats the first run exactly (t-dependent input and noise included)
    model.run(20)
    assert model.timestep == 20
    assert_same_state(state(model), after_20)


def test_two_models_from_same_definitions_are_independent(precision, batch_size):
    a = life_model(precision, batch_size)
    b = life_model(precision, batch_size)       # same definitions, name and seed
    a.run(5)
    a_5 = state(a)
    b.run(3)
    assert b.timestep == 3 and a.timestep == 5
    # Writing into one model leaves the other alone
    a.neuron_populations["out"].vars["V"].view[:] = 1000.0
    a.neuron_populations["out"].vars["V"].push_to_device()
    a.synapse_populations["dense"].vars["g"].view[:] = -1000.0
    a.synapse_populations["dense"].vars["g"].push_to_device()
    b.run(2)
    assert_same_state(state(b), a_5)
    # and the other still runs on its own state
    a.step_time()
    a.neuron_populations["out"].vars["T"].pull_from_device()
    assert np.all(a.neuron_populations["out"].vars["T"].view == 5 * DT)


def test_build_twice_in_one_process(precision, batch_size):
    first = life_model(precision, batch_size)
    first.run(10)
    first_state = state(first)
    first.unload()
    second = life_model(precision, batch_size)
    second.run(10)
    assert_same_state(state(second), first_state)


def test_state_arrays_start_on_cache_lines(precision, batch_size):
    """Every array of the state (the cpu backend's, which the cuda backend keeps on the host
    too) starts on a 64-byte cache line, so that threads working on different batch
    instances share no line where an instance's rows fill whole lines."""
    model = life_model(precision, batch_size)
    arrays = model._loaded.arrays
    assert arrays and all(a.ctypes.data % 64 == 0 for a in arrays.values())


# ---------------------------------------------------------------------------
# Time

def test_timestep_settable_and_t_is_timestep_times_dt(precision, batch_size):
    model = life_model(precision, batch_size)
    out = model.neuron_populations["out"]
    assert model.timestep == 0 and model.t == 0.0
    model.step_time()
    np.testing.assert_array_equal(pulled(out.vars["T"]), 0.0)
    assert model.timestep == 1 and model.t == DT

    model.timestep = 12
    assert model.timestep == 12
    assert model.t == 12 * DT
    model.step_time()
    # The step ran at t = 12 * dt
    np.testing.assert_array_equal(pulled(out.vars["T"]), 12 * DT)
    assert model.timestep == 13 and model.t == 13 * DT
    model.run(4)
    np.testing.assert_array_equal(pulled(out.vars["T"]), 16 * DT)
    assert model.timestep == 17 and model.t == 17 * DT


def test_run_n_equals_n_step_time_calls(precision, batch_size):
    n = 30
    a = life_model(precision, batch_size, record=n)
    b = life_model(precision, batch_size, record=n)
    a.run(n)
    for _ in range(n):
        b.step_time()
    assert a.timestep == b.timestep == n
    assert a.t == b.t == n * DT
    assert_same_state(state(a), state(b))
    spikes_a = a.neuron_populations["out"].spike_recording_data
    spikes_b = b.neuron_populations["out"].spike_recording_data
    assert len(spikes_a) == len(spikes_b) == batch_size
    assert sum(len(t) for t, _ in spikes_a) > 0
    for (ta, ia), (tb, ib) in zip(spikes_a, spikes_b):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(ia, ib)


# ---------------------------------------------------------------------------
# View shapes

all_access_neuron = create_neuron_model(
    "AllAccess",
    vars=[("RW", "scalar", VarAccess.READ_WRITE), ("RO", "scalar", VarAccess.READ_ONLY),
          ("ROD", "scalar", VarAccess.READ_ONLY_DUPLICATE),
          ("ROSN", "scalar", VarAccess.READ_ONLY_SHARED_NEURON)])

all_access_syn = create_weight_update_model(
    "AllAccessSyn",
    vars=[("RW", "scalar", VarAccess.READ_WRITE), ("RO", "scalar", VarAccess.READ_ONLY),
          ("Key", "scalar")],
    pre_vars=[("PreRW", "scalar"), ("PreRO", "scalar", VarAccess.READ_ONLY)],
    post_vars=[("PostRW", "scalar"), ("PostRO", "scalar", VarAccess.READ_ONLY)],
    synapse_dynamics_code="Key = id_pre * 100 + id_post + 10000 * batch;")

all_access_cs = create_current_source_model(
    "AllAccessCS",
    vars=[("RW", "scalar", VarAccess.READ_WRITE), ("RO", "scalar", VarAccess.READ_ONLY),
          ("ROSN", "scalar", VarAccess.READ_ONLY_SHARED_NEURON)])

cu_plain = create_custom_update_model(
    "CUPlain",
    vars=[("RW", "scalar", CustomUpdateVarAccess.READ_WRITE),
          ("RO", "scalar", CustomUpdateVarAccess.READ_ONLY),
          ("ROS", "scalar", CustomUpdateVarAccess.READ_ONLY_SHARED),
          ("ROSN", "scalar", CustomUpdateVarAccess.READ_ONLY_SHARED_NEURON)],
    var_refs=[("X", "scalar", VarAccessMode.READ_ONLY)])
cu_batch_reduce = create_custom_update_model(
    "CUBatchReduce",
    vars=[("S", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_SUM),
          ("M", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_MAX)],
    var_refs=[("X", "scalar", VarAccessMode.READ_ONLY)], update_code="S = X; M = X;")
cu_neuron_reduce = create_custom_update_model(
    "CUNeuronReduce",
    vars=[("S", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM),
          ("M", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_MAX)],
    var_refs=[("X", "scalar", VarAccessMode.READ_ONLY)], update_code="S = X; M = X;")

N_SHAPE, N_PRE, N_POST = 6, 4, 5
SHAPE_PRE = np.array([3, 0, 2, 0, 3, 1, 3])
SHAPE_POST = np.array([4, 2, 0, 1, 0, 3, 2])


def shapes_model(precision, batch_size):
    model = GeNNModel(precision, "shapes")
    model.batch_size = batch_size
    pop = model.add_neuron_population("pop", N_SHAPE, all_access_neuron, {},
                                      {"RW": 1.0, "RO": 2.0, "ROD": 3.0, "ROSN": 4.0})
    pre = model.add_neuron_population("pre", N_PRE, all_access_neuron, {},
                                      {"RW": 0.0, "RO": 0.0, "ROD": 0.0, "ROSN": 0.0})
    post = model.add_neuron_population("post", N_POST, all_access_neuron, {},
                                       {"RW": 0.0, "RO": 0.0, "ROD": 0.0, "ROSN": 0.0})
    dense = model.add_synapse_population(
        "dense", "DENSE", pre, post,
        init_weight_update(all_access_syn, {}, {"RW": 1.0, "RO": 2.0, "Key": 0.0},
                           {"PreRW": 0.0, "PreRO": 0.0}, {"PostRW": 0.0, "PostRO": 0.0}),
        init_postsynaptic("DeltaCurr"))
    # Initial values of SPARSE variables follow the order of the connections given
    sparse = model.add_synapse_population(
        "sparse", "SPARSE", pre, post,
        init_weight_update(all_access_syn, {},
                           {"RW": SHAPE_PRE * 100.0 + SHAPE_POST,
                            "RO": SHAPE_PRE * 10.0 + SHAPE_POST, "Key": 0.0},
                           {"PreRW": 0.0, "PreRO": 0.0}, {"PostRW": 0.0, "PostRO": 0.0}),
        init_postsynaptic("DeltaCurr"))
    sparse.set_sparse_connections(SHAPE_PRE, SHAPE_POST)
    cs = model.add_current_source("cs", all_access_cs, pop, {},
                                  {"RW": 0.0, "RO": 0.0, "ROSN": 0.0})
    ref = {"X": create_var_ref(pop, "RW")}
    cu1 = model.add_custom_update("cu_plain", "Plain", cu_plain, {},
                                  {"RW": 0.0, "RO": 0.0, "ROS": 0.0, "ROSN": 0.0}, ref)
    cu2 = model.add_custom_update("cu_batch", "BatchReduce", cu_batch_reduce, {},
                                  {"S": 0.0, "M": 0.0}, ref)
    cu3 = model.add_custom_update("cu_neuron", "NeuronReduce", cu_neuron_reduce, {},
                                  {"S": 0.0, "M": 0.0}, ref)
    model.build()
    model.load()
    return model, dict(pop=pop, dense=dense, sparse=sparse, cs=cs, cu1=cu1, cu2=cu2, cu3=cu3)


def batched_shape(batch_size, n):
    return (batch_size, n) if batch_size > 1 else (n,)


def shared_shape(batch_size):
    return (batch_size, 1) if batch_size > 1 else (1,)


def test_neuron_var_view_shapes(precision, batch_size):
    _, g = shapes_model(precision, batch_size)
    v = g["pop"].vars
    assert v["RW"].view.shape == batched_shape(batch_size, N_SHAPE)
    assert v["RO"].view.shape == (N_SHAPE,)
    assert v["ROD"].view.shape == batched_shape(batch_size, N_SHAPE)
    assert v["ROSN"].view.shape == shared_shape(batch_size)
    for name, value in (("RW", 1.0), ("RO", 2.0), ("ROD", 3.0), ("ROSN", 4.0)):
        assert v[name].values.shape == v[name].view.shape
        np.testing.assert_array_equal(v[name].view, value)
    dtype = np.float32 if precision == "float" else np.float64
    assert v["RW"].view.dtype == dtype


def test_current_source_and_out_post_view_shapes(precision, batch_size):
    _, g = shapes_model(precision, batch_size)
    v = g["cs"].vars
    assert v["RW"].view.shape == batched_shape(batch_size, N_SHAPE)
    assert v["RO"].view.shape == (N_SHAPE,)
    assert v["ROSN"].view.shape == shared_shape(batch_size)
    # out_post is always (batch, n_post)
    assert g["dense"].out_post.view.shape == (batch_size, N_POST)
    assert g["sparse"].out_post.view.shape == (batch_size, N_POST)


def test_custom_update_var_view_shapes(precision, batch_size):
    _, g = shapes_model(precision, batch_size)
    v = g["cu1"].vars
    assert v["RW"].view.shape == batched_shape(batch_size, N_SHAPE)
    assert v["RO"].view.shape == batched_shape(batch_size, N_SHAPE)
    assert v["ROS"].view.shape == (N_SHAPE,)
    assert v["ROSN"].view.shape == shared_shape(batch_size)
    for name in ("S", "M"):
        assert g["cu2"].vars[name].view.shape == (N_SHAPE,)
        assert g["cu3"].vars[name].view.shape == shared_shape(batch_size)


def test_pre_post_synapse_var_view_shapes(precision, batch_size):
    _, g = shapes_model(precision, batch_size)
    for name in ("dense", "sparse"):
        sg = g[name]
        assert sg.pre_vars["PreRW"].view.shape == batched_shape(batch_size, N_PRE)
        assert sg.pre_vars["PreRO"].view.shape == (N_PRE,)
        assert sg.post_vars["PostRW"].view.shape == batched_shape(batch_size, N_POST)
        assert sg.post_vars["PostRO"].view.shape == (N_POST,)


def test_dense_synapse_var_view_shapes(precision, batch_size):
    model, g = shapes_model(precision, batch_size)
    v = g["dense"].vars
    assert v["RW"].view.shape == batched_shape(batch_size, N_PRE * N_POST)
    assert v["RO"].view.shape == (N_PRE * N_POST,)
    assert v["RW"].values.shape == v["RW"].view.shape
    # DENSE storage is row-major: element pre * n_post + post
    model.step_time()
    v["Key"].pull_from_device()
    pre, post = np.meshgrid(np.arange(N_PRE), np.arange(N_POST), indexing="ij")
    key = (pre * 100 + post).ravel()[None, :] + 10000 * np.arange(batch_size)[:, None]
    np.testing.assert_array_equal(v["Key"].view, key.reshape(v["Key"].view.shape))


def test_sparse_synapse_var_values_ordered_by_pre_post(precision, batch_size):
    model, g = shapes_model(precision, batch_size)
    v = g["sparse"].vars
    n_syn = len(SHAPE_PRE)
    order = np.lexsort((SHAPE_POST, SHAPE_PRE))
    pre_s, post_s = SHAPE_PRE[order], SHAPE_POST[order]
    assert v["RW"].values.shape == batched_shape(batch_size, n_syn)
    assert v["RO"].values.shape == (n_syn,)
    # Initial values (given in connection order) come back in (pre, post) order...
    expected_rw = np.broadcast_to(pre_s * 100.0 + post_s, (batch_size, n_syn))
    np.testing.assert_array_equal(v["RW"].values, expected_rw.reshape(v["RW"].values.shape))
    np.testing.assert_array_equal(v["RO"].values, pre_s * 10.0 + post_s)
    # ... as do values the synapse code writes from id_pre and id_post
    model.step_time()
    v["Key"].pull_from_device()
    key = (pre_s * 100 + post_s)[None, :] + 10000 * np.arange(batch_size)[:, None]
    np.testing.assert_array_equal(v["Key"].values, key.reshape(v["Key"].values.shape))
    # Writing values in that order and reading them back is the identity
    new = np.arange(np.prod(v["RW"].values.shape), dtype=float).reshape(v["RW"].values.shape)
    v["RW"].values = new
    np.testing.assert_array_equal(v["RW"].values, new)
