"""The part of CuPy that the cuda backend and the step benchmark's clock use, over an emulated
GPU: the tests put this module in place of ``cupy`` where no GPU is present, so that the cuda
backend's generated kernels run (and are checked against the cpu backend) on every machine.

A module's CUDA source is compiled by the host C++ compiler with ``cuda_emulation.h`` (CUDA's
threads, barriers and warp intrinsics on the CPU) included first, into a shared library
cached by the hash of the source and the header. Device arrays are NumPy arrays of their own,
apart from the backend's host views, so that a missing push or pull shows as it would on a
GPU."""
import ctypes
import hashlib
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

HEADER = Path(__file__).with_name("cuda_emulation.h")
FLAGS = ["-O1", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off", "-w"]
_KERNEL_RE = re.compile(r'^extern "C" __global__ void (?:__launch_bounds__\(\d+\) )?'
                        r"(\w+)\(([^)]*)\)", re.MULTILINE)
# The order in which the threads of a block run between the points where they wait, and the
# blocks of a launch: "ascending" or "descending" ids
THREAD_ORDER = "ascending"
_CTYPES = {"uint64_t": ctypes.c_uint64, "uint32_t": ctypes.c_uint32}


class CompileException(Exception):
    """The compiler's errors, in NVRTC's form (``file(line): error: ...``)."""

    def __init__(self, log):
        super().__init__(re.sub(r"^([^:\n]+):(\d+):\d+: (?:fatal )?error:", r"\1(\2): error:", log,
                                flags=re.MULTILINE))


class Device:
    def __init__(self, device=0):
        self.id = device

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Stream:
    """Kernels run when they are launched, so the stream is always done."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        pass


class Event:
    """Kernels run when they are launched, so an event is done when it is recorded."""

    def record(self, stream=None):
        self.time = time.perf_counter()

    def synchronize(self):
        pass


def get_elapsed_time(start, end):
    """Milliseconds from event ``start`` to event ``end``."""
    return 1e3 * (end.time - start.time)


class ndarray:
    def __init__(self, array):
        self.array = array
        self.data = SimpleNamespace(ptr=array.ctypes.data)

    def __getitem__(self, index):
        return ndarray(self.array[index])

    def set(self, host, stream=None):
        self.array[...] = host

    def get(self, out=None, stream=None, blocking=True):
        if out is None:
            return self.array.copy()
        out[...] = self.array
        return out


def asarray(a):
    return ndarray(np.array(a, copy=True))


class RawKernel:
    max_threads_per_block = 1024

    def __init__(self, library, name, params):
        self.launch = getattr(library, f"_emu_launch_{name}")
        self.name = name
        self.params = params

    def __call__(self, grid, block, args):
        if len(args) != len(self.params):
            raise TypeError(f"kernel {self.name} takes {len(self.params)} arguments, "
                            f"got {len(args)}")
        values = [ctypes.c_void_p(a.data.ptr) if param.endswith("*") else _CTYPES[param](int(a))
                  for param, a in zip(self.params, args)]
        pointers = (ctypes.c_void_p * len(values))(*[ctypes.addressof(v) for v in values])
        error = ctypes.create_string_buffer(8192)
        if THREAD_ORDER not in ("ascending", "descending"):
            raise ValueError(f"THREAD_ORDER is {THREAD_ORDER!r}: 'ascending' or 'descending'")
        if self.launch(grid[0], block[0], pointers, ctypes.c_bool(THREAD_ORDER == "descending"),
                       error, len(error)):
            raise RuntimeError(f"emulated kernel {self.name}: {error.value.decode()}")


class RawModule:
    def __init__(self, code, options=()):
        self.code = code
        self.options = options
        self.library = None
        self.kernels = {}

    def compile(self):
        source = self.code
        for name, params in _KERNEL_RE.findall(self.code):
            types = [p.rsplit(" ", 1)[0].strip() for p in params.split(",")]
            self.kernels[name] = types
            call = ", ".join(f"*({t}*)_a[{k}]" for k, t in enumerate(types))
            source += (f"\nstatic void _emu_body_{name}(void* _args) {{ void** _a = (void**)_args; "
                       f"{name}({call}); }}\n"
                       f'extern "C" int _emu_launch_{name}(unsigned int _g, unsigned int _b, '
                       f"void** _args, bool _r, char* _e, unsigned long _n) {{ "
                       f"return _emu::launch(_g, _b, _emu_body_{name}, _args, _r, _e, _n); }}\n")
        key = hashlib.sha256((HEADER.read_text() + source).encode()).hexdigest()[:24]
        cache = Path(os.environ.get("EVENTPROP_CACHE_DIR", tempfile.gettempdir())) / "emulated"
        cache.mkdir(parents=True, exist_ok=True)
        library = cache / f"{key}.so"
        if not library.exists():
            with tempfile.TemporaryDirectory(dir=cache) as work:
                src = Path(work) / "module.cu.cc"
                src.write_text(source)
                out = subprocess.run([os.environ.get("CXX", "g++"), *FLAGS, "-include",
                                      str(HEADER), str(src), "-o", str(Path(work) / "m.so")],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    raise CompileException(out.stderr)
                os.replace(Path(work) / "m.so", library)
        self.library = ctypes.CDLL(str(library))

    def get_function(self, name):
        if self.library is None:
            self.compile()
        return RawKernel(self.library, name, self.kernels[name])


cuda = SimpleNamespace(Device=Device, Stream=Stream, Event=Event,
                       get_elapsed_time=get_elapsed_time,
                       runtime=SimpleNamespace(deviceSynchronize=lambda: None),
                       compiler=SimpleNamespace(CompileException=CompileException))
