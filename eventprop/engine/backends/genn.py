"""The ``genn`` backend: the model is handed to a real pygenn 5 installation.

At ``build()`` every group is recreated in a ``pygenn.GeNNModel`` with pygenn's
own ``create_*`` functions, from the keyword arguments the user gave ours (built-in
models by name), and pygenn generates and compiles the code. At ``load()`` each of
our arrays is bound to the host array pygenn keeps, so ``view``, ``values``,
``push_to_device`` and ``pull_from_device`` act on pygenn's state.

SPARSE storage: pygenn pads every row to ``max_connections`` (the longest row),
row ``i`` holding its synapses, sorted by postsynaptic index, in slots
``[i * stride, i * stride + row_length[i])``. ``built.sparse[name]`` is a
``PaddedRows`` computed from the row lengths and ``synapse_order`` pygenn derives
in ``set_sparse_connections`` (the very arrays it copies into its runtime at
load), so our ``SynapseVariable.values`` lists pygenn's padded view in (pre, post)
order, and initial arrays are placed in the order the connections were given.

Connectivity is always passed as explicit index lists: the front end has already
drawn it in ``model.build()``, so both backends simulate the same network.
"""
from dataclasses import dataclass

import numpy as np

from .. import builtins, spec
from ..model import CustomUpdate, OutPost, SynapseGroup, SynapseVariable
from ..spec import SynapseMatrixType, VarInit

INSTALL_HINT = ("the 'genn' backend needs pygenn 5 (GeNN 5.x), which is not on PyPI: "
                "build and install it from source as described at "
                "https://genn-team.github.io/ , or use backend='cpu'.")

# Our model class -> (pygenn create function, our table of built-ins, keyword
# arguments holding (name, type, access) tuples and the pygenn enum of the access)
_MODELS = {
    spec.NeuronModel: ("create_neuron_model", "NEURON_MODELS", {"vars": "VarAccess"}),
    spec.WeightUpdateModel: ("create_weight_update_model", "WEIGHT_UPDATE_MODELS",
                             {"vars": "VarAccess", "pre_vars": "VarAccess",
                              "post_vars": "VarAccess",
                              "pre_neuron_var_refs": "VarAccessMode",
                              "post_neuron_var_refs": "VarAccessMode"}),
    spec.PostsynapticModel: ("create_postsynaptic_model", "POSTSYNAPTIC_MODELS",
                             {"vars": "VarAccess", "neuron_var_refs": "VarAccessMode"}),
    spec.CurrentSourceModel: ("create_current_source_model", "CURRENT_SOURCE_MODELS",
                              {"vars": "VarAccess", "neuron_var_refs": "VarAccessMode"}),
    spec.CustomUpdateModel: ("create_custom_update_model", "CUSTOM_UPDATE_MODELS",
                             {"vars": "CustomUpdateVarAccess", "var_refs": "VarAccessMode"}),
    spec.VarInitSnippet: ("create_var_init_snippet", "VAR_INIT_SNIPPETS", {}),
}

# The attributes holding arrays have the same names on our groups and pygenn's
_VAR_TABLES = ("vars", "pre_vars", "post_vars", "psm_vars")
_EGP_TABLES = ("extra_global_params", "psm_extra_global_params")


def import_pygenn():
    try:
        import pygenn
    except ImportError as e:
        raise ImportError(f"pygenn is not importable ({e}): {INSTALL_HINT}") from e
    if not hasattr(pygenn, "init_weight_update"):
        raise ImportError(f"pygenn {getattr(pygenn, '__version__', '(unknown version)')} is "
                          f"not pygenn 5: {INSTALL_HINT}")
    return pygenn


@dataclass
class PaddedRows:
    """pygenn's padded SPARSE layout, in the form the front end reads."""
    stride: int                # slots per row (pygenn's max_connections)
    slot: np.ndarray           # slot of each connection, in the order they were given
    sorted_slots: np.ndarray   # slots in (pre, post) order


