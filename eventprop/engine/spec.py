"""Model definitions as plain data, with the same names and fields as pygenn 5.

``create_neuron_model`` and friends return small objects that hold the normalised
declarations and code strings of a model. Every code string is checked here,
when the model is defined, against the names its context provides.
"""
import difflib
import enum

import numpy as np

from .code import (RNG_FUNCTIONS, CodeError, Name, check_code, declared_names, tokenize,
                   upgrade_code)


class VarAccess(enum.Enum):
    READ_WRITE = "READ_WRITE"
    READ_ONLY = "READ_ONLY"
    READ_ONLY_DUPLICATE = "READ_ONLY_DUPLICATE"
    READ_ONLY_SHARED_NEURON = "READ_ONLY_SHARED_NEURON"


class CustomUpdateVarAccess(enum.Enum):
    READ_WRITE = "READ_WRITE"
    READ_ONLY = "READ_ONLY"
    READ_ONLY_SHARED = "READ_ONLY_SHARED"
    READ_ONLY_SHARED_NEURON = "READ_ONLY_SHARED_NEURON"
    REDUCE_BATCH_SUM = "REDUCE_BATCH_SUM"
    REDUCE_BATCH_MAX = "REDUCE_BATCH_MAX"
    REDUCE_NEURON_SUM = "REDUCE_NEURON_SUM"
    REDUCE_NEURON_MAX = "REDUCE_NEURON_MAX"


class VarAccessMode(enum.Enum):
    READ_WRITE = "READ_WRITE"
    READ_ONLY = "READ_ONLY"
    BROADCAST = "BROADCAST"
    REDUCE_SUM = "REDUCE_SUM"
    REDUCE_MAX = "REDUCE_MAX"


class SynapseMatrixType(enum.Enum):
    DENSE = "DENSE"
    SPARSE = "SPARSE"


# GeNN type names and the numpy dtypes that hold them; 'scalar' follows the model.
TYPES = {
    "float": np.float32, "double": np.float64, "int": np.int32, "unsigned int": np.uint32,
    "int8_t": np.int8, "uint8_t": np.uint8, "int16_t": np.int16, "uint16_t": np.uint16,
    "int32_t": np.int32, "uint32_t": np.uint32, "int64_t": np.int64, "uint64_t": np.uint64,
    "bool": np.bool_,
}


def check_type(type_name, what):
    base = type_name.rstrip("*").strip()
    if base != "scalar" and base not in TYPES:
        raise TypeError(f"{what}: unknown type '{type_name}'; valid types are "
                        f"'scalar', {', '.join(repr(t) for t in TYPES)} (and pointers to "
                        "them for extra global parameters)")
    return type_name


def numpy_dtype(type_name, precision):
    base = type_name.rstrip("*").strip()
    return np.float32 if base == "scalar" and precision == "float" else \
        np.float64 if base == "scalar" else TYPES[base]


class Var:
    """A declared variable: name, GeNN type and access mode."""

    def __init__(self, name, type, access):
        self.name, self.type, self.access = name, type, access

    @property
    def read_only(self):
        return self.access.value.startswith("READ_ONLY")


def _parse_access(access, enum_type, model, name):
    if isinstance(access, enum_type):
        return access
    if isinstance(access, str) and access in enum_type.__members__:
        return enum_type[access]
    raise ValueError(f"{model}: variable '{name}' has unknown access mode {access!r}; "
                     f"valid modes are {', '.join(enum_type.__members__)} "
                     f"({enum_type.__name__})")


def _check_identifier(name, model, what):
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{model}: {what} name {name!r} is not a valid identifier")
    if name.startswith("_"):
        raise ValueError(f"{model}: {what} name '{name}' starts with '_', which is "
                         "reserved for generated code")


def _parse_params(params, model):
    out = []
    for p in params or []:
        name, type_ = (p, "scalar") if isinstance(p, str) else p
        _check_identifier(name, model, "parameter")
        out.append((name, check_type(type_, f"{model}: parameter '{name}'")))
    return out


