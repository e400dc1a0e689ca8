"""W1 / W2 / W5: an SHD-shaped EventProp training step, its memory against the trial length,
and an SHD-sized epoch.

700 Poisson input channels at the SHD rate (about 8,000 spikes per example per second, so a
trial of T ms has about 8 T spikes), one recurrent hidden layer of LIF neurons, 20
leaky-integrator outputs, loss sum_weigh_exp, dt = 1 ms, batch 32, Adam.

W1 (the default): T = 1000 ms and hidden sizes 128, 256, 512, 1024. W2 (``--w2``): 256
hidden at T = 500, 1000, 2000, 4000 ms. For each configuration: seconds per training batch
(forward + backward + update; median, min, max of the repeats after one warm-up batch),
examples per second, synaptic events per second (forward spikes x fan-out plus the same
backward events), neuron updates per second, where a batch's time goes (the forward and
backward runs, the custom updates, and the rest: on the cpu backend the host's own work, on
the cuda backend the time the GPU waits for the host, each phase timed there by CUDA events
in the model's stream), and memory: the process's peak resident set (``ru_maxrss``, the
main figure), its resident set after the imports, the examples and the model build (the
baseline) and the peak above that baseline; on the cuda backend also the GPU memory in use.
With ``--epoch``, also the seconds for one SHD-sized epoch (8,156 examples, 255 batches),
where they go by the same phases, and the hidden layer's mean rate over the epoch.

``ru_maxrss`` is a process-wide high-water mark, so with more than one configuration each one
runs in a subprocess of its own (this script with that one configuration).

N_MAX_SPIKE (ring slots per neuron and batch instance: a neuron's spikes in one trial that get
a gradient) is one fixed value for every T, so that EventProp's state cannot grow with T: the
default, 256, is about 3x the most spikes any input channel has in a 4 s trial at this rate
(76 in 128 examples of this rate), far above what the almost silent hidden neurons of the
initial network emit, and above the 167 of the busiest hidden neuron in 4 s with
``--input-gain 1.5`` (a hidden layer at ~25 Hz, as in a trained network); the most spikes per
neuron seen in each configuration are printed beside it, and a ring that overflows stops the
benchmark (SPIKE_OVERFLOW "error").

    python benchmarks/shd_step.py [--backend cpu|cuda] [--hidden 128 256 512 1024]
                                  [--trial-ms 1000] [--w2] [--max-spikes 256] [--epoch]
                                  [--input-gain 1] [--repeats 5] [--json FILE]
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

NUM_INPUT, NUM_OUTPUT, T_MS, DT_MS, BATCH = 700, 20, 1000.0, 1.0, 32
SHD_TRAIN_EXAMPLES = 8156
SPIKES_PER_EXAMPLE = 8000      # input spikes per example and second of trial (the SHD rate)
N_MAX_SPIKE = 256              # ring slots per neuron, the same for every trial length
W1_HIDDEN = [128, 256, 512, 1024]
W2_HIDDEN, W2_TRIAL_MS = 256, [500.0, 1000.0, 2000.0, 4000.0]
POOL_BATCHES = 1               # batches of examples the repeats cycle through: the data (4 bytes a
#                                spike, for EventProp and BPTT alike) are held once
BUSY_CORES = 0.25              # other processes' load above which times are flagged
# Where a batch's time goes: the model's forward and backward runs, its custom updates
# (softmax, gradient reduction, Adam), and the rest, "host" (encoding the batch, copies,
# Python; on the cuda backend the part of it the GPU waits for)
PHASES = ("forward", "backward", "updates", "host")


def poisson_examples(n, rng, trial_ms=T_MS):
    """Examples of Poisson spikes over ``trial_ms``: SPIKES_PER_EXAMPLE per second on average,
    uniform over channels and time, each at the start of its 1 ms bin; uint16 times in ms and
    uint16 channel ids (4 bytes a spike), as eventprop.data.shd keeps SHD at DT_MS = 1."""
    out = []
    for _ in range(n):
        count = rng.poisson(SPIKES_PER_EXAMPLE * trial_ms / 1000.0)
        out.append((rng.integers(0, int(trial_ms), count, dtype=np.uint16),
                    rng.integers(0, NUM_INPUT, count, dtype=np.uint16)))
    return out


def example_pool(trial_ms, seed=0):
    """The examples and labels every benchmark of this trial length uses."""
    rng = np.random.default_rng(seed)
    pool = poisson_examples(POOL_BATCHES * BATCH, rng, trial_ms)
    return pool, rng.integers(0, NUM_OUTPUT, len(pool))


def max_input_spikes(pool, dt=1.0):
    """The most spikes one input channel emits in one trial (distinct time steps, as the input
    population replays them)."""
    most = 0
    for t, i in pool:
        step = np.ceil(np.asarray(t) / dt - 1e-6).astype(np.int64)
        span = int(step.max(initial=0)) + 1
        keys = np.unique(np.asarray(i, np.int64) * span + step)
        most = max(most, int(np.bincount(keys // span).max(initial=0)))
    return most


def pool_mb(pool):
    """Memory of the examples' spike arrays, MB."""
    return sum(t.nbytes + i.nbytes for t, i in pool) / 2**20


