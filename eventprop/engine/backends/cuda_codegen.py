"""Generate CUDA C++ for a model, from the same code strings as the C++ of the cpu backend.

``run_steps`` is one kernel launch for any number of steps: thread block b runs batch
instance b through the whole time loop (batch instances never interact within a step), with
``__syncthreads()`` between the synapse and the neuron phase of each step. Spikes and
spike-like events are compacted into lists in neuron order, so synapses see them in the
order the cpu backend does. A dense synapse group gives each thread whole postsynaptic
neurons (no atomics, sums in the cpu order); sparse groups and ``addToPre`` add atomically.
Custom updates are kernels of their own; variable initialisation runs on the host.
"""
from ..code import used_names
from ..model import BATCH, SynapseMatrixType
from .cpu_codegen import Generator
from .layout import ctype, event_groups, uses_add_to_pre

HEADER = r"""
#ifdef __CUDACC_RTC__
typedef unsigned char uint8_t;
typedef signed char int8_t;
typedef unsigned short uint16_t;
typedef short int16_t;
typedef unsigned int uint32_t;
typedef int int32_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;
#else
#include <cstdint>
#endif
typedef unsigned long long size_t_;
#define size_t size_t_
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
#ifndef NAN
#define NAN __int_as_float(0x7fffffff)
#endif

// Counter-based random numbers: splitmix64 over (seed, stream, batch, element, step, draw)
struct _Rng {
    uint64_t x;
    __device__ static uint64_t mix(uint64_t z) {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    __device__ _Rng(uint64_t seed, uint64_t stream, uint64_t b, uint64_t element, uint64_t ts)
        : x(mix(mix(mix(mix(seed + stream) + b) + element) + ts)) {}
    __device__ uint64_t next() { x += 0x9E3779B97F4A7C15ull; return mix(x); }
    __device__ uint32_t next_u32() { return (uint32_t)(next() >> 32); }
    __device__ double uniform_d() { return (double)(next() >> 11) * 0x1.0p-53; }
    __device__ scalar uniform() { return (scalar)uniform_d(); }
    __device__ scalar normal() {
        const double u1 = 1.0 - uniform_d();
        const double u2 = uniform_d();
        return (scalar)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
    __device__ scalar exponential() { return (scalar)(-log(1.0 - uniform_d())); }
};

// Appends the ids whose flag is set to a list, in id order (one warp)
__device__ void _compact(const uint8_t* flags, unsigned int n, uint32_t* list, uint32_t* count) {
    const unsigned int lane = threadIdx.x % 32;
    uint32_t total = 0;
    for (unsigned int base = 0; base < n; base += 32) {
        const unsigned int id = base + lane;
        const bool set = id < n && flags[id];
        const unsigned int mask = __ballot_sync(0xffffffffu, set);
        if (set) {
            list[total + __popc(mask & ((1u << lane) - 1u))] = id;
        }
        total += __popc(mask);
    }
    if (lane == 0) {
        *count = total;
    }
}
"""

BLOCK_SIZE = 512
SHARED_FLAG_BYTES = 32768


