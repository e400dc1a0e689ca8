"""Error reporting of eventprop.engine.

The engine promises that mistakes in a model are Python exceptions raised before any C++ is
compiled, naming the model, the code field and the offending name (with the valid names, and
a suggestion where one is close), and that if the C++ compiler still rejects the code, the
error shows the model's own code line ("Model.field line N") rather than only the generated
file. One behaviour per test; tests that build a model run in float and double.
"""
import numpy as np
import pytest

from eventprop.engine import (CodeError, CompileError, CustomUpdateVarAccess, GeNNModel,
                              VarAccess, VarAccessMode, create_current_source_model,
                              create_custom_update_model, create_neuron_model,
                              create_postsynaptic_model, create_var_init_snippet,
                              create_var_ref, create_weight_update_model, create_wu_var_ref,
                              init_postsynaptic, init_sparse_connectivity, init_var,
                              init_weight_update)

LIF_PARAMS = dict(C=1.0, TauM=20.0, Vrest=0.0, Vreset=0.0, Vthresh=1.0, Ioffset=0.0,
                  TauRefrac=2.0)
LIF_VARS = dict(V=0.0, RefracTime=0.0)

# A minimal neuron used as a target everywhere
SIMPLE = create_neuron_model("Simple", vars=[("V", "scalar")], sim_code="V += Isyn;",
                             threshold_condition_code="V >= 1.0", reset_code="V = 0.0;")


def _model(precision, name="errors", batch_size=1):
    m = GeNNModel(precision, name)
    m.dt = 1.0
    if batch_size != 1:
        m.batch_size = batch_size
    return m


def _assert_names(err, *names):
    msg = str(err.value)
    for n in names:
        assert n in msg, f"{n!r} not in error message: {msg}"


# ---------------------------------------------------------------------------
# Undefined names, one per kind of code field

UNDEFINED_CASES = [
    # (id, factory, kwargs, model name, field, offending name, suggestion or None)
    ("neuron-sim", create_neuron_model,
     dict(params=["tau"], vars=[("V", "scalar")], sim_code="V += -V / tua;"),
     "MyNeuron", "sim_code", "tua", "tau"),
    ("neuron-sim-noclose", create_neuron_model,
     dict(params=["tau"], vars=[("V", "scalar")], sim_code="V += (Vrest - V) / tau;"),
     "MyNeuron", "sim_code", "Vrest", None),
    ("neuron-threshold", create_neuron_model,
     dict(params=["Vthresh"], vars=[("V", "scalar")], threshold_condition_code="V >= Vthres"),
     "MyNeuron", "threshold_condition_code", "Vthres", "Vthresh"),
    ("neuron-reset", create_neuron_model,
     dict(params=["Vreset"], vars=[("V", "scalar")], reset_code="V = Vrest;"),
     "MyNeuron", "reset_code", "Vrest", "Vreset"),
    ("wu-pre-spike", create_weight_update_model,
     dict(vars=[("weight", "scalar")], pre_spike_syn_code="addToPost(weigth);"),
     "MyWU", "pre_spike_syn_code", "weigth", "weight"),
    ("wu-synapse-dynamics", create_weight_update_model,
     dict(params=["eta"], vars=[("g", "scalar")], synapse_dynamics_code="g += etta * dt;"),
     "MyWU", "synapse_dynamics_code", "etta", "eta"),
    ("wu-event-threshold", create_weight_update_model,
     dict(vars=[("g", "scalar")], pre_vars=[("trace", "scalar")],
          pre_event_syn_code="addToPost(g);",
          pre_event_threshold_condition_code="trac > 0.5"),
     "MyWU", "pre_event_threshold_condition_code", "trac", "trace"),
    ("ps-sim", create_postsynaptic_model,
     dict(params=["tau"], sim_code="injectCurrent(inSin); inSyn *= exp(-dt / tau);"),
     "MyPSM", "sim_code", "inSin", "inSyn"),
    ("cs-injection", create_current_source_model,
     dict(params=["amp"], injection_code="injectCurrent(ampl);"),
     "MyCS", "injection_code", "ampl", "amp"),
    ("cu-update", create_custom_update_model,
     dict(params=["factor"], var_refs=[("V", "scalar")], update_code="V *= facter;"),
     "MyCU", "update_code", "facter", "factor"),
    ("var-init", create_var_init_snippet,
     dict(params=["constant"], var_init_code="value = constnt;"),
     "MyInit", "var_init_code", "constnt", "constant"),
]


@pytest.mark.parametrize("factory, kwargs, model, field, name, suggestion",
                         [c[1:] for c in UNDEFINED_CASES], ids=[c[0] for c in UNDEFINED_CASES])
def test_undefined_name_raises_code_error(factory, kwargs, model, field, name, suggestion):
    with pytest.raises(CodeError) as err:
        factory(model, **kwargs)
    _assert_names(err, model, field, f"'{name}'")
    if suggestion is not None:
        _assert_names(err, "Did you mean", f"'{suggestion}'")
    else:
        assert "Did you mean" not in str(err.value)


def test_undefined_name_lists_valid_names():
    with pytest.raises(CodeError) as err:
        create_neuron_model("MyNeuron", params=["tau"], vars=[("V", "scalar")],
                            sim_code="V += Vrest;")
    # The valid names of the context are listed: the model's own and the built-in ones
    _assert_names(err, "tau", "V", "Isyn", "dt")


