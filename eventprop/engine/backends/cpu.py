"""The ``cpu`` backend: generated C++, compiled once per model source and cached,
run through ctypes on numpy arrays that are themselves the model state."""
import ctypes
import hashlib
import mmap
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..model import SynapseVariable
from ..spec import VarInit
from .cpu_codegen import Generator
from .layout import plan

# -ffp-contract=off keeps results independent of FMA availability; no math errno
# and no FP traps (never enabled) let branches in model code be if-converted
FLAGS = ["-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-std=c++17",
         "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-w"]
# Model code branches on what is the same for every neuron (forward or backward steps); GCC
# moves such a branch out of the neuron loop, so that each branch's loop can vectorise, only
# for loops far smaller than a neuron update unless allowed more
GCC_FLAGS = ["--param", "max-unswitch-insns=1000"]


class CompileError(RuntimeError):
    """The C++ compiler rejected the generated code."""


def default_cache_dir():
    env = os.environ.get("EVENTPROP_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "eventprop" / "engine"


_compilers = {}


def compiler_flags(cxx):
    """The flags of a compile with ``cxx``."""
    _, is_gcc = _compiler(cxx)
    return FLAGS + (GCC_FLAGS if is_gcc else [])


def _compiler(cxx):
    """The first line of ``cxx --version`` (which names it in the cache key), and whether it
    is GCC."""
    if cxx not in _compilers:
        if shutil.which(cxx) is None:
            raise CompileError(f"C++ compiler '{cxx}' not found: install g++ (or set CXX to a "
                               "C++17 compiler with OpenMP support)")
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True)
        _compilers[cxx] = (out.stdout.split("\n")[0], "Free Software Foundation" in out.stdout)
    return _compilers[cxx]


_ERROR_RE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:\d+:)? (?:fatal )?error: (?P<msg>.*)$",
                       re.MULTILINE)


def explain_errors(log, tags, pattern=_ERROR_RE):
    """The compiler's errors (matched by ``pattern``), those in user code strings as
    'Model.field line N: ... <code line>'."""
    lines = []
    for m in pattern.finditer(log):
        tag, n, msg = m.group("file"), int(m.group("line")), m.group("msg")
        if tag in tags:
            code_lines = tags[tag].split("\n")
            src = code_lines[n - 1].strip() if 0 < n <= len(code_lines) else ""
            lines.append(f"{tag} line {n}: {msg}\n    {src}")
        else:
            lines.append(f"generated code line {n}: {msg}")
        if len(lines) >= 10:
            break
    return lines or log.strip().split("\n")[-20:]


def explain_compiler_errors(stderr, tags, source_path):
    return ("the generated C++ did not compile:\n" + "\n".join(explain_errors(stderr, tags))
            + f"\n(generated source: {source_path})")


