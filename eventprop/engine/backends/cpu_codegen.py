"""Generate one C++ file for a model.

The generated functions take the pointer table (``void** _p``) whose slot k holds
array k of the layout, so one compiled library serves any number of loaded
models. Each step runs, per batch instance, the synapse groups (propagating the
events of the previous step) and then the neuron groups, as GeNN does.
"""
import math

import numpy as np

from ..code import (RNG_FUNCTIONS, declared_names, rewrite_code, tokenize, used_names,
                    written_names)
from ..model import (BATCH, ELEMENT, SynapseMatrixType, SynapseVariable, derived_values,
                     synapse_storage)
from ..spec import VarAccessMode, VarInit
from .layout import ctype, event_groups, fire_stride, two_pass, uses_add_to_pre

FTZ_CODE = r"""
#if defined(__SSE2__)
#include <pmmintrin.h>
// Decaying state reaches subnormal numbers, which are ~100x slower on x86;
// flush them to zero as GPUs do.
static inline void _flush_denormals() { _mm_setcsr(_mm_getcsr() | 0x8040); }
#else
static inline void _flush_denormals() {}
#endif
"""

RNG_CODE = r"""
// xoshiro256** (Blackman & Vigna); one stream per group and batch instance
struct _Rng {
    uint64_t* s;
    explicit _Rng(uint64_t* state) : s(state) {}
    static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    inline uint64_t next() {
        const uint64_t result = rotl(s[1] * 5, 7) * 9;
        const uint64_t t = s[1] << 17;
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
        s[2] ^= t; s[3] = rotl(s[3], 45);
        return result;
    }
    inline uint32_t next_u32() { return (uint32_t)(next() >> 32); }
    inline double uniform_d() { return (double)(next() >> 11) * 0x1.0p-53; }
    inline scalar uniform() { return (scalar)uniform_d(); }
    inline scalar normal() {
        const double u1 = 1.0 - uniform_d();
        const double u2 = uniform_d();
        return (scalar)(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
    }
    inline scalar exponential() { return (scalar)(-std::log(1.0 - uniform_d())); }
};
"""

RNG_CALLS = {"gennrand": ("_rng.next_u32()", 0), "gennrand_uniform": ("_rng.uniform()", 0),
             "gennrand_normal": ("_rng.normal()", 0),
             "gennrand_exponential": ("_rng.exponential()", 0)}


def literal(value, type_name, precision):
    c = ctype(type_name, precision)
    if c in ("scalar", "float", "double"):
        v = float(value)
        if math.isnan(v):
            return f"(({c})NAN)"
        if math.isinf(v):
            return f"(({c}){'-' if v < 0 else ''}INFINITY)"
        text = repr(v)
        float_literal = c == "float" or (c == "scalar" and precision == "float")
        return f"{text}f" if float_literal else text
    if c == "bool":
        return "true" if value else "false"
    return f"(({c}){int(value)})"