def _parse_vars(vars, model, enum_type, default):
    out = []
    for v in vars or []:
        if len(v) == 2:
            name, type_ = v
            access = default
        elif len(v) == 3:
            name, type_, access = v
        else:
            raise ValueError(f"{model}: a variable must be (name, type) or "
                             f"(name, type, access), got {v!r}")
        _check_identifier(name, model, "variable")
        check_type(type_, f"{model}: variable '{name}'")
        out.append(Var(name, type_, _parse_access(access, enum_type, model, name)))
    return out


def _parse_egps(egps, model):
    out = []
    for name, type_ in egps or []:
        _check_identifier(name, model, "extra global parameter")
        out.append((name, check_type(type_, f"{model}: extra global parameter '{name}'")))
    return out


def _parse_derived(derived, model):
    out = []
    for d in derived or []:
        name, func = d[0], d[1]
        type_ = d[2] if len(d) > 2 else "scalar"
        _check_identifier(name, model, "derived parameter")
        if not callable(func):
            raise TypeError(f"{model}: derived parameter '{name}' needs a function "
                            "f(params, dt)")
        out.append((name, func, type_))
    return out


# Names every simulation code context provides
_TIME = {"t": Name(True, what="time"), "dt": Name(True, what="time step"),
         "batch": Name(True, what="batch index"),
         "num_batch": Name(True, what="batch size")}
_RNG = {f: Name(function=True, what="function") for f in RNG_FUNCTIONS}


def _ref_names(refs):
    return {r.name: Name(r.access == VarAccessMode.READ_ONLY,
                         what="read-only variable reference"
                         if r.access == VarAccessMode.READ_ONLY else "variable reference")
            for r in refs}


def _fn(*names):
    """One-argument functions such as addToPost(x) and injectCurrent(x)."""
    return {n: Name(function=True, what="function", arity=1) for n in names}


def _ro(names, what):
    return {n: Name(True, what=what) for n in names}


class _ModelBase:
    """Common part of every model: params, derived params and EGPs."""
    kind = "model"

    def __init__(self, class_name, kwargs, params=None, derived_params=None,
                 extra_global_params=None):
        self.class_name = class_name
        self.kwargs = kwargs  # as given, so the genn backend can rebuild it in pygenn
        self.params = _parse_params(params, class_name)
        self.derived_params = _parse_derived(derived_params, class_name)
        self.egps = _parse_egps(extra_global_params, class_name)

    def _check_unique(self, *name_lists):
        """No name may be declared twice, across params, derived params, EGPs and these."""
        seen = set()
        for names in ([n for n, _ in self.params], [n for n, *_ in self.derived_params],
                      [n for n, _ in self.egps], *name_lists):
            for n in names:
                if n in seen:
                    raise ValueError(f"{self.class_name}: the name '{n}' is declared twice")
                seen.add(n)

    def _injection_names(self, vars, refs):
        """Names of code that injects current into neuron ``id`` (postsynaptic models,
        current sources)."""
        return (self._param_names() | self._var_names(vars) | _TIME | _RNG | _ref_names(refs)
                | _ro(["id", "num_neurons"], "index") | _fn("injectCurrent"))

    def _param_names(self):
        return ({n: Name(True, what="parameter") for n, _ in self.params}
                | {n: Name(True, what="derived parameter") for n, *_ in self.derived_params}
                | {n: Name(False, what="extra global parameter") for n, _ in self.egps})

    def _var_names(self, vars):
        return {v.name: Name(v.read_only, what="read-only variable" if v.read_only else "variable")
                for v in vars}

    def _check(self, field, code, names):
        check_code(code, names, self.class_name, field)

    def __repr__(self):
        return f"<{type(self).__name__} {self.class_name}>"


def _code(value, model, field):
    try:
        return upgrade_code(value)
    except (CodeError, TypeError) as e:
        raise type(e)(f"{model}: {field}: {e}") from None


