"""Dynamic parameters on neuron groups, synapse groups (weight update and
postsynaptic), current sources and custom updates.

All tests share one model (compiled once per precision and batch size):

    pre (fires every step when id <= batch) --DENSE, addToPost(g * h)--> post
    post: V += gain * Isyn + rate * (id + 1)
    postsynaptic model: injectCurrent(inSyn * scale + bias); inSyn = 0
    current source on post: injectCurrent(amp + off)
    custom update on post: W = value + fixed

rate, g, scale, amp and value are dynamic; gain, h, bias, off and fixed are not.
A NumPy simulation of the same equations gives the expected V after every step.
"""
import numpy as np
import pytest

from eventprop.engine import (GeNNModel, create_current_source_model,
                              create_custom_update_model, create_neuron_model,
                              create_postsynaptic_model, create_var_ref,
                              create_weight_update_model, init_postsynaptic,
                              init_weight_update)

from helpers import pulled

N_PRE, N_POST = 3, 4
INITIAL = {"rate": 1.0, "gain": 1.0, "g": 0.5, "h": 1.0, "scale": 2.0, "bias": 0.0,
           "amp": 0.25, "off": 0.0, "value": 1.5, "fixed": 0.0}

fire_neuron = create_neuron_model("FireIfIdLeBatch", threshold_condition_code="id <= batch")
acc_neuron = create_neuron_model(
    "Acc", params=["rate", "gain"], vars=[("V", "scalar"), ("W", "scalar")],
    sim_code="V += gain * Isyn + rate * (id + 1);")
pulse = create_weight_update_model("PulseGH", params=["g", "h"],
                                   pre_spike_syn_code="addToPost(g * h);")
scaled_psm = create_postsynaptic_model(
    "ScaledDelta", params=["scale", "bias"],
    sim_code="injectCurrent(inSyn * scale + bias); inSyn = 0;")
dc_off = create_current_source_model("DCOff", params=["amp", "off"],
                                     injection_code="injectCurrent(amp + off);")
set_w = create_custom_update_model("SetW", params=["value", "fixed"],
                                   var_refs=[("W", "scalar")], update_code="W = value + fixed;")


def dyn_model(precision, batch_size, build=True):
    model = GeNNModel(precision, "dyn_param")
    model.dt = 1.0
    model.batch_size = batch_size
    pre = model.add_neuron_population("pre", N_PRE, fire_neuron)
    post = model.add_neuron_population(
        "post", N_POST, acc_neuron, {k: INITIAL[k] for k in ("rate", "gain")},
        {"V": 0.0, "W": 0.0})
    post.set_param_dynamic("rate")
    syn = model.add_synapse_population(
        "syn", "DENSE", pre, post,
        init_weight_update(pulse, {k: INITIAL[k] for k in ("g", "h")}),
        init_postsynaptic(scaled_psm, {k: INITIAL[k] for k in ("scale", "bias")}))
    syn.set_wu_param_dynamic("g")
    syn.set_ps_param_dynamic("scale")
    cs = model.add_current_source("cs", dc_off, post,
                                  {k: INITIAL[k] for k in ("amp", "off")})
    cs.set_param_dynamic("amp")
    cu = model.add_custom_update("cu", "SetW", set_w,
                                 {k: INITIAL[k] for k in ("value", "fixed")}, {},
                                 {"W": create_var_ref(post, "W")})
    cu.set_param_dynamic("value")
    groups = {"post": post, "syn": syn, "cs": cs, "cu": cu}
    if build:
        model.build()
        model.load()
    return model, groups