def padded_rows(row_lengths, stride, synapse_order):
    """Layout from pygenn's row lengths, row stride and ``synapse_order`` (the
    lexsort by (pre, post) of the connections as given)."""
    row_lengths = np.asarray(row_lengths, dtype=np.int64)
    row_start = np.cumsum(row_lengths) - row_lengths
    rows = np.repeat(np.arange(row_lengths.size), row_lengths)
    sorted_slots = rows * stride + (np.arange(rows.size) - row_start[rows])
    slot = np.empty_like(sorted_slots)
    slot[np.asarray(synapse_order)] = sorted_slots
    return PaddedRows(int(stride), slot, sorted_slots)


def _padded_group(var):
    """The SPARSE synapse group whose padded rows store ``var``, or None."""
    if not isinstance(var, SynapseVariable):
        return None
    sg = var.group.synapse_group
    return sg if sg.matrix_type == SynapseMatrixType.SPARSE else None


def _is_array(init):
    return not isinstance(init, VarInit) and np.ndim(init) > 0


class _Translator:
    """Our model definitions, initialisers and references as pygenn objects."""

    def __init__(self, pygenn, groups):
        self.pg = pygenn
        self.groups = groups   # our group -> pygenn group, filled as groups are added
        self.made = {}         # our snippet -> pygenn snippet, so shared models are made once

    def snippet(self, snippet):
        create, table, access_kwargs = _MODELS[type(snippet)]
        if getattr(builtins, table).get(snippet.class_name) is snippet:
            return snippet.class_name   # pygenn has the same built-in under this name
        if snippet not in self.made:
            # None is every create_* default; leaving it out keeps to the
            # arguments all pygenn 5 releases know
            kwargs = {k: self._with_access(snippet, v, access_kwargs[k])
                      if k in access_kwargs else v
                      for k, v in snippet.kwargs.items() if v is not None}
            self.made[snippet] = getattr(self.pg, create)(snippet.class_name, **kwargs)
        return self.made[snippet]

    def _with_access(self, snippet, decls, enum_name):
        enum = getattr(self.pg, enum_name)
        out = []
        for d in decls:
            if len(d) == 3:
                access = d[2].name if not isinstance(d[2], str) else d[2]
                if not hasattr(enum, access):
                    raise ValueError(f"{snippet.class_name}: '{d[0]}' uses access mode "
                                     f"{access}, which this pygenn's {enum_name} lacks")
                d = (d[0], d[1], getattr(enum, access))
            out.append(tuple(d))
        return out

    def initial(self, var):
        """pygenn's initialiser for ``var``; None (uninitialised) for arrays that
        go into padded SPARSE rows, which ``GeNNRuntime`` writes after load."""
        init = var.init
        if isinstance(init, VarInit):
            return self.pg.init_var(self.snippet(init.snippet), dict(init.params))
        if not _is_array(init):
            return np.asarray(init).item()
        return None if _padded_group(var) is not None else np.asarray(init)

    def initials(self, vars):
        return {name: self.initial(v) for name, v in vars.items()}

    def neuron_refs(self, refs, pop):
        return {name: self.pg.create_var_ref(self.groups[pop], target.name)
                for name, (_, target) in refs.items()}

    def var_ref(self, target):
        """A custom update's reference to ``target``, by the table that holds it."""
        g = target.group
        pg_group = self.groups[g]
        if isinstance(target, OutPost):
            return self.pg.create_out_post_var_ref(pg_group)
        if isinstance(g, SynapseGroup):
            for table, create in (("vars", "create_wu_var_ref"),
                                  ("psm_vars", "create_psm_var_ref"),
                                  ("pre_vars", "create_wu_pre_var_ref"),
                                  ("post_vars", "create_wu_post_var_ref")):
                if getattr(g, table).get(target.name) is target:
                    return getattr(self.pg, create)(pg_group, target.name)
        if isinstance(g, CustomUpdate) and g.synapse_group is not None:
            return self.pg.create_wu_var_ref(pg_group, target.name)
        return self.pg.create_var_ref(pg_group, target.name)

    def egp_ref(self, egp):
        g = egp.group
        pg_group = self.groups[g]
        if isinstance(g, SynapseGroup):
            for name, psm_egp in g.psm_extra_global_params.items():
                if psm_egp is egp:
                    return self.pg.create_psm_egp_ref(pg_group, name)
            return self.pg.create_wu_egp_ref(pg_group, egp.name)
        return self.pg.create_egp_ref(pg_group, egp.name)


