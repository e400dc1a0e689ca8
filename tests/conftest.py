import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

import emulated_cupy

from eventprop.engine.backends.cpu import CompileError, CpuBackend
from eventprop.engine.backends.cuda import CudaBackend, check_with_nvcc, gpu_available

# Compiled models are cached per test session unless a cache is given
os.environ.setdefault("EVENTPROP_CACHE_DIR", tempfile.mkdtemp(prefix="eventprop_cache_"))

# Every test runs on each backend present: cpu always, cuda where CuPy finds a GPU. Without
# one, the engine tests run the cuda backend on an emulated GPU (emulated_cupy), as do the
# tests that compare its gradients with the cpu backend's (the finite-difference tests of
# tests/network take too many steps for an emulated GPU)
GPU = gpu_available()
BACKENDS = ["cpu"] + (["cuda"] if GPU else [])
EMULATED_CUDA_TESTS = Path(__file__).parent / "engine"


def pytest_report_header(config):
    return "cuda backend: " + ("on the GPU" if GPU else "on an emulated GPU in tests/engine")


def _parametrized_names(metafunc):
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        yield from (n.strip() for n in names.split(",")) if isinstance(names, str) else names


def pytest_generate_tests(metafunc):
    # a test that parametrizes "backend" itself keeps its own
    if "backend" in metafunc.fixturenames and "backend" not in _parametrized_names(metafunc):
        emulated = not GPU and metafunc.definition.path.is_relative_to(EMULATED_CUDA_TESTS)
        metafunc.parametrize("backend", BACKENDS + (["cuda"] if emulated else []),
                             indirect=True)


@pytest.fixture(autouse=True)
def backend(request, monkeypatch):
    """The backend of every model a test builds without naming one. On the cpu backend the
    views are kept apart from the state (host_copies), so that a test that forgets a
    push_to_device / pull_from_device fails here as it would on a GPU. Without a GPU, cuda
    runs on the emulated GPU of emulated_cupy."""
    if request.param == "cuda" and not GPU:
        monkeypatch.setitem(sys.modules, "cupy", emulated_cupy)
    monkeypatch.setenv("EVENTPROP_BACKEND", request.param)
    init = CpuBackend.__init__
    monkeypatch.setattr(CpuBackend, "__init__",
                        lambda self, num_threads=None, cache_dir=None, host_copies=True:
                        init(self, num_threads, cache_dir, host_copies))
    return request.param


@pytest.fixture(params=["float", "double"])
def precision(request):
    return request.param


@pytest.fixture(params=[1, 5])
def batch_size(request):
    return request.param


# -- without a GPU, the CUDA source of every model the tests build must still compile ----
_cuda_sources = {}


def _record_cuda_source(build):
    def wrapped(self, model, *args):
        built = build(self, model, *args)
        source, tags, _ = CudaBackend._generate(model, self.generate(model)[2])
        _cuda_sources.setdefault(hashlib.sha256(source.encode()).hexdigest(), (source, tags))
        return built
    return wrapped


def pytest_configure(config):
    if "cuda" not in BACKENDS and shutil.which("nvcc"):
        CpuBackend.build = _record_cuda_source(CpuBackend.build)


def pytest_sessionfinish(session, exitstatus):
    """Compile the recorded sources with nvcc, many per run (each in a namespace of its
    own); a failure fails the session."""
    if not _cuda_sources:
        return
    sources = list(_cuda_sources.values())
    failures = []
    chunk = 40
    for start in range(0, len(sources), chunk):
        part = sources[start:start + chunk]
        combined = "#include <cstdint>\n" + "\n".join(
            f"namespace model{k} {{\n"
            + source.replace("#include <cstdint>", "").replace('extern "C" ', "") + "\n}"
            for k, (source, _) in enumerate(part))
        tags = {t: c for _, tg in part for t, c in tg.items()}
        try:
            check_with_nvcc(combined, tags)
        except CompileError as e:
            failures.append(str(e))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"nvcc compiled the CUDA source of {len(sources)} test models"
                            + (f": {len(failures)} chunks FAILED" if failures else ""))
    if failures:
        for f in failures:
            print(f)
        session.exitstatus = 1


@pytest.fixture
def shd_root(request, tmp_path):
    """A data folder holding small SHD files (tonic's layout, see shd_files.write_shd_files);
    other files through indirect parametrisation with write_shd_files's arguments, e.g.
    @pytest.mark.parametrize("shd_root", [dict(dataset="SSC", n_per_split=40)],
    indirect=True)."""
    from shd_files import write_shd_files  # tests/ is on sys.path: this conftest's folder
    root = tmp_path / "data"
    write_shd_files(root, **getattr(request, "param", {}))
    return root
