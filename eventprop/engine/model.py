"""GeNNModel and its groups: the pygenn 5 front end shared by every backend.

The groups hold what the user declared, checked as it is declared; a backend turns
them into runnable code at ``build()`` and binds the variable views at ``load()``.
"""
import difflib
import numbers

import numpy as np

from . import spec
from .spec import (CustomUpdateVarAccess, SynapseMatrixType, VarAccess, VarAccessMode,
                   VarInit, VarRef, EGPRef, numpy_dtype)

BATCH, ELEMENT = "batch", "element"


def _suggest(name, valid):
    close = difflib.get_close_matches(name, list(valid), n=2)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def var_dims(access):
    """Dimensions of a neuron / synapse / current-source variable."""
    return {VarAccess.READ_WRITE: (BATCH, ELEMENT), VarAccess.READ_ONLY: (ELEMENT,),
            VarAccess.READ_ONLY_DUPLICATE: (BATCH, ELEMENT),
            VarAccess.READ_ONLY_SHARED_NEURON: (BATCH,)}[access]


def _check_values(what, given, declared, kind):
    declared = list(declared)
    for name in given:
        if name not in declared:
            raise ValueError(f"{what}: unknown {kind} '{name}'.{_suggest(name, declared)} "
                             f"Valid {kind}s: {', '.join(declared) or '(none)'}")
    missing = [n for n in declared if n not in given]
    if missing:
        raise ValueError(f"{what}: missing {kind}(s) {', '.join(missing)}; "
                         f"expected {len(declared)}: {', '.join(declared)}")


class Array:
    """State held by a backend: a variable, an EGP or an internal buffer.

    ``view`` is a zero-copy numpy view of the host copy; on a CPU backend it is the
    state itself and ``push_to_device`` / ``pull_from_device`` do nothing."""

    def __init__(self, group, name, type_name, dims, num_elements):
        self.group, self.name, self.type = group, name, type_name
        self.dims, self.num_elements = dims, num_elements
        self._view = None

    @property
    def _model(self):
        return self.group._model

    @property
    def dtype(self):
        return numpy_dtype(self.type, self._model.precision)

    @property
    def key(self):
        return f"{self.group.name}.{self.name}"

    @property
    def shape(self):
        """pygenn's view shape: the batch axis is dropped when the batch size is 1."""
        b = self._model.batch_size
        if self.dims == (BATCH, ELEMENT):
            return (b, self.num_elements) if b > 1 else (self.num_elements,)
        if self.dims == (ELEMENT,):
            return (self.num_elements,)
        if self.dims == (BATCH,):
            return (b, 1) if b > 1 else (1,)
        return (1,)

    @property
    def view(self):
        if self._view is None:
            raise RuntimeError(f"'{self.key}' has no view: the model is not loaded")
        return self._view

    @property
    def current_view(self):
        return self.view

    @property
    def values(self):
        return np.copy(self.view)

    @values.setter
    def values(self, vals):
        self.view[...] = np.broadcast_to(vals, self.view.shape)

    @property
    def current_values(self):
        return self.values

    def push_to_device(self):
        self._model._require_loaded().push(self)

    def pull_from_device(self):
        self._model._require_loaded().pull(self)


class Variable(Array):
    """A model variable with its initialiser (constant, array or init_var)."""

    def __init__(self, group, name, type_name, dims, num_elements, init, access):
        super().__init__(group, name, type_name, dims, num_elements)
        self.init, self.access = init, access

    @property
    def read_only(self):
        """Read-only in model code (every access mode but READ_WRITE and reductions)."""
        return self.access.value.startswith("READ_ONLY")


def synapse_storage(sg, sparse):
    """Slots per batch instance of a synapse group's per-synapse variables: n_pre x n_post
    for DENSE, n_pre x row stride for SPARSE (``sparse`` maps group names to layouts)."""
    if sg.matrix_type == SynapseMatrixType.DENSE:
        return sg.src.num_neurons * sg.trg.num_neurons
    return sg.src.num_neurons * sparse[sg.name].stride


def derived_values(snippet, params, dt):
    """The derived parameters of ``snippet`` for parameter values ``params``."""
    values = {}
    for name, func, _ in snippet.derived_params:
        values[name] = float(func(dict(params) | values, dt))
    return values