@dataclass
class GeNNBuilt:
    model: object    # the built pygenn.GeNNModel
    groups: dict     # our group -> pygenn group
    sparse: dict     # SPARSE synapse group name -> PaddedRows


class GeNNBackend:
    name = "genn"

    def __init__(self, genn_backend=None, genn_preferences=None):
        """``genn_backend``: pygenn's backend ("cuda", "single_threaded_cpu", ...;
        None lets pygenn pick). ``genn_preferences``: further keyword arguments of
        ``pygenn.GeNNModel`` (log levels, backend preferences), checked by pygenn."""
        self.genn_backend = genn_backend
        self.preferences = dict(genn_preferences or {})

    def build(self, model, path_to_model, always_rebuild, never_rebuild):
        pg = import_pygenn()
        genn = pg.GeNNModel(model.precision, model.name, backend=self.genn_backend,
                            time_precision=model.time_precision, **self.preferences)
        genn.dt = model.dt
        genn.batch_size = model.batch_size
        genn.seed = model.seed
        groups, sparse = {}, {}
        tr = _Translator(pg, groups)

        for pop in model.neuron_populations.values():
            p = genn.add_neuron_population(pop.name, pop.num_neurons, tr.snippet(pop.model),
                                           pop.params, tr.initials(pop.vars))
            p.spike_recording_enabled = pop.spike_recording_enabled
            groups[pop] = p

        for sg in model.synapse_populations.values():
            wu = pg.init_weight_update(tr.snippet(sg.wu_model), sg.params,
                                       tr.initials(sg.vars), tr.initials(sg.pre_vars),
                                       tr.initials(sg.post_vars),
                                       pre_var_refs=tr.neuron_refs(sg.pre_var_refs, sg.src),
                                       post_var_refs=tr.neuron_refs(sg.post_var_refs, sg.trg))
            ps = pg.init_postsynaptic(tr.snippet(sg.ps_model), sg.ps_params,
                                      tr.initials(sg.psm_vars),
                                      var_refs=tr.neuron_refs(sg.psm_var_refs, sg.trg))
            s = genn.add_synapse_population(sg.name, sg.matrix_type.name, groups[sg.src],
                                            groups[sg.trg], wu, ps)
            s.pre_target_var = sg.pre_target_var
            s.post_target_var = sg.post_target_var
            if sg.matrix_type == SynapseMatrixType.SPARSE:
                s.set_sparse_connections(sg._pre_inds, sg._post_inds)
                sparse[sg.name] = padded_rows(s.row_lengths, s.max_connections,
                                              s.synapse_order)
            groups[sg] = s

        for cs in model.current_sources.values():
            try:
                c = genn.add_current_source(cs.name, tr.snippet(cs.model), groups[cs.pop],
                                            cs.params, tr.initials(cs.vars),
                                            var_refs=tr.neuron_refs(cs.var_refs, cs.pop))
            except NameError as e:
                # Some pygenn 5 releases build a current source model's
                # neuron_var_refs from an undefined name
                raise RuntimeError(f"current source '{cs.name}': this pygenn cannot use "
                                   f"current source models with neuron_var_refs ({e}); "
                                   "update pygenn or drop the references") from e
            c.target_var = cs.target_var
            groups[cs] = c

        # Insertion order: a custom update can only refer to groups added before it
        for cu in model.custom_updates.values():
            groups[cu] = genn.add_custom_update(
                cu.name, cu.group_name, tr.snippet(cu.model), cu.params, tr.initials(cu.vars),
                var_refs={n: tr.var_ref(t) for n, (_, t) in cu.var_refs.items()},
                egp_refs={n: tr.egp_ref(e) for n, e in cu.egp_refs.items()})

        for group, g in groups.items():
            for key in group.dynamic_params:
                name, params = group.dynamic_param(key)
                if isinstance(group, SynapseGroup):
                    (g.set_wu_param_dynamic if params is group.params
                     else g.set_ps_param_dynamic)(name)
                else:
                    g.set_param_dynamic(name)

        genn.build(path_to_model or ".", always_rebuild=always_rebuild,
                   never_rebuild=never_rebuild)
        return GeNNBuilt(genn, groups, sparse)

    def load(self, model, built, num_recording_timesteps):
        return GeNNRuntime(model, built, num_recording_timesteps)


