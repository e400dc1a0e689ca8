"""The ``eventprop`` command."""
import argparse
import importlib.util
import os
import shutil
import sys

from . import __version__


def _info(args):
    from .engine.backends.cpu import default_cache_dir
    cxx = os.environ.get("CXX", "g++")
    print(f"eventprop {__version__}")
    print(f"cpu backend : C++ compiler {shutil.which(cxx) or f'{cxx} (NOT FOUND)'}, "
          f"{len(os.sched_getaffinity(0))} threads")
    print(f"cuda backend: {_cuda_status()}")
    print(f"genn backend: pygenn {'installed' if importlib.util.find_spec('pygenn') else 'not installed'}")
    print(f"cache       : {os.environ.get('EVENTPROP_CACHE_DIR') or default_cache_dir()}")
    return 0


def _cuda_status():
    if importlib.util.find_spec("cupy") is None:
        return "CuPy not installed (pip install 'eventprop[cuda]')"
    from .engine.backends.cuda import gpu_available
    if not gpu_available():
        return "CuPy installed, no GPU found"
    import cupy
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return f"{cupy.cuda.runtime.getDeviceCount()} GPU(s), first: {name}"


def _clear_cache(args):
    from .engine.backends.cpu import default_cache_dir
    path = default_cache_dir()
    shutil.rmtree(path, ignore_errors=True)
    print(f"removed {path}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="eventprop", description=__doc__)
    parser.add_argument("--version", action="version", version=f"eventprop {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="show the available backends, compiler and code cache"
                   ).set_defaults(func=_info)
    sub.add_parser("clear-cache", help="delete the compiled-model cache"
                   ).set_defaults(func=_clear_cache)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
