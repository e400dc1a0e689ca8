"""Backends: ``cpu`` (generated C++), ``genn`` (a real pygenn 5) and the choice of one."""


def make_backend(name, preferences):
    if name in (None, "auto"):
        from .cpu import CpuBackend
        return CpuBackend(**preferences)
    if name == "cpu":
        from .cpu import CpuBackend
        return CpuBackend(**preferences)
    if name == "genn":
        from .genn import GeNNBackend
        return GeNNBackend(**preferences)
    raise ValueError(f"unknown backend {name!r}; valid backends are 'auto', 'cpu' and 'genn'")