class SynapseVariable(Variable):
    """Per-synapse variable. For SPARSE groups ``view`` is the padded row storage
    and ``values`` lists the synapses sorted by presynaptic, then postsynaptic
    index (as pygenn does); initial arrays given in ``vars`` follow the order of
    the connections as given to ``set_sparse_connections``."""

    @property
    def shape(self):
        b = self._model.batch_size
        n = synapse_storage(self.group.synapse_group, self._model._require_built().sparse)
        if BATCH in self.dims and b > 1:
            return (b, n)
        return (n,)

    @property
    def values(self):
        slots = self.group.synapse_group._sorted_slots()
        return np.copy(self.view) if slots is None else self.view[..., slots]

    @values.setter
    def values(self, vals):
        slots = self.group.synapse_group._sorted_slots()
        if slots is None:
            self.view[...] = np.broadcast_to(vals, self.view.shape)
        else:
            self.view[..., slots] = vals


class OutPost(Array):
    """A synapse group's summed input to its targets (pygenn's ``out_post``)."""

    @property
    def shape(self):
        return (self._model.batch_size, self.num_elements)


class ExtraGlobalParameter(Array):
    """An EGP: a flat array with no batch axis, sized by ``set_init_values``."""

    def __init__(self, group, name, type_name):
        super().__init__(group, name, type_name, (ELEMENT,), 0)
        self.init_values = None

    @property
    def is_pointer(self):
        return self.type.endswith("*")

    @property
    def shape(self):
        return (self.num_elements,)

    def set_init_values(self, values):
        if self._model._loaded is not None:
            raise RuntimeError(f"extra global parameter '{self.key}': set_init_values must be "
                               "called before load(); afterwards write into .view and "
                               "push_to_device()")
        values = np.asarray(values).reshape(-1)
        if values.size > 1 and (values.strides == (0,) or values.min() == values.max()):
            # one value repeated (the zeroed buffers of a model, often large) is kept as one
            # value, so that the initial values cost no memory beside the array itself
            arr = np.broadcast_to(values[:1].astype(self.dtype), values.shape)
        else:
            arr = np.array(values, dtype=self.dtype)   # a copy: the caller's may change
        if not self.is_pointer and arr.size != 1:
            raise ValueError(f"extra global parameter '{self.key}' has non-pointer type "
                             f"'{self.type}' and takes one value, got {arr.size}")
        self.init_values = arr
        self.num_elements = arr.size

    def push_to_device(self, count=None):
        """Copy the view to the device; with ``count``, only its first ``count`` elements
        (an addition to pygenn's API, to keep large, partly used arrays cheap to update; the
        genn backend pushes the whole array)."""
        self._model._require_loaded().push(self, count)


class _Group:
    """What neuron, synapse, current-source and custom-update groups share."""

    def __init__(self, model, name, snippet, params):
        self._model, self.name, self.model = model, name, snippet
        self.params = dict(params)
        _check_values(self._what(snippet), self.params, [n for n, _ in snippet.params],
                      "parameter")
        for n, v in self.params.items():
            if not isinstance(v, numbers.Real):
                raise TypeError(f"{self._what(snippet)}: parameter '{n}' must be a number, "
                                f"got {v!r}")
        self.dynamic_params = set()
        self.extra_global_params = {n: ExtraGlobalParameter(self, n, t) for n, t in snippet.egps}

    def _what(self, snippet):
        return f"{type(self).__name__} '{self.name}' (model {snippet.class_name})"

    def _make_vars(self, snippet_vars, given, num_elements, dims_of, cls=Variable, label=None):
        _check_values(label or self._what(self.model), given, [v.name for v in snippet_vars],
                      "variable")
        out = {}
        for v in snippet_vars:
            init = given[v.name]
            if isinstance(init, VarInit):
                _check_values(f"init_var({init.snippet.class_name}) for '{self.name}.{v.name}'",
                              init.params, [n for n, _ in init.snippet.params], "parameter")
                init.snippet.check_init_code(spec.SYNAPSE_INIT_INDEX if cls is SynapseVariable
                                             else spec.NEURON_INIT_INDEX)
            elif not isinstance(init, (numbers.Number, np.ndarray, list, tuple)):
                raise TypeError(f"{self.name}: variable '{v.name}' must be initialised with a "
                                f"number, an array or init_var(...), got {init!r}")
            out[v.name] = cls(self, v.name, v.type, dims_of(v), num_elements, init, v.access)
        return out

    def _set_dynamic(self, params, name, dynamic):
        if name not in params:
            raise ValueError(f"{self.name}: no parameter '{name}' to make dynamic; "
                             f"parameters: {', '.join(params)}")
        self._model._require_unbuilt(f"set_param_dynamic('{name}')")
        (self.dynamic_params.add if dynamic else self.dynamic_params.discard)(name)

    def dynamic_param(self, key):
        """(parameter name, the dict holding its value) of a key of ``dynamic_params``."""
        return key, self.params

    def _set_dynamic_value(self, prefix, params, name, value):
        if name not in params:
            raise ValueError(f"{self.name}: no parameter '{name}'; parameters: "
                             f"{', '.join(params)}")
        key = prefix + name
        if key not in self.dynamic_params:
            raise ValueError(f"{self.name}: parameter '{name}' is not dynamic; call "
                             f"set_param_dynamic('{name}') before build()")
        params[name] = value
        if self._model._loaded is not None:
            self._model._loaded.set_dynamic_param(self, key, value)

    def set_param_dynamic(self, name, dynamic=True):
        self._set_dynamic(self.params, name, dynamic)

    def set_dynamic_param_value(self, name, value):
        self._set_dynamic_value("", self.params, name, value)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"

    def __setattr__(self, name, value):
        # A pygenn setting this engine lacks (a delay, say) must not vanish silently
        if getattr(self, "_frozen", False) and not hasattr(self, name):
            settable = [n for n in ("spike_recording_enabled", "pre_target_var",
                                    "post_target_var", "target_var") if hasattr(self, n)]
            raise AttributeError(f"{self!r} has no setting '{name}' (this engine does not "
                                 f"support it); settable: {', '.join(settable) or '(none)'}")
        object.__setattr__(self, name, value)