def reference_v(batch_size, n_steps, changes):
    """V (batch, N_POST) after each step; ``changes[s]`` = {param: value} applied
    before step s."""
    p = dict(INITIAL)
    n_active = np.minimum(np.arange(batch_size) + 1, N_PRE)[:, None].astype(float)
    ids = np.arange(N_POST)[None, :]
    v = np.zeros((batch_size, N_POST))
    out = []
    for s in range(n_steps):
        p.update(changes.get(s, {}))
        # Spikes of step s - 1 arrive in step s (pre fires from step 0 on)
        in_syn = n_active * p["g"] * p["h"] if s >= 1 else np.zeros_like(n_active)
        isyn = (in_syn * p["scale"] + p["bias"]) + (p["amp"] + p["off"])
        v = v + (p["gain"] * isyn + p["rate"] * (ids + 1))
        out.append(v.copy())
    return out


def simulate(model, groups, batch_size, n_steps, changes):
    out = []
    for s in range(n_steps):
        for name, value in changes.get(s, {}).items():
            group = {"rate": "post", "g": "syn", "scale": "syn", "amp": "cs"}[name]
            groups[group].set_dynamic_param_value(name, value)
        model.step_time()
        v = np.array(pulled(groups["post"].vars["V"]), dtype=np.float64)  # a copy
        out.append(v[np.newaxis] if batch_size == 1 else v)
    return out


@pytest.mark.parametrize("param, values", [
    ("rate", (3.0, -0.5)),      # neuron group
    ("g", (1.5, 0.0)),          # weight update model of a synapse group
    ("scale", (0.25, 4.0)),     # postsynaptic model of a synapse group
    ("amp", (-1.0, 0.5)),       # current source
])
def test_dynamic_param_changes_behaviour_from_next_step(precision, batch_size, param, values):
    model, groups = dyn_model(precision, batch_size)
    changes = {3: {param: values[0]}, 5: {param: values[1]}}
    got = simulate(model, groups, batch_size, 7, changes)
    expected = reference_v(batch_size, 7, changes)
    for s, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_array_equal(g, e, err_msg=f"step {s}")
    # The change made a difference (the test would notice a value that is ignored)
    unchanged = reference_v(batch_size, 7, {})
    assert not np.array_equal(expected[-1], unchanged[-1])


def test_dynamic_param_of_custom_update(precision, batch_size):
    model, groups = dyn_model(precision, batch_size)
    w = groups["post"].vars["W"]
    model.custom_update("SetW")
    np.testing.assert_array_equal(pulled(w), INITIAL["value"])
    groups["cu"].set_dynamic_param_value("value", -2.25)
    # Nothing changes until the update runs again
    np.testing.assert_array_equal(pulled(w), INITIAL["value"])
    model.custom_update("SetW")
    np.testing.assert_array_equal(pulled(w), -2.25)
    model.step_time()
    groups["cu"].set_dynamic_param_value("value", 8.0)
    model.custom_update("SetW")
    np.testing.assert_array_equal(pulled(w), 8.0)


def test_dynamic_param_value_set_before_load(precision, batch_size):
    model, groups = dyn_model(precision, batch_size, build=False)
    groups["post"].set_dynamic_param_value("rate", 2.0)
    model.build()
    model.load()
    got = simulate(model, groups, batch_size, 3, {})
    expected = reference_v(batch_size, 3, {0: {"rate": 2.0}})
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("group, param", [
    ("post", "gain"), ("syn", "h"), ("syn", "bias"), ("cs", "off"), ("cu", "fixed")])
def test_setting_non_dynamic_param_raises(precision, batch_size, group, param):
    model, groups = dyn_model(precision, batch_size)
    with pytest.raises(Exception):
        groups[group].set_dynamic_param_value(param, 5.0)
    # The model goes on with the value it was built with
    got = simulate(model, groups, batch_size, 3, {})
    for g, e in zip(got, reference_v(batch_size, 3, {})):
        np.testing.assert_array_equal(g, e)
    model.custom_update("SetW")
    np.testing.assert_array_equal(pulled(groups["post"].vars["W"]),
                                  INITIAL["value"] + INITIAL["fixed"])


def test_set_param_dynamic_after_build_raises(precision, batch_size):
    model, groups = dyn_model(precision, batch_size)
    with pytest.raises(Exception):
        groups["post"].set_param_dynamic("gain")