class Generator:
    def __init__(self, model, layout):
        self.m, self.lay = model, layout
        self.prec = model.precision
        self.B = model.batch_size
        self.tags = {}
        self._labels = {}   # id(snippet) -> unique label for compiler messages
        self._used = set()
        self.pop_rng, self.sg_rng = {}, {}

    # -- helpers ------------------------------------------------------------
    def a(self, key):
        self._used.add(key)
        return self.lay.name(key)

    def tag(self, snippet, field, code):
        """The file name compiler errors in this code string will carry: the model's
        class name, numbered when two different models share one."""
        label = self._labels.get(id(snippet))
        if label is None:
            taken = set(self._labels.values())
            label, k = snippet.class_name, 2
            while label in taken:
                label, k = f"{snippet.class_name}#{k}", k + 1
            self._labels[id(snippet)] = label
        tag = f"{label}.{field}"
        self.tags[tag] = code
        return tag

    def user_code(self, snippet, field, code, calls=None):
        tag = self.tag(snippet, field, code)
        body = rewrite_code(code, self.prec, (calls or {}) | RNG_CALLS)
        return f"\n#line 1 \"{tag}\"\n{body}\n//@@GENERATED\n"

    def user_expr(self, snippet, field, code):
        tag = self.tag(snippet, field, code)
        body = rewrite_code(code, self.prec, RNG_CALLS)
        return f'(\n#line 1 "{tag}"\n{body}\n//@@GENERATED\n)'

    def storage(self, array):
        """Number of elements along the ELEMENT axis of an array."""
        if isinstance(array, SynapseVariable):
            return synapse_storage(array.group.synapse_group, self.lay.sparse)
        return array.num_elements

    @staticmethod
    def index(dims, n, element):
        if dims == (BATCH, ELEMENT):
            return f"(size_t)_b * {n} + {element}"
        if dims == (ELEMENT,):
            return element
        if dims == (BATCH,):
            return "_b"
        return "0"

    def bind_var(self, name, array, element, read_only):
        c = ctype(array.type, self.prec)
        const = "const " if read_only else ""
        return (f"{const}{c}& {name} = {self.a(array.key)}"
                f"[{self.index(array.dims, self.storage(array), element)}];")

    def bind_params(self, snippet, params, used, group=None, dyn_prefix=""):
        """Constants for the parameters and derived parameters ``used``; a dynamic
        parameter of ``group`` is read from the group's parameter array instead."""
        lines = []
        dyn = sorted(group.dynamic_params) if group is not None else []
        for name, type_ in snippet.params:
            if name not in used:
                continue
            c = ctype(type_, self.prec)
            if dyn_prefix + name in dyn:
                k = dyn.index(dyn_prefix + name)
                lines.append(f"const {c} {name} = ({c}){self.a(group.name + '._dyn')}[{k}];")
            else:
                lines.append(f"const {c} {name} = {literal(params[name], type_, self.prec)};")
        derived = derived_values(snippet, params, self.m.dt)
        for name, _, type_ in snippet.derived_params:
            if name in used:
                c = ctype(type_, self.prec)
                lines.append(f"const {c} {name} = {literal(derived[name], type_, self.prec)};")
        return lines

    def bind_egps(self, egps, used):
        lines = []
        for name, egp in egps.items():
            if name not in used:
                continue
            c = ctype(egp.type, self.prec)
            if egp.is_pointer:
                lines.append(f"{c}* const {name} = {self.a(egp.key)};")
            else:
                lines.append(f"const {c} {name} = {self.a(egp.key)}[0];")
        return lines

    @staticmethod
    def table_arrays(table, used):
        """(name, array, read_only) of the variables in ``table`` (name -> variable) or of
        the variables that references point at (name -> (decl, target)) that ``used`` names."""
        for name, entry in table.items():
            if name not in used:
                continue
            if isinstance(entry, tuple):
                decl, array = entry
                yield name, array, decl.access == VarAccessMode.READ_ONLY
            else:
                yield name, entry, entry.read_only

    def bind_arrays(self, table, used, element):
        """References to the element ``element`` of the variables in ``table`` that ``used``
        names (see table_arrays)."""
        return [self.bind_var(name, array, element, read_only)
                for name, array, read_only in self.table_arrays(table, used)]

    def bind(self, group, snippet, params, egps, used, arrays=(), dyn_prefix=""):
        """Everything a code string of ``group`` uses: parameters, derived parameters,
        EGPs, then the variables and references of each (table, element) in ``arrays``."""
        lines = self.bind_params(snippet, params, used, group, dyn_prefix)
        lines += self.bind_egps(egps, used)
        for table, element in arrays:
            lines += self.bind_arrays(table, used, element)
        return lines

    def rng_declaration(self, stream, element):
        """The ``_rng`` of a group's code: one xoshiro stream per group and batch instance,
        drawn in element order (``element`` matters only to parallel backends)."""
        return f"_Rng _rng(_rngState + 4 * ((size_t){stream} + _b));"

    def function(self, signature, body):
        decls = []
        for key in sorted(self._used, key=lambda k: self.lay.by_key[k].index):
            spec = self.lay.by_key[key]
            c = ctype(spec.type, self.prec)
            # Every array has exactly one pointer per function (all accesses derive
            # from it), so __restrict__ holds and lets the compiler vectorise
            decls.append(f"    {c}* __restrict__ const {self.lay.name(key)} = ({c}*)_p[{spec.index}];")
        self._used = set()
        return f"{signature} {{\n" + "\n".join(decls) + "\n" + body + "\n}\n"

    # -- neuron update --------------------------------------------------------
    def neuron_block(self, pop):
        n = pop.num_neurons
        L = [f"{{ // neuron population {pop.name}",
             f"const unsigned int num_neurons = {n};",
             f"uint32_t _spkCnt = 0; uint32_t* const _spk = {self.a(pop.name + '._spk')} + (size_t)_b * {n};"]
        events = event_groups(pop)
        for k, sg in enumerate(events):
            L.append(f"uint32_t _evCnt{k} = 0; uint32_t* const _ev{k} = "
                     f"{self.a(sg.name + '._ev')} + (size_t)_b * {n};")
        if pop.spike_recording_enabled:
            L.append(self.recording_row(pop))
            L.append(f"std::memset(_rec, 0, {(n + 31) // 32} * sizeof(uint32_t));")
        split = two_pass(pop)
        if pop.name in self.pop_rng:
            L.append(self.rng_declaration(self.pop_rng[pop.name], "0"))
        elif split and self.writes_only_own(pop):
            # Pass 1 updates each neuron on its own, as a GPU does in parallel; the compiler
            # cannot prove that gathers from extra global parameters leave the variables
            # alone, so it is told (only without random numbers, whose stream does carry
            # state from one neuron to the next, and only where the code writes nothing
            # that neurons share)
            L.append("#pragma GCC ivdep")
        L.append(f"for (unsigned int id = 0; id < {n}; id++) {{")
        L += self.neuron_dynamics(pop)
        fire = self.threshold(pop, L)
        if split:
            L += self.two_pass_tail(pop, fire, events)
        else:
            L += self.event_conditions(events)
            if fire is not None:
                L.append(f"if {fire} {{")
                L += self.spike_code(pop)
                L.append("}")
        L.append("}")  # neuron loop
        L.append(f"{self.a(pop.name + '._spkCnt')}[_b] = _spkCnt;")
        for k, sg in enumerate(events):
            L.append(f"{self.a(sg.name + '._evCnt')}[_b] = _evCnt{k};")
        L.append("}")
        return "\n".join(L)

    def recording_row(self, pop):
        """``_rec``: this step's and batch instance's row of the population's spike-recording
        bits."""
        return (f"uint32_t* const _rec = {self.a(pop.name + '._recSpk')} + "
                f"((size_t)_rec_slot * {self.B} + _b) * {(pop.num_neurons + 31) // 32};")

    def two_pass_tail(self, pop, fire, events):
        """The end of pass 1 of a two-pass update, which keeps neuron ``id``'s spike and
        event conditions as the bits of its flags, and pass 2. Pass 1 has no loop-carried
        state, so it can vectorise; pass 2 emits the events and spikes in neuron order, as
        the one-pass loop would, visiting only the neurons with a flag set."""
        n, m = pop.num_neurons, pop.model
        spec = self.lay.by_key[pop.name + "._fire"]
        c = ctype(spec.type, self.prec)
        bits = 8 * np.dtype(spec.dtype(self.prec)).itemsize
        flags = f"({self.a(spec.key)} + (size_t)_b * {fire_stride(n)})"
        L = [f"{c} _flag = ({c})({fire} ? 1 : 0);"]
        L += self.event_conditions(
            events, lambda k, cond: f"_flag |= ({c})({cond} ? {2 << k}ull : 0ull);")
        L.append(f"{flags}[id] = _flag;")
        L.append("}")
        # A word of 64 bits holds the flags of 64 / bits neurons (little-endian: the lowest
        # bits are the first neuron's); the padding of a row never has a flag set
        L.append(f"const {c}* const _flags = {flags};")
        L.append(f"for (unsigned int _w = 0; _w < {n}; _w += {64 // bits}) {{")
        L.append("uint64_t _word; std::memcpy(&_word, _flags + _w, 8);")
        L.append("while (_word != 0) {")
        L.append(f"const unsigned int _k = __builtin_ctzll(_word) / {bits};")
        L.append(f"_word &= ~({(1 << bits) - 1}ull << (_k * {bits}));"
                 if bits < 64 else "_word = 0;")
        L.append("const unsigned int id = _w + _k;")
        for k in range(len(events)):
            L.append(f"if (_flags[id] & {2 << k}ull) {{ _ev{k}[_evCnt{k}++] = id; }}")
        L.append("if (_flags[id] & 1u) {")
        L += self.bind(pop, m, pop.params, pop.extra_global_params,
                       used_names(m.reset_code), [(pop.vars, "id")])
        L += self.spike_code(pop)
        L.append("}")
        L.append("}")
        return L

    def threshold(self, pop, L):
        """The expression that says whether neuron ``id`` spikes (None without a
        threshold condition); lines it needs first are appended to ``L``."""
        m = pop.model
        if not m.threshold_condition_code:
            return None
        fire = self.user_expr(m, "threshold_condition_code", m.threshold_condition_code)
        if m.auto_refractory_required:
            # Spike only where the condition turns from false to true
            prev = f"{self.a(pop.name + '._prevThreshold')}[(size_t)_b * {pop.num_neurons} + id]"
            L.append(f"const bool _thr = {fire}; const bool _fire = _thr && !{prev}; "
                     f"{prev} = _thr;")
            fire = "(_fire)"
        return fire

    def neuron_dynamics(self, pop):
        """Neuron ``id``'s inputs (postsynaptic models, addToPre targets, current sources),
        its sim_code and the weight-update models' dynamics code."""
        n, m = pop.num_neurons, pop.model
        L = []
        L.append("scalar _Isyn = 0;")
        for name, type_, init in m.additional_input_vars:
            L.append(f"{ctype(type_, self.prec)} {name} = {literal(init, type_, self.prec)};")

        def target(var, where):
            if var == "Isyn":
                return "_Isyn"
            if var not in [a[0] for a in m.additional_input_vars]:
                raise ValueError(f"{where} targets '{var}', which is neither 'Isyn' nor an "
                                 f"additional input variable of population '{pop.name}' "
                                 f"({', '.join(a[0] for a in m.additional_input_vars) or 'none'})")
            return var

        for sg in pop.in_syn:
            L.append("{")
            L.append(f"scalar& inSyn = {self.a(sg.out_post.key)}[(size_t)_b * {n} + id];")
            L += self.input_code(sg, sg.ps_model, "sim_code", sg.ps_params,
                                 sg.psm_extra_global_params, [sg.psm_vars, sg.psm_var_refs],
                                 target(sg.post_target_var,
                                        f"synapse population '{sg.name}' post_target_var"),
                                 "psm_")
            L.append("}")
        for sg in pop.out_syn:
            if uses_add_to_pre(sg):
                L.append(self.pre_input(sg, target(
                    sg.pre_target_var, f"synapse population '{sg.name}' pre_target_var")))
        for cs in pop.current_sources:
            L.append("{")
            L += self.input_code(cs, cs.model, "injection_code", cs.params,
                                 cs.extra_global_params, [cs.vars, cs.var_refs],
                                 target(cs.target_var, f"current source '{cs.name}' target_var"))
            L.append("}")
        used = (used_names(m.sim_code) | used_names(m.threshold_condition_code)
                | used_names(m.reset_code))
        L.append("const scalar Isyn = _Isyn; (void)Isyn;")
        L += self.bind(pop, m, pop.params, pop.extra_global_params, used, [(pop.vars, "id")])
        if m.sim_code:
            L.append(self.user_code(m, "sim_code", m.sim_code))
        L += self.wu_neuron_codes(pop, "dynamics")
        return L

    def pre_input(self, sg, target):
        """Adds what group ``sg``'s synapses sent back with addToPre to neuron ``id``'s input
        ``target``, and clears it for the next step."""
        out_pre = f"{self.a(sg.name + '._outPre')}[(size_t)_b * {sg.src.num_neurons} + id]"
        return f"{target} += {out_pre}; {out_pre} = 0;"

    def event_conditions(self, events, action=None):
        """Each event group's condition for neuron ``id`` and ``action(k, cond)``, by
        default the event of group k where the condition holds."""
        action = action or self.event_action
        L = []
        for k, sg in enumerate(events):
            wu = sg.wu_model
            L.append("{")
            L += self.wu_neuron_bindings(sg, "pre",
                                         used_names(wu.pre_event_threshold_condition_code))
            cond = self.user_expr(wu, "pre_event_threshold_condition_code",
                                  wu.pre_event_threshold_condition_code)
            L.append(action(k, cond))
            L.append("}")
        return L

    @staticmethod
    def event_action(k, cond):
        """What the spike-like-event condition ``cond`` of outgoing group ``k`` does."""
        return f"if {cond} {{ _ev{k}[_evCnt{k}++] = id; }}"

    def spike_code(self, pop):
        """What happens when neuron ``id`` spikes: the spike, its record, the reset
        and the weight-update models' spike code."""
        m = pop.model
        L = ["_spk[_spkCnt++] = id;"]
        if pop.spike_recording_enabled:
            L.append("_rec[id / 32] |= (1u << (id % 32));")
        if m.reset_code:
            L.append(self.user_code(m, "reset_code", m.reset_code))
        L += self.wu_neuron_codes(pop, "spike")
        return L

    def input_code(self, group, snippet, field, params, egps, tables, target, dyn_prefix=""):
        """A postsynaptic model's or current source's code for neuron ``id``, its
        ``injectCurrent`` adding to ``target``; ``tables``: its variables and references."""
        code = getattr(snippet, field)
        if not code:
            return []
        used = used_names(code)
        L = self.bind(group, snippet, params, egps, used, [(t, "id") for t in tables],
                      dyn_prefix)
        L.append(self.user_code(snippet, field, code,
                                {"injectCurrent": (f"{target} += ({{0}})", 1)}))
        return L

    def wu_neuron_bindings(self, sg, side, used):
        """A weight-update model's per-neuron code ('pre' or 'post' side) for neuron ``id``."""
        vars, refs, pop = ((sg.pre_vars, sg.pre_var_refs, sg.src) if side == "pre"
                           else (sg.post_vars, sg.post_var_refs, sg.trg))
        L = self.bind(sg, sg.wu_model, sg.params, sg.extra_global_params, used,
                      [(vars, "id"), (refs, "id")])
        for name, value in ((f"id_{side}", "id"), (f"num_{side}", str(pop.num_neurons))):
            if name in used:
                L.append(f"const unsigned int {name} = {value};")
        return L

    def wu_neuron_codes(self, pop, kind):
        """The ``pre_<kind>_code`` of the groups leaving ``pop`` and the ``post_<kind>_code``
        of those arriving (kind: 'dynamics' or 'spike')."""
        L = []
        for sg in pop.out_syn:
            L += self.wu_neuron_code(sg, "pre", f"pre_{kind}_code")
        for sg in pop.in_syn:
            L += self.wu_neuron_code(sg, "post", f"post_{kind}_code")
        return L

    def wu_neuron_code(self, sg, side, field):
        code = getattr(sg.wu_model, field)
        if not code:
            return []
        return (["{"] + self.wu_neuron_bindings(sg, side, used_names(code))
                + [self.user_code(sg.wu_model, field, code), "}"])

    # -- synapse update -------------------------------------------------------
    def row_loop(self, sg, body, simd=False, add_to_pre=False):
        """Loop over the synapses of row ``id_pre``. Variables are indexed by the
        size_t ``_syn`` (not the unsigned ``id_syn``), so that the compiler can
        prove the accesses contiguous and vectorise dense rows. A ``simd`` row is one
        vector update, its addToPre a sum in ``_pre`` (``add_to_pre``), added after it."""
        npost = sg.trg.num_neurons
        if sg.matrix_type == SynapseMatrixType.DENSE:
            loop = (f"for (unsigned int id_post = 0; id_post < {npost}; id_post++) {{\n"
                    f"const size_t _syn = _row + id_post;\n"
                    f"const unsigned int id_syn = (unsigned int)_syn; (void)id_syn;\n"
                    f"{body}\n}}")
            row = f"const size_t _row = (size_t)id_pre * {npost};\n"
            if not simd:
                return row + loop
            if not add_to_pre:
                return row + "#pragma omp simd\n" + loop
            return (row + "scalar _pre = 0;\n#pragma omp simd reduction(+:_pre)\n" + loop
                    + "\n_outPre[id_pre] += _pre;")
        stride = self.lay.sparse[sg.name].stride
        return (f"const size_t _row = (size_t)id_pre * {stride};\n"
                f"const unsigned int _rl = {self.a(sg.name + '._rowLength')}[id_pre];\n"
                f"for (unsigned int _j = 0; _j < _rl; _j++) {{\n"
                f"const size_t _syn = _row + _j;\n"
                f"const unsigned int id_syn = (unsigned int)_syn; (void)id_syn;\n"
                f"const unsigned int id_post = {self.a(sg.name + '._ind')}[_syn];\n"
                f"{body}\n}}")

    @staticmethod
    def writes_only(code, names):
        """Whether ``code`` writes nothing but ``names`` and its own locals."""
        return written_names(code) <= set(names) | declared_names(tokenize(code or ""))

    def writes_only_own(self, pop):
        """Whether a neuron's sim_code writes only the neuron's own variables, its inputs
        and its locals."""
        m = pop.model
        return self.writes_only(m.sim_code, {v.name for v in m.vars} | {"Isyn"}
                                | {name for name, *_ in m.additional_input_vars})

    def simd_row(self, sg, code):
        """Whether a dense row's synapses can be updated as one vector: the code writes only
        the synapses' own variables and its locals (and the targets through addToPost,
        the source through addToPre), and draws no random numbers."""
        if sg.matrix_type != SynapseMatrixType.DENSE or used_names(code) & RNG_FUNCTIONS:
            return False
        return self.writes_only(code, {v.name for v in sg.wu_model.vars})

    ADD_TO_POST = "_outPost[id_post] += ({0})"
    ADD_TO_PRE = "_outPre[id_pre] += ({0})"
    ADD_TO_PRE_SUM = "_pre += ({0})"

    def synapse_body(self, sg, field, add_to_post=None, add_to_pre=None, bound=frozenset()):
        """The code ``field`` of group ``sg`` for one synapse, with its names bound (but those
        in ``bound``, which the caller has bound before)."""
        wu = sg.wu_model
        code = getattr(wu, field)
        L = self.bind(sg, wu, sg.params, sg.extra_global_params, used_names(code) - bound,
                      [(sg.vars, "_syn"), (sg.pre_vars, "id_pre"), (sg.post_vars, "id_post"),
                       (sg.pre_var_refs, "id_pre"), (sg.post_var_refs, "id_post")])
        L.append(self.user_code(wu, field, code, {
            "addToPost": (add_to_post or self.ADD_TO_POST, 1),
            "addToPre": (add_to_pre or self.ADD_TO_PRE, 1)}))
        return "\n".join(L)

    def synapse_row(self, sg, field):
        """The update of row ``id_pre``'s synapses by the code ``field``."""
        code = getattr(sg.wu_model, field)
        simd = self.simd_row(sg, code)
        add_to_pre = simd and "addToPre" in used_names(code)
        body = self.synapse_body(sg, field,
                                 add_to_pre=self.ADD_TO_PRE_SUM if add_to_pre else None)
        return self.row_loop(sg, body, simd, add_to_pre)

    def synapse_block(self, sg):
        wu = sg.wu_model
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        L = [f"{{ // synapse population {sg.name}",
             f"const unsigned int num_pre = {npre}, num_post = {npost}; (void)num_pre; (void)num_post;",
             f"scalar* const _outPost = {self.a(sg.out_post.key)} + (size_t)_b * {npost}; (void)_outPost;"]
        if uses_add_to_pre(sg):
            L.append(f"scalar* const _outPre = {self.a(sg.name + '._outPre')} + (size_t)_b * {npre};")
        if sg.name in self.sg_rng:
            L.append(self.rng_declaration(self.sg_rng[sg.name], "0"))
        for field, cnt, lst in (("pre_spike_syn_code", f"{sg.src.name}._spkCnt", f"{sg.src.name}._spk"),
                                ("pre_event_syn_code", f"{sg.name}._evCnt", f"{sg.name}._ev")):
            if getattr(wu, field):
                L.append(f"{{ const uint32_t _n = {self.a(cnt)}[_b];")
                L.append(f"const uint32_t* const _s = {self.a(lst)} + (size_t)_b * {npre};")
                L.append("for (uint32_t _k = 0; _k < _n; _k++) {")
                L.append("const unsigned int id_pre = _s[_k];")
                L.append(self.synapse_row(sg, field))
                L.append("}}")
        if wu.synapse_dynamics_code:
            L.append(f"for (unsigned int id_pre = 0; id_pre < {npre}; id_pre++) {{")
            L.append(self.synapse_row(sg, "synapse_dynamics_code"))
            L.append("}")
        L.append("}")
        return "\n".join(L)

    # -- custom updates -----------------------------------------------------
    REDUCTION_BLOCK = 1024   # neurons per block of a batch reduction
    PARALLEL_MIN = 1 << 15   # element updates for which a custom update wakes all threads

    def parallel_for(self, updates):
        """The pragma that shares the loop of a custom update of ``updates`` element updates
        among the threads: none for a small one, which is done before the other threads
        would be awake (on a loaded machine one may wait a whole time slice for a core)."""
        if updates < self.PARALLEL_MIN:
            return []
        return ["#pragma omp parallel for num_threads(_nthreads) schedule(static)"]

    def custom_update_block(self, cu):
        m = cu.model
        used = used_names(m.update_code)
        nb = self.B if cu.batched else 1
        L = [f"{{ // custom update {cu.name}", f"const unsigned int _nb = {nb}; (void)_nb;"]
        reduce_lines, combine = [], []
        init_targets = []
        element = "_syn" if cu.is_wu else "id"
        targets = [(v.name, v, v.access.name.endswith("MAX"))
                   for v in cu.vars.values() if v.access.name.startswith("REDUCE")]
        targets += [(name, t, decl.access == VarAccessMode.REDUCE_MAX)
                    for name, (decl, t) in cu.var_refs.items()
                    if decl.access in (VarAccessMode.REDUCE_SUM, VarAccessMode.REDUCE_MAX)]
        reduce_names = {name for name, *_ in targets}
        for name, array, is_max in targets:
            c = ctype(array.type, self.prec)
            ident = f"-std::numeric_limits<{c}>::max()" if is_max else f"({c})0"
            size = self.lay.by_key[array.key].size
            init_targets.append(f"std::fill({self.a(array.key)}, {self.a(array.key)} + {size}, {ident});")
            reduce_lines.append(f"{c} {name} = {ident};")
            tgt = f"{self.a(array.key)}[{self.index(array.dims, self.storage(array), element)}]"
            combine.append(f"{tgt} = std::max({tgt}, {name});" if is_max else f"{tgt} += {name};")
        # Reduction targets are locals combined into their arrays after the code
        body_bind = self.bind(cu, m, cu.params, cu.extra_global_params | cu.egp_refs,
                              used - reduce_names, [(cu.vars, element), (cu.var_refs, element)])
        code = self.user_code(m, "update_code", m.update_code) if m.update_code else ""
        body = "\n".join(["{", "const unsigned int batch = _b; (void)batch;"] + body_bind
                         + reduce_lines + [code] + combine + ["}"])
        L += init_targets
        if cu.is_wu:
            sg = cu.synapse_group
            L.append(f"const unsigned int num_pre = {sg.src.num_neurons}, num_post = "
                     f"{sg.trg.num_neurons}; (void)num_pre; (void)num_post;")
            # Each row runs batch instance by batch instance, so that the inner loop walks
            # contiguous synapses (vectorisable) and every synapse still sees the batch
            # instances in order, as a batch loop inside the synapse loop would
            L += self.parallel_for(nb * synapse_storage(sg, self.lay.sparse))
            L.append(f"for (int _i = 0; _i < {sg.src.num_neurons}; _i++) {{")
            L.append("const unsigned int id_pre = _i;")
            L.append("for (unsigned int _b = 0; _b < _nb; _b++) {")
            L.append(self.row_loop(sg, body))
            L.append("}}")
        else:
            n = cu.num_elements
            L.append(f"const unsigned int num_neurons = {n}; (void)num_neurons;")
            if cu.reductions == BATCH:
                # Blocks of neurons, batch instance by batch instance, as for synapses
                block = self.REDUCTION_BLOCK
                L += self.parallel_for(nb * n)
                L.append(f"for (int _i = 0; _i < {n}; _i += {block}) {{")
                L.append(f"const unsigned int _end = std::min(_i + {block}, {n});")
                L.append("for (unsigned int _b = 0; _b < _nb; _b++) {")
                L.append(f"for (unsigned int id = _i; id < _end; id++) {body}")
                L.append("}}")
            else:
                L += self.parallel_for(nb * n)
                L.append("for (int _bi = 0; _bi < (int)_nb; _bi++) { const unsigned int _b = _bi;")
                L.append(f"for (unsigned int id = 0; id < {n}; id++) {body}")
                L.append("}")
        L.append("}")
        return "\n".join(L)

    # -- variable initialisation -------------------------------------------------
    def init_block(self, var, stream):
        init = var.init
        snip = init.snippet
        used = used_names(snip.var_init_code)
        c = ctype(var.type, self.prec)
        nb = self.B if BATCH in var.dims else 1
        L = ["{", f"_Rng _rng(_rngState + 4 * (size_t){stream});"]
        L += self.bind_params(snip, init.params, used)
        code = self.user_code(snip, "var_init_code", snip.var_init_code)
        if isinstance(var, SynapseVariable):
            sg = var.group.synapse_group
            inner = (f"{{ const unsigned int batch = _b; (void)batch; {c} value; {code}"
                     f"{self.a(var.key)}[{self.index(var.dims, self.storage(var), '_syn')}]"
                     " = value; }")
            L.append(f"const unsigned int num_pre = {sg.src.num_neurons}, num_post = "
                     f"{sg.trg.num_neurons}; (void)num_pre; (void)num_post;")
            L.append(f"for (unsigned int _b = 0; _b < {nb}; _b++)")
            L.append(f"for (unsigned int id_pre = 0; id_pre < {sg.src.num_neurons}; id_pre++) {{")
            L.append(self.row_loop(sg, inner))
            L.append("}")
        else:
            n = var.num_elements if ELEMENT in var.dims else 1
            L.append(f"const unsigned int num_neurons = {var.num_elements or 1}; (void)num_neurons;")
            L.append(f"for (unsigned int _b = 0; _b < {nb}; _b++)")
            L.append(f"for (unsigned int id = 0; id < {n}; id++) {{ const unsigned int batch = _b; "
                     f"(void)batch; {c} value; {code}"
                     f"{self.a(var.key)}[{self.index(var.dims, self.storage(var), 'id')}] = value; }}")
        L.append("}")
        return "\n".join(L)

    # -- the whole file -------------------------------------------------------
    def _assign_rng(self):
        def uses_rng(*codes):
            return any(used_names(c) & RNG_FUNCTIONS for c in codes)
        for pop in self.m.neuron_populations.values():
            codes = [pop.model.sim_code, pop.model.threshold_condition_code, pop.model.reset_code]
            codes += [sg.ps_model.sim_code for sg in pop.in_syn]
            codes += [cs.model.injection_code for cs in pop.current_sources]
            codes += [getattr(sg.wu_model, f) for sg in pop.out_syn
                      for f in ("pre_dynamics_code", "pre_spike_code", "pre_event_threshold_condition_code")]
            codes += [getattr(sg.wu_model, f) for sg in pop.in_syn
                      for f in ("post_dynamics_code", "post_spike_code")]
            if uses_rng(*codes):
                self.pop_rng[pop.name] = self.lay.rng(self.B)
        for sg in self.m.synapse_populations.values():
            wu = sg.wu_model
            if uses_rng(wu.pre_spike_syn_code, wu.pre_event_syn_code, wu.synapse_dynamics_code):
                self.sg_rng[sg.name] = self.lay.rng(self.B)

    def generate(self):
        m = self.m
        self._assign_rng()
        time_c = "float" if m.time_precision == "float" else "double"
        head = [
            "#include <cmath>", "#include <cstdint>", "#include <cstring>", "#include <cstddef>",
            "#include <algorithm>", "#include <limits>", "#include <cstdio>",
            "using namespace std;",
            "static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "
            "\"the spike scan reads the flags of 8 bytes as one little-endian word\");",
            f"typedef {'float' if self.prec == 'float' else 'double'} scalar;",
            f"typedef {time_c} timepoint;",
            FTZ_CODE, RNG_CODE,
        ]
        prologue = self.time_names() + "const unsigned int batch = _b; (void)batch;\n"
        body = [self.synapse_block(sg) for sg in m.synapse_populations.values()]
        body += [self.neuron_block(pop) for pop in m.neuron_populations.values()]
        funcs = [self.function(
            "static inline void _step(void** _p, uint64_t* _rngState, const unsigned int _b, "
            "const uint64_t _ts, const uint32_t _rec_slot)",
            "(void)_rngState; (void)_rec_slot;\n" + prologue + "\n".join(body))]
        funcs.append(
            "extern \"C\" void run(void** _p, uint64_t* _rngState, uint64_t _ts0, uint64_t _n, "
            "uint32_t _num_rec, int _nthreads) {\n"
            # Each thread takes a contiguous share of the batch instances: the rows of
            # neighbouring instances can share a cache line, which would bounce between
            # cores if neighbours ran on different threads at once
            "#pragma omp parallel for num_threads(_nthreads) schedule(static)\n"
            f"    for (int _bi = 0; _bi < {self.B}; _bi++) {{\n"
            "        _flush_denormals();\n"
            "        for (uint64_t _ts = _ts0; _ts < _ts0 + _n; _ts++) {\n"
            "            _step(_p, _rngState, (unsigned int)_bi, _ts, _num_rec ? (uint32_t)(_ts % _num_rec) : 0);\n"
            "        }\n    }\n}\n")
        funcs += self.custom_update_functions(
            'extern "C" void custom_update_{name}(void** _p, uint64_t _ts, int _nthreads)',
            "(void)_nthreads;\n")
        inits = list(self.init_vars())
        base = self.lay.rng(len(inits))
        funcs.append(self.function(
            "extern \"C\" void initialize(void** _p, uint64_t* _rngState)",
            "(void)_rngState;\n" + self.time_names(with_t=False)
            + "\n".join(self.init_block(var, base + k) for k, var in enumerate(inits))))
        return self._resolve_lines("\n".join(head + funcs))

    def custom_update_functions(self, signature, preamble=""):
        """One function per custom-update group (``signature`` formatted with its name)."""
        groups = {}
        for cu in self.m.custom_updates.values():
            groups.setdefault(cu.group_name, []).append(cu)
        return [self.function(signature.format(name=name), preamble + self.time_names()
                              + "\n".join(self.custom_update_block(cu) for cu in cus))
                for name, cus in groups.items()]

    def time_names(self, with_t=True):
        """``t`` (from the argument ``_ts``), ``dt`` and ``num_batch`` for code strings."""
        dt = literal(self.m.dt, "double", self.prec)
        t = f"const timepoint t = (timepoint)_ts * (timepoint){dt}; (void)t;\n" if with_t else ""
        return (t + f"const scalar dt = (scalar){dt}; (void)dt;\n"
                f"const unsigned int num_batch = {self.B}; (void)num_batch;\n")

    def init_vars(self):
        m = self.m
        groups = (list(m.neuron_populations.values()) + list(m.synapse_populations.values())
                  + list(m.current_sources.values()) + list(m.custom_updates.values()))
        for g in groups:
            for table in ("vars", "pre_vars", "post_vars", "psm_vars"):
                for v in getattr(g, table, {}).values():
                    if isinstance(v.init, VarInit):
                        yield v

    @staticmethod
    def _resolve_lines(source):
        """Point the compiler back at the generated file after each user code string."""
        out = []
        for line in source.split("\n"):
            if line == "//@@GENERATED":
                out.append(f'#line {len(out) + 2} "generated.cc"')
            else:
                out.append(line)
        return "\n".join(out) + "\n"