def test_undefined_name_in_custom_update_attached_to_synapses(precision):
    # 'id' is a neuron index: fine at definition, an error once the update runs over synapses
    cu = create_custom_update_model("ScaleG", var_refs=[("x", "scalar")], update_code="x *= id;")
    m = _model(precision)
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    wu = create_weight_update_model("PlainWU", vars=[("g", "scalar")],
                                    pre_spike_syn_code="addToPost(g);")
    sg = m.add_synapse_population("s", "DENSE", a, a, init_weight_update(wu, {}, {"g": 1.0}),
                                  init_postsynaptic("DeltaCurr"))
    with pytest.raises(CodeError) as err:
        m.add_custom_update("u", "G", cu, {}, {}, {"x": create_wu_var_ref(sg, "g")})
    _assert_names(err, "ScaleG", "update_code", "'id'", "id_pre")


def test_bad_character_names_model_and_field():
    with pytest.raises(CodeError) as err:
        create_neuron_model("AtNeuron", vars=[("V", "scalar")], sim_code="V = V @ 2.0;")
    _assert_names(err, "AtNeuron", "sim_code", "@")


@pytest.mark.parametrize("code", ["addToPost(g, 1.0);", "addToPost;", "addToPost();",
                                  "g = gennrand_uniform(1.0);"])
def test_wrong_argument_count_names_model_and_field(code):
    with pytest.raises(CodeError) as err:
        create_weight_update_model("TwoArgs", vars=[("g", "scalar")], pre_spike_syn_code=code)
    _assert_names(err, "TwoArgs", "pre_spike_syn_code",
                  "gennrand_uniform" if "gennrand" in code else "addToPost")


# ---------------------------------------------------------------------------
# Writes to read-only names

READ_ONLY_CASES = [
    ("read-only-var", create_neuron_model,
     dict(vars=[("V", "scalar"), ("C", "scalar", VarAccess.READ_ONLY)], sim_code="C = V;"),
     "sim_code", "C"),
    ("read-only-var-compound", create_neuron_model,
     dict(vars=[("V", "scalar"), ("C", "scalar", VarAccess.READ_ONLY)], sim_code="C *= 2.0;"),
     "sim_code", "C"),
    ("read-only-duplicate-var", create_neuron_model,
     dict(vars=[("V", "scalar"), ("C", "scalar", VarAccess.READ_ONLY_DUPLICATE)],
          reset_code="C = 0.0;"),
     "reset_code", "C"),
    ("read-only-wu-var", create_weight_update_model,
     dict(vars=[("g", "scalar", VarAccess.READ_ONLY)], synapse_dynamics_code="g *= 0.5;"),
     "synapse_dynamics_code", "g"),
    ("read-only-pre-ref", create_weight_update_model,
     dict(vars=[("g", "scalar")], pre_neuron_var_refs=[("x", "scalar", VarAccessMode.READ_ONLY)],
          pre_spike_syn_code="x = g; addToPost(g);"),
     "pre_spike_syn_code", "x"),
    ("read-only-post-ref", create_weight_update_model,
     dict(vars=[("g", "scalar")],
          post_neuron_var_refs=[("y", "scalar", VarAccessMode.READ_ONLY)],
          synapse_dynamics_code="y += g;"),
     "synapse_dynamics_code", "y"),
    ("isyn-assign", create_neuron_model,
     dict(vars=[("V", "scalar")], sim_code="Isyn = 0.0; V += 1.0;"), "sim_code", "Isyn"),
    ("isyn-add", create_neuron_model,
     dict(vars=[("V", "scalar")], sim_code="Isyn += 1.0; V += Isyn;"), "sim_code", "Isyn"),
    ("prefix-increment", create_neuron_model,
     dict(vars=[("V", "scalar"), ("n", "unsigned int", VarAccess.READ_ONLY)],
          sim_code="++n; V += 1.0;"),
     "sim_code", "n"),
    ("postfix-increment", create_neuron_model,
     dict(vars=[("V", "scalar"), ("n", "unsigned int", VarAccess.READ_ONLY)],
          sim_code="V += 1.0; n++;"),
     "sim_code", "n"),
    ("prefix-decrement", create_neuron_model,
     dict(vars=[("V", "scalar"), ("n", "unsigned int", VarAccess.READ_ONLY)],
          sim_code="--n;"),
     "sim_code", "n"),
    ("param-assign", create_neuron_model,
     dict(params=["tau"], vars=[("V", "scalar")], sim_code="tau = 2.0; V += tau;"),
     "sim_code", "tau"),
    ("derived-param-assign", create_neuron_model,
     dict(params=["tau"], derived_params=[("decay", lambda p, dt: np.exp(-dt / p["tau"]))],
          vars=[("V", "scalar")], sim_code="decay *= 2.0; V *= decay;"),
     "sim_code", "decay"),
    ("wu-param-assign", create_weight_update_model,
     dict(params=["g"], pre_spike_syn_code="g = 0.0; addToPost(g);"),
     "pre_spike_syn_code", "g"),
    ("time-assign", create_neuron_model,
     dict(vars=[("V", "scalar")], sim_code="t = 0.0;"), "sim_code", "t"),
    ("cu-read-only-ref", create_custom_update_model,
     dict(var_refs=[("x", "scalar", VarAccessMode.READ_ONLY)], update_code="x = 0.0;"),
     "update_code", "x"),
    ("cu-read-only-var", create_custom_update_model,
     dict(vars=[("y", "scalar", CustomUpdateVarAccess.READ_ONLY)], var_refs=[("x", "scalar")],
          update_code="y = x;"),
     "update_code", "y"),
]


@pytest.mark.parametrize("factory, kwargs, field, name", [c[1:] for c in READ_ONLY_CASES],
                         ids=[c[0] for c in READ_ONLY_CASES])