class NeuronGroup(_Group):
    def __init__(self, model, name, num_neurons, neuron_model, params, vars):
        if not isinstance(num_neurons, numbers.Integral) or num_neurons <= 0:
            raise ValueError(f"neuron population '{name}': num_neurons must be a positive "
                             f"integer, got {num_neurons!r}")
        super().__init__(model, name, neuron_model, params)
        self.num_neurons = int(num_neurons)
        self.vars = self._make_vars(neuron_model.vars, dict(vars), self.num_neurons,
                                    lambda v: var_dims(v.access))
        self.spike_recording_enabled = False
        self.in_syn, self.out_syn, self.current_sources = [], [], []

    @property
    def spike_recording_data(self):
        return self._model._require_loaded().spike_recording_data(self)

    def pull_state_from_device(self):
        for v in self.vars.values():
            v.pull_from_device()

    def push_state_to_device(self):
        for v in self.vars.values():
            v.push_to_device()


class SynapseGroup(_Group):
    def __init__(self, model, name, matrix_type, source, target, wu_init, ps_init,
                 connectivity_init):
        if isinstance(matrix_type, str):
            if matrix_type not in SynapseMatrixType.__members__:
                raise ValueError(f"synapse population '{name}': unknown matrix type "
                                 f"'{matrix_type}'; valid: "
                                 f"{', '.join(SynapseMatrixType.__members__)}")
            matrix_type = SynapseMatrixType[matrix_type]
        if not isinstance(matrix_type, SynapseMatrixType):
            raise TypeError(f"synapse population '{name}': matrix_type must be 'DENSE' or "
                            f"'SPARSE', got {matrix_type!r}")
        for role, pop in (("source", source), ("target", target)):
            if not isinstance(pop, NeuronGroup):
                raise TypeError(f"synapse population '{name}': {role} must be a neuron "
                                f"population, got {pop!r}")
        if not isinstance(wu_init, spec.WeightUpdateInit):
            raise TypeError(f"synapse population '{name}': expected init_weight_update(...)")
        if not isinstance(ps_init, spec.PostsynapticInit):
            raise TypeError(f"synapse population '{name}': expected init_postsynaptic(...)")
        super().__init__(model, name, wu_init.snippet, wu_init.params)
        self.matrix_type, self.src, self.trg = matrix_type, source, target
        self.wu_model, self.ps_model = wu_init.snippet, ps_init.snippet
        self.ps_params = dict(ps_init.params)
        _check_values(f"synapse population '{name}' (postsynaptic model "
                      f"{self.ps_model.class_name})", self.ps_params,
                      [n for n, _ in self.ps_model.params], "parameter")
        self.psm_extra_global_params = {n: ExtraGlobalParameter(self, "psm_" + n, t)
                                        for n, t in self.ps_model.egps}
        self.connectivity_init = connectivity_init
        self._pre_inds = self._post_inds = None
        if matrix_type == SynapseMatrixType.DENSE and connectivity_init is not None:
            raise ValueError(f"synapse population '{name}': DENSE connectivity takes no "
                             "connectivity initialiser")
        self.pre_target_var = "Isyn"
        self.post_target_var = "Isyn"
        self.vars = self._make_vars(self.wu_model.vars, wu_init.vars, None,
                                    lambda v: var_dims(v.access), SynapseVariable)
        self.pre_vars = self._make_vars(self.wu_model.pre_vars, wu_init.pre_vars,
                                        source.num_neurons, lambda v: var_dims(v.access),
                                        label=f"synapse population '{name}' pre_vars")
        self.post_vars = self._make_vars(self.wu_model.post_vars, wu_init.post_vars,
                                         target.num_neurons, lambda v: var_dims(v.access),
                                         label=f"synapse population '{name}' post_vars")
        self.psm_vars = self._make_vars(self.ps_model.vars, ps_init.vars, target.num_neurons,
                                        lambda v: var_dims(v.access),
                                        label=f"synapse population '{name}' postsynaptic vars")
        self.pre_var_refs = self._bind_neuron_refs(self.wu_model.pre_neuron_var_refs,
                                                   wu_init.pre_var_refs, source, "pre_var_refs")
        self.post_var_refs = self._bind_neuron_refs(self.wu_model.post_neuron_var_refs,
                                                    wu_init.post_var_refs, target,
                                                    "post_var_refs")
        self.psm_var_refs = self._bind_neuron_refs(self.ps_model.neuron_var_refs,
                                                   ps_init.var_refs, target, "var_refs")
        self.out_post = OutPost(self, "out_post", "scalar", (BATCH, ELEMENT), target.num_neurons)
        source.out_syn.append(self)
        target.in_syn.append(self)

    def _bind_neuron_refs(self, declared, given, pop, field):
        _check_values(f"synapse population '{self.name}' {field}", given,
                      [r.name for r in declared], "reference")
        out = {}
        for r in declared:
            ref = given[r.name]
            if isinstance(ref, str):
                ref = VarRef(pop, ref, "var")
            if not isinstance(ref, VarRef) or ref.group is not pop:
                raise ValueError(f"synapse population '{self.name}': {field}['{r.name}'] must "
                                 f"name a variable of population '{pop.name}'")
            target = resolve_ref(ref)
            _check_ref_type(f"synapse population '{self.name}' {field}['{r.name}']", r, target)
            out[r.name] = (r, target)
        return out

    # -- connectivity --------------------------------------------------------
    def set_sparse_connections(self, pre_indices, post_indices):
        if self.matrix_type != SynapseMatrixType.SPARSE:
            raise ValueError(f"synapse population '{self.name}': set_sparse_connections needs "
                             "SPARSE connectivity")
        self._model._require_unbuilt("set_sparse_connections")
        pre = np.asarray(pre_indices, dtype=np.int64).reshape(-1)
        post = np.asarray(post_indices, dtype=np.int64).reshape(-1)
        if pre.shape != post.shape:
            raise ValueError(f"synapse population '{self.name}': {pre.size} presynaptic and "
                             f"{post.size} postsynaptic indices")
        for what, ind, n in (("pre", pre, self.src.num_neurons),
                             ("post", post, self.trg.num_neurons)):
            if ind.size and (ind.min() < 0 or ind.max() >= n):
                raise ValueError(f"synapse population '{self.name}': {what}synaptic index out "
                                 f"of range [0, {n})")
        self._pre_inds, self._post_inds = pre, post
        self.connectivity_init = None

    def _build_connectivity(self, rng):
        """Connections as (pre, post) index arrays in the order the user gave them."""
        if self._pre_inds is None:
            if self.connectivity_init is None:
                raise ValueError(f"synapse population '{self.name}': SPARSE connectivity needs "
                                 "init_sparse_connectivity(...) or set_sparse_connections()")
            ci = self.connectivity_init
            _check_values(f"synapse population '{self.name}' connectivity "
                          f"({ci.snippet.class_name})", ci.params,
                          [n for n, _ in ci.snippet.params], "parameter")
            pre, post = ci.snippet.build(self.src.num_neurons, self.trg.num_neurons,
                                         ci.params, rng)
            self._pre_inds, self._post_inds = pre.astype(np.int64), post.astype(np.int64)
        return self._pre_inds, self._post_inds

    def _csr(self):
        """Padded CSR: row lengths, column indices and each connection's slot."""
        pre, post = self._pre_inds, self._post_inds
        n_pre = self.src.num_neurons
        order = np.lexsort((post, pre))
        row_length = np.bincount(pre, minlength=n_pre).astype(np.uint32)
        stride = int(row_length.max()) if row_length.size and pre.size else 0
        starts = np.concatenate([[0], np.cumsum(row_length)[:-1]])
        slot = np.empty(pre.size, dtype=np.int64)
        sorted_pre = pre[order]
        slot[order] = sorted_pre * stride + (np.arange(pre.size) - starts[sorted_pre])
        ind = np.zeros(n_pre * stride, dtype=np.uint32)
        ind[slot] = post
        return row_length, stride, ind, slot

    @property
    def synapse_group(self):
        """The synapse group whose connectivity this group's variables follow (pygenn's)."""
        return self

    def _sorted_slots(self):
        """Storage slots of the synapses in (pre, post) order; None for DENSE."""
        if self.matrix_type == SynapseMatrixType.DENSE:
            return None
        return self._model._require_built().sparse[self.name].sorted_slots

    def get_sparse_pre_inds(self):
        self._model._require_loaded()
        return np.copy(self._pre_inds)

    def get_sparse_post_inds(self):
        self._model._require_loaded()
        return np.copy(self._post_inds)

    def pull_connectivity_from_device(self):
        self._model._require_loaded()

    # -- dynamic parameters ------------------------------------------------
    def set_wu_param_dynamic(self, name, dynamic=True):
        self._set_dynamic(self.params, name, dynamic)

    def set_ps_param_dynamic(self, name, dynamic=True):
        if name not in self.ps_params:
            raise ValueError(f"{self.name}: no postsynaptic parameter '{name}'")
        self._model._require_unbuilt(f"set_ps_param_dynamic('{name}')")
        (self.dynamic_params.add if dynamic else self.dynamic_params.discard)("psm_" + name)

    def dynamic_param(self, key):
        # Postsynaptic-model parameters are kept under a 'psm_' prefix
        if key.startswith("psm_"):
            return key[len("psm_"):], self.ps_params
        return key, self.params

    def set_dynamic_param_value(self, name, value):
        """Weight-update and postsynaptic parameters share one namespace, as in pygenn."""
        if name in self.ps_params and name not in self.params:
            self._set_dynamic_value("psm_", self.ps_params, name, value)
        else:
            self._set_dynamic_value("", self.params, name, value)