def _pairs(group, pg_group, tables):
    """(our array, pygenn's array) for each array in the named tables of ``group``."""
    for table in tables:
        ours = getattr(group, table, None) or {}
        theirs = getattr(pg_group, table, None)
        for name, array in ours.items():
            yield array, theirs[name]


class GeNNRuntime:
    def __init__(self, model, built, num_recording_timesteps):
        self.genn, self.groups = built.model, built.groups
        # pygenn allocates an EGP at load only if it has initial values
        for group, g in self.groups.items():
            for egp, pg_egp in _pairs(group, g, _EGP_TABLES):
                if egp.init_values is None:
                    raise ValueError(f"extra global parameter '{egp.key}' has no values: call "
                                     "set_init_values(...) before load()")
                pg_egp.set_init_values(egp.init_values)
        self.genn.load(num_recording_timesteps=num_recording_timesteps)

        self.arrays = {}   # our array -> pygenn's
        for group, g in self.groups.items():
            pairs = list(_pairs(group, g, _VAR_TABLES + _EGP_TABLES))
            if isinstance(group, SynapseGroup):
                pairs.append((group.out_post, g.out_post))
            for ours, theirs in pairs:
                # _view, not view: pygenn's SynapseVariable.view refuses SPARSE
                # groups, but the padded array behind it is what our view is
                ours._view = theirs._view
                self.arrays[ours] = theirs
                sg = _padded_group(ours)
                if sg is not None and _is_array(ours.init):
                    self._write_padded(ours, built.sparse[sg.name])
                    theirs.push_to_device()
            for key in group.dynamic_params:
                name, params = group.dynamic_param(key)
                g.set_dynamic_param_value(name, params[name])

    @staticmethod
    def _write_padded(var, rows):
        arr = np.asarray(var.init)
        if arr.shape[-1] != rows.slot.size:
            raise ValueError(f"variable '{var.key}': {arr.shape[-1]} initial values for "
                             f"{rows.slot.size} synapses")
        var.view[...] = 0   # padding is never read; zero it so the state is deterministic
        var.view[..., rows.slot] = arr

    # -- the runtime interface the model calls -------------------------------
    def run(self, timestep, n_steps):
        self.genn.timestep = timestep
        for _ in range(n_steps):
            self.genn.step_time()

    def custom_update(self, name, timestep):
        self.genn.timestep = timestep
        self.genn.custom_update(name)

    def set_dynamic_param(self, group, key, value):
        self.groups[group].set_dynamic_param_value(group.dynamic_param(key)[0], value)

    def push(self, array, count=None):
        self.arrays[array].push_to_device()

    def pull(self, array):
        self.arrays[array].pull_from_device()

    def spike_recording_data(self, pop):
        if not pop.spike_recording_enabled:
            raise RuntimeError(f"spike recording is not enabled on population '{pop.name}'")
        self.genn.pull_recording_buffers_from_device()
        return self.groups[pop].spike_recording_data

    def unload(self):
        self.genn.unload()
        for array in self.arrays:
            array._view = None
        self.arrays = {}
