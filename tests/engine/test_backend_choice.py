"""Choosing a backend: ``auto``, a missing CuPy, unknown names and preferences."""
import importlib.metadata
import re
import sys

import pytest

from eventprop.engine import GeNNModel
from eventprop.engine.backends import cuda
from eventprop.engine.backends.cpu import CpuBackend
from eventprop.engine.backends.cuda import CudaBackend


@pytest.mark.parametrize("gpu, chosen, cls", [(False, "cpu", CpuBackend),
                                              (True, "cuda", CudaBackend)])
def test_auto_picks_cuda_only_where_cupy_finds_a_gpu_and_says_so(gpu, chosen, cls, monkeypatch,
                                                                 capsys):
    monkeypatch.setattr(cuda, "gpu_available", lambda: gpu)
    model = GeNNModel("float", "auto_choice", backend="auto")
    assert type(model._backend) is cls and model.backend_name == chosen
    assert f"backend 'auto' chose {chosen}" in capsys.readouterr().err


def test_cuda_without_cupy_names_the_extras_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)     # import cupy raises ImportError
    model = GeNNModel("float", "no_cupy", backend="cuda")
    model.add_neuron_population("pop", 1, "LIF", {"C": 1.0, "TauM": 20.0, "Vrest": 0.0,
                                                  "Vreset": 0.0, "Vthresh": 1.0, "Ioffset": 0.0,
                                                  "TauRefrac": 1.0},
                                {"V": 0.0, "RefracTime": 0.0})
    with pytest.raises(RuntimeError, match=r"needs CuPy: pip install 'eventprop\[cuda13\]'"):
        model.build()


def test_the_extras_the_install_hint_names_exist():
    extras = set(importlib.metadata.metadata("eventprop").get_all("Provides-Extra"))
    named = set(re.findall(r"eventprop\[(\w+)\]", cuda.INSTALL_CUPY))
    assert named == {"cuda12", "cuda13"} and named <= extras


def test_unknown_backend_and_preference_are_named():
    with pytest.raises(ValueError, match=r"unknown backend 'gpu'; valid backends are 'auto', "
                                         r"'cpu', 'cuda', 'genn'"):
        GeNNModel("float", "bad_backend", backend="gpu")
    with pytest.raises(ValueError, match=r"unknown preference 'threads' for the cpu backend; "
                                         r"valid preferences: num_threads"):
        GeNNModel("float", "bad_preference", backend="cpu", threads=2)