def test_write_to_read_only_raises_code_error(factory, kwargs, field, name):
    with pytest.raises(CodeError) as err:
        factory("RO", **kwargs)
    _assert_names(err, "RO", field, f"'{name}'", "read-only")


def test_read_write_access_of_same_names_is_accepted():
    # The same writes are fine where the names are writable
    create_neuron_model("RW", vars=[("V", "scalar"), ("n", "unsigned int")],
                        sim_code="n++; ++n; V = 2.0 * Isyn; V += 1.0;")
    create_weight_update_model("RWWU", vars=[("g", "scalar")],
                               pre_neuron_var_refs=[("x", "scalar", VarAccessMode.READ_WRITE)],
                               pre_spike_syn_code="x = g; addToPost(g);")


# ---------------------------------------------------------------------------
# Locals of sim_code

def test_sim_code_locals_visible_in_threshold_and_reset(precision):
    neuron = create_neuron_model(
        "LocalNeuron", params=["tau"], vars=[("V", "scalar")],
        sim_code="const scalar dV = 1.0 / tau;\nV += dV;",
        threshold_condition_code="V > dV * 3.5",
        reset_code="V = -dV;")
    m = _model(precision, "locals")
    pop = m.add_neuron_population("p", 3, neuron, {"tau": 1.0}, {"V": 0.0})
    m.build()
    m.load()
    seen = []
    for _ in range(5):
        m.step_time()
        pop.vars["V"].pull_from_device()
        seen.append(pop.vars["V"].view[0])
    # V climbs by dV = 1 until it exceeds 3.5 dV, then reset uses the same local
    np.testing.assert_allclose(seen, [1.0, 2.0, 3.0, -1.0, 0.0])


LOCAL_ELSEWHERE_CASES = [
    ("ps-sim", create_postsynaptic_model, dict(sim_code="injectCurrent(dV * inSyn);"),
     "sim_code"),
    ("wu-pre-spike", create_weight_update_model,
     dict(vars=[("g", "scalar")], pre_spike_syn_code="addToPost(g * dV);"),
     "pre_spike_syn_code"),
    ("cs-injection", create_current_source_model, dict(injection_code="injectCurrent(dV);"),
     "injection_code"),
    ("other-neuron-threshold", create_neuron_model,
     dict(vars=[("V", "scalar")], threshold_condition_code="V > dV"),
     "threshold_condition_code"),
    ("cu-update", create_custom_update_model,
     dict(var_refs=[("V", "scalar")], update_code="V = dV;"), "update_code"),
]


@pytest.mark.parametrize("factory, kwargs, field", [c[1:] for c in LOCAL_ELSEWHERE_CASES],
                         ids=[c[0] for c in LOCAL_ELSEWHERE_CASES])
def test_sim_code_locals_not_visible_in_other_models(factory, kwargs, field):
    # A neuron model declaring the local 'dV' exists...
    create_neuron_model("HasLocal", params=["tau"], vars=[("V", "scalar")],
                        sim_code="const scalar dV = 1.0 / tau; V += dV;",
                        threshold_condition_code="V > dV")
    # ...but no other model sees it
    with pytest.raises(CodeError) as err:
        factory("Other", **kwargs)
    _assert_names(err, "Other", field, "'dV'")


def test_sim_code_local_in_nested_block_not_visible_in_threshold(precision):
    # 'alpha' lives in the if-block only (as in GeNN's LIF); using it in the threshold must be
    # reported as an undefined name before compilation, not as a compiler error
    with pytest.raises(CodeError) as err:
        neuron = create_neuron_model(
            "BlockLocal", vars=[("V", "scalar")],
            sim_code="if (V > 0.0) {\n    scalar alpha = 0.5;\n    V += alpha;\n}",
            threshold_condition_code="alpha > 2.0")
        m = _model(precision, "blocklocal")
        m.add_neuron_population("p", 3, neuron, {}, {"V": 0.0})
        m.build()
    _assert_names(err, "BlockLocal", "threshold_condition_code", "'alpha'")


# ---------------------------------------------------------------------------
# Parameters: missing one, unknown one (with a suggestion)

def _neuron_params(m, params):
    return m.add_neuron_population("p", 4, "LIF", params, LIF_VARS)


def _wu_params(m, params):
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    return m.add_synapse_population("s", "DENSE", a, a,
                                    init_weight_update("StaticPulseConstantWeight", params),
                                    init_postsynaptic("DeltaCurr"))


def _ps_params(m, params):
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    return m.add_synapse_population("s", "DENSE", a, a,
                                    init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                    init_postsynaptic("ExpCurr", params))


def _cs_params(m, params):
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    return m.add_current_source("cs", "DC", a, params)


SCALE = create_custom_update_model("Scale", params=["factor"], var_refs=[("x", "scalar")],
                                   update_code="x *= factor;")


def _cu_params(m, params):
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    return m.add_custom_update("u", "G", SCALE, params, {}, {"x": create_var_ref(a, "V")})


def _init_var_params(m, params):
    return m.add_neuron_population("p", 4, "LIF", LIF_PARAMS,
                                   {"V": init_var("Uniform", params), "RefracTime": 0.0})


PARAM_CASES = [
    # (id, adder, complete params, param to drop, typo of it, model name in message)
    ("neuron", _neuron_params, LIF_PARAMS, "TauRefrac", "TauRefac", "LIF"),
    ("weight-update", _wu_params, {"g": 0.5}, "g", "gg", "StaticPulseConstantWeight"),
    ("postsynaptic", _ps_params, {"tau": 5.0}, "tau", "tua", "ExpCurr"),
    ("current-source", _cs_params, {"amp": 1.0}, "amp", "ampp", "DC"),
    ("custom-update", _cu_params, {"factor": 2.0}, "factor", "facter", "Scale"),
    ("init-var", _init_var_params, {"min": 0.0, "max": 1.0}, "max", "maxx", "Uniform"),
]