class NeuronModel(_ModelBase):
    kind = "neuron"

    def __init__(self, class_name, params=None, vars=None, derived_params=None,
                 sim_code=None, threshold_condition_code=None, reset_code=None,
                 extra_global_params=None, additional_input_vars=None,
                 auto_refractory_required=False, kwargs=None):
        super().__init__(class_name, kwargs, params, derived_params, extra_global_params)
        m = class_name
        self.vars = _parse_vars(vars, m, VarAccess, VarAccess.READ_WRITE)
        self.additional_input_vars = []
        for name, type_, init in additional_input_vars or []:
            _check_identifier(name, m, "additional input variable")
            self.additional_input_vars.append((name, check_type(type_, m), init))
        self.sim_code = _code(sim_code, m, "sim_code")
        self.threshold_condition_code = _code(threshold_condition_code, m,
                                              "threshold_condition_code")
        self.reset_code = _code(reset_code, m, "reset_code")
        self.auto_refractory_required = bool(auto_refractory_required)
        self._check_unique([v.name for v in self.vars],
                [n for n, *_ in self.additional_input_vars])
        names = self.code_names()
        self._check("sim_code", self.sim_code, names)
        sim_locals = declared_names(tokenize(self.sim_code or ""), top_level_only=True)
        shared = names | {n: Name(what="local of sim_code") for n in sim_locals}
        self._check("threshold_condition_code", self.threshold_condition_code, shared)
        self._check("reset_code", self.reset_code, shared)

    def code_names(self):
        return (self._param_names() | self._var_names(self.vars) | _TIME | _RNG
                | {"Isyn": Name(True, what="synaptic input (read-only)")}
                | {n: Name(what="additional input variable")
                   for n, *_ in self.additional_input_vars}
                | _ro(["id", "num_neurons"], "index"))


class WeightUpdateModel(_ModelBase):
    kind = "weight_update"

    def __init__(self, class_name, params=None, vars=None, pre_vars=None, post_vars=None,
                 derived_params=None, pre_neuron_var_refs=None, post_neuron_var_refs=None,
                 pre_spike_syn_code=None, pre_event_syn_code=None,
                 pre_event_threshold_condition_code=None, synapse_dynamics_code=None,
                 pre_spike_code=None, post_spike_code=None, pre_dynamics_code=None,
                 post_dynamics_code=None, extra_global_params=None, kwargs=None):
        super().__init__(class_name, kwargs, params, derived_params, extra_global_params)
        m = class_name
        self.vars = _parse_vars(vars, m, VarAccess, VarAccess.READ_WRITE)
        self.pre_vars = _parse_vars(pre_vars, m, VarAccess, VarAccess.READ_WRITE)
        self.post_vars = _parse_vars(post_vars, m, VarAccess, VarAccess.READ_WRITE)
        self.pre_neuron_var_refs = _parse_vars(pre_neuron_var_refs, m, VarAccessMode,
                                               VarAccessMode.READ_WRITE)
        self.post_neuron_var_refs = _parse_vars(post_neuron_var_refs, m, VarAccessMode,
                                                VarAccessMode.READ_WRITE)
        self.pre_spike_syn_code = _code(pre_spike_syn_code, m, "pre_spike_syn_code")
        self.pre_event_syn_code = _code(pre_event_syn_code, m, "pre_event_syn_code")
        self.pre_event_threshold_condition_code = _code(
            pre_event_threshold_condition_code, m, "pre_event_threshold_condition_code")
        self.synapse_dynamics_code = _code(synapse_dynamics_code, m, "synapse_dynamics_code")
        self.pre_spike_code = _code(pre_spike_code, m, "pre_spike_code")
        self.post_spike_code = _code(post_spike_code, m, "post_spike_code")
        self.pre_dynamics_code = _code(pre_dynamics_code, m, "pre_dynamics_code")
        self.post_dynamics_code = _code(post_dynamics_code, m, "post_dynamics_code")
        if bool(self.pre_event_syn_code) != bool(self.pre_event_threshold_condition_code):
            raise ValueError(f"{m}: pre_event_syn_code and pre_event_threshold_condition_code "
                             "must be given together")
        self._check_unique([v.name for v in self.vars],
                [v.name for v in self.pre_vars], [v.name for v in self.post_vars],
                [v.name for v in self.pre_neuron_var_refs],
                [v.name for v in self.post_neuron_var_refs])
        base = self._param_names() | _TIME
        pre = (base | self._var_names(self.pre_vars) | _ref_names(self.pre_neuron_var_refs)
               | _ro(["id", "id_pre", "num_pre"], "index") | _RNG)
        post = (base | self._var_names(self.post_vars)
                | _ref_names(self.post_neuron_var_refs)
                | _ro(["id", "id_post", "num_post"], "index") | _RNG)
        syn = (base | self._var_names(self.vars) | self._var_names(self.pre_vars)
               | self._var_names(self.post_vars) | _ref_names(self.pre_neuron_var_refs)
               | _ref_names(self.post_neuron_var_refs)
               | _ro(["id_pre", "id_post", "id_syn", "num_pre", "num_post"], "index")
               | _fn("addToPost", "addToPre") | _RNG)
        for field in ("pre_spike_syn_code", "pre_event_syn_code", "synapse_dynamics_code"):
            self._check(field, getattr(self, field), syn)
        for field in ("pre_event_threshold_condition_code", "pre_spike_code",
                      "pre_dynamics_code"):
            self._check(field, getattr(self, field), pre)
        for field in ("post_spike_code", "post_dynamics_code"):
            self._check(field, getattr(self, field), post)



