"""Throughput and start-up time of the eventprop.engine ``cpu`` backend.

Workload: a 700 -> 256 DENSE network, batch 32, dt = 1 ms, 1000 steps run with
``model.run(1000)``. The 700 inputs are a SpikeSourceArray fed with Poisson spike trains
(about 11 Hz per channel, generated in NumPy, different in every batch instance: the
``spikeTimes`` EGP holds all batches' spikes concatenated and each batch instance has its own
``startSpike`` / ``endSpike`` range). The 256 hidden neurons are the built-in LIF with an
exponential current (``ExpCurr``) through ``StaticPulse`` weights drawn from
Normal(0, 0.05), which keeps them firing at about 30 Hz (printed; the cost of the neuron
update depends on it through its branches).

Figures (each the median, with min and max, of ``--repeats`` timed runs after a warm-up run):

- synaptic events per second  = (input spikes emitted in the run) x 256 / wall time of run
- neuron updates per second    = (700 + 256) x 32 x 1000 / wall time of run
- both at 1 and 2 threads (``GeNNModel(..., num_threads=k)``, a preference of the cpu
  backend), and synaptic events per second per core (divided by the thread count);
- start-up: the wall time of ``build()`` + ``load()`` of the first, cold build into a fresh
  cache directory (``GeNNModel(..., cache_dir=...)``, a temporary directory removed at the
  end), and of the second run: a new Python process that defines the same model and finds
  its compiled library in the cache (median of several such processes; reported both as
  build()+load() and as the whole process, from interpreter start to loaded model).

Targets: >= 1e9 synaptic events per second per core; cached start (build + load) < 1 s.

Usage::

    python benchmarks/engine_throughput.py [--repeats 7] [--threads 1 2] [--json out.json]
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from eventprop.engine import GeNNModel, init_postsynaptic, init_var, init_weight_update
from shd_step import cpu_busy_s, cpu_model

TARGET_EVENTS_PER_CORE = 1e9
TARGET_CACHED_START_S = 1.0

LIF_PARAMS = {"C": 1.0, "TauM": 20.0, "Vrest": 0.0, "Vreset": 0.0, "Vthresh": 1.0,
              "Ioffset": 0.0, "TauRefrac": 2.0}


def poisson_input(num_inputs, batch_size, num_steps, rate_hz, dt_ms, seed):
    """Poisson spike trains, one per input and batch instance, as one concatenated array of
    spike times with per-(batch, input) [start, end) ranges, shape (batch, inputs)."""
    rng = np.random.default_rng(seed)
    p = rate_hz * dt_ms / 1000.0
    times, counts = [], []
    for _ in range(batch_size):
        mask = rng.random((num_inputs, num_steps), dtype=np.float32) < p
        neuron, step = np.nonzero(mask)                 # sorted by neuron, then time
        times.append(step.astype(np.float64) * dt_ms)
        counts.append(np.bincount(neuron, minlength=num_inputs))
    counts = np.stack(counts).reshape(-1)
    end = np.cumsum(counts)
    start = end - counts
    shape = (batch_size, num_inputs)
    return (np.concatenate(times), start.reshape(shape).astype(np.uint32),
            end.reshape(shape).astype(np.uint32))


def make_model(cfg, spikes, num_threads=None, cache_dir=None, name="throughput", record=False):
    times, start, end = spikes
    prefs = {}
    if num_threads is not None:
        prefs["num_threads"] = num_threads
    if cache_dir is not None:
        prefs["cache_dir"] = cache_dir
    model = GeNNModel(cfg.precision, name, **prefs)
    model.dt = cfg.dt
    model.batch_size = cfg.batch
    model.seed = 1234
    inp = model.add_neuron_population("inp", cfg.inputs, "SpikeSourceArray", {},
                                      {"startSpike": start, "endSpike": end})
    inp.extra_global_params["spikeTimes"].set_init_values(times)
    hid = model.add_neuron_population("hid", cfg.hidden, "LIF", LIF_PARAMS,
                                      {"V": 0.0, "RefracTime": 0.0})
    hid.spike_recording_enabled = record
    model.add_synapse_population(
        "inp_hid", "DENSE", inp, hid,
        init_weight_update("StaticPulse", {},
                           {"g": init_var("Normal", {"mean": cfg.w_mean, "sd": cfg.w_sd})}),
        init_postsynaptic("ExpCurr", {"tau": 5.0}))
    return model


def reset_state(model, start):
    """Rewind the model to t = 0 without rebuilding or reloading it."""
    inp = model.neuron_populations["inp"]
    hid = model.neuron_populations["hid"]
    inp.vars["startSpike"].view[...] = start
    hid.vars["V"].view[...] = 0.0
    hid.vars["RefracTime"].view[...] = 0.0
    model.synapse_populations["inp_hid"].out_post.view[...] = 0.0
    model.timestep = 0


def timed_runs(model, cfg, start, repeats):
    """Wall time of ``model.run(steps)`` and the input spikes it emitted, per repeat."""
    inp = model.neuron_populations["inp"]
    out = []
    for k in range(repeats + 1):                        # the first run is a warm-up
        reset_state(model, start)
        t0 = time.perf_counter()
        model.run(cfg.steps)
        wall = time.perf_counter() - t0
        emitted = int(np.sum(inp.vars["startSpike"].view.astype(np.int64) - start))
        if k > 0:
            out.append((wall, emitted))
    return out


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def busy_cpus(interval=0.5):
    """CPUs kept busy by other processes (and taken by the hypervisor) over ``interval`` s."""
    before = cpu_busy_s()
    time.sleep(interval)
    after = cpu_busy_s()
    if before is None or after is None:
        return None
    return sum(a - b for a, b in zip(after, before)) / interval


def compiler_version():
    cxx = os.environ.get("CXX", "g++")
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True)
        return out.stdout.split("\n")[0]
    except OSError:
        return f"{cxx} (not found)"


def fmt(s, scale=1.0, digits=3):
    return (f"{s['median'] / scale:.{digits}g} "
            f"[{s['min'] / scale:.{digits}g} .. {s['max'] / scale:.{digits}g}]")


def startup_child(cfg):
    """The second run: define the model, build (a cache hit) and load it; print the time."""
    spikes = poisson_input(cfg.inputs, cfg.batch, cfg.steps, cfg.rate, cfg.dt, cfg.seed)
    model = make_model(cfg, spikes, cache_dir=cfg.startup_child)
    t0 = time.perf_counter()
    model.build(never_rebuild=True)
    model.load()
    print(json.dumps({"build_load_s": time.perf_counter() - t0}))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per thread count")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts to measure")
    parser.add_argument("--start-repeats", type=int, default=5,
                        help="cached build()+load() measurements")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--inputs", type=int, default=700)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--rate", type=float, default=11.0, help="input rate, Hz")
    parser.add_argument("--dt", type=float, default=1.0, help="time step, ms")
    parser.add_argument("--precision", choices=["float", "double"], default="float")
    parser.add_argument("--seed", type=int, default=0, help="seed of the input spikes")
    parser.add_argument("--w-mean", type=float, default=0.0, help="mean input weight")
    parser.add_argument("--w-sd", type=float, default=0.05,
                        help="s.d. of the input weights (0.05: hidden neurons at ~30 Hz)")
    parser.add_argument("--json", metavar="FILE", help="write the figures to FILE")
    parser.add_argument("--startup-child", metavar="CACHE", help=argparse.SUPPRESS)
    cfg = parser.parse_args(argv)
    if cfg.startup_child:
        return startup_child(cfg)

    # Other processes on the machine distort the figures, the thread scaling above all
    busy_at_start = busy_cpus()
    spikes = poisson_input(cfg.inputs, cfg.batch, cfg.steps, cfg.rate, cfg.dt, cfg.seed)
    times, start, end = spikes
    # A fresh, empty code cache, so that the first build compiles; every later model of the
    # benchmark has the same source (the thread count is a run-time argument) and hits it
    cache_dir = tempfile.mkdtemp(prefix="eventprop_bench_cache_")
    try:
        # -- start-up -----------------------------------------------------------
        model = make_model(cfg, spikes, cache_dir=cache_dir)
        t0 = time.perf_counter()
        model.build()
        cold_build = time.perf_counter() - t0
        model.load()
        cold = time.perf_counter() - t0
        backend = model.backend_name
        model.unload()
        cached, process = [], []
        for _ in range(cfg.start_repeats):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--startup-child", cache_dir,
                                  *(argv if argv is not None else sys.argv[1:])],
                                 capture_output=True, text=True, check=True)
            process.append(time.perf_counter() - t0)
            cached.append(json.loads(out.stdout)["build_load_s"])

        # -- throughput ---------------------------------------------------------
        neuron_updates = (cfg.inputs + cfg.hidden) * cfg.batch * cfg.steps
        results = {}
        for k in cfg.threads:
            model = make_model(cfg, spikes, num_threads=k, cache_dir=cache_dir)
            model.build()
            model.load()
            runs = timed_runs(model, cfg, start, cfg.repeats)
            model.unload()
            walls = [w for w, _ in runs]
            emitted = {e for _, e in runs}
            if len(emitted) != 1:
                raise RuntimeError(f"input spikes differ between repeats: {sorted(emitted)}")
            n_spikes = emitted.pop()
            if n_spikes != times.size:
                raise RuntimeError(f"the inputs emitted {n_spikes} spikes, not the "
                                   f"{times.size} of their spike trains")
            events = [n_spikes * cfg.hidden / w for w in walls]
            results[k] = {
                "threads": k,
                "input_spikes": n_spikes,
                "run_time_s": summary(walls),
                "synaptic_events_per_s": summary(events),
                "synaptic_events_per_s_per_core": summary([e / k for e in events]),
                "neuron_updates_per_s": summary([neuron_updates / w for w in walls]),
            }

        # -- the hidden firing rate of the same run (spike recording is not timed) -----
        model = make_model(cfg, spikes, cache_dir=cache_dir, record=True)
        model.build()
        model.load(num_recording_timesteps=cfg.steps)
        model.run(cfg.steps)
        hidden_spikes = sum(len(t) for t, _ in
                            model.neuron_populations["hid"].spike_recording_data)
        hidden_rate = hidden_spikes / (cfg.batch * cfg.hidden * cfg.steps * cfg.dt / 1000.0)
        model.unload()
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    machine = {"cpu": cpu_model(), "logical_cpus": os.cpu_count(),
               "usable_cpus": affinity, "platform": platform.platform(),
               "python": platform.python_version(), "compiler": compiler_version(),
               "busy_cpus_at_start": busy_at_start}
    expected = cfg.inputs * cfg.batch * cfg.steps * cfg.rate * cfg.dt / 1000.0
    config = {"inputs": cfg.inputs, "hidden": cfg.hidden, "connectivity": "DENSE",
              "batch": cfg.batch, "steps": cfg.steps, "dt_ms": cfg.dt, "rate_hz": cfg.rate,
              "precision": cfg.precision, "neuron": "LIF", "postsynaptic": "ExpCurr",
              "weight_update": "StaticPulse", "input_spikes_total": int(times.size),
              "weights": f"Normal(mean={cfg.w_mean:g}, sd={cfg.w_sd:g})",
              "hidden_rate_hz": hidden_rate,
              "repeats": cfg.repeats, "start_repeats": cfg.start_repeats}
    startup = {"cold_build_s": cold_build, "cold_build_load_s": cold,
               "cached_build_load_s": summary(cached),
               "cached_process_s": summary(process)}

    print("eventprop.engine throughput benchmark")
    print(f"machine : {machine['cpu']}; {machine['logical_cpus']} logical CPUs "
          f"({machine['usable_cpus']} usable); {machine['platform']}")
    if busy_at_start is not None:
        print(f"load    : {busy_at_start:.2f} CPUs busy with other processes just before the runs"
              + (" -- the figures (thread scaling above all) are pessimistic"
                 if busy_at_start > 0.2 else ""))
    print(f"backend : {backend} ({machine['compiler']}), precision {cfg.precision}")
    print(f"config  : {cfg.inputs} -> {cfg.hidden} DENSE, batch {cfg.batch}, {cfg.steps} steps "
          f"of {cfg.dt:g} ms, Poisson {cfg.rate:g} Hz per input "
          f"({times.size} input spikes in all, {expected:.0f} expected), LIF + ExpCurr + "
          f"StaticPulse, weights Normal({cfg.w_mean:g}, {cfg.w_sd:g}), hidden neurons at "
          f"{hidden_rate:.1f} Hz; median [min .. max] of {cfg.repeats} runs")
    print()
    header = (f"{'threads':>7} | {'run time (ms)':>22} | {'syn. events/s (1e9)':>22} | "
              f"{'per core (1e9)':>22} | {'neuron updates/s (1e9)':>22} | {'speed-up':>8}")
    print(header)
    print("-" * len(header))
    base = next(iter(results.values()))["run_time_s"]["median"]
    for k, r in results.items():
        r["speedup_vs_first"] = base / r["run_time_s"]["median"]
        print(f"{k:>7} | {fmt(r['run_time_s'], 1e-3):>22} | "
              f"{fmt(r['synaptic_events_per_s'], 1e9):>22} | "
              f"{fmt(r['synaptic_events_per_s_per_core'], 1e9):>22} | "
              f"{fmt(r['neuron_updates_per_s'], 1e9):>22} | {r['speedup_vs_first']:>7.2f}x")
    print()
    print(f"start-up: cold build()+load() {cold:.3f} s (build {cold_build:.3f} s, fresh cache)")
    print(f"          second run, a new process hitting the cache: build()+load() "
          f"{fmt(startup['cached_build_load_s'], 1.0)} s, whole process "
          f"{fmt(startup['cached_process_s'], 1.0)} s (median [min .. max] of "
          f"{cfg.start_repeats})")
    best_per_core = max(r["synaptic_events_per_s_per_core"]["median"] for r in results.values())
    cached_ok = startup["cached_build_load_s"]["median"] < TARGET_CACHED_START_S
    per_core_ok = best_per_core >= TARGET_EVENTS_PER_CORE
    print(f"targets : >= {TARGET_EVENTS_PER_CORE:.0e} synaptic events/s per core: "
          f"{'met' if per_core_ok else 'NOT met'} (best median {best_per_core:.3g}); "
          f"cached start < {TARGET_CACHED_START_S:g} s: {'met' if cached_ok else 'NOT met'}")

    if cfg.json:
        tmp = cfg.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"machine": machine, "backend": backend, "config": config,
                       "startup": startup,
                       "throughput": {str(k): r for k, r in results.items()},
                       "targets": {"synaptic_events_per_s_per_core": TARGET_EVENTS_PER_CORE,
                                   "cached_start_s": TARGET_CACHED_START_S,
                                   "per_core_met": per_core_ok, "cached_start_met": cached_ok}},
                      f, indent=2)
        os.replace(tmp, cfg.json)
        print(f"wrote {cfg.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