def network(hidden, backend, trial_ms=T_MS, max_spikes=N_MAX_SPIKE, input_gain=1.0):
    """The benchmark's EventPropNetwork; ``input_gain`` scales its initial input weights (1:
    the defaults, with which the hidden layer is almost silent at first)."""
    from simulators.network import EventPropNetwork
    p = {"NUM_HIDDEN": hidden, "RECURRENT": True, "LOSS_TYPE": "sum_weigh_exp", "DT_MS": DT_MS,
         "TRIAL_MS": trial_ms, "N_BATCH": BATCH, "BACKEND": backend, "MODEL_SEED": 1,
         "PDROP_INPUT": 0.0, "N_MAX_SPIKE": max_spikes}
    net = EventPropNetwork(p, NUM_INPUT, NUM_OUTPUT)
    if input_gain != 1.0:
        net.set_weights({"in_to_hid": net.get_weights()["in_to_hid"] * input_gain})
    return net


# -- machine and memory (shared with bptt_reference.py and eventprop_vs_bptt.py) -----------

def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine():
    return f"{cpu_model()}, {cores()} cores available ({os.cpu_count()} online)"


def rss_mb():
    """The process's resident set now, MB."""
    try:
        import psutil
        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb():
    """The process's peak resident set so far, MB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def write_json(path, obj):
    """Writes ``obj`` to ``path`` atomically (a temporary file, then os.replace)."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def cpu_busy_s():
    """CPU seconds the whole machine has been busy (user, nice, system, irq, softirq) and
    stolen by the hypervisor, from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def run_child(argv, what):
    """Runs ``python argv... --json TMP`` in a subprocess and returns the JSON it wrote, with
    ``contention``: the cores that other processes kept busy meanwhile (the machine's busy
    CPU time less the subprocess's own, per second of wall time) and the cores stolen by the
    hypervisor. Raises RuntimeError with ``what`` and the end of its output if it failed.

    The subprocess's peak RSS starts from this process's (Linux keeps the high-water mark
    through fork and exec): a parent that measures its children must stay smaller than them."""
    fd, tmp = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        busy0, own0 = cpu_busy_s(), resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable] + list(argv) + ["--json", tmp],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wall = time.perf_counter() - start
        busy1, own1 = cpu_busy_s(), resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}")
        with open(tmp) as f:
            result = json.load(f)
        if busy0 and busy1:
            own = (own1.ru_utime + own1.ru_stime) - (own0.ru_utime + own0.ru_stime)
            result["contention"] = {
                "wall_s": wall,
                "other_cores": max(0.0, (busy1[0] - busy0[0] - own) / wall),
                "steal_cores": (busy1[1] - busy0[1]) / wall}
        return result
    finally:
        os.unlink(tmp)


def child_row(argv, what, on_row=None):
    """The one row of a configuration run by ``run_child``, with its contention, passed to
    ``on_row`` as it comes."""
    result = run_child(argv, what)
    row = result["rows"][0]
    row["contention"] = result.get("contention")
    if on_row:
        on_row(row)
    return row


def other_load(row):
    """The cores other processes (and the hypervisor) took while ``row`` was measured."""
    c = row.get("contention")
    return None if c is None else c["other_cores"] + c["steal_cores"]


def spread(times):
    return {"s_per_batch": statistics.median(times), "min": min(times), "max": max(times),
            "times": times}


# -- the measurement -----------------------------------------------------------------------

def gpu_memory():
    try:
        import cupy
        free, total = cupy.cuda.runtime.memGetInfo()
        return total - free
    except Exception:
        return None


def gpu_sync():
    """A function that waits until the GPU has done all its work."""
    import cupy
    return cupy.cuda.runtime.deviceSynchronize


def cuda_stream(net):
    """The CUDA stream into which the cuda backend puts the network's work."""
    return net.model._loaded.stream


class PhaseClock:
    """Seconds a model spends in its forward runs (``steps`` steps), its backward runs (any
    other length) and its custom updates, from wrapping its ``run`` and ``custom_update``.
    On the cpu backend these return when the work is done, and the clock reads the host's
    clock around them. cuda launches return at once: given the model's CUDA ``stream``, the
    clock records an event into it before and after each, and ``take`` reads the GPU's time
    between them, so that timing neither waits for the GPU nor keeps the host's work from
    overlapping the GPU's."""

    def __init__(self, model, steps, stream=None):
        self.stream = stream
        self.spans = []        # (phase, start, end): host seconds, or CUDA events
        run, update = model.run, model.custom_update

        def timed(phase, call, arg):
            start = self._now()
            call(arg)
            self.spans.append((phase, start, self._now()))

        def timed_run(n):
            timed("forward" if n == steps else "backward", run, n)

        def timed_update(group):
            timed("updates", update, group)
        model.run, model.custom_update = timed_run, timed_update

    def _now(self):
        """The host's clock, or an event recorded into the stream."""
        if self.stream is None:
            return time.perf_counter()
        import cupy
        event = cupy.cuda.Event()
        event.record(self.stream)
        return event

    def take(self):
        """The seconds spent since the last take, by phase (on cuda, once the GPU has done
        that work)."""
        spent = dict.fromkeys(PHASES[:3], 0.0)
        if self.stream is None:
            for phase, start, end in self.spans:
                spent[phase] += end - start
        elif self.spans:
            import cupy
            self.spans[-1][2].synchronize()
            for phase, start, end in self.spans:
                spent[phase] += cupy.cuda.get_elapsed_time(start, end) / 1e3
        self.spans = []
        return spent


def engine_arrays_mb(net):
    """The engine's state arrays (cpu backend: the loaded runtime's arrays), MB, by kind."""
    arrays = getattr(getattr(net.model, "_loaded", None), "arrays", None)
    if not arrays:
        return None
    kinds = {}
    for key, a in arrays.items():
        name = key.split(".")[-1]
        kind = ("rings" if name in ("spikeStep", "ring_step", "ring_ImV", "ring_B")
                else "gradients" if name in ("Gradient", "reduced")
                else "adam" if name in ("m", "v") else "other")
        kinds[kind] = kinds.get(kind, 0.0) + a.nbytes / 2**20
    kinds["total"] = sum(kinds.values())
    # copies of the initial values that the model's extra global parameters keep after load()
    kinds["egp_init_copies"] = sum(
        _held_bytes(getattr(egp, "init_values", None))
        for group in list(net.model.neuron_populations.values())
        + list(net.model.synapse_populations.values())
        for egp in getattr(group, "extra_global_params", {}).values()) / 2**20
    return kinds


def _held_bytes(a):
    """Bytes an array holds (one element where it repeats a single value)."""
    if a is None:
        return 0
    return a.itemsize if a.strides == (0,) else a.nbytes


def measure(hidden, backend, repeats, pool, labels, trial_ms=T_MS, max_spikes=N_MAX_SPIKE,
            import_rss=None, input_gain=1.0):
    net = network(hidden, backend, trial_ms, max_spikes, input_gain)
    base_rss = rss_mb()
    steps = net.trial_steps
    times, events, phases = [], [], []
    clock, sync = timing(net, backend)
    most_hidden = hidden_spikes = 0
    for r in range(repeats + 1):
        k = (r * BATCH) % len(pool)
        X, Y = pool[k:k + BATCH], labels[k:k + BATCH]
        start = time.perf_counter()
        spikes = net.train_batch(X, Y).spikes
        sync()
        elapsed = time.perf_counter() - start
        spent = clock.take()
        n_spk = net.hidden[0].vars["n_spk"]
        n_spk.pull_from_device()
        most_hidden = max(most_hidden, int(np.max(n_spk.view)))
        # each spike is delivered forward and flagged once backward, to its whole fan-out
        fan_out = spikes["input"] * hidden + spikes["hidden0"] * (hidden + NUM_OUTPUT)
        if r:
            times.append(elapsed)
            events.append(2 * fan_out)
            hidden_spikes += spikes["hidden0"]
            phases.append({**spent, "host": elapsed - sum(spent.values())})
    row = spread(times)
    median = row["s_per_batch"]
    neuron_updates = (NUM_INPUT + hidden + NUM_OUTPUT) * BATCH * (2 * steps + 1)
    peak = peak_rss_mb()
    row.update({
        "hidden": hidden, "trial_ms": trial_ms, "n_max_spike": max_spikes, "repeats": repeats,
        "input_gain": input_gain,
        "hidden_rate_hz": hidden_spikes / (repeats * BATCH * hidden * trial_ms / 1000.0),
        "examples_per_s": BATCH / median,
        "syn_events_per_s": statistics.median(events) / median,
        "neuron_updates_per_s": neuron_updates / median,
        "input_spikes_per_example": statistics.mean(len(t) for t, _ in pool),
        "pool_mb": pool_mb(pool),
        "max_spikes_seen": {"input": max_input_spikes(pool), "hidden": most_hidden},
        "phases_s": {name: statistics.median(p[name] for p in phases) for name in PHASES},
        "peak_rss_mb": peak, "import_rss_mb": import_rss, "base_rss_mb": base_rss,
        "peak_above_base_mb": peak - base_rss,
        "engine_arrays_mb": engine_arrays_mb(net),
        "loadavg_1min": os.getloadavg()[0],
        "gpu_memory_mb": (gpu_memory() or 0) / 2**20 if backend == "cuda" else None})
    return row


def timing(net, backend):
    """A PhaseClock on the network's model and a function that waits for its work."""
    if backend == "cuda":
        return PhaseClock(net.model, net.trial_steps, cuda_stream(net)), gpu_sync()
    return PhaseClock(net.model, net.trial_steps), lambda: None


def epoch(net, pool, labels, backend):
    """One SHD-sized epoch: 255 training batches, the last one partial. Its seconds, the
    seconds of its model work by phase ("host": the rest; on cuda the time the GPU waited
    for the host), and the hidden layer's mean rate over it, Hz."""
    clock, sync = timing(net, backend)
    hidden_spikes = 0
    start = time.perf_counter()
    for k in range(0, SHD_TRAIN_EXAMPLES, BATCH):
        idx = np.arange(k, min(k + BATCH, SHD_TRAIN_EXAMPLES)) % len(pool)
        hidden_spikes += net.train_batch([pool[i] for i in idx], labels[idx]).spikes["hidden0"]
    sync()
    seconds = time.perf_counter() - start
    phases = clock.take()
    phases["host"] = seconds - sum(phases.values())
    rate = hidden_spikes / (SHD_TRAIN_EXAMPLES * net.p["NUM_HIDDEN"] * net.p["TRIAL_MS"] / 1e3)
    return seconds, phases, rate


def run_one(hidden, trial_ms, backend="cpu", repeats=5, max_spikes=N_MAX_SPIKE,
            with_epoch=False, input_gain=1.0):
    """One configuration in this process (its peak RSS is this process's)."""
    import simulators.network  # noqa: F401  (the imports belong to the baseline)
    import_rss = rss_mb()
    pool, labels = example_pool(trial_ms)
    row = measure(hidden, backend, repeats, pool, labels, trial_ms, max_spikes, import_rss,
                  input_gain)
    if with_epoch:
        # 255 batches of the pool's 32 examples drive some hidden neurons above 256 spikes
        # in a trial, so the epoch's network has a ring slot for every step: none overflows
        net = network(hidden, backend, trial_ms, round(trial_ms / DT_MS), input_gain)
        row["epoch_s"], row["epoch_phases_s"], row["epoch_hidden_rate_hz"] = epoch(
            net, pool, labels, backend)
    return row


def run_configs(configs, backend="cpu", repeats=5, max_spikes=N_MAX_SPIKE, with_epoch=False,
                on_row=None, input_gain=1.0):
    """Each (hidden, trial_ms) of ``configs`` in a subprocess of its own; the rows."""
    rows = []
    for hidden, trial_ms in configs:
        argv = [os.path.abspath(__file__), "--backend", backend, "--hidden", str(hidden),
                "--trial-ms", str(trial_ms), "--repeats", str(repeats),
                "--max-spikes", str(max_spikes), "--input-gain", str(input_gain),
                "--quiet"] + (["--epoch"] if with_epoch else [])
        rows.append(child_row(argv, f"EventProp, {hidden} hidden, T = {trial_ms:g} ms",
                              on_row))
    return rows


# -- tables --------------------------------------------------------------------------------

def ms(row):
    return f"{row['s_per_batch']:.3f} ({row['min']:.3f}-{row['max']:.3f})"


def table_header():
    return ("| hidden | T ms | s / batch (min-max) | examples / s | syn. events / s | "
            "neuron updates / s | peak RSS MB | baseline MB | peak - baseline MB | "
            "hidden rate Hz | max spikes/neuron in, hid (N_MAX_SPIKE) | GPU MB | "
            "ms: forward / backward / updates / host | other load (cores) |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def table_row(row):
    seen = row["max_spikes_seen"]
    line = (f"| {row['hidden']} | {row['trial_ms']:g} | {ms(row)} | "
            f"{row['examples_per_s']:.0f} | {row['syn_events_per_s']:.3g} | "
            f"{row['neuron_updates_per_s']:.3g} | {row['peak_rss_mb']:.0f} | "
            f"{row['base_rss_mb']:.0f} | {row['peak_above_base_mb']:.0f} | "
            f"{row['hidden_rate_hz']:.2g} | {seen['input']}, {seen['hidden']} "
            f"({row['n_max_spike']}) | "
            f"{'-' if row['gpu_memory_mb'] is None else format(row['gpu_memory_mb'], '.0f')} | "
            f"{phases_text(row)} | {load_text(row)} |")
    if "epoch_s" in row:
        phases = " / ".join(f"{row['epoch_phases_s'][name]:.2f}" for name in PHASES)
        line += (f" epoch of {SHD_TRAIN_EXAMPLES} examples: {row['epoch_s']:.2f} s "
                 f"(s: {phases}; hidden {row['epoch_hidden_rate_hz']:.2g} Hz)")
    return line


def phases_text(row):
    """The medians of a batch's time by phase, ms."""
    if not row.get("phases_s"):
        return "-"
    return " / ".join(f"{1e3 * row['phases_s'][name]:.1f}" for name in PHASES)


def load_text(row):
    """The other load during a row's run, flagged where it can have distorted the times."""
    load = other_load(row)
    if load is None:
        return "-"
    return f"{load:.2f}" + (" (busy: times unreliable)" if load > BUSY_CORES else "")


def growth(rows, key="peak_rss_mb"):
    """Growth of ``key`` from the shortest to the longest trial, in %."""
    rows = sorted(rows, key=lambda r: r["trial_ms"])
    if len(rows) < 2:
        return None
    return 100.0 * (rows[-1][key] / rows[0][key] - 1.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--hidden", type=int, nargs="+", default=None,
                    help=f"hidden sizes (default {W1_HIDDEN}; with --w2 {W2_HIDDEN})")
    ap.add_argument("--trial-ms", type=float, nargs="+", default=None,
                    help=f"trial lengths in ms (default {T_MS:g}; with --w2 {W2_TRIAL_MS})")
    ap.add_argument("--w2", action="store_true",
                    help=f"W2: {W2_HIDDEN} hidden at T = {W2_TRIAL_MS} ms")
    ap.add_argument("--max-spikes", type=int, default=N_MAX_SPIKE,
                    help=f"N_MAX_SPIKE, ring slots per neuron, for every T (default "
                         f"{N_MAX_SPIKE})")
    ap.add_argument("--input-gain", type=float, default=1.0,
                    help="scale the initial input weights (default 1; 1.5 makes the hidden "
                         "layer fire ~25 Hz, as a trained one does, instead of almost never)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epoch", action="store_true", help="also time one SHD-sized epoch")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    hidden = args.hidden or ([W2_HIDDEN] if args.w2 else W1_HIDDEN)
    trial_ms = args.trial_ms or (W2_TRIAL_MS if args.w2 else [T_MS])
    configs = [(h, t) for h in hidden for t in trial_ms]
    desc = machine()
    if args.backend == "cuda":
        import cupy
        desc += ", " + cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    if len(configs) == 1:
        rows = [run_one(*configs[0], args.backend, args.repeats, args.max_spikes, args.epoch,
                        args.input_gain)]
    if not args.quiet:
        print(f"EventProp ({args.backend} backend): {desc}")
        print(f"700 Poisson inputs ({SPIKES_PER_EXAMPLE} spikes / s / example), recurrent LIF "
              f"hidden, 20 LI outputs, sum_weigh_exp, dt = 1 ms, batch {BATCH}, Adam; "
              f"N_MAX_SPIKE = {args.max_spikes} for every T; median (min-max) of "
              f"{args.repeats} batches after one warm-up; input weights x {args.input_gain:g}; "
              + ("one subprocess per configuration" if len(configs) > 1 else "this process"))
        print(table_header(), flush=True)
        if len(configs) == 1:
            print(table_row(rows[0]), flush=True)
        else:
            rows = run_configs(configs, args.backend, args.repeats, args.max_spikes,
                               args.epoch, on_row=lambda r: print(table_row(r), flush=True),
                               input_gain=args.input_gain)
        for h in hidden:
            g = growth([r for r in rows if r["hidden"] == h])
            if g is not None:
                g2 = growth([r for r in rows if r["hidden"] == h], "peak_above_base_mb")
                print(f"{h} hidden: peak RSS grows {g:+.1f} % from T = {min(trial_ms):g} to "
                      f"{max(trial_ms):g} ms (peak above baseline: {g2:+.1f} %)")
    elif len(configs) > 1:
        rows = run_configs(configs, args.backend, args.repeats, args.max_spikes, args.epoch,
                           input_gain=args.input_gain)
    if args.json:
        write_json(args.json, {"machine": desc, "backend": args.backend,
                               "n_max_spike": args.max_spikes, "input_gain": args.input_gain,
                               "rows": rows})


if __name__ == "__main__":
    main()