class PostsynapticModel(_ModelBase):
    kind = "postsynaptic"

    def __init__(self, class_name, params=None, vars=None, derived_params=None,
                 neuron_var_refs=None, sim_code=None, extra_global_params=None, kwargs=None):
        super().__init__(class_name, kwargs, params, derived_params, extra_global_params)
        m = class_name
        self.vars = _parse_vars(vars, m, VarAccess, VarAccess.READ_WRITE)
        self.neuron_var_refs = _parse_vars(neuron_var_refs, m, VarAccessMode,
                                           VarAccessMode.READ_WRITE)
        self.sim_code = _code(sim_code, m, "sim_code")
        self._check_unique([v.name for v in self.vars],
                [v.name for v in self.neuron_var_refs])
        self._check("sim_code", self.sim_code,
                    self._injection_names(self.vars, self.neuron_var_refs)
                    | {"inSyn": Name(what="summed synaptic input")})


class CurrentSourceModel(_ModelBase):
    kind = "current_source"

    def __init__(self, class_name, params=None, vars=None, derived_params=None,
                 neuron_var_refs=None, injection_code=None, extra_global_params=None,
                 kwargs=None):
        super().__init__(class_name, kwargs, params, derived_params, extra_global_params)
        m = class_name
        self.vars = _parse_vars(vars, m, VarAccess, VarAccess.READ_WRITE)
        self.neuron_var_refs = _parse_vars(neuron_var_refs, m, VarAccessMode,
                                           VarAccessMode.READ_WRITE)
        self.injection_code = _code(injection_code, m, "injection_code")
        self._check_unique([v.name for v in self.vars],
                [v.name for v in self.neuron_var_refs])
        self._check("injection_code", self.injection_code,
                    self._injection_names(self.vars, self.neuron_var_refs))


class CustomUpdateModel(_ModelBase):
    """Custom update; its code is checked when it is attached (the index names
    depend on whether it updates neuron or synapse variables)."""
    kind = "custom_update"

    def __init__(self, class_name, params=None, vars=None, derived_params=None,
                 var_refs=None, update_code=None, extra_global_params=None,
                 extra_global_param_refs=None, kwargs=None):
        super().__init__(class_name, kwargs, params, derived_params, extra_global_params)
        m = class_name
        self.vars = _parse_vars(vars, m, CustomUpdateVarAccess,
                                CustomUpdateVarAccess.READ_WRITE)
        self.var_refs = _parse_vars(var_refs, m, VarAccessMode, VarAccessMode.READ_WRITE)
        self.egp_refs = _parse_egps(extra_global_param_refs, m)
        self.update_code = _code(update_code, m, "update_code")
        self._check_unique([v.name for v in self.vars],
                [v.name for v in self.var_refs], [n for n, _ in self.egp_refs])
        # Check now with every index name, so typos surface at definition
        self.check_update_code(["id", "num_neurons", "id_pre", "id_post", "id_syn",
                                "num_pre", "num_post"])

    def check_update_code(self, index_names):
        names = (self._param_names() | _TIME | _ro(index_names, "index")
                 | {n: Name(False, what="extra global parameter reference")
                    for n, _ in self.egp_refs})
        names |= self._var_names(self.vars)
        names |= _ref_names(self.var_refs)
        self._check("update_code", self.update_code, names)