@pytest.mark.parametrize("adder, params, drop, typo, model_name",
                         [c[1:] for c in PARAM_CASES], ids=[c[0] for c in PARAM_CASES])
def test_missing_parameter(precision, adder, params, drop, typo, model_name):
    m = _model(precision)
    given = {k: v for k, v in params.items() if k != drop}
    with pytest.raises(ValueError) as err:
        adder(m, given)
    _assert_names(err, model_name, "missing", drop)


@pytest.mark.parametrize("adder, params, drop, typo, model_name",
                         [c[1:] for c in PARAM_CASES], ids=[c[0] for c in PARAM_CASES])
def test_unknown_parameter_with_suggestion(precision, adder, params, drop, typo, model_name):
    m = _model(precision)
    given = {k: v for k, v in params.items() if k != drop} | {typo: params[drop]}
    with pytest.raises(ValueError) as err:
        adder(m, given)
    _assert_names(err, model_name, f"'{typo}'", f"Did you mean '{drop}'")


@pytest.mark.parametrize("adder, params, drop, typo, model_name",
                         [c[1:] for c in PARAM_CASES], ids=[c[0] for c in PARAM_CASES])
def test_complete_parameters_are_accepted(precision, adder, params, drop, typo, model_name):
    # Control for the two tests above: the same call with the right parameters works
    adder(_model(precision), dict(params))


def test_non_numeric_parameter(precision):
    m = _model(precision)
    with pytest.raises(TypeError) as err:
        m.add_neuron_population("p", 4, "LIF", LIF_PARAMS | {"C": "1.0"}, LIF_VARS)
    _assert_names(err, "LIF", "'C'")


def test_failed_add_leaves_no_group_behind(precision):
    m = _model(precision)
    with pytest.raises(ValueError):
        m.add_neuron_population("p", 4, "LIF", {}, LIF_VARS)
    assert "p" not in m.neuron_populations
    # The name is free for a correct population
    m.add_neuron_population("p", 4, "LIF", LIF_PARAMS, LIF_VARS)


# ---------------------------------------------------------------------------
# Variable initialisers: missing or unknown

PS_WITH_VAR = create_postsynaptic_model("PSWithVar", vars=[("m", "scalar")],
                                        sim_code="injectCurrent(m * inSyn); inSyn = 0.0;")
CS_WITH_VAR = create_current_source_model("CSWithVar", vars=[("level", "scalar")],
                                          injection_code="injectCurrent(level);")
CU_WITH_VAR = create_custom_update_model("CUWithVar", vars=[("acc", "scalar")],
                                         var_refs=[("x", "scalar")], update_code="acc += x;")
WU_PRE_POST = create_weight_update_model(
    "WUPrePost", vars=[("g", "scalar")], pre_vars=[("xpre", "scalar")],
    post_vars=[("ypost", "scalar")], pre_spike_syn_code="addToPost(g * xpre);")


def _neuron_vars(m, vars):
    return m.add_neuron_population("p", 4, "LIF", LIF_PARAMS, vars)


def _wu_vars(m, vars):
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    return m.add_synapse_population("s", "DENSE", a, a, init_weight_update("StaticPulse", {}, vars),
                                    init_postsynaptic("DeltaCurr"))


def _wu_pre_vars(m, vars):
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    return m.add_synapse_population(
        "s", "DENSE", a, a, init_weight_update(WU_PRE_POST, {}, {"g": 1.0}, vars, {"ypost": 0.0}),
        init_postsynaptic("DeltaCurr"))


def _wu_post_vars(m, vars):
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    return m.add_synapse_population(
        "s", "DENSE", a, a, init_weight_update(WU_PRE_POST, {}, {"g": 1.0}, {"xpre": 0.0}, vars),
        init_postsynaptic("DeltaCurr"))


def _ps_vars(m, vars):
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    return m.add_synapse_population("s", "DENSE", a, a,
                                    init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                    init_postsynaptic(PS_WITH_VAR, {}, vars))


def _cs_vars(m, vars):
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    return m.add_current_source("cs", CS_WITH_VAR, a, {}, vars)


def _cu_vars(m, vars):
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    return m.add_custom_update("u", "G", CU_WITH_VAR, {}, vars, {"x": create_var_ref(a, "V")})


VAR_CASES = [
    # (id, adder, complete vars, var to drop, typo of it)
    ("neuron", _neuron_vars, LIF_VARS, "RefracTime", "RefracTim"),
    ("weight-update", _wu_vars, {"g": 1.0}, "g", "gg"),
    ("wu-pre", _wu_pre_vars, {"xpre": 0.0}, "xpre", "xpr"),
    ("wu-post", _wu_post_vars, {"ypost": 0.0}, "ypost", "ypst"),
    ("postsynaptic", _ps_vars, {"m": 1.0}, "m", "mm"),
    ("current-source", _cs_vars, {"level": 1.0}, "level", "levle"),
    ("custom-update", _cu_vars, {"acc": 0.0}, "acc", "acc_"),
]


@pytest.mark.parametrize("adder, vars, drop, typo", [c[1:] for c in VAR_CASES],
                         ids=[c[0] for c in VAR_CASES])
