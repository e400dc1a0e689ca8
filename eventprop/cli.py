"""The ``eventprop`` command: train, test and cross-validate the simulators, plot runs, and
show the backends."""
import argparse
import ast
import importlib
import importlib.util
import json
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
    from .engine.backends.cuda import INSTALL_CUPY, gpu_available
    if importlib.util.find_spec("cupy") is None:
        return f"CuPy not installed ({INSTALL_CUPY})"
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


# name on the command line -> (module, class) of the simulator
SIMULATORS = {"yinyang": ("simulators.simulator_yinyang", "YinYang"),
              "mnist": ("simulators.simulator_MNIST", "MNIST"),
              "shd": ("simulators.simulator_SHD", "SHD")}
# command -> method of the simulator
RUNS = {"train": "train", "test": "test", "train-test": "train_test", "xval": "cross_validate"}


def parse_setting(text):
    """``KEY=VALUE`` with VALUE a Python literal (0.01, 3, True, None, [1, 2], 'x'), or else
    the plain string, so that --set LOSS_TYPE=sum needs no quotes."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--set expects KEY=VALUE, got {text!r}")
    try:
        return key.strip(), ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return key.strip(), value.strip()


def simulator_params(args):
    """The simulator class and ``p``: its defaults, then --params, then the options."""
    module, name = SIMULATORS[args.simulator]
    cls = getattr(importlib.import_module(module), name)
    p = dict(cls.defaults)
    if args.params:
        try:
            with open(args.params) as f:
                p.update(json.load(f))
        except OSError as e:
            raise SystemExit(f"eventprop: cannot read --params {args.params}: {e.strerror}")
        except json.JSONDecodeError as e:
            raise SystemExit(f"eventprop: --params {args.params} is not valid JSON: {e}")
    p.update(dict(args.set))
    for option, key in (("out", "OUT_DIR"), ("backend", "BACKEND"), ("name", "NAME"),
                        ("data", "DATA_DIR")):
        if getattr(args, option) is not None:
            p[key] = getattr(args, option)
    if args.quiet:
        p["PROGRESS"] = False
    return cls, p


def _run(args):
    from eventprop.data import MissingDataError
    from eventprop.params import ParameterError
    cls, p = simulator_params(args)
    try:
        sim = cls(p)
        getattr(sim, RUNS[args.command])(p)
    except (ParameterError, MissingDataError) as e:
        raise SystemExit(f"eventprop: {e}")
    out = sim.run_dir(sim.p)
    print(f"results in {out / 'test' if args.command == 'test' else out}")
    return 0


def _params(args):
    from simulators.base import parameter_table
    module, name = SIMULATORS[args.simulator]
    print(parameter_table(getattr(importlib.import_module(module), name)), end="")
    return 0


def _plot(args):
    from .training.plots import plot_run
    try:
        for path in plot_run(args.run_dir):
            print(f"wrote {path}")
    except FileNotFoundError as e:
        raise SystemExit(f"eventprop: {e}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="eventprop", description=__doc__)
    parser.add_argument("--version", action="version", version=f"eventprop {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="show the available backends, compiler and code cache"
                   ).set_defaults(func=_info)
    sub.add_parser("clear-cache", help="delete the compiled-model cache"
                   ).set_defaults(func=_clear_cache)
    for command, method in RUNS.items():
        run = sub.add_parser(command, help=f"{method.replace('_', ' ')} a simulator "
                             f"({', '.join(SIMULATORS)})")
        run.add_argument("simulator", choices=sorted(SIMULATORS))
        run.add_argument("--set", action="append", default=[], type=parse_setting,
                         metavar="KEY=VALUE", help="set a parameter (a Python literal or a "
                         "string), e.g. --set N_EPOCH=5 --set LOSS_TYPE=sum")
        run.add_argument("--params", metavar="FILE.json", help="parameters from a JSON file "
                         "(a run's params.json, say), before --set")
        run.add_argument("--out", help="output folder (OUT_DIR)")
        run.add_argument("--name", help="run name (NAME): results go to OUT_DIR/NAME")
        run.add_argument("--data", help="data folder (DATA_DIR)")
        run.add_argument("--backend", choices=["auto", "cpu", "cuda", "genn"])
        run.add_argument("--quiet", action="store_true", help="no progress output")
        run.set_defaults(func=_run)
    params = sub.add_parser("params", help="a simulator's parameters, defaults and meanings "
                            "(a Markdown table)")
    params.add_argument("simulator", choices=sorted(SIMULATORS))
    params.set_defaults(func=_params)
    plot = sub.add_parser("plot", help="learning curves and spike raster of a run as PNG")
    plot.add_argument("run_dir", help="a run folder, OUT_DIR/NAME")
    plot.set_defaults(func=_plot)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