class VarInitSnippet(_ModelBase):
    kind = "var_init"

    def __init__(self, class_name, params=None, derived_params=None, var_init_code=None,
                 extra_global_params=None, kwargs=None):
        super().__init__(class_name, kwargs, params, derived_params, extra_global_params)
        m = class_name
        self.var_init_code = _code(var_init_code, m, "var_init_code")
        # Checked now with every index name, and again for the variable it initialises
        self.check_init_code(NEURON_INIT_INDEX + SYNAPSE_INIT_INDEX)

    def check_init_code(self, index_names):
        self._check("var_init_code", self.var_init_code,
                    self._param_names() | _RNG | {"dt": Name(True, what="time step")}
                    | {"value": Name(what="value being initialised")}
                    | _ro(["batch", "num_batch"] + list(index_names), "index"))


NEURON_INIT_INDEX = ["id", "num_neurons"]
SYNAPSE_INIT_INDEX = ["id_pre", "id_post", "num_pre", "num_post"]


class SparseConnectInitSnippet:
    """A built-in sparse connectivity rule, evaluated in NumPy when the model loads."""
    kind = "sparse_connect_init"

    def __init__(self, class_name, params, build):
        self.class_name, self.params, self.build = class_name, _parse_params(params, class_name), build
        self.derived_params, self.egps = [], []


# ---------------------------------------------------------------------------
# create_* functions: the pygenn 5 names and keyword arguments

def _create(cls, class_name, kwargs):
    if not isinstance(class_name, str):
        raise TypeError(f"class_name must be a string, not {type(class_name).__name__}")
    return cls(class_name, kwargs=dict(kwargs), **kwargs)


def create_neuron_model(class_name, params=None, vars=None, derived_params=None,
                        sim_code=None, threshold_condition_code=None, reset_code=None,
                        extra_global_params=None, additional_input_vars=None,
                        auto_refractory_required=False):
    return _create(NeuronModel, class_name, {k: v for k, v in locals().items()
                                             if k != "class_name"})


def create_weight_update_model(class_name, params=None, vars=None, pre_vars=None,
                               post_vars=None, derived_params=None,
                               pre_neuron_var_refs=None, post_neuron_var_refs=None,
                               pre_spike_syn_code=None, pre_event_syn_code=None,
                               pre_event_threshold_condition_code=None,
                               synapse_dynamics_code=None, pre_spike_code=None,
                               post_spike_code=None, pre_dynamics_code=None,
                               post_dynamics_code=None, extra_global_params=None):
    return _create(WeightUpdateModel, class_name, {k: v for k, v in locals().items()
                                                   if k != "class_name"})


def create_postsynaptic_model(class_name, params=None, vars=None, derived_params=None,
                              neuron_var_refs=None, sim_code=None, extra_global_params=None):
    return _create(PostsynapticModel, class_name, {k: v for k, v in locals().items()
                                                   if k != "class_name"})


def create_current_source_model(class_name, params=None, vars=None, derived_params=None,
                                neuron_var_refs=None, injection_code=None,
                                extra_global_params=None):
    return _create(CurrentSourceModel, class_name, {k: v for k, v in locals().items()
                                                    if k != "class_name"})


def create_custom_update_model(class_name, params=None, vars=None, derived_params=None,
                               var_refs=None, update_code=None, extra_global_params=None,
                               extra_global_param_refs=None):
    return _create(CustomUpdateModel, class_name, {k: v for k, v in locals().items()
                                                   if k != "class_name"})


def create_var_init_snippet(class_name, params=None, derived_params=None,
                            var_init_code=None, extra_global_params=None):
    return _create(VarInitSnippet, class_name, {k: v for k, v in locals().items()
                                                if k != "class_name"})


# ---------------------------------------------------------------------------
# Initialisers and references

