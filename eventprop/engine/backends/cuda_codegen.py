"""Generate CUDA C++ for a model, from the same code strings as the C++ of the cpu backend.

``run_steps`` is one kernel launch for any number of steps: thread block b runs batch
instance b through the whole time loop (batch instances never interact within a step), with
``__syncthreads()`` between the synapse and the neuron phase of each step. Each warp of a
population's update keeps its neurons' spike (and spike-like event) conditions as the bits of
one word (a ballot); one warp per list turns the words into the list of ids, in neuron order,
so synapses see spikes in the order the cpu backend does. The lists, their flag words and the
table of array pointers sit in shared memory where they fit, so that a synapse group waits
for device memory once per step (its weights), not three times. Synapse groups start on
different threads (as GeNN runs them side by side). A dense group gives each thread whole
postsynaptic neurons, whose input it sums in a register (no atomics, sums in the cpu order);
sparse groups add atomically.
``addToPre`` keeps one sum per warp (the lanes of a row summing in a fixed order), which the
presynaptic neuron adds up in warp order, so these sums come out the same on every run.
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

// Counter-based random numbers: splitmix64 over (seed, stream, batch, element, the number of
// steps run before this one since the model was loaded, draw)
struct _Rng {
    uint64_t x;
    __device__ static uint64_t mix(uint64_t z) {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    __device__ _Rng(uint64_t seed, uint64_t stream, uint64_t b, uint64_t element, uint64_t step)
        : x(mix(mix(mix(mix(seed + stream) + b) + element) + step)) {}
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

// Appends the ids whose bit is set in ``words`` (bit i of word w: id 32 w + i) to ``list``,
// and to ``copy``, in id order, and sets the counts (one warp)
__device__ void _compact(const uint32_t* words, unsigned int n, uint32_t* list, uint32_t* count,
                         uint32_t* copy, uint32_t* copy_count) {
    const unsigned int lane = threadIdx.x % 32;
    const unsigned int num_words = (n + 31) / 32;
    uint32_t total = 0;
    for (unsigned int base = 0; base < num_words; base += 32) {
        const unsigned int w = base + lane;
        uint32_t bits = w < num_words ? words[w] : 0u;
        const uint32_t own = __popc(bits);
        uint32_t upto = own;   // the ids in the words up to this lane's
        for (unsigned int d = 1; d < 32; d *= 2) {
            const uint32_t below = __shfl_up_sync(0xffffffffu, upto, d);
            if (lane >= d) {
                upto += below;
            }
        }
        for (uint32_t k = total + upto - own; bits; bits &= bits - 1, k++) {
            const uint32_t id = w * 32 + __ffs(bits) - 1;
            list[k] = id;
            copy[k] = id;
        }
        total += __shfl_sync(0xffffffffu, upto, 31);
    }
    if (lane == 0) {
        *count = total;
        *copy_count = total;
    }
}

// addToPre into this warp's sum for a presynaptic neuron: the lanes that add to one address
// (threads of one row) sum in a fixed order, and the first of them adds the total
__device__ void _add_to_pre(scalar* address, scalar value) {
    const unsigned int lanes = __activemask();
    const unsigned int peers = __match_any_sync(lanes, (unsigned long long)address);
    const unsigned int lane = threadIdx.x % 32, first = __ffs(peers) - 1;
    const unsigned int run = peers >> first;
    if (peers == lanes && (run & (run + 1)) == 0) {
        // lanes in a row: a tree, each lane taking the partial sum of the lane d above it
        for (unsigned int d = 16; d > 0; d /= 2) {
            const scalar above = __shfl_down_sync(lanes, value, d);
            if (lane + d < 32 && (lanes >> (lane + d) & 1u)) {
                value += above;
            }
        }
    }
    else {
        scalar sum = 0;
        for (unsigned int l = 0; l < 32; l++) {
            if (lanes >> l & 1u) {
                const scalar v = __shfl_sync(lanes, value, l);
                sum += (peers >> l & 1u) ? v : (scalar)0;
            }
        }
        value = sum;
    }
    if (lane == first) {
        atomicAdd(address, value);
    }
}
"""