def test_missing_variable_initialiser(precision, adder, vars, drop, typo):
    m = _model(precision)
    with pytest.raises(ValueError) as err:
        adder(m, {k: v for k, v in vars.items() if k != drop})
    _assert_names(err, "missing", drop)


@pytest.mark.parametrize("adder, vars, drop, typo", [c[1:] for c in VAR_CASES],
                         ids=[c[0] for c in VAR_CASES])
def test_unknown_variable_initialiser(precision, adder, vars, drop, typo):
    m = _model(precision)
    given = {k: v for k, v in vars.items() if k != drop} | {typo: vars[drop]}
    with pytest.raises(ValueError) as err:
        adder(m, given)
    _assert_names(err, f"'{typo}'", f"Did you mean '{drop}'")


@pytest.mark.parametrize("adder, vars, drop, typo", [c[1:] for c in VAR_CASES],
                         ids=[c[0] for c in VAR_CASES])
def test_complete_variable_initialisers_are_accepted(precision, adder, vars, drop, typo):
    adder(_model(precision), dict(vars))


def test_variable_initialiser_of_wrong_kind(precision):
    m = _model(precision)
    with pytest.raises(TypeError) as err:
        m.add_neuron_population("p", 4, "LIF", LIF_PARAMS, {"V": "zero", "RefracTime": 0.0})
    _assert_names(err, "'V'", "init_var")


# ---------------------------------------------------------------------------
# Access modes

ACCESS_CASES = [
    ("var-typo", create_neuron_model, lambda a: dict(vars=[("V", "scalar", a)]),
     "READ_ONLYY", "VarAccess", ["READ_WRITE", "READ_ONLY_DUPLICATE", "READ_ONLY_SHARED_NEURON"]),
    ("var-wrong-enum", create_neuron_model, lambda a: dict(vars=[("V", "scalar", a)]),
     VarAccessMode.READ_ONLY, "VarAccess", ["READ_ONLY_DUPLICATE", "READ_ONLY_SHARED_NEURON"]),
    ("ref-typo", create_weight_update_model,
     lambda a: dict(pre_neuron_var_refs=[("V", "scalar", a)]),
     "REDUCE_SUMM", "VarAccessMode", ["READ_WRITE", "READ_ONLY", "REDUCE_SUM", "REDUCE_MAX"]),
    ("ref-wrong-enum", create_weight_update_model,
     lambda a: dict(pre_neuron_var_refs=[("V", "scalar", a)]),
     VarAccess.READ_ONLY, "VarAccessMode", ["REDUCE_SUM", "REDUCE_MAX"]),
    ("cu-var-typo", create_custom_update_model,
     lambda a: dict(vars=[("V", "scalar", a)], var_refs=[("x", "scalar")]),
     "REDUCE_BATCH_SUMM", "CustomUpdateVarAccess", ["REDUCE_BATCH_SUM", "REDUCE_NEURON_MAX"]),
    ("cu-var-wrong-enum", create_custom_update_model,
     lambda a: dict(vars=[("V", "scalar", a)], var_refs=[("x", "scalar")]),
     VarAccess.READ_ONLY_DUPLICATE, "CustomUpdateVarAccess",
     ["READ_ONLY_SHARED", "REDUCE_BATCH_SUM"]),
]


@pytest.mark.parametrize("factory, kwargs_of, access, enum_name, valid",
                         [c[1:] for c in ACCESS_CASES], ids=[c[0] for c in ACCESS_CASES])
def test_unknown_access_mode_names_valid_modes(factory, kwargs_of, access, enum_name, valid):
    with pytest.raises(ValueError) as err:
        factory("AccessModel", **kwargs_of(access))
    _assert_names(err, "AccessModel", "'V'", enum_name, *valid)


def test_access_mode_by_name_is_accepted():
    model = create_neuron_model("ByName", vars=[("V", "scalar", "READ_ONLY")])
    assert model.vars[0].access is VarAccess.READ_ONLY


# ---------------------------------------------------------------------------
# Built-in names, matrix types, GeNN 4 syntax

BUILTIN_CASES = [
    ("neuron", lambda m: m.add_neuron_population("p", 3, "LIFF"), "LIFF", ["LIF"]),
    ("weight-update", lambda m: init_weight_update("StaticPulsee"), "StaticPulsee",
     ["StaticPulse", "StaticPulseConstantWeight"]),
    ("postsynaptic", lambda m: init_postsynaptic("ExpCur"), "ExpCur", ["ExpCurr", "DeltaCurr"]),
    ("current-source", lambda m: m.add_current_source(
        "cs", "DCC", m.add_neuron_population("p", 3, SIMPLE, {}, {"V": 0.0})), "DCC", ["DC"]),
    ("var-init", lambda m: init_var("Uniformm", {"min": 0.0, "max": 1.0}), "Uniformm",
     ["Uniform", "Normal", "Constant"]),
    ("sparse-connectivity", lambda m: init_sparse_connectivity("FixedProb", {"prob": 0.1}),
     "FixedProb", ["FixedProbability"]),
    ("custom-update", lambda m: m.add_custom_update("u", "G", "Transpos"), "Transpos", []),
]


@pytest.mark.parametrize("call, name, valid", [c[1:] for c in BUILTIN_CASES],
                         ids=[c[0] for c in BUILTIN_CASES])
def test_unknown_builtin_name(precision, call, name, valid):
    m = _model(precision)
    with pytest.raises(ValueError) as err:
        call(m)
    _assert_names(err, f"'{name}'", "built-in", *valid)


