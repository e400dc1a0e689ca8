"""Which arrays a model needs, their sizes, and how code indexes them.

Shared by the code generator and the runtime: the generator refers to array k as
``_a<k>``, the runtime allocates array k and puts its address in slot k of the
pointer table every generated function receives.
"""
from dataclasses import dataclass, field

import numpy as np

from ..code import RNG_FUNCTIONS, declared_names, tokenize, used_names
from ..model import BATCH, ELEMENT, SynapseMatrixType, synapse_storage
from ..spec import numpy_dtype

CTYPES = {
    np.float32: "float", np.float64: "double", np.int8: "int8_t", np.uint8: "uint8_t",
    np.int16: "int16_t", np.uint16: "uint16_t", np.int32: "int32_t", np.uint32: "uint32_t",
    np.int64: "int64_t", np.uint64: "uint64_t", np.bool_: "bool",
}


def ctype(type_name, precision):
    base = type_name.rstrip("*").strip()
    if base == "scalar":
        return "scalar"
    return CTYPES[numpy_dtype(base, precision)]


@dataclass
class ArraySpec:
    index: int
    key: str
    type: str          # GeNN type name ('scalar', 'unsigned int', ...)
    size: object       # int, or a function of the number of recording steps giving the
                       # size fixed only at load (EGPs, recording buffers)
    owner: object = None   # the front-end Array it backs, if any

    def dtype(self, precision):
        return numpy_dtype(self.type, precision)


@dataclass
class SparseLayout:
    row_length: np.ndarray
    stride: int
    ind: np.ndarray
    slot: np.ndarray          # storage slot of each connection, in the user's order
    sorted_slots: np.ndarray  # storage slots in (pre, post) order


@dataclass
class Layout:
    model: object
    arrays: list = field(default_factory=list)
    by_key: dict = field(default_factory=dict)
    sparse: dict = field(default_factory=dict)
    rng_streams: int = 0

    def add(self, key, type_name, size, owner=None):
        spec = ArraySpec(len(self.arrays), key, type_name, size, owner)
        self.arrays.append(spec)
        self.by_key[key] = spec
        return spec

    def name(self, key):
        return f"_a{self.by_key[key].index}"

    def rng(self, count):
        start = self.rng_streams
        self.rng_streams += count
        return start


def uses_add_to_pre(sg):
    wu = sg.wu_model
    return any("addToPre" in used_names(c) for c in
               (wu.pre_spike_syn_code, wu.pre_event_syn_code, wu.synapse_dynamics_code))


def egp_size(egp):
    def size(num_recording_timesteps):
        if egp.init_values is None:
            raise ValueError(f"extra global parameter '{egp.key}' has no values: call "
                             "set_init_values(...) before load()")
        return egp.init_values.size
    return size


def event_groups(pop):
    """The synapse groups leaving ``pop`` with spike-like events, in the order of their
    event lists and flag bits."""
    return [sg for sg in pop.out_syn if sg.wu_model.pre_event_syn_code]


FLAG_TYPES = (("uint8_t", 8), ("uint16_t", 16), ("uint32_t", 32), ("uint64_t", 64))


def flag_type(pop):
    """The type of a neuron's flags between the two passes: bit 0 says it spiked, bit k + 1
    that it emitted the event of event group k. None where the bits do not fit."""
    bits = 1 + len(event_groups(pop))
    return next((name for name, size in FLAG_TYPES if bits <= size), None)


def two_pass(pop):
    """Whether a population's update can run in two passes: the dynamics, threshold and
    event conditions of all neurons (vectorisable), then spikes, events and resets in neuron
    order. The reset code must not see the locals of sim_code or the inputs (gone by the
    second pass), and the code run on a spike must draw no random numbers (the draws would
    change order)."""
    m = pop.model
    if not m.threshold_condition_code or flag_type(pop) is None:
        return False
    reset = used_names(m.reset_code)
    inputs = {"Isyn"} | {a[0] for a in m.additional_input_vars}
    sim_locals = declared_names(tokenize(m.sim_code or ""), top_level_only=True)
    spike_codes = ([m.reset_code] + [sg.wu_model.pre_spike_code for sg in pop.out_syn]
                   + [sg.wu_model.post_spike_code for sg in pop.in_syn])
    uses_rng = any(used_names(c) & RNG_FUNCTIONS for c in spike_codes)
    return not (reset & (inputs | sim_locals)) and not uses_rng