BLOCK_SIZE = 512           # threads of every block of run_steps (the kernel is built for it)
WARPS = BLOCK_SIZE // 32
# Shared memory per block for the spike lists, their flag words and the array pointers; a
# model that needs more keeps them in device memory
SHARED_BYTES = 40960


class CudaGenerator(Generator):
    ADD_TO_PRE = "_add_to_pre(&_outPre[id_pre], ({0}))"
    ATOMIC_ADD_TO_POST = "atomicAdd(&_outPost[id_post], ({0}))"
    ADD_TO_POST_SUM = "_inPost += ({0})"

    def __init__(self, model, layout):
        super().__init__(model, layout)
        # The id lists of each step's spikes and spike-like events: (list key, count key,
        # neurons), each made from flag words
        self.lists = []
        for pop in model.neuron_populations.values():
            self.lists.append((f"{pop.name}._spk", f"{pop.name}._spkCnt", pop.num_neurons))
            for sg in pop.out_syn:
                if sg.wu_model.pre_event_syn_code:
                    self.lists.append((f"{sg.name}._ev", f"{sg.name}._evCnt", pop.num_neurons))
        # addToPre: one sum per warp, so that their order is fixed (see pre_input)
        for sg in model.synapse_populations.values():
            if uses_add_to_pre(sg) and sg.name + "._outPreWarps" not in layout.by_key:
                layout.add(sg.name + "._outPreWarps", "scalar",
                           model.batch_size * WARPS * sg.src.num_neurons)
        self.list_index = {key: k for k, (key, _, _) in enumerate(self.lists)}
        self.word_offsets, self.id_offsets = [], []
        words = ids = 0
        for _, _, n in self.lists:
            self.word_offsets.append(words)
            self.id_offsets.append(ids)
            words += (n + 31) // 32
            ids += n
        self.num_words, self.num_ids = words, ids
        shared = 4 * (words + ids + len(self.lists)) + 8 * len(layout.arrays)
        self.shared = shared <= SHARED_BYTES
        # Each synapse group starts on the thread after the last one's, so that groups run
        # side by side where the block has threads enough
        self.first_thread, first = {}, 0
        for sg in model.synapse_populations.values():
            self.first_thread[sg.name] = first % BLOCK_SIZE
            first += self.row_threads(sg)
        if not self.shared:
            for key, _, n in self.lists:
                if key + "Flag" not in layout.by_key:
                    layout.add(key + "Flag", "uint32_t", model.batch_size * ((n + 31) // 32))

    def flags(self, key):
        """Pointer to the flag words of list ``key`` (a population's spikes or a group's
        events) for this batch instance."""
        k = self.list_index[key]
        if self.shared:
            return f"(_flags + {self.word_offsets[k]})"
        n = self.lists[k][2]
        return f"({self.a(key + 'Flag')} + (size_t)_b * {(n + 31) // 32})"

    def id_list(self, key):
        """Pointer to list ``key`` of the step before (for the synapses) and its count."""
        k = self.list_index[key]
        if self.shared:
            return f"(_ids + {self.id_offsets[k]})", f"_counts[{k}]"
        return self.device_list(k)

    def device_list(self, k):
        """Pointer to list ``k`` of this batch instance in device memory, and its count: the
        state that the next run and the host read."""
        key, cnt, n = self.lists[k]
        return f"({self.a(key)} + (size_t)_b * {n})", f"{self.a(cnt)}[_b]"

    def rng_declaration(self, stream, element):
        return f"_Rng _rng(_seed, {stream}, _b, {element}, _steps_run);"

    # -- neuron update --------------------------------------------------------
    def neuron_block(self, pop):
        n, m = pop.num_neurons, pop.model
        events = event_groups(pop)
        L = [f"{{ // neuron population {pop.name}",
             f"const unsigned int num_neurons = {n}; (void)num_neurons;",
             f"uint32_t* const _spkFlag = {self.flags(pop.name + '._spk')};"]
        for k, sg in enumerate(events):
            L.append(f"uint32_t* const _evFlag{k} = {self.flags(sg.name + '._ev')};")
        if pop.spike_recording_enabled:
            L.append(self.recording_row(pop))
        L.append(f"for (unsigned int id = threadIdx.x; id < {n}; id += blockDim.x) {{")
        # the lanes of this warp that hold a neuron (a warp's ids are 32 in a row)
        L.append(f"const unsigned int _left = {n} - (id - threadIdx.x % 32);")
        L.append("const unsigned int _lanes = _left >= 32 ? 0xffffffffu : (1u << _left) - 1u;")
        if pop.name in self.pop_rng:
            L.append(self.rng_declaration(self.pop_rng[pop.name], "id"))
        L += self.neuron_dynamics(pop)
        fire = self.threshold(pop, L)
        L += self.event_conditions(events)
        L.append(f"const bool _spiked = {'false' if fire is None else fire};")
        L.append("{ const uint32_t _word = __ballot_sync(_lanes, _spiked);")
        L.append("if (threadIdx.x % 32 == 0) { _spkFlag[id / 32] = _word;")
        if pop.spike_recording_enabled:
            L.append("_rec[id / 32] = _word;")
        L.append("} }")
        if fire is not None:
            L.append("if (_spiked) {")
            if m.reset_code:
                L.append(self.user_code(m, "reset_code", m.reset_code))
            L += self.wu_neuron_codes(pop, "spike")
            L.append("}")
        L.append("}")  # neuron loop
        L.append("}")
        return "\n".join(L)

    def pre_input(self, sg, target):
        """The sums that each warp of group ``sg`` sent back with addToPre, in warp order:
        every warp adds to its own sums, so the result is the same on every run (atomic
        additions to one sum would come in a different order each time)."""
        n = sg.src.num_neurons
        sums = f"{self.a(sg.name + '._outPreWarps')} + (size_t)_b * {WARPS * n} + id"
        return "\n".join(f"{target} += ({sums})[{w * n}]; ({sums})[{w * n}] = 0;"
                          for w in self.group_warps(sg))

    def row_threads(self, sg):
        """The threads that update a row of group ``sg``: one per postsynaptic neuron of a
        dense group, one per slot of a sparse row."""
        return (sg.trg.num_neurons if sg.matrix_type == SynapseMatrixType.DENSE
                else self.lay.sparse[sg.name].stride)

    def group_warps(self, sg):
        """The warps whose threads update group ``sg`` (the synapse dynamics of a sparse
        group take a thread per synapse)."""
        threads = self.row_threads(sg)
        if sg.wu_model.synapse_dynamics_code and sg.matrix_type != SynapseMatrixType.DENSE:
            threads *= sg.src.num_neurons
        if threads >= BLOCK_SIZE:
            return range(WARPS)
        first = self.first_thread[sg.name]
        return sorted({(first + i) % BLOCK_SIZE // 32 for i in range(threads)})

    @staticmethod
    def event_action(k, cond):
        return (f"const uint32_t _word = __ballot_sync(_lanes, {cond}); "
                f"if (threadIdx.x % 32 == 0) _evFlag{k}[id / 32] = _word;")

    def compaction(self):
        """Spike and event lists from the flag words, one list per warp."""
        L = []
        for k, (key, _, n) in enumerate(self.lists):
            ids, count = self.id_list(key)
            state, state_count = self.device_list(k)
            L.append(f"if (threadIdx.x / 32 == {k} % (blockDim.x / 32)) "
                     f"_compact({self.flags(key)}, {n}, {ids}, &{count}, {state}, "
                     f"&{state_count});")
        return L

    def load_lists(self):
        """The lists of the step before a run, from device memory into shared memory."""
        L = []
        for k, (key, _, _) in enumerate(self.lists):
            ids, count = self.id_list(key)
            state, state_count = self.device_list(k)
            L.append(f"{{ const uint32_t _n = {state_count};")
            L.append(f"for (uint32_t _i = threadIdx.x; _i < _n; _i += blockDim.x) "
                     f"{ids}[_i] = {state}[_i];")
            L.append(f"if (threadIdx.x == 0) {count} = _n; }}")
        return L

    # -- synapse update -------------------------------------------------------
    def synapse_block(self, sg):
        """The update of group ``sg``, whose first postsynaptic neuron (or synapse) falls to
        thread ``first_thread[sg.name]``."""
        first_thread = self.first_thread[sg.name]
        wu = sg.wu_model
        npre, npost = sg.src.num_neurons, sg.trg.num_neurons
        dense = sg.matrix_type == SynapseMatrixType.DENSE
        L = [f"{{ // synapse population {sg.name}",
             f"const unsigned int num_pre = {npre}, num_post = {npost}; (void)num_pre; (void)num_post;",
             f"scalar* const _outPost = {self.a(sg.out_post.key)} + (size_t)_b * {npost}; (void)_outPost;",
             f"const unsigned int _t = (threadIdx.x + {BLOCK_SIZE - first_thread}) % {BLOCK_SIZE};"]
        if uses_add_to_pre(sg):
            L.append(f"scalar* const _outPre = {self.a(sg.name + '._outPreWarps')} + "
                     f"((size_t)_b * {WARPS} + threadIdx.x / 32) * {npre};")
        for kind, (field, key) in enumerate((("pre_spike_syn_code", f"{sg.src.name}._spk"),
                                             ("pre_event_syn_code", f"{sg.name}._ev"))):
            if not getattr(wu, field):
                continue
            ids, count = self.id_list(key)
            L.append(f"{{ const uint32_t _n = {count};")
            L.append(f"const uint32_t* const _s = {ids};")
            L.append("if (_n > 0)")   # a step without spikes loads and stores no sums
            add_to_post, before, after, bound = self.post_input(sg, field)
            body = self.synapse_body(sg, field, add_to_post, bound=bound)
            # Spike and event code of one synapse in one step draw from different streams
            rng = (self.rng_declaration(self.sg_rng[sg.name], f"_syn * 3 + {kind}")
                   if sg.name in self.sg_rng else "")
            if dense:
                L.append(f"for (unsigned int id_post = _t; id_post < {npost}; "
                         "id_post += blockDim.x) {")
                L += before
                L.append("for (uint32_t _k = 0; _k < _n; _k++) {")
                L.append("const unsigned int id_pre = _s[_k];")
                L.append(f"const size_t _syn = (size_t)id_pre * {npost} + id_post;")
                L.append("const unsigned int id_syn = (unsigned int)_syn; (void)id_syn;")
            else:
                stride = self.lay.sparse[sg.name].stride
                L.append(f"for (unsigned int _j = _t; _j < {stride}; _j += blockDim.x) {{")
                L.append("for (uint32_t _k = 0; _k < _n; _k++) {")
                L.append("const unsigned int id_pre = _s[_k];")
                L.append(f"if (_j >= {self.a(sg.name + '._rowLength')}[id_pre]) continue;")
                L.append(f"const size_t _syn = (size_t)id_pre * {stride} + _j;")
                L.append("const unsigned int id_syn = (unsigned int)_syn; (void)id_syn;")
                L.append(f"const unsigned int id_post = {self.a(sg.name + '._ind')}[_syn];")
            L.append(rng)
            L.append(body)
            L.append("}")
            L += after
            L.append("}}")
        if wu.synapse_dynamics_code:
            add_to_post, before, after, bound = self.post_input(sg, "synapse_dynamics_code")
            body = self.synapse_body(sg, "synapse_dynamics_code", add_to_post, bound=bound)
            rng = (self.rng_declaration(self.sg_rng[sg.name], "_syn * 3 + 2")
                   if sg.name in self.sg_rng else "")
            if dense:
                L.append(f"for (unsigned int id_post = _t; id_post < {npost}; "
                         "id_post += blockDim.x) {")
                L += before
                L.append(f"for (unsigned int id_pre = 0; id_pre < {npre}; id_pre++) {{")
                L.append(f"const size_t _syn = (size_t)id_pre * {npost} + id_post;")
            else:
                stride = self.lay.sparse[sg.name].stride
                L.append(f"for (unsigned int _i = _t; _i < {npre * stride}; "
                         "_i += blockDim.x) {")
                L.append(f"{{ const unsigned int id_pre = _i / {stride}, _j = _i % {stride};")
                L.append(f"if (_j >= {self.a(sg.name + '._rowLength')}[id_pre]) continue;")
                L.append("const size_t _syn = _i;")
                L.append(f"const unsigned int id_post = {self.a(sg.name + '._ind')}[_syn];")
            L.append("const unsigned int id_syn = (unsigned int)_syn; (void)id_syn;")
            L.append(rng)
            L.append(body)
            L.append("}")
            L += after
            L.append("}")
        L.append("}")
        return "\n".join(L)

    def post_input(self, sg, field):
        """How the loop of code ``field`` over group ``sg`` meets its postsynaptic neuron:
        (addToPost's template, lines before the loop over a neuron's synapses, lines after,
        the names those lines bind). A thread owns whole postsynaptic neurons of a dense
        group, so it sums their input in a register (as GeNN's linSyn) and stores it once,
        after the loop: the cpu backend's additions in its order, and no store inside the loop
        to hold up the loads of the next synapses. It also copies the read-only postsynaptic
        variables the code uses before the loop: nothing writes them in the synapse phase, so
        one load serves every iteration (references would be loaded again after each store of
        the code, which the compiler cannot tell apart from them). Sparse groups add
        atomically."""
        if sg.matrix_type != SynapseMatrixType.DENSE:
            return self.ATOMIC_ADD_TO_POST, [], [], frozenset()
        used = used_names(getattr(sg.wu_model, field))
        before, after, names = [], [], set()
        if "addToPost" in used:
            before.append("scalar _inPost = _outPost[id_post];")
            after.append("_outPost[id_post] = _inPost;")
        for table in (sg.post_vars, sg.post_var_refs):
            for name, array, read_only in self.table_arrays(table, used):
                if read_only:
                    c = ctype(array.type, self.prec)
                    index = self.index(array.dims, self.storage(array), "id_post")
                    before.append(f"const {c} {name} = {self.a(array.key)}[{index}];")
                    names.add(name)
        return self.ADD_TO_POST_SUM, before, after, frozenset(names)

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
        num_arrays = len(self.lay.arrays)
        funcs = []
        if self.shared:
            head.append(f"__shared__ void* _arrays[{num_arrays}];\n"
                        f"__shared__ uint32_t _flags[{max(1, self.num_words)}];\n"
                        f"__shared__ uint32_t _ids[{max(1, self.num_ids)}];\n"
                        f"__shared__ uint32_t _counts[{len(self.lists)}];")
            funcs.append(self.function("__device__ void _load_lists(void** _p, const unsigned int _b)",
                                       "\n".join(self.load_lists())))
        prologue = self.time_names() + "const unsigned int batch = _b; (void)batch;\n"
        step = "\n".join(
            ["(void)_seed; (void)_steps_run; (void)_rec_slot;", prologue]
            + [self.synapse_block(sg) for sg in m.synapse_populations.values()]
            + ["__syncthreads();"]
            + [self.neuron_block(pop) for pop in m.neuron_populations.values()]
            + ["__syncthreads();"] + self.compaction() + ["__syncthreads();"])
        funcs.append(self.function(
            "__device__ void _step(void** _p, const uint64_t _seed, const uint64_t _steps_run, "
            "const unsigned int _b, const uint64_t _ts, const uint32_t _rec_slot)", step))
        start = ("    void** const _p = _arrays;\n"
                 f"    for (unsigned int _i = threadIdx.x; _i < {num_arrays}; _i += blockDim.x) "
                 "_arrays[_i] = _pointers[_i];\n"
                 "    __syncthreads();\n"
                 "    _load_lists(_p, blockIdx.x);\n"
                 "    __syncthreads();\n") if self.shared else "    void** const _p = _pointers;\n"
        # The random numbers of a step depend on the steps run before it, not on its
        # timestep: runs that restart at timestep 0 draw new numbers, and run(n) draws what
        # n runs of one step draw
        funcs.append(
            f'extern "C" __global__ void __launch_bounds__({BLOCK_SIZE}) run_steps('
            "void** _pointers, uint64_t _seed, uint64_t _steps_run0, uint64_t _ts0, uint64_t _n, "
            "uint32_t _num_rec) {\n"
            + start +
            "    for (uint64_t _i = 0; _i < _n; _i++) {\n"
            "        const uint64_t _ts = _ts0 + _i;\n"
            "        _step(_p, _seed, _steps_run0 + _i, blockIdx.x, _ts, "
            "_num_rec ? (uint32_t)(_ts % _num_rec) : 0);\n"
            "    }\n}\n")
        funcs += self.custom_update_functions(
            'extern "C" __global__ void custom_update_{name}(void** _p, uint64_t _ts)')
        return self._resolve_lines("\n".join(head + funcs))
