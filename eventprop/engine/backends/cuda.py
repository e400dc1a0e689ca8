"""The ``cuda`` backend: CUDA C++ generated from the model, compiled at run time with NVRTC
through CuPy (which caches the compiled module by its source and options), state in device
arrays with host views that ``push_to_device`` / ``pull_from_device`` copy, as in pygenn.

Variables are initialised on the host by the cpu backend's generated ``initialize`` (so both
backends start from the same state) and then copied to the device.
"""
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cpu import CompileError, CpuBackend, CpuRuntime, explain_errors
from .cuda_codegen import BLOCK_SIZE, CudaGenerator

NVRTC_OPTIONS = ("-std=c++17", "--fmad=false")   # no FMA contraction, as on the cpu backend
CUSTOM_UPDATE_BLOCKS = 128
INSTALL_CUPY = ("pip install 'eventprop[cuda13]' or 'eventprop[cuda12]', for the CUDA version "
                "that nvidia-smi shows")


def import_cupy():
    try:
        import cupy
    except ImportError:
        raise RuntimeError(f"the cuda backend needs CuPy: {INSTALL_CUPY}") from None
    return cupy


def gpu_available():
    """Whether CuPy is installed and sees a GPU."""
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:   # no CuPy, no driver, no device: all mean "no GPU"
        return False


_NVRTC_ERROR_RE = re.compile(r"^(?P<file>[^()\n]+)\((?P<line>\d+)\): (?:catastrophic )?error: "
                             r"(?P<msg>.*)$", re.MULTILINE)


def explain_cuda_errors(log, tags):
    return "the generated CUDA code did not compile:\n" + "\n".join(
        explain_errors(log, tags, _NVRTC_ERROR_RE))


def check_with_nvcc(source, tags, nvcc="nvcc", arch="sm_80"):
    """Compile ``source`` with nvcc (no GPU needed); CompileError with the user's code lines
    if it fails."""
    if shutil.which(nvcc) is None:
        raise CompileError(f"'{nvcc}' not found")
    with tempfile.TemporaryDirectory() as work:
        src = Path(work) / "model.cu"
        src.write_text(source)
        out = subprocess.run([nvcc, "-std=c++17", "--fmad=false", f"-arch={arch}", "-c",
                              str(src), "-o", str(Path(work) / "model.o")],
                             capture_output=True, text=True)
    if out.returncode != 0:
        raise CompileError(explain_cuda_errors(out.stderr + out.stdout, tags))


@dataclass
class Built:
    host: object        # the cpu backend's build: layout and the host initialisation
    module: object
    source: str

    @property
    def layout(self):
        return self.host.layout

    @property
    def sparse(self):
        return self.host.layout.sparse


class CudaBackend:
    name = "cuda"

    def __init__(self, cache_dir=None, device=0):
        self.cpu = CpuBackend(cache_dir=cache_dir)
        self.device = device

    @staticmethod
    def _generate(model, layout):
        """The CUDA source of ``model`` and its code-string tags, on the cpu ``layout``."""
        gen = CudaGenerator(model, layout)
        return gen.generate(), gen.tags, layout

    def build(self, model, path_to_model, always_rebuild, never_rebuild):
        cupy = import_cupy()
        host = self.cpu.build(model, path_to_model, always_rebuild, never_rebuild)
        source, tags, _ = self._generate(model, host.layout)
        with cupy.cuda.Device(self.device):
            module = cupy.RawModule(code=source, options=NVRTC_OPTIONS)
            try:
                module.compile()
            except cupy.cuda.compiler.CompileException as e:
                raise CompileError(explain_cuda_errors(str(e), tags)) from None
        return Built(host, module, source)

    def load(self, model, built, num_recording_timesteps):
        return CudaRuntime(self, model, built, num_recording_timesteps)


class CudaRuntime(CpuRuntime):
    """Host arrays as the cpu backend has them, plus their device copies.

    All device work goes into one stream of the runtime's own, in order. Kernels and pushes
    return at once (a push from pageable memory copies the data out before it returns, so the
    view may be written again straight away); a pull waits for the work before it. The host
    can thus prepare the next batch while the GPU runs the last one."""

    def __init__(self, backend, model, built, num_rec):
        super().__init__(backend.cpu, model, built.host, num_rec)
        cupy = self.cupy = import_cupy()
        self.device = cupy.cuda.Device(backend.device)
        with self.device:
            self.stream = cupy.cuda.Stream()
            # the host arrays hold the views, the device arrays the state
            self.dev = {key: cupy.asarray(a) for key, a in self.host.items()}
            self.dev_ptrs = cupy.asarray(np.array([a.data.ptr for a in self.dev.values()],
                                                  dtype=np.uint64))
            self.run_kernel = built.module.get_function("run_steps")
            if self.run_kernel.max_threads_per_block < BLOCK_SIZE:
                raise RuntimeError(f"the model's kernel runs at most "
                                   f"{self.run_kernel.max_threads_per_block} threads per block "
                                   f"on this GPU; it is built for {BLOCK_SIZE}")
            self.update_kernels = {name: built.module.get_function(f"custom_update_{name}")
                                   for name in self.custom_updates}
        seed = model.seed or int.from_bytes(os.urandom(8), "little")
        # (seed, steps run since load), in place of the cpu backend's generator states: the
        # random numbers of a step depend on both
        self.rng = np.array([seed & ((1 << 64) - 1), 0], dtype=np.uint64)

    def run(self, timestep, n_steps):
        with self.device, self.stream:
            self.run_kernel((self.model.batch_size,), (BLOCK_SIZE,),
                            (self.dev_ptrs, self.rng[0], self.rng[1], np.uint64(timestep),
                             np.uint64(n_steps), np.uint32(self.num_rec)))
        self.rng[1] += np.uint64(n_steps)

    def custom_update(self, name, timestep):
        with self.device, self.stream:
            self.update_kernels[name]((CUSTOM_UPDATE_BLOCKS,), (256,),
                                      (self.dev_ptrs, np.uint64(timestep)))

    def set_dynamic_param(self, group, key, value):
        super().set_dynamic_param(group, key, value)
        key = f"{group.name}._dyn"
        with self.device:
            self.dev[key].set(self.arrays[key], stream=self.stream)

    def push(self, array, count=None):
        with self.device:
            self.dev[array.key][:count].set(self.host[array.key][:count], stream=self.stream)

    def pull(self, array):
        with self.device:
            self.dev[array.key].get(out=self.host[array.key], stream=self.stream, blocking=True)

    def spike_recording_data(self, pop):
        key = f"{pop.name}._recSpk"
        if key in self.dev:
            with self.device:
                self.dev[key].get(out=self.arrays[key], stream=self.stream, blocking=True)
        return super().spike_recording_data(pop)

    def unload(self):
        # the memory goes back to CuPy's pool, for other streams: the kernels must be done
        self.stream.synchronize()
        super().unload()
        self.dev = {}