class CudaGenerator(Generator):
    ADD_TO_PRE = "atomicAdd(&_outPre[id_pre], ({0}))"
    ATOMIC_ADD_TO_POST = "atomicAdd(&_outPost[id_post], ({0}))"

    def __init__(self, model, layout):
        super().__init__(model, layout)
        # The flags from which each step's spike and event lists are compacted: one array
        # per list, in shared memory where they all fit, else in global memory
        self.flag_lists = []
        for pop in model.neuron_populations.values():
            self.flag_lists.append((f"{pop.name}._spk", f"{pop.name}._spkCnt", pop.num_neurons))
            for sg in pop.out_syn:
                if sg.wu_model.pre_event_syn_code:
                    self.flag_lists.append((f"{sg.name}._ev", f"{sg.name}._evCnt",
                                            pop.num_neurons))
        self.flag_offsets, total = {}, 0
        for key, _, n in self.flag_lists:
            self.flag_offsets[key] = total
            total += n
        self.shared_flags = total <= SHARED_FLAG_BYTES
        self.flag_bytes = total
        if not self.shared_flags:
            for key, _, n in self.flag_lists:
                if key + "Flag" not in layout.by_key:
                    layout.add(key + "Flag", "uint8_t", model.batch_size * n)

    def flags(self, key):
        """Pointer to the flags of list ``key`` (a population's spikes or a group's events)
        for this batch instance."""
        if self.shared_flags:
            return f"(_flags + {self.flag_offsets[key]})"
        n = next(n for k, _, n in self.flag_lists if k == key)
        return f"({self.a(key + 'Flag')} + (size_t)_b * {n})"

    def rng_declaration(self, stream, element):
        return f"_Rng _rng(_seed, {stream}, _b, {element}, _ts);"

    # -- neuron update --------------------------------------------------------
    def neuron_block(self, pop):
        n, m = pop.num_neurons, pop.model
        events = event_groups(pop)
        L = [f"{{ // neuron population {pop.name}",
             f"const unsigned int num_neurons = {n}; (void)num_neurons;",
             f"uint8_t* const _spkFlag = {self.flags(pop.name + '._spk')};"]
        for k, sg in enumerate(events):
            L.append(f"uint8_t* const _evFlag{k} = {self.flags(sg.name + '._ev')};")
        if pop.spike_recording_enabled:
            L.append(self.recording_row(pop))
        L.append(f"for (unsigned int id = threadIdx.x; id < {n}; id += blockDim.x) {{")
        if pop.name in self.pop_rng:
            L.append(self.rng_declaration(self.pop_rng[pop.name], "id"))
        L += self.neuron_dynamics(pop)
        fire = self.threshold(pop, L)
        L += self.event_conditions(events)
        if fire is None:
            L.append("_spkFlag[id] = 0;")
        else:
            L.append(f"const bool _spiked = {fire};")
            L.append("_spkFlag[id] = _spiked;")
            L.append("if (_spiked) {")
            if pop.spike_recording_enabled:
                L.append("atomicOr(&_rec[id / 32], 1u << (id % 32));")
            if m.reset_code:
                L.append(self.user_code(m, "reset_code", m.reset_code))
            L += self.wu_neuron_codes(pop, "spike")
            L.append("}")
        L.append("}")  # neuron loop
        L.append("}")
        return "\n".join(L)

    @staticmethod
    def event_action(k, cond):
        return f"_evFlag{k}[id] = {cond};"

    def compaction(self):
        """Spike and event lists from the flags, one list per warp."""
        L = []
        for k, (key, cnt, n) in enumerate(self.flag_lists):
            L.append(f"if (threadIdx.x / 32 == {k} % (blockDim.x / 32)) "
                     f"_compact({self.flags(key)}, {n}, {self.a(key)} + (size_t)_b * {n}, "
                     f"{self.a(cnt)} + _b);")
        return L

    def recording_reset(self):
        """Clear this step's row of each spike-recording buffer (then a barrier, as the
        neurons set its bits atomically)."""
        L = []
        for pop in self.m.neuron_populations.values():
            if pop.spike_recording_enabled:
                words = (pop.num_neurons + 31) // 32
                L.append(f"for (unsigned int _w = threadIdx.x; _w < {words}; _w += blockDim.x) "
                         f"{self.a(pop.name + '._recSpk')}[((size_t)_rec_slot * {self.B} + _b) "
                         f"* {words} + _w] = 0;")
        return L + ["__syncthreads();"] if L else []

    # -- synapse update -------------------------------------------------------
    def synapse_block(self, sg):
        wu = sg.wu_model
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        dense = sg.matrix_type == SynapseMatrixType.DENSE
        L = [f"{{ // synapse population {sg.name}",
             f"const unsigned int num_pre = {npre}, num_post = {npost}; (void)num_pre; (void)num_post;",
             f"scalar* const _outPost = {self.a(sg.out_post.key)} + (size_t)_b * {npost}; (void)_outPost;"]
        if uses_add_to_pre(sg):
            L.append(f"scalar* const _outPre = {self.a(sg.name + '._outPre')} + (size_t)_b * {npre};")
        # A thread owns whole postsynaptic neurons of a dense group: plain adds, cpu order
        add_to_post = self.ADD_TO_POST if dense else self.ATOMIC_ADD_TO_POST
        for kind, (field, cnt, lst) in enumerate((
                ("pre_spike_syn_code", f"{sg.src.name}._spkCnt", f"{sg.src.name}._spk"),
                ("pre_event_syn_code", f"{sg.name}._evCnt", f"{sg.name}._ev"))):
            if not getattr(wu, field):
                continue
            L.append(f"{{ const uint32_t _n = {self.a(cnt)}[_b];")
            L.append(f"const uint32_t* const _s = {self.a(lst)} + (size_t)_b * {npre};")
            body = self.synapse_body(sg, field, add_to_post)
            # Spike and event code of one synapse in one step draw from different streams
            rng = (self.rng_declaration(self.sg_rng[sg.name], f"_syn * 3 + {kind}")
                   if sg.name in self.sg_rng else "")
            if dense:
                L.append(f"for (unsigned int id_post = threadIdx.x; id_post < {npost}; "
                         "id_post += blockDim.x) {")
                L.append("for (uint32_t _k = 0; _k < _n; _k++) {")
                L.append("const unsigned int id_pre = _s[_k];")
                L.append(f"const size_t _syn = (size_t)id_pre * {npost} + id_post;")
                L.append("const unsigned int id_syn = (unsigned int)_syn; (void)id_syn;")
            else:
                stride = self.lay.sparse[sg.name].stride
                L.append(f"for (unsigned int _j = threadIdx.x; _j < {stride}; _j += blockDim.x) {{")
                L.append("for (uint32_t _k = 0; _k < _n; _k++) {")
                L.append("const unsigned int id_pre = _s[_k];")
                L.append(f"if (_j >= {self.a(sg.name + '._rowLength')}[id_pre]) continue;")
                L.append(f"const size_t _syn = (size_t)id_pre * {stride} + _j;")
                L.append("const unsigned int id_syn = (unsigned int)_syn; (void)id_syn;")
                L.append(f"const unsigned int id_post = {self.a(sg.name + '._ind')}[_syn];")
            L.append(rng)
            L.append(body)
            L.append("}}}")
        if wu.synapse_dynamics_code:
            body = self.synapse_body(sg, "synapse_dynamics_code", add_to_post)
            rng = (self.rng_declaration(self.sg_rng[sg.name], "_syn * 3 + 2")
                   if sg.name in self.sg_rng else "")
            if dense:
                L.append(f"for (unsigned int id_post = threadIdx.x; id_post < {npost}; "
                         "id_post += blockDim.x) {")
                L.append(f"for (unsigned int id_pre = 0; id_pre < {npre}; id_pre++) {{")
                L.append(f"const size_t _syn = (size_t)id_pre * {npost} + id_post;")
            else:
                stride = self.lay.sparse[sg.name].stride
                L.append(f"for (unsigned int _i = threadIdx.x; _i < {npre * stride}; "
                         "_i += blockDim.x) {")
                L.append(f"{{ const unsigned int id_pre = _i / {stride}, _j = _i % {stride};")
                L.append(f"if (_j >= {self.a(sg.name + '._rowLength')}[id_pre]) continue;")
                L.append("const size_t _syn = _i;")
                L.append(f"const unsigned int id_post = {self.a(sg.name + '._ind')}[_syn];")
            L.append("const unsigned int id_syn = (unsigned int)_syn; (void)id_syn;")
            L.append(rng)
            L.append(body)
            L.append("}}")
        L.append("}")
        return "\n".join(L)

    # -- custom updates -----------------------------------------------------
    def custom_update_block(self, cu):
        """Grid-stride over the elements (or synapses); a batch reduction loops over the
        batch inside one thread, a neuron reduction over the neurons inside one thread per
        batch instance, both in the cpu backend's order."""
        m = cu.model
        used = used_names(m.update_code)
        nb = self.B if cu.batched else 1
        element = "_syn" if cu.is_wu else "id"
        targets = [(v.name, v, v.access.name.endswith("MAX"))
                   for v in cu.vars.values() if v.access.name.startswith("REDUCE")]
        targets += [(name, t, decl.access.name == "REDUCE_MAX")
                    for name, (decl, t) in cu.var_refs.items()
                    if decl.access.name in ("REDUCE_SUM", "REDUCE_MAX")]
        reduce_names = {name for name, *_ in targets}
        first, local, combine = [], [], []
        for name, array, is_max in targets:
            c = ctype(array.type, self.prec)
            ident = f"-({c})3.4028234663852886e38" if is_max and c == "float" else \
                f"-({c})1.7976931348623157e308" if is_max else f"({c})0"
            tgt = f"{self.a(array.key)}[{self.index(array.dims, self.storage(array), element)}]"
            first.append(f"{tgt} = {ident};")
            local.append(f"{c} {name} = {ident};")
            combine.append(f"{tgt} = max({tgt}, {name});" if is_max else f"{tgt} += {name};")
        body_bind = self.bind(cu, m, cu.params, cu.extra_global_params | cu.egp_refs,
                              used - reduce_names, [(cu.vars, element), (cu.var_refs, element)])
        code = self.user_code(m, "update_code", m.update_code) if m.update_code else ""
        body = "\n".join(["{", "const unsigned int batch = _b; (void)batch;"] + body_bind
                         + local + [code] + combine + ["}"])
        L = [f"{{ // custom update {cu.name}", f"const unsigned int _nb = {nb}; (void)_nb;",
             "const size_t _thread = (size_t)blockIdx.x * blockDim.x + threadIdx.x;",
             "const size_t _threads = (size_t)gridDim.x * blockDim.x;"]
        if cu.is_wu:
            sg = cu.synapse_group
            npre, npost = sg.src.num_neurons, sg.trg.num_neurons
            stride = npost if sg.matrix_type == SynapseMatrixType.DENSE else \
                self.lay.sparse[sg.name].stride
            L.append(f"const unsigned int num_pre = {npre}, num_post = {npost}; "
                     "(void)num_pre; (void)num_post;")
            L.append(f"for (size_t _syn = _thread; _syn < {npre * stride}; _syn += _threads) {{")
            L.append(f"const unsigned int id_pre = _syn / {stride};")
            if sg.matrix_type == SynapseMatrixType.DENSE:
                L.append(f"const unsigned int id_post = _syn % {npost};")
            else:
                L.append(f"if (_syn % {stride} >= {self.a(sg.name + '._rowLength')}[id_pre]) "
                         "continue;")
                L.append(f"const unsigned int id_post = {self.a(sg.name + '._ind')}[_syn];")
            L.append("const unsigned int id_syn = (unsigned int)_syn; (void)id_syn; (void)id_post;")
            L += ["{ const unsigned int _b = 0; (void)_b;"] + first + ["}"] if first else []
            L.append(f"for (unsigned int _b = 0; _b < _nb; _b++) {body}")
            L.append("}")
        else:
            n = cu.num_elements
            L.append(f"const unsigned int num_neurons = {n}; (void)num_neurons;")
            if cu.reductions == BATCH:
                L.append(f"for (size_t _i = _thread; _i < {n}; _i += _threads) {{")
                L.append("const unsigned int id = _i;")
                L += ["{ const unsigned int _b = 0; (void)_b;"] + first + ["}"]
                L.append(f"for (unsigned int _b = 0; _b < _nb; _b++) {body}")
                L.append("}")
            elif cu.reductions is not None:
                L.append("for (size_t _bi = _thread; _bi < _nb; _bi += _threads) {")
                L.append("const unsigned int _b = _bi;")
                L += ["{ const unsigned int id = 0; (void)id;"] + first + ["}"]
                L.append(f"for (unsigned int id = 0; id < {n}; id++) {body}")
                L.append("}")
            else:
                L.append(f"for (size_t _i = _thread; _i < (size_t)_nb * {n}; _i += _threads) {{")
                L.append(f"const unsigned int _b = _i / {n}, id = _i % {n};")
                L.append(body)
                L.append("}")
        L.append("}")
        return "\n".join(L)

    # -- the whole file -------------------------------------------------------
    def generate(self):
        m = self.m
        self._assign_rng()
        time_c = "float" if m.time_precision == "float" else "double"
        head = [f"typedef {'float' if self.prec == 'float' else 'double'} scalar;",
                f"typedef {time_c} timepoint;", HEADER]
        synapses = [self.synapse_block(sg) for sg in m.synapse_populations.values()]
        neurons = [self.neuron_block(pop) for pop in m.neuron_populations.values()]
        prologue = self.time_names() + "const unsigned int batch = _b; (void)batch;\n"
        step = "\n".join(
            ["(void)_seed; (void)_rec_slot;", prologue] + synapses + ["__syncthreads();"]
            + self.recording_reset() + neurons + ["__syncthreads();"]
            + self.compaction() + ["__syncthreads();"])
        if self.shared_flags:
            step = f"__shared__ uint8_t _flags[{max(1, self.flag_bytes)}];\n" + step
        funcs = [self.function(
            "__device__ void _step(void** _p, const uint64_t _seed, const unsigned int _b, "
            "const uint64_t _ts, const uint32_t _rec_slot)", step)]
        funcs.append(
            'extern "C" __global__ void run_steps(void** _p, uint64_t _seed, uint64_t _ts0, '
            "uint64_t _n, uint32_t _num_rec) {\n"
            "    for (uint64_t _ts = _ts0; _ts < _ts0 + _n; _ts++) {\n"
            "        _step(_p, _seed, blockIdx.x, _ts, _num_rec ? (uint32_t)(_ts % _num_rec) : 0);\n"
            "    }\n}\n")
        funcs += self.custom_update_functions(
            'extern "C" __global__ void custom_update_{name}(void** _p, uint64_t _ts)')
        return self._resolve_lines("\n".join(head + funcs))