class CurrentSource(_Group):
    def __init__(self, model, name, cs_model, pop, params, vars, var_refs):
        if not isinstance(pop, NeuronGroup):
            raise TypeError(f"current source '{name}': target must be a neuron population")
        super().__init__(model, name, cs_model, params)
        self.pop = pop
        self.vars = self._make_vars(cs_model.vars, dict(vars), pop.num_neurons,
                                    lambda v: var_dims(v.access))
        _check_values(self._what(cs_model), var_refs, [r.name for r in cs_model.neuron_var_refs],
                      "reference")
        self.var_refs = {}
        for r in cs_model.neuron_var_refs:
            ref = var_refs[r.name]
            ref = VarRef(pop, ref, "var") if isinstance(ref, str) else ref
            target = resolve_ref(ref)
            _check_ref_type(f"current source '{name}' var_refs['{r.name}']", r, target)
            self.var_refs[r.name] = (r, target)
        self.target_var = "Isyn"
        pop.current_sources.append(self)


def resolve_ref(ref):
    """The Array a VarRef points at, checked to exist."""
    if not isinstance(ref, VarRef):
        raise TypeError(f"expected a variable reference (create_var_ref(...)), got {ref!r}")
    g = ref.group
    table = {"var": getattr(g, "vars", None), "wu": getattr(g, "vars", None),
             "psm": getattr(g, "psm_vars", None), "wu_pre": getattr(g, "pre_vars", None),
             "wu_post": getattr(g, "post_vars", None)}
    if ref.kind == "out_post":
        return g.out_post
    if ref.kind == "wu" and getattr(g, "synapse_group", None) is None:
        raise TypeError(f"create_wu_var_ref needs a synapse group or a custom update on one, "
                        f"got {g!r}")
    if ref.kind == "var" and getattr(g, "synapse_group", None) is not None:
        raise TypeError(f"create_var_ref('{ref.var_name}') on {g!r}: use create_wu_var_ref "
                        "for per-synapse variables")
    vars = table[ref.kind]
    if vars is None or ref.var_name not in vars:
        valid = list(vars or [])
        raise ValueError(f"{g!r} has no variable '{ref.var_name}'.{_suggest(ref.var_name, valid)}"
                         f" Variables: {', '.join(valid) or '(none)'}")
    return vars[ref.var_name]


