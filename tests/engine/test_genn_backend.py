"""The ``genn`` backend against a real pygenn 5 (skipped where pygenn is not
importable; see test_genn_backend_import.py for what runs without it)."""
import numpy as np
import pytest

pygenn = pytest.importorskip("pygenn")

from eventprop.engine import (GeNNModel, create_neuron_model, init_postsynaptic,  # noqa: E402
                              init_weight_update)

post_neuron_model = create_neuron_model("post_neuron", sim_code="x = Isyn;",
                                        vars=[("x", "scalar")])


def _decoder_connections():
    """Source i connects to output j when bit j of i + 1 is set."""
    pre, post = zip(*[(i, j) for i in range(16) for j in range(4) if (i + 1) & (1 << j)])
    return np.array(pre), np.array(post)


@pytest.mark.parametrize("matrix_type", ["DENSE", "SPARSE"])
def test_binary_decoder(tmp_path, precision, matrix_type):
    model = GeNNModel(precision, "genn_decoder", backend="genn")
    model.dt = 1.0
    ss = model.add_neuron_population("SpikeSource", 16, "SpikeSourceArray", {},
                                     {"startSpike": np.arange(16), "endSpike": np.arange(1, 17)})
    ss.extra_global_params["spikeTimes"].set_init_values(np.arange(16.0))
    out = model.add_neuron_population("Out", 4, post_neuron_model, {}, {"x": 0.0})
    pre, post = _decoder_connections()
    if matrix_type == "DENSE":
        dense = np.zeros((16, 4))
        dense[pre, post] = 1.0
        model.add_synapse_population("Syn", "DENSE", ss, out,
                                     init_weight_update("StaticPulse", {}, {"g": dense.flatten()}),
                                     init_postsynaptic("DeltaCurr"))
    else:
        # Connections in reverse order, so the weights must follow the given order
        sg = model.add_synapse_population("Syn", "SPARSE", ss, out,
                                          init_weight_update("StaticPulse", {},
                                                             {"g": np.ones(pre.size)}),
                                          init_postsynaptic("DeltaCurr"))
        sg.set_sparse_connections(pre[::-1], post[::-1])
    model.build(str(tmp_path))
    model.load()

    place_values = 2 ** np.arange(4)
    while model.timestep < 16:
        model.step_time()
        out.vars["x"].pull_from_device()
        value = np.sum(place_values[np.isclose(out.vars["x"].view, 1.0)])
        assert value == model.timestep - 1, f"decoded {value} at step {model.timestep}"
    model.unload()


def _lif_network(backend, path):
    """A small deterministic LIF network: spike sources through DENSE and SPARSE
    ExpCurr synapses, a DC current source and spike recording."""
    rng = np.random.default_rng(1234)
    model = GeNNModel("double", f"lif_{backend}", backend=backend)
    model.dt = 0.5
    n_in, n_lif = 20, 10
    times = [np.sort(rng.uniform(0.0, 25.0, 3)) for _ in range(n_in)]
    end = np.cumsum([len(t) for t in times])
    src = model.add_neuron_population("inp", n_in, "SpikeSourceArray", {},
                                      {"startSpike": end - 3, "endSpike": end})
    src.extra_global_params["spikeTimes"].set_init_values(np.concatenate(times))
    lif = model.add_neuron_population(
        "lif", n_lif, "LIF",
        {"C": 1.0, "TauM": 20.0, "Vrest": -70.0, "Vreset": -70.0, "Vthresh": -55.0,
         "Ioffset": 0.6, "TauRefrac": 2.0},
        {"V": np.linspace(-70.0, -56.0, n_lif), "RefracTime": 0.0})
    lif.spike_recording_enabled = True
    model.add_synapse_population(
        "dense", "DENSE", src, lif,
        init_weight_update("StaticPulse", {}, {"g": rng.uniform(0.0, 1.0, n_in * n_lif)}),
        init_postsynaptic("ExpCurr", {"tau": 5.0}))
    mask = rng.random((n_in, n_lif)) < 0.3
    pre, post = np.nonzero(mask)
    order = rng.permutation(pre.size)
    sparse = model.add_synapse_population(
        "sparse", "SPARSE", src, lif,
        init_weight_update("StaticPulse", {}, {"g": rng.uniform(0.0, 2.0, pre.size)}),
        init_postsynaptic("ExpCurr", {"tau": 3.0}))
    sparse.set_sparse_connections(pre[order], post[order])
    model.add_current_source("dc", "DC", lif, {"amp": 0.2})
    model.build(str(path / backend))
    model.load(num_recording_timesteps=50)
    return model, lif, sparse


def test_lif_network_matches_cpu(tmp_path):
    results = {}
    for backend in ("cpu", "genn"):
        model, lif, sparse = _lif_network(backend, tmp_path)
        model.run(50)
        lif.vars["V"].pull_from_device()
        sparse.vars["g"].pull_from_device()
        results[backend] = (lif.vars["V"].values, sparse.vars["g"].values,
                            lif.spike_recording_data[0])
        model.unload()
    (v_cpu, g_cpu, (t_cpu, i_cpu)), (v_genn, g_genn, (t_genn, i_genn)) = \
        results["cpu"], results["genn"]
    assert len(t_cpu) > 0, "the network should spike"
    np.testing.assert_allclose(v_genn, v_cpu, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(g_genn, g_cpu)   # same (pre, post) order
    np.testing.assert_allclose(t_genn, t_cpu)
    np.testing.assert_array_equal(i_genn, i_cpu)