def compile_library(source, tags, cache_dir, cxx, rebuild="auto"):
    """Compile ``source`` to a shared library, reusing a cached one with the same
    source, flags and compiler. The library appears atomically, so concurrent
    processes sharing a cache never load a half-written file."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    flags = compiler_flags(cxx)
    name, _ = _compiler(cxx)
    digest = hashlib.sha256("\0".join([source, " ".join(flags), name])
                            .encode()).hexdigest()[:24]
    lib = cache_dir / f"model_{digest}.so"
    if lib.exists() and rebuild != "always":
        return lib
    if rebuild == "never":
        raise CompileError(f"never_rebuild=True but no compiled library {lib} exists")
    work = Path(tempfile.mkdtemp(dir=cache_dir, prefix=".build_"))
    try:
        src = work / "generated.cc"
        src.write_text(source)
        out = subprocess.run([cxx, *flags, "-o", str(work / "lib.so"), str(src)],
                             capture_output=True, text=True, cwd=work)
        if out.returncode != 0:
            kept = cache_dir / f"failed_{digest}.cc"
            kept.write_text(source)
            raise CompileError(explain_compiler_errors(out.stderr, tags, kept))
        (work / "lib.so").replace(lib)
        (cache_dir / f"model_{digest}.cc").write_text(source)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return lib


@dataclass
class Built:
    lib_path: Path
    layout: object

    @property
    def sparse(self):
        return self.layout.sparse


class CpuBackend:
    name = "cpu"

    def __init__(self, num_threads=None, cache_dir=None, host_copies=False):
        """``host_copies``: keep the views apart from the state, so that, as on a GPU, they
        change only through push_to_device / pull_from_device (to check code meant for the
        cuda or genn backend)."""
        self.host_copies = bool(host_copies)
        if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
            raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
        self.num_threads = num_threads or len(os.sched_getaffinity(0))
        self.cache_dir = cache_dir
        self.cxx = os.environ.get("CXX", "g++")

    def generate(self, model):
        layout = plan(model)
        gen = Generator(model, layout)
        return gen.generate(), gen, layout

    def build(self, model, path_to_model, always_rebuild, never_rebuild):
        source, gen, layout = self.generate(model)
        cache = (Path(path_to_model) / f"{model.name}_CODE" if path_to_model is not None
                 else Path(self.cache_dir) if self.cache_dir else default_cache_dir())
        rebuild = "always" if always_rebuild else "never" if never_rebuild else "auto"
        lib = compile_library(source, gen.tags, cache, self.cxx, rebuild)
        return Built(lib, layout)

    def load(self, model, built, num_recording_timesteps):
        return CpuRuntime(self, model, built, num_recording_timesteps)


def seed_streams(seed, count):
    """xoshiro256** states for ``count`` streams, from splitmix64 of (seed, stream)."""
    if count == 0:
        return np.zeros(4, dtype=np.uint64)
    if not seed:
        seed = int.from_bytes(os.urandom(8), "little")
    mask = (1 << 64) - 1
    state = np.empty(4 * count, dtype=np.uint64)
    for s in range(count):
        x = (seed * 0x9E3779B97F4A7C15 + s * 0xBF58476D1CE4E5B9) & mask
        for k in range(4):
            x = (x + 0x9E3779B97F4A7C15) & mask
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
            state[4 * s + k] = z ^ (z >> 31)
    return state


def mapped_zeros(size, dtype):
    """A zeroed array in an anonymous memory mapping of its own: page-aligned (so the
    threads, which work on whole batch instances, share no cache line at its start), and
    zeroed lazily by the OS, so that the untouched part of a large buffer (spike rings
    sized for N_MAX_SPIKE) takes no memory, whatever state malloc is in."""
    return np.frombuffer(mmap.mmap(-1, max(1, size * np.dtype(dtype).itemsize)), dtype,
                         count=size)


class CpuRuntime:
    def __init__(self, backend, model, built, num_rec):
        self.model, self.built, self.num_rec = model, built, num_rec or 0
        self.num_threads = backend.num_threads
        self.host_copies = backend.host_copies
        self.lib = ctypes.CDLL(str(built.lib_path))
        self.lib.run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64,
                                 ctypes.c_uint64, ctypes.c_uint32, ctypes.c_int]
        self.lib.initialize.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.custom_updates = {}
        for group_name in {cu.group_name for cu in model.custom_updates.values()}:
            f = getattr(self.lib, f"custom_update_{group_name}")
            f.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int]
            self.custom_updates[group_name] = f
        layout = built.layout
        self.arrays = {}
        for spec in layout.arrays:
            size = spec.size(self.num_rec) if callable(spec.size) else spec.size
            self.arrays[spec.key] = mapped_zeros(max(1, size), spec.dtype(model.precision))
        self.ptrs = np.array([a.ctypes.data for a in self.arrays.values()], dtype=np.uint64)
        self.rng = seed_streams(model.seed, layout.rng_streams)
        for name, sp in layout.sparse.items():
            self.arrays[f"{name}._rowLength"][:] = sp.row_length
            if sp.ind.size:
                self.arrays[f"{name}._ind"][:] = sp.ind
        for group in self._groups():
            self._write_dynamic(group)
        self.lib.initialize(self.ptrs.ctypes.data, self.rng.ctypes.data)
        self.host = {key: a.copy() if self.host_copies else a for key, a in self.arrays.items()}
        for spec in layout.arrays:
            if spec.owner is not None:
                spec.owner._view = self.host[spec.key][:int(np.prod(spec.owner.shape))] \
                    .reshape(spec.owner.shape)
        for spec in layout.arrays:
            owner = spec.owner
            if owner is None or isinstance(getattr(owner, "init", None), VarInit):
                continue
            if hasattr(owner, "init_values"):
                # the arrays start zeroed and untouched: writing zeros again would make
                # every page of a large buffer resident before any of it is used
                if np.any(owner.init_values):
                    owner.view[:] = owner.init_values
            elif hasattr(owner, "init"):
                self._initial_values(owner)
        if self.host_copies:
            for key, a in self.arrays.items():
                a[...] = self.host[key]

    def _groups(self):
        m = self.model
        return (list(m.neuron_populations.values()) + list(m.synapse_populations.values())
                + list(m.current_sources.values()) + list(m.custom_updates.values()))

    def _write_dynamic(self, group):
        dyn = self.arrays[f"{group.name}._dyn"]
        for k, key in enumerate(sorted(group.dynamic_params)):
            name, params = group.dynamic_param(key)
            dyn[k] = params[name]

    def _initial_values(self, var):
        init = var.init
        view = var.view
        if np.isscalar(init):
            view[...] = init
            return
        arr = np.asarray(init)
        sg = var.group.synapse_group if isinstance(var, SynapseVariable) else None
        if sg is not None and sg._sorted_slots() is not None:
            slot = self.built.sparse[sg.name].slot
            if arr.shape[-1] != slot.size:
                raise ValueError(f"variable '{var.key}': {arr.shape[-1]} initial values for "
                                 f"{slot.size} synapses")
            view[..., slot] = arr
            return
        if arr.size == view.size:
            view[...] = arr.reshape(view.shape)
        elif view.ndim == 2 and arr.size == view.shape[1]:
            view[...] = arr.reshape(1, -1)   # the same values for every batch instance
        else:
            raise ValueError(f"variable '{var.key}': {arr.size} initial values do not fit its "
                             f"shape {view.shape}")

    # -- the runtime interface the model calls -------------------------------
    def run(self, timestep, n_steps):
        self.lib.run(self.ptrs.ctypes.data, self.rng.ctypes.data, timestep, n_steps,
                     self.num_rec, self.num_threads)

    def custom_update(self, name, timestep):
        self.custom_updates[name](self.ptrs.ctypes.data, timestep, self.num_threads)

    def set_dynamic_param(self, group, key, value):
        self._write_dynamic(group)

    def push(self, array, count=None):
        if self.host_copies:
            self.arrays[array.key][:count] = self.host[array.key][:count]

    def pull(self, array):
        if self.host_copies:
            self.host[array.key][...] = self.arrays[array.key]

    def rng_state(self):
        return self.rng.copy()

    def set_rng_state(self, state):
        state = np.asarray(state, dtype=np.uint64)
        if state.shape != self.rng.shape:
            raise ValueError(f"random-number state has shape {state.shape}, this model's has "
                             f"{self.rng.shape}")
        self.rng[...] = state

    def spike_recording_data(self, pop):
        if not pop.spike_recording_enabled:
            raise RuntimeError(f"spike recording is not enabled on population '{pop.name}'")
        n_rec, ts = self.num_rec, self.model.timestep
        if ts < n_rec:
            raise RuntimeError("Event recording data can only be accessed once buffer is full "
                               f"({ts} of {n_rec} recording steps run)")
        b, words = self.model.batch_size, (pop.num_neurons + 31) // 32
        buf = self.arrays[f"{pop.name}._recSpk"].reshape(n_rec, b, words)
        # Row r holds the step s in [ts - n_rec, ts) with s % n_rec == r
        steps = np.arange(ts - n_rec, ts)
        rows = buf[steps % n_rec]                          # (n_rec, b, words), in time order
        bits = (rows[..., None] >> np.arange(31, -1, -1, dtype=np.uint32)) & 1
        out = []
        for batch in range(b):
            t_idx, w, k = np.nonzero(bits[:, batch])
            ids = w * 32 + (31 - k)
            keep = ids < pop.num_neurons
            out.append((steps[t_idx[keep]] * self.model.dt, ids[keep].astype(np.int32)))
        return out

    def unload(self):
        for spec in self.built.layout.arrays:
            if spec.owner is not None:
                spec.owner._view = None
        self.arrays = {}