def fire_stride(num_neurons):
    """Flags per batch instance: rows padded to whole 8-byte words of the second pass."""
    return (num_neurons + 7) // 8 * 8


def array_size(model, dims, num_elements):
    b = model.batch_size
    return (b if BATCH in dims else 1) * (num_elements if ELEMENT in dims else 1)


def plan(model):
    """Lay out every array of ``model``."""
    lay = Layout(model)
    b = model.batch_size
    for sg in model.synapse_populations.values():
        if sg.matrix_type == SynapseMatrixType.SPARSE:
            row_length, stride, ind, slot = sg._csr()
            lay.sparse[sg.name] = SparseLayout(row_length, stride, ind, slot, np.sort(slot))

    def add_vars(vars, n):
        for v in vars.values():
            lay.add(v.key, v.type, array_size(model, v.dims, n), v)

    def add_egps(egps):
        for e in egps.values():
            lay.add(e.key, e.type, egp_size(e), e)

    def add_dynamic(group):
        lay.add(f"{group.name}._dyn", "double", max(1, len(group.dynamic_params)))

    for pop in model.neuron_populations.values():
        n = pop.num_neurons
        add_vars(pop.vars, n)
        add_egps(pop.extra_global_params)
        add_dynamic(pop)
        lay.add(f"{pop.name}._spkCnt", "uint32_t", b)
        lay.add(f"{pop.name}._spk", "uint32_t", b * n)
        if pop.spike_recording_enabled:
            words = (n + 31) // 32
            lay.add(f"{pop.name}._recSpk", "uint32_t",
                    lambda steps, words=words: steps * b * words)
        if two_pass(pop):
            lay.add(f"{pop.name}._fire", flag_type(pop), b * fire_stride(n))
        if pop.model.auto_refractory_required:
            lay.add(f"{pop.name}._prevThreshold", "uint8_t", b * n)
    for sg in model.synapse_populations.values():
        add_vars(sg.vars, synapse_storage(sg, lay.sparse))
        add_vars(sg.pre_vars, sg.src.num_neurons)
        add_vars(sg.post_vars, sg.trg.num_neurons)
        add_vars(sg.psm_vars, sg.trg.num_neurons)
        add_egps(sg.extra_global_params)
        add_egps(sg.psm_extra_global_params)
        add_dynamic(sg)
        lay.add(sg.out_post.key, "scalar", b * sg.trg.num_neurons, sg.out_post)
        if uses_add_to_pre(sg):
            lay.add(f"{sg.name}._outPre", "scalar", b * sg.src.num_neurons)
        if sg.wu_model.pre_event_syn_code:
            lay.add(f"{sg.name}._evCnt", "uint32_t", b)
            lay.add(f"{sg.name}._ev", "uint32_t", b * sg.src.num_neurons)
        if sg.matrix_type == SynapseMatrixType.SPARSE:
            lay.add(f"{sg.name}._rowLength", "uint32_t", sg.src.num_neurons)
            lay.add(f"{sg.name}._ind", "uint32_t", len(lay.sparse[sg.name].ind))
    for cs in model.current_sources.values():
        add_vars(cs.vars, cs.pop.num_neurons)
        add_egps(cs.extra_global_params)
        add_dynamic(cs)
    for cu in model.custom_updates.values():
        add_vars(cu.vars, synapse_storage(cu.synapse_group, lay.sparse) if cu.is_wu
                 else cu.num_elements)
        add_egps(cu.extra_global_params)
        add_dynamic(cu)
    return lay
