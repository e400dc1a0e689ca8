"""Backends: ``cpu`` (generated C++), ``genn`` (a real pygenn 5) and the choice of one."""
import inspect


def make_backend(name, preferences):
    if name in (None, "auto", "cpu"):
        from .cpu import CpuBackend as cls
    elif name == "genn":
        from .genn import GeNNBackend as cls
    else:
        raise ValueError(f"unknown backend {name!r}; valid backends are 'auto', 'cpu' and 'genn'")
    valid = [p for p in inspect.signature(cls).parameters]
    for key in preferences:
        if key not in valid:
            raise ValueError(f"unknown preference '{key}' for the {cls.name} backend; valid "
                             f"preferences: {', '.join(valid) or '(none)'}")
    return cls(**preferences)
