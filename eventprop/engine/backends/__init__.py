"""Backends: ``cpu`` (generated C++), ``cuda`` (generated CUDA through CuPy), ``genn`` (a real
pygenn 5), and the choice of one."""
import inspect
import os
import sys

BACKENDS = ("auto", "cpu", "cuda", "genn")


def make_backend(name, preferences):
    """The backend ``name``; None means $EVENTPROP_BACKEND, else cpu."""
    if name is None:
        name = os.environ.get("EVENTPROP_BACKEND", "cpu")
    if name == "auto":
        from .cuda import gpu_available
        name = "cuda" if gpu_available() else "cpu"
        print(f"eventprop: backend 'auto' chose {name}"
              + ("" if name == "cuda" else " (CuPy finds no GPU)"), file=sys.stderr)
    if name == "cpu":
        from .cpu import CpuBackend as cls
    elif name == "cuda":
        from .cuda import CudaBackend as cls
    elif name == "genn":
        from .genn import GeNNBackend as cls
    else:
        raise ValueError(f"unknown backend {name!r}; valid backends are "
                         f"{', '.join(map(repr, BACKENDS))}")
    valid = [p for p in inspect.signature(cls).parameters]
    for key in preferences:
        if key not in valid:
            raise ValueError(f"unknown preference '{key}' for the {cls.name} backend; valid "
                             f"preferences: {', '.join(valid) or '(none)'}")
    return cls(**preferences)