def test_unknown_matrix_type(precision):
    m = _model(precision)
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    with pytest.raises(ValueError) as err:
        m.add_synapse_population("s", "DENS", a, a,
                                 init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"))
    _assert_names(err, "'s'", "'DENS'", "DENSE", "SPARSE")


def test_matrix_type_of_wrong_type(precision):
    m = _model(precision)
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    with pytest.raises(TypeError) as err:
        m.add_synapse_population("s", 3, a, a, init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"))
    _assert_names(err, "'s'", "DENSE", "SPARSE")


GENN4_CASES = [
    ("neuron-var", create_neuron_model, dict(vars=[("V", "scalar")], sim_code="$(V) += 1.0;"),
     "sim_code"),
    ("wu-addToInSyn", create_weight_update_model,
     dict(vars=[("g", "scalar")], pre_spike_syn_code="$(addToInSyn, $(g));"),
     "pre_spike_syn_code"),
    ("ps-inSyn", create_postsynaptic_model,
     dict(sim_code="injectCurrent($(inSyn)); $(inSyn) = 0.0;"), "sim_code"),
]


@pytest.mark.parametrize("factory, kwargs, field", [c[1:] for c in GENN4_CASES],
                         ids=[c[0] for c in GENN4_CASES])
def test_genn4_syntax_refused(factory, kwargs, field):
    with pytest.raises(CodeError) as err:
        factory("OldStyle", **kwargs)
    _assert_names(err, "OldStyle", field, "$(", "plain names")


# ---------------------------------------------------------------------------
# Compiler failures point at the model's own code line

def _compile_neuron(m, field, code):
    kwargs = dict(sim_code="V += Isyn;", threshold_condition_code="V >= 1.0",
                  reset_code="V = 0.0;")
    kwargs[field] = code
    neuron = create_neuron_model("BadNeuron", params=["tau"], vars=[("V", "scalar")], **kwargs)
    m.add_neuron_population("p", 3, neuron, {"tau": 10.0}, {"V": 0.0})
    return "BadNeuron"


def _compile_wu(m, field, code):
    wu = create_weight_update_model("BadWU", vars=[("g", "scalar")], **{field: code})
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    m.add_synapse_population("s", "DENSE", a, a, init_weight_update(wu, {}, {"g": 1.0}),
                             init_postsynaptic("DeltaCurr"))
    return "BadWU"


def _compile_ps(m, field, code):
    ps = create_postsynaptic_model("BadPSM", **{field: code})
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    m.add_synapse_population("s", "DENSE", a, a, init_weight_update("StaticPulse", {}, {"g": 1.0}),
                             init_postsynaptic(ps))
    return "BadPSM"


def _compile_cs(m, field, code):
    cs = create_current_source_model("BadCS", **{field: code})
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    m.add_current_source("cs", cs, a)
    return "BadCS"


def _compile_cu(m, field, code):
    cu = create_custom_update_model("BadCU", var_refs=[("x", "scalar")], **{field: code})
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    m.add_custom_update("u", "G", cu, {}, {}, {"x": create_var_ref(a, "V")})
    return "BadCU"


def _compile_init(m, field, code):
    snippet = create_var_init_snippet("BadInit", **{field: code})
    m.add_neuron_population("a", 3, SIMPLE, {}, {"V": init_var(snippet)})
    return "BadInit"


COMPILE_CASES = [
    # (id, adder, field, code, bad line number)
    ("neuron-sim-syntax", _compile_neuron, "sim_code", "V = ;", 1),
    ("neuron-sim-call-scalar", _compile_neuron, "sim_code",
     "const scalar a = 1.0;\nV = tau(2.0);\nV += a;", 2),
    ("neuron-sim-missing-semicolon", _compile_neuron, "sim_code", "V += 1.0\nV -= 2.0;", 1),
    ("neuron-threshold", _compile_neuron, "threshold_condition_code", "V(1) > 1.0", 1),
    ("neuron-reset", _compile_neuron, "reset_code", "V = 0.0;\nV = tau(V);", 2),
    ("wu-pre-spike", _compile_wu, "pre_spike_syn_code",
     "const scalar k = 2.0;\naddToPost(g * k(3));", 2),
    ("wu-synapse-dynamics", _compile_wu, "synapse_dynamics_code", "g +=;", 1),
    ("ps-sim", _compile_ps, "sim_code", "injectCurrent(inSyn);\ninSyn = inSyn inSyn;", 2),
    ("cs-injection", _compile_cs, "injection_code", "injectCurrent(dt());", 1),
    ("cu-update", _compile_cu, "update_code", "x = x(1);", 1),
    ("var-init", _compile_init, "var_init_code", "value = ;", 1),
]


@pytest.mark.parametrize("adder, field, code, line", [c[1:] for c in COMPILE_CASES],
                         ids=[c[0] for c in COMPILE_CASES])
def test_compiler_error_shows_model_code_line(precision, adder, field, code, line):
    m = _model(precision, "compilefail")
    model_name = adder(m, field, code)
    with pytest.raises(CompileError) as err:
        m.build()
    offending = code.split("\n")[line - 1].strip()
    _assert_names(err, f"{model_name}.{field} line {line}", offending)


def test_compile_error_is_not_a_code_error():
    # CompileError is what the compiler reports; CodeError what the checker reports
    assert not issubclass(CompileError, CodeError)
    assert not issubclass(CodeError, CompileError)


def test_compiler_error_shows_code_of_right_model_when_class_names_clash(precision):
    # Two different models that happen to share a class name: the error must show the code
    # line of the model that is wrong, not of the other one
    bad = create_neuron_model("Same", vars=[("V", "scalar")], sim_code="V = ;")
    good = create_neuron_model("Same", vars=[("V", "scalar")], sim_code="V += 1.0;")
    m = _model(precision, "clash")
    m.add_neuron_population("a", 3, bad, {}, {"V": 0.0})
    m.add_neuron_population("b", 3, good, {}, {"V": 0.0})
    with pytest.raises(CompileError) as err:
        m.build()
    _assert_names(err, "Same.sim_code line 1", "V = ;")


def test_index_names_valid_in_var_init_code_compile(precision):
    # num_batch is accepted by the checker in var_init_code, so it must compile
    snippet = create_var_init_snippet("BatchCount", var_init_code="value = num_batch;")
    m = _model(precision, "numbatch", batch_size=2)
    pop = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": init_var(snippet)})
    m.build()
    m.load()
    np.testing.assert_array_equal(pop.vars["V"].view, 2.0)


def test_synapse_index_in_neuron_var_init_is_code_error(precision):
    # id_pre exists only for synapse variables: for a neuron variable the checker must say so,
    # rather than leaving it to the compiler
    snippet = create_var_init_snippet("PreIndex", var_init_code="value = id_pre;")
    with pytest.raises(CodeError) as err:
        m = _model(precision, "idpre")
        m.add_neuron_population("a", 3, SIMPLE, {}, {"V": init_var(snippet)})
        m.build()
    _assert_names(err, "PreIndex", "var_init_code", "'id_pre'")


# ---------------------------------------------------------------------------
# Custom updates

SHARED = create_neuron_model(
    "WithShared", vars=[("V", "scalar"), ("S", "scalar", VarAccess.READ_ONLY),
                        ("Sh", "scalar", VarAccess.READ_ONLY_SHARED_NEURON)],
    sim_code="V += Isyn;")
COPY = create_custom_update_model("Copy", var_refs=[("x", "scalar"),
                                                    ("y", "scalar", VarAccessMode.READ_ONLY)],
                                  update_code="x = y;")


def _shared_pops(precision, batch_size=4):
    m = _model(precision, "cu", batch_size)
    a = m.add_neuron_population("a", 5, SHARED, {}, {"V": 0.0, "S": 0.0, "Sh": 0.0})
    b = m.add_neuron_population("b", 7, SHARED, {}, {"V": 0.0, "S": 0.0, "Sh": 0.0})
    return m, a, b


def test_custom_update_references_of_different_sizes(precision):
    m, a, b = _shared_pops(precision)
    with pytest.raises(ValueError) as err:
        m.add_custom_update("c", "G", COPY, {}, {},
                            {"x": create_var_ref(a, "V"), "y": create_var_ref(b, "V")})
    _assert_names(err, "'c'", "same size")
    assert "c" not in m.custom_updates


def test_custom_update_references_to_neuron_and_synapse_variables(precision):
    m, a, b = _shared_pops(precision)
    sg = m.add_synapse_population("s", "DENSE", a, a,
                                  init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                  init_postsynaptic("DeltaCurr"))
    copy_ro = create_custom_update_model(
        "CopyRO", var_refs=[("x", "scalar", VarAccessMode.READ_ONLY),
                            ("y", "scalar", VarAccessMode.READ_ONLY)], update_code="")
    with pytest.raises(ValueError) as err:
        m.add_custom_update("c", "G", copy_ro, {}, {},
                            {"x": create_var_ref(a, "V"), "y": create_wu_var_ref(sg, "g")})
    _assert_names(err, "'c'", "same size")


def test_custom_update_writing_batch_shared_variable_from_batched_update(precision):
    m, a, _ = _shared_pops(precision, batch_size=4)
    with pytest.raises(ValueError) as err:
        m.add_custom_update("c", "G", COPY, {}, {},
                            {"x": create_var_ref(a, "S"), "y": create_var_ref(a, "V")})
    _assert_names(err, "'c'", "'x'", "a.S")


def test_custom_update_writing_neuron_shared_variable_from_per_neuron_update(precision):
    # 'Sh' has one value per batch instance; writing it from an update that runs over the
    # neurons is a race GeNN refuses ("Variable references to lower-dimensional variables
    # cannot be read-write")
    m, a, _ = _shared_pops(precision, batch_size=4)
    with pytest.raises(ValueError) as err:
        m.add_custom_update("c", "G", COPY, {}, {},
                            {"x": create_var_ref(a, "Sh"), "y": create_var_ref(a, "V")})
    _assert_names(err, "'c'", "'x'", "Sh")


def test_custom_update_reducing_into_batch_shared_variable_is_accepted(precision):
    # Control: the legal way to write a shared variable from a batched update
    m, a, _ = _shared_pops(precision, batch_size=4)
    reduce = create_custom_update_model(
        "SumBatch", var_refs=[("x", "scalar", VarAccessMode.REDUCE_SUM),
                              ("y", "scalar", VarAccessMode.READ_ONLY)], update_code="x = y;")
    m.add_custom_update("c", "G", reduce, {}, {},
                        {"x": create_var_ref(a, "S"), "y": create_var_ref(a, "V")})


def test_custom_update_mixing_batch_and_neuron_reduction_vars(precision):
    m, a, _ = _shared_pops(precision, batch_size=4)
    mixed = create_custom_update_model(
        "Mixed", vars=[("bs", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_SUM),
                       ("ns", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM)],
        var_refs=[("x", "scalar", VarAccessMode.READ_ONLY)], update_code="bs = x; ns = x;")
    with pytest.raises(ValueError) as err:
        m.add_custom_update("c", "G", mixed, {}, {"bs": 0.0, "ns": 0.0},
                            {"x": create_var_ref(a, "V")})
    _assert_names(err, "'c'", "batch and neuron reductions")


def test_custom_update_mixing_batch_and_neuron_reduction_refs(precision):
    m, a, _ = _shared_pops(precision, batch_size=4)
    mixed = create_custom_update_model(
        "MixedRefs", var_refs=[("x", "scalar", VarAccessMode.READ_ONLY),
                               ("bs", "scalar", VarAccessMode.REDUCE_SUM),
                               ("ns", "scalar", VarAccessMode.REDUCE_MAX)],
        update_code="bs = x; ns = x;")
    with pytest.raises(ValueError) as err:
        m.add_custom_update("c", "G", mixed, {}, {},
                            {"x": create_var_ref(a, "V"), "bs": create_var_ref(a, "S"),
                             "ns": create_var_ref(a, "Sh")})
    _assert_names(err, "'c'", "batch and neuron reductions")


def test_custom_update_reference_to_unknown_variable(precision):
    m, a, _ = _shared_pops(precision)
    with pytest.raises(ValueError) as err:
        m.add_custom_update("c", "G", COPY, {}, {},
                            {"x": create_var_ref(a, "VV"), "y": create_var_ref(a, "V")})
    _assert_names(err, "'VV'", "Did you mean 'V'")


# ---------------------------------------------------------------------------
# Misuse of the model object

def test_load_before_build(precision):
    m = _model(precision)
    m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    with pytest.raises(RuntimeError, match="build"):
        m.load()


def test_step_time_before_load(precision):
    m = _model(precision)
    m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    with pytest.raises(RuntimeError, match="load"):
        m.step_time()


def test_step_time_after_build_before_load(precision):
    m = _model(precision, "notloaded")
    m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    m.build()
    with pytest.raises(RuntimeError, match="load"):
        m.step_time()
    with pytest.raises(RuntimeError, match="load"):
        m.run(10)


def test_custom_update_unknown_group_suggests(precision):
    m = _model(precision, "cugroup")
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    m.add_custom_update("u", "Reset", SCALE, {"factor": 0.0}, {}, {"x": create_var_ref(a, "V")})
    m.build()
    m.load()
    with pytest.raises(ValueError) as err:
        m.custom_update("Rest")
    _assert_names(err, "'Rest'", "Did you mean 'Reset'")
    m.custom_update("Reset")  # the right name works


@pytest.mark.parametrize("pre, post, what", [
    ([0, 3], [0, 1], "presynaptic"),
    ([0, 2], [0, 4], "postsynaptic"),
    ([0, -1], [0, 1], "presynaptic"),
    ([0, 1], [-2, 1], "postsynaptic"),
], ids=["pre-too-large", "post-too-large", "pre-negative", "post-negative"])
def test_set_sparse_connections_out_of_range(precision, pre, post, what):
    m = _model(precision)
    src = m.add_neuron_population("src", 3, SIMPLE, {}, {"V": 0.0})
    trg = m.add_neuron_population("trg", 4, SIMPLE, {}, {"V": 0.0})
    sg = m.add_synapse_population("s", "SPARSE", src, trg,
                                  init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                  init_postsynaptic("DeltaCurr"))
    with pytest.raises(ValueError) as err:
        sg.set_sparse_connections(pre, post)
    _assert_names(err, "'s'", what, "out of range")


def test_set_sparse_connections_length_mismatch(precision):
    m = _model(precision)
    src = m.add_neuron_population("src", 3, SIMPLE, {}, {"V": 0.0})
    sg = m.add_synapse_population("s", "SPARSE", src, src,
                                  init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                  init_postsynaptic("DeltaCurr"))
    with pytest.raises(ValueError) as err:
        sg.set_sparse_connections([0, 1], [0])
    _assert_names(err, "'s'", "2", "1")


def test_extra_global_parameter_without_values_at_load(precision):
    m = _model(precision, "egp")
    m.add_neuron_population("ssa", 3, "SpikeSourceArray", {}, {"startSpike": 0, "endSpike": 0})
    m.build()
    with pytest.raises(ValueError) as err:
        m.load()
    _assert_names(err, "ssa.spikeTimes", "set_init_values")


def test_load_succeeds_after_extra_global_parameter_error(precision):
    m = _model(precision, "egp")
    pop = m.add_neuron_population("ssa", 3, "SpikeSourceArray", {},
                                  {"startSpike": 0, "endSpike": 0})
    m.build()
    with pytest.raises(ValueError):
        m.load()
    pop.extra_global_params["spikeTimes"].set_init_values(np.array([1.0, 2.0]))
    m.load()
    m.step_time()
    np.testing.assert_array_equal(pop.extra_global_params["spikeTimes"].view, [1.0, 2.0])


@pytest.mark.parametrize("attribute", ["axonal_delay_steps", "max_dendritic_delay_timesteps",
                                       "back_prop_delay_steps", "spike_event_recording_enabled"])
def test_unsupported_group_setting_is_refused(attribute):
    m = GeNNModel("float", "unsupported_setting")
    a = m.add_neuron_population("a", 3, SIMPLE, {}, {"V": 0.0})
    s = m.add_synapse_population("s", "DENSE", a, a, init_weight_update("StaticPulse", {},
                                                                        {"g": 1.0}),
                                 init_postsynaptic("DeltaCurr"))
    group = a if attribute.startswith("spike") else s
    with pytest.raises(AttributeError, match=attribute):
        setattr(group, attribute, 1)
    a.spike_recording_enabled = True       # the settings the engine has still work
    s.post_target_var = "Isyn"