class VarInit:
    """``init_var(snippet, params)``: a variable initialised by a snippet."""

    def __init__(self, snippet, params):
        self.snippet = snippet
        self.params = dict(params or {})


class WeightUpdateInit:
    def __init__(self, snippet, params, vars, pre_vars, post_vars, pre_var_refs,
                 post_var_refs):
        self.snippet, self.params, self.vars = snippet, dict(params), dict(vars)
        self.pre_vars, self.post_vars = dict(pre_vars), dict(post_vars)
        self.pre_var_refs, self.post_var_refs = dict(pre_var_refs), dict(post_var_refs)


class PostsynapticInit:
    def __init__(self, snippet, params, vars, var_refs):
        self.snippet, self.params, self.vars = snippet, dict(params), dict(vars)
        self.var_refs = dict(var_refs)


class SparseConnectivityInit:
    def __init__(self, snippet, params):
        self.snippet, self.params = snippet, dict(params or {})


class VarRef:
    """A reference to a variable owned by a group (or to a synapse group's
    internal postsynaptic input, ``out_post``)."""

    def __init__(self, group, var_name, kind):
        self.group, self.var_name, self.kind = group, var_name, kind


class EGPRef:
    def __init__(self, group, egp_name):
        self.group, self.egp_name = group, egp_name


def _builtin(name, registry, kind):
    from . import builtins
    table = getattr(builtins, registry)
    if name not in table:
        close = difflib.get_close_matches(name, list(table), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"unknown built-in {kind} '{name}'.{hint} Built-ins are "
                         f"{', '.join(sorted(table)) or '(none)'}")
    return table[name]


def _snippet(snippet, registry, kind, cls):
    if isinstance(snippet, str):
        return _builtin(snippet, registry, kind)
    if not isinstance(snippet, cls):
        raise TypeError(f"expected a {kind} (a name or the result of create_...), "
                        f"got {snippet!r}")
    return snippet


def init_var(snippet, params=None):
    return VarInit(_snippet(snippet, "VAR_INIT_SNIPPETS", "variable initialisation snippet",
                            VarInitSnippet), params)


def init_weight_update(snippet, params=None, vars=None, pre_vars=None, post_vars=None,
                       pre_var_refs=None, post_var_refs=None):
    return WeightUpdateInit(_snippet(snippet, "WEIGHT_UPDATE_MODELS", "weight update model",
                                     WeightUpdateModel),
                            params or {}, vars or {}, pre_vars or {}, post_vars or {},
                            pre_var_refs or {}, post_var_refs or {})


def init_postsynaptic(snippet, params=None, vars=None, var_refs=None):
    return PostsynapticInit(_snippet(snippet, "POSTSYNAPTIC_MODELS", "postsynaptic model",
                                     PostsynapticModel),
                            params or {}, vars or {}, var_refs or {})


def init_sparse_connectivity(snippet, params=None):
    return SparseConnectivityInit(_snippet(snippet, "SPARSE_CONNECT_SNIPPETS",
                                           "sparse connectivity snippet",
                                           SparseConnectInitSnippet), params)


def create_var_ref(group, var_name):
    return VarRef(group, var_name, "var")


def create_wu_var_ref(group, var_name, transpose_group=None, transpose_var_name=None):
    if transpose_group is not None or transpose_var_name is not None:
        raise ValueError("create_wu_var_ref: transpose references are not supported; "
                         "pass only the synapse group and the variable name")
    return VarRef(group, var_name, "wu")


def create_psm_var_ref(group, var_name):
    return VarRef(group, var_name, "psm")


def create_wu_pre_var_ref(group, var_name):
    return VarRef(group, var_name, "wu_pre")


def create_wu_post_var_ref(group, var_name):
    return VarRef(group, var_name, "wu_post")


def create_out_post_var_ref(group):
    return VarRef(group, "out_post", "out_post")


def create_egp_ref(group, egp_name):
    return EGPRef(group, egp_name)


def create_wu_egp_ref(group, egp_name):
    return EGPRef(group, egp_name)


def create_psm_egp_ref(group, egp_name):
    return EGPRef(group, ("psm", egp_name))
