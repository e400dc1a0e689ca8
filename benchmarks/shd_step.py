"""W1 / W5: an SHD-shaped EventProp training step, and an SHD-sized epoch.

700 Poisson input channels (about 8,000 spikes per example over 1 s), one recurrent hidden
layer of LIF neurons, 20 leaky-integrator outputs, loss sum_weigh_exp, dt = 1 ms, T = 1000
steps, batch 32, Adam. For each hidden size: seconds per training batch (forward + backward
+ update; median, min, max of the repeats after one warm-up batch), examples per second,
synaptic events per second (forward spikes x fan-out plus the same backward events), neuron
updates per second, peak resident memory (and GPU memory on the cuda backend). With
``--epoch``, also the seconds for one SHD-sized epoch (8,156 examples, 255 batches).

    python benchmarks/shd_step.py [--backend cpu|cuda] [--hidden 128 256 512 1024] [--epoch]
"""
import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time

import numpy as np

from simulators.base import EventPropNetwork

NUM_INPUT, NUM_OUTPUT, T_MS, BATCH = 700, 20, 1000.0, 32
SHD_TRAIN_EXAMPLES = 8156
SPIKES_PER_EXAMPLE = 8000


def poisson_examples(n, rng):
    """Examples of Poisson spikes: SPIKES_PER_EXAMPLE on average, uniform over channels."""
    out = []
    for _ in range(n):
        count = rng.poisson(SPIKES_PER_EXAMPLE)
        out.append((rng.uniform(0.0, T_MS, count), rng.integers(0, NUM_INPUT, count)))
    return out


def network(hidden, backend):
    p = {"NUM_HIDDEN": hidden, "RECURRENT": True, "LOSS_TYPE": "sum_weigh_exp", "DT_MS": 1.0,
         "TRIAL_MS": T_MS, "N_BATCH": BATCH, "BACKEND": backend, "MODEL_SEED": 1,
         "PDROP_INPUT": 0.0}
    return EventPropNetwork(p, NUM_INPUT, NUM_OUTPUT)


def gpu_memory():
    try:
        import cupy
        free, total = cupy.cuda.runtime.memGetInfo()
        return total - free
    except Exception:
        return None


def measure(hidden, backend, repeats, pool, labels):
    net = network(hidden, backend)
    times, events = [], []
    for r in range(repeats + 1):
        k = (r * BATCH) % len(pool)
        X, Y = pool[k:k + BATCH], labels[k:k + BATCH]
        start = time.perf_counter()
        spikes = net.train_batch(X, Y).spikes
        elapsed = time.perf_counter() - start
        # each spike is delivered forward and flagged once backward, to its whole fan-out
        fan_out = spikes["input"] * hidden + spikes["hidden0"] * (hidden + NUM_OUTPUT)
        if r:
            times.append(elapsed)
            events.append(2 * fan_out)
    median = statistics.median(times)
    neuron_updates = (NUM_INPUT + hidden + NUM_OUTPUT) * BATCH * (2 * int(T_MS) + 1)
    return net, {
        "hidden": hidden, "s_per_batch": median, "min": min(times), "max": max(times),
        "examples_per_s": BATCH / median,
        "syn_events_per_s": statistics.median(events) / median,
        "neuron_updates_per_s": neuron_updates / median,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "gpu_memory_mb": (gpu_memory() or 0) / 2**20 if backend == "cuda" else None}


def epoch(net, pool, labels):
    """One SHD-sized epoch: 255 training batches, the last one partial."""
    start = time.perf_counter()
    for k in range(0, SHD_TRAIN_EXAMPLES, BATCH):
        idx = np.arange(k, min(k + BATCH, SHD_TRAIN_EXAMPLES)) % len(pool)
        net.train_batch([pool[i] for i in idx], labels[idx])
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--hidden", type=int, nargs="+", default=[128, 256, 512, 1024])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epoch", action="store_true", help="also time one SHD-sized epoch")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    pool = poisson_examples(4 * BATCH, rng)
    labels = rng.integers(0, NUM_OUTPUT, len(pool))
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    if args.backend == "cuda":
        import cupy
        machine += ", " + cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"W1 ({args.backend}): {machine}")
    print("| hidden | s / batch (min-max) | examples / s | syn. events / s | "
          "neuron updates / s | peak RSS MB | GPU MB |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for hidden in args.hidden:
        net, row = measure(hidden, args.backend, args.repeats, pool, labels)
        if args.epoch:
            row["epoch_s"] = epoch(net, pool, labels)
        rows.append(row)
        print(f"| {hidden} | {row['s_per_batch']:.4f} ({row['min']:.4f}-{row['max']:.4f}) | "
              f"{row['examples_per_s']:.0f} | {row['syn_events_per_s']:.3g} | "
              f"{row['neuron_updates_per_s']:.3g} | {row['peak_rss_mb']:.0f} | "
              f"{row['gpu_memory_mb'] or '-'} |"
              + (f" epoch of {SHD_TRAIN_EXAMPLES} examples: {row['epoch_s']:.2f} s"
                 if args.epoch else ""), flush=True)
    if args.json:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(args.json)))
        with os.fdopen(fd, "w") as f:
            json.dump({"machine": machine, "backend": args.backend, "rows": rows}, f, indent=1)
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