def _check_ref_type(what, declared, target):
    if declared.type != target.type:
        raise TypeError(f"{what}: declared type '{declared.type}' but "
                        f"'{target.key}' has type '{target.type}'")


class CustomUpdate(_Group):
    """A custom update on neuron-sized or synapse-group-sized variables."""

    def __init__(self, model, name, group_name, cu_model, params, vars, var_refs, egp_refs):
        super().__init__(model, name, cu_model, params)
        self.group_name = group_name
        _check_values(self._what(cu_model), var_refs, [r.name for r in cu_model.var_refs],
                      "variable reference")
        _check_values(self._what(cu_model), egp_refs, [n for n, _ in cu_model.egp_refs],
                      "extra global parameter reference")
        if not cu_model.var_refs:
            raise ValueError(f"{self._what(cu_model)}: a custom update needs at least one "
                             "variable reference (it defines what the update runs over)")
        self.var_refs = {}
        for r in cu_model.var_refs:
            target = resolve_ref(var_refs[r.name])
            _check_ref_type(f"custom update '{name}' var_refs['{r.name}']", r, target)
            self.var_refs[r.name] = (r, target)
        owners = {self._shape_owner(t) for _, t in self.var_refs.values()}
        if len(owners) != 1:
            raise ValueError(f"custom update '{name}': all variable references must be to "
                             "variables of the same size (one neuron population size or one "
                             "synapse group)")
        owner = owners.pop()
        self.is_wu = isinstance(owner, SynapseGroup)
        self.synapse_group = owner if self.is_wu else None
        self.num_elements = owner if not self.is_wu else None
        cu_model.check_update_code(["id_pre", "id_post", "id_syn", "num_pre", "num_post"]
                                   if self.is_wu else ["id", "num_neurons"])
        # As in GeNN, an update has the batch dimension when any variable it
        # references has it; the batch size itself is fixed only at build()
        self.batched = any(BATCH in t.dims for _, t in self.var_refs.values())
        dims = (BATCH, ELEMENT) if self.batched else (ELEMENT,)
        size = None if self.is_wu else owner

        def cu_dims(v):
            a = v.access
            d = list(dims)
            if a in (CustomUpdateVarAccess.READ_ONLY_SHARED, CustomUpdateVarAccess.REDUCE_BATCH_SUM,
                     CustomUpdateVarAccess.REDUCE_BATCH_MAX) and BATCH in d:
                d.remove(BATCH)
            if a in (CustomUpdateVarAccess.READ_ONLY_SHARED_NEURON,
                     CustomUpdateVarAccess.REDUCE_NEURON_SUM,
                     CustomUpdateVarAccess.REDUCE_NEURON_MAX):
                if self.is_wu:
                    raise ValueError(f"custom update '{name}': {a.name} needs neuron variables")
                d.remove(ELEMENT)
            return tuple(d)
        self.vars = self._make_vars(cu_model.vars, dict(vars), size, cu_dims,
                                    SynapseVariable if self.is_wu else Variable)
        for (r, t) in self.var_refs.values():
            # Writing a lower-dimensional variable from every element or batch
            # instance would race; GeNN refuses it too
            if (r.access in (VarAccessMode.READ_WRITE, VarAccessMode.BROADCAST)
                    and not set(dims) <= set(t.dims)):
                shared = "the batch" if BATCH in dims and BATCH not in t.dims else "the neurons"
                raise ValueError(f"custom update '{name}': reference '{r.name}' writes "
                                 f"'{t.key}', which is shared across {shared}, from an update "
                                 "over each of them; read it (READ_ONLY) or reduce into it "
                                 "(REDUCE_SUM / REDUCE_MAX)")
        self.egp_refs = {}
        for n, t in cu_model.egp_refs:
            ref = egp_refs[n]
            if not isinstance(ref, EGPRef):
                raise TypeError(f"custom update '{name}': egp_refs['{n}'] must come from "
                                "create_egp_ref(...)")
            g = ref.group
            table = g.psm_extra_global_params if isinstance(ref.egp_name, tuple) else \
                g.extra_global_params
            egp_name = ref.egp_name[1] if isinstance(ref.egp_name, tuple) else ref.egp_name
            if egp_name not in table:
                raise ValueError(f"{g!r} has no extra global parameter '{egp_name}'")
            if table[egp_name].type != t:
                raise TypeError(f"custom update '{name}': egp_refs['{n}'] declared '{t}' but "
                                f"'{table[egp_name].key}' is '{table[egp_name].type}'")
            self.egp_refs[n] = table[egp_name]
        self.reductions = self._reduction_kind()

    @staticmethod
    def _shape_owner(array):
        g = array.group
        if isinstance(array, SynapseVariable):
            return g.synapse_group
        return array.num_elements

    def _reduction_kind(self):
        kinds = set()
        for v in self.model.vars:
            if v.access.name.startswith("REDUCE_BATCH"):
                kinds.add(BATCH)
            elif v.access.name.startswith("REDUCE_NEURON"):
                kinds.add(ELEMENT)
        for r, t in self.var_refs.values():
            if r.access in (VarAccessMode.REDUCE_SUM, VarAccessMode.REDUCE_MAX):
                missing = {BATCH, ELEMENT} - set(t.dims) if self.batched else \
                    {ELEMENT} - set(t.dims)
                if not missing:
                    raise ValueError(f"custom update '{self.name}': reduction reference "
                                     f"'{r.name}' targets '{t.key}', which has the update's "
                                     "own shape, so there is nothing to reduce over")
                kinds |= missing
        if len(kinds) > 1:
            raise ValueError(f"custom update '{self.name}' mixes batch and neuron reductions; "
                             "split it into two custom updates")
        return kinds.pop() if kinds else None



class GeNNModel:
    """A network of populations and their connections, as in pygenn 5."""

    def __init__(self, precision="float", model_name="GeNNModel", backend=None,
                 time_precision=None, **preferences):
        if precision not in ("float", "double"):
            raise ValueError(f"precision must be 'float' or 'double', got {precision!r}")
        if time_precision not in (None, "float", "double"):
            raise ValueError(f"time_precision must be 'float' or 'double', got "
                             f"{time_precision!r}")
        if not isinstance(model_name, str) or not model_name.isidentifier():
            raise ValueError(f"model_name must be a valid identifier, got {model_name!r}")
        from .backends import make_backend
        self.precision = precision
        self.time_precision = time_precision or precision
        self.name = model_name
        self._backend = make_backend(backend, preferences)
        self.backend_name = self._backend.name
        self.dt = 0.5
        self._batch_size = 1
        self.seed = 0
        self.neuron_populations, self.synapse_populations = {}, {}
        self.current_sources, self.custom_updates = {}, {}
        self._built = None   # backend's build product
        self._loaded = None  # backend's runtime
        self._timestep = 0

    # -- model-wide properties -----------------------------------------------
    @property
    def batch_size(self):
        return self._batch_size

    @batch_size.setter
    def batch_size(self, b):
        if not isinstance(b, numbers.Integral) or b < 1:
            raise ValueError(f"batch_size must be a positive integer, got {b!r}")
        self._require_unbuilt("setting batch_size")
        self._batch_size = int(b)

    @property
    def timestep(self):
        return self._timestep

    @timestep.setter
    def timestep(self, ts):
        self._timestep = int(ts)

    @property
    def t(self):
        return self._timestep * self.dt

    def _require_unbuilt(self, what):
        if self._built is not None:
            raise RuntimeError(f"{what} must be called before build()")

    def _require_loaded(self):
        if self._loaded is None:
            raise RuntimeError(f"model '{self.name}' is not loaded: call build() and load()")
        return self._loaded

    def _require_built(self):
        if self._built is None:
            raise RuntimeError(f"model '{self.name}': synapse storage exists only after build()")
        return self._built

    @staticmethod
    def _register(table, group):
        group._frozen = True
        table[group.name] = group
        return group

    def _unique_name(self, name):
        self._require_unbuilt(f"adding '{name}'")
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"group name {name!r} must be a valid identifier")
        for table in (self.neuron_populations, self.synapse_populations,
                      self.current_sources, self.custom_updates):
            if name in table:
                raise ValueError(f"a group named '{name}' already exists")

    # -- adding groups -----------------------------------------------------
    def add_neuron_population(self, pop_name, num_neurons, neuron, params={}, vars={}):
        self._unique_name(pop_name)
        neuron = spec._snippet(neuron, "NEURON_MODELS", "neuron model", spec.NeuronModel)
        return self._register(self.neuron_populations,
                              NeuronGroup(self, pop_name, num_neurons, neuron, params, vars))

    def add_synapse_population(self, pop_name, matrix_type, source, target,
                               weight_update_init, postsynaptic_init, connectivity_init=None):
        self._unique_name(pop_name)
        return self._register(self.synapse_populations,
                              SynapseGroup(self, pop_name, matrix_type, source, target,
                                           weight_update_init, postsynaptic_init,
                                           connectivity_init))

    def add_current_source(self, cs_name, current_source_model, pop, params={}, vars={},
                           var_refs={}):
        self._unique_name(cs_name)
        m = spec._snippet(current_source_model, "CURRENT_SOURCE_MODELS",
                          "current source model", spec.CurrentSourceModel)
        return self._register(self.current_sources,
                              CurrentSource(self, cs_name, m, pop, params, vars, var_refs))

    def add_custom_update(self, cu_name, group_name, custom_update_model, params={}, vars={},
                          var_refs={}, egp_refs={}):
        self._unique_name(cu_name)
        if not isinstance(group_name, str) or not group_name.isidentifier():
            raise ValueError(f"custom update '{cu_name}': group name {group_name!r} must be a "
                             "valid identifier")
        m = spec._snippet(custom_update_model, "CUSTOM_UPDATE_MODELS", "custom update model",
                          spec.CustomUpdateModel)
        return self._register(self.custom_updates,
                              CustomUpdate(self, cu_name, group_name, m, params, vars, var_refs,
                                           egp_refs))

    # -- build, load, run ---------------------------------------------------
    def build(self, path_to_model=None, always_rebuild=False, never_rebuild=False):
        if self._loaded is not None:
            raise RuntimeError("build() after load(): unload() first")
        if not isinstance(self.dt, numbers.Real) or self.dt <= 0:
            raise ValueError(f"dt must be a positive number, got {self.dt!r}")
        rng = np.random.default_rng(self.seed if self.seed else None)
        for sg in self.synapse_populations.values():
            if sg.matrix_type == SynapseMatrixType.SPARSE:
                sg._build_connectivity(rng)
        self._built = self._backend.build(self, path_to_model, always_rebuild, never_rebuild)

    def load(self, num_recording_timesteps=None):
        if self._built is None:
            raise RuntimeError("load() before build()")
        if self._loaded is not None:
            raise RuntimeError("model is already loaded")
        recording = [p for p in self.neuron_populations.values() if p.spike_recording_enabled]
        if recording and not num_recording_timesteps:
            raise ValueError(f"spike recording is enabled on {', '.join(p.name for p in recording)}"
                             ": load(num_recording_timesteps=N) needs N > 0")
        self.num_recording_timesteps = num_recording_timesteps
        self._loaded = self._backend.load(self, self._built, num_recording_timesteps)
        self._timestep = 0   # a loaded model starts at step 0, as pygenn's runtime does

    def unload(self):
        if self._loaded is not None:
            self._loaded.unload()
            self._loaded = None

    def step_time(self):
        self._require_loaded().run(self._timestep, 1)
        self._timestep += 1

    def run(self, n_steps):
        """Run ``n_steps`` steps in one native call (no Python in the time loop)."""
        if not isinstance(n_steps, numbers.Integral) or n_steps < 0:
            raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}")
        if n_steps:
            self._require_loaded().run(self._timestep, int(n_steps))
            self._timestep += int(n_steps)

    def custom_update(self, name):
        groups = {cu.group_name for cu in self.custom_updates.values()}
        if name not in groups:
            raise ValueError(f"no custom update group '{name}'.{_suggest(name, groups)} "
                             f"Groups: {', '.join(sorted(groups)) or '(none)'}")
        self._require_loaded().custom_update(name, self._timestep)

    def get_rng_state(self):
        """A copy of the state of the model's random-number streams (an extension of the
        pygenn API, for checkpoints that resume bit for bit); None where the backend keeps
        it out of reach (genn)."""
        runtime = self._require_loaded()
        return runtime.rng_state() if hasattr(runtime, "rng_state") else None

    def set_rng_state(self, state):
        """Restores a state from ``get_rng_state`` of a model built the same way."""
        runtime = self._require_loaded()
        if not hasattr(runtime, "rng_state"):
            raise ValueError(f"the {type(self._backend).__name__} keeps its random-number "
                             "state to itself; it cannot be restored")
        runtime.set_rng_state(state)

    def pull_recording_buffers_from_device(self):
        self._require_loaded()

    @property
    def backend(self):
        return self._backend
