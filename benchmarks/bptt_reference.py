"""W3: the W1/W2 network trained by backpropagation through time in PyTorch (CPU).

The same network as ``shd_step.py``: 700 inputs, a recurrent hidden layer of LIF neurons (256
by default), 20 leaky-integrator outputs, loss sum_weigh_exp, dt = 1 ms, batch 32, Adam
(lr 1e-3, betas 0.9 / 0.999, eps 1e-8), the same initial weights (Normal draws in the order of
``EventPropNetwork`` from MODEL_SEED 1) and the same Poisson examples
(``shd_step.example_pool``), encoded to time steps by the engine's own ``encode_batch``.

The forward pass is the engine's discrete-time model step for step (``models.py`` on the
GeNN-5-like engine, which runs the synapses, then the neurons, in each step):
  step n:  I_n = alpha_s I_{n-1} + W_in^T x_{n-1} + W_rec^T s_{n-1}   (a spike of step n-1
                                                                       arrives in step n)
           V  <- alpha_m V + beta I_n;  s_n = [V >= v_thresh];  V <- v_reset where s_n
  output:  logit += exp(-n / S) V_o / S  (V_o before its update), V_o <- alpha_m V_o + beta I_o
  loss  = cross entropy of softmax(logit), mean over the batch
with alpha_m = exp(-dt/tau_m), alpha_s = exp(-dt/tau_syn), beta = tau_syn / (tau_m - tau_syn)
(alpha_m - alpha_s) computed as the engine's TauCoefficients does. The backward pass is
autograd through all S steps with a SuperSpike (fast sigmoid) surrogate derivative
1 / (scale |V - v_thresh| + 1)^2 of the spike, and the reset not differentiated (detached), as
in Zenke's SpyTorch. The input drive of all steps is one sparse x dense product before the
loop (the input spikes stay sparse); the time loop is eager PyTorch. Adam is written out with
the engine's formula (the same as torch.optim.Adam, whose first use imports torch._dynamo and
adds ~70 MB of resident memory that has nothing to do with BPTT; ``--torch-adam`` uses it).

Reported per T (each in a subprocess of its own, as ``ru_maxrss`` is process-wide): seconds
per batch (input encoding + forward + backward + Adam; median, min, max of the repeats after
one warm-up batch) and the process's peak resident set. ``torch.set_num_threads`` is set to
the number of cores this process may use.

The forward-equivalence check (first, unless ``--no-check``) builds an ``EventPropNetwork``
with the same weights in double precision (the initial ones with the input weights x 1.5, so
that the hidden layer fires at ~25 Hz rather than almost never), runs the benchmark's first
batch through both forward passes and compares the hidden spike trains, the output voltages
at every step, the logits and the losses; it runs in a subprocess of its own so that it does
not touch the timed runs.

    python benchmarks/bptt_reference.py [--hidden 256] [--trial-ms 500 1000 2000 4000]
                                        [--repeats 5] [--input-gain 1] [--threads N]
                                        [--torch-adam] [--no-check] [--json FILE]
"""
import argparse
import math
import os
import time

import numpy as np

import shd_step
from shd_step import BATCH, NUM_INPUT, NUM_OUTPUT

# The network's parameters, as simulators/defaults.py has them (tests/test_benchmarks.py checks
# that they still agree); read here rather than imported, so that the BPTT process does not
# carry the engine's modules in its memory figure
DEFAULTS = {"TAU_MEM": 20.0, "TAU_SYN": 5.0, "V_THRESH": 1.0, "V_RESET": 0.0,
            "INPUT_HIDDEN_MEAN": 0.02, "INPUT_HIDDEN_STD": 0.01,
            "HIDDEN_HIDDEN_MEAN": 0.0, "HIDDEN_HIDDEN_STD": 0.02,
            "HIDDEN_OUTPUT_MEAN": 0.0, "HIDDEN_OUTPUT_STD": 0.3,
            "ETA": 1e-3, "ADAM_BETA1": 0.9, "ADAM_BETA2": 0.999, "ADAM_EPS": 1e-8}
MODEL_SEED = 1
SURROGATE_SCALE = 10.0


def coefficients(tau_m, tau_syn, dt):
    """alpha_m, alpha_s, beta exactly as models.TAU_COEFFICIENTS computes them."""
    alpha_m, alpha_s = math.exp(-dt / tau_m), math.exp(-dt / tau_syn)
    d = dt / tau_syn - dt / tau_m
    beta = alpha_s * dt / tau_m * (1.0 if d == 0.0 else math.expm1(d) / d)
    return alpha_m, alpha_s, beta


def initial_weights(num_input, hidden, num_output, seed=MODEL_SEED, p=DEFAULTS):
    """The initial weights of EventPropNetwork (RECURRENT, one hidden layer, homogeneous taus):
    Normal draws from default_rng(MODEL_SEED) in its order in_to_hid, hid_to_hid, hid_to_out."""
    rng = np.random.default_rng(seed)
    return {"in_to_hid": rng.normal(p["INPUT_HIDDEN_MEAN"], p["INPUT_HIDDEN_STD"],
                                    (num_input, hidden)),
            "hid_to_hid": rng.normal(p["HIDDEN_HIDDEN_MEAN"], p["HIDDEN_HIDDEN_STD"],
                                     (hidden, hidden)),
            "hid_to_out": rng.normal(p["HIDDEN_OUTPUT_MEAN"], p["HIDDEN_OUTPUT_STD"],
                                     (hidden, num_output))}


def encode_input(X, num_input, trial_steps, dt=1.0):
    """(step, example, channel) of every input spike, as the engine's input population emits
    them: ``simulators.inputs.encode_batch`` (a spike at time t in the first step that starts
    at or after t; several spikes of a channel in one step are one; cropped at the end)."""
    from simulators.inputs import encode_batch
    start, end, steps = encode_batch(X, len(X), num_input, 0, 0.0, dt, trial_steps,
                                     trial_steps, 0.0, None)
    counts = (end - start).ravel()
    slot = np.repeat(np.arange(counts.size), counts)
    spikes = steps[steps >= 0]   # without the separators between the neurons' runs
    return spikes.astype(np.int64), slot // num_input, slot % num_input


def make_torch_network(torch):
    """The BPTT network class, defined once torch is imported (torch stays an optional
    dependency of the package)."""

    class SpikeFunction(torch.autograd.Function):
        """Heaviside spike of V - v_thresh with the SuperSpike surrogate derivative."""

        @staticmethod
        def forward(ctx, v, v_thresh, scale):
            ctx.save_for_backward(v)
            ctx.v_thresh, ctx.scale = v_thresh, scale
            return (v >= v_thresh).to(v.dtype)

        @staticmethod
        def backward(ctx, grad):
            v, = ctx.saved_tensors
            return grad / (ctx.scale * (v - ctx.v_thresh).abs() + 1.0) ** 2, None, None

    class BPTTNetwork:
        """input -> recurrent LIF hidden -> LI output, sum_weigh_exp, trained by BPTT."""

        def __init__(self, num_input, hidden, num_output, trial_ms, dt=1.0, weights=None,
                     dtype=torch.float32, p=DEFAULTS, surrogate_scale=SURROGATE_SCALE,
                     coeffs=None, torch_adam=False):
            self.num_input, self.hidden, self.num_output = num_input, hidden, num_output
            self.dt, self.dtype, self.p = dt, dtype, p
            self.trial_steps = int(round(trial_ms / dt))
            self.alpha_m, self.alpha_s, self.beta = coeffs or coefficients(
                p["TAU_MEM"], p["TAU_SYN"], dt)
            self.surrogate_scale = surrogate_scale
            if weights is None:
                weights = initial_weights(num_input, hidden, num_output)
            self.W_in, self.W_rec, self.W_out = (
                torch.tensor(np.asarray(weights[k]), dtype=dtype, requires_grad=True)
                for k in ("in_to_hid", "hid_to_hid", "hid_to_out"))
            self.parameters = [self.W_in, self.W_rec, self.W_out]
            self.torch_adam = torch_adam
            if torch_adam:
                self.optimiser = torch.optim.Adam(self.parameters, lr=p["ETA"],
                                                  betas=(p["ADAM_BETA1"], p["ADAM_BETA2"]),
                                                  eps=p["ADAM_EPS"])
            else:
                self.moments = [(torch.zeros_like(w), torch.zeros_like(w))
                                for w in self.parameters]
                self.adam_step = 0
            S = self.trial_steps
            # weight of V_o(step n) in the logit: exp(-x) / S with x = n / S
            self.logit_weights = [math.exp(-(n / S)) / S for n in range(S)]

        def input_spikes(self, X):
            """The input spikes of a batch as a sparse (steps x examples, channels) matrix
            whose row (n, b) holds the spikes that arrive in step n (emitted in step n - 1)."""
            S, B = self.trial_steps, len(X)
            step, example, channel = encode_input(X, self.num_input, S, self.dt)
            keep = step + 1 < S
            rows = (step[keep] + 1) * B + example[keep]
            index = torch.from_numpy(np.stack([rows, channel[keep]]))
            values = torch.ones(index.shape[1], dtype=self.dtype)
            return torch.sparse_coo_tensor(index, values, (S * B, self.num_input),
                                           is_coalesced=True, check_invariants=False)

        def forward(self, X, record=False, count=False):
            """The logits (examples, classes); with ``record`` also the hidden spikes and the
            output V after every step's update, (steps, examples, neurons) arrays; with
            ``count`` the number of hidden spikes in ``last_spikes``."""
            S, B, H = self.trial_steps, len(X), self.hidden
            a_m, a_s, beta = self.alpha_m, self.alpha_s, self.beta
            v_thresh, v_reset = self.p["V_THRESH"], self.p["V_RESET"]
            drive = torch.sparse.mm(self.input_spikes(X), self.W_in).view(S, B, H).unbind(0)
            W = torch.cat([self.W_rec, self.W_out], dim=1)
            O = self.num_output
            I, Io, logit = (torch.zeros(B, n, dtype=self.dtype) for n in (H, O, O))
            V, Vo = (torch.full((B, n), v_reset, dtype=self.dtype) for n in (H, O))
            s = None
            n_spikes = torch.zeros((), dtype=torch.int64)
            spikes, volts = [], []
            for n in range(S):
                if s is None:
                    I = I * a_s + drive[n]
                    Io = Io * a_s
                else:
                    r = s @ W
                    I = I * a_s + drive[n] + r[:, :H]
                    Io = Io * a_s + r[:, H:]
                V = a_m * V + beta * I
                s = SpikeFunction.apply(V, v_thresh, self.surrogate_scale)
                fired = s.detach().bool()
                V = V.masked_fill(fired, v_reset)
                if count:
                    n_spikes = n_spikes + fired.sum()
                logit = logit + self.logit_weights[n] * Vo
                Vo = a_m * Vo + beta * Io
                if record:
                    spikes.append(s.detach())
                    volts.append(Vo.detach())
            if count:
                self.last_spikes = int(n_spikes)
            if record:
                return logit, torch.stack(spikes).numpy(), torch.stack(volts).numpy()
            return logit

        def adam(self):
            """Adam as the engine's custom update does it (the same formula as
            torch.optim.Adam, whose first use imports torch._dynamo: ~70 MB of resident memory
            that has nothing to do with BPTT; ``torch_adam=True`` uses it instead)."""
            if self.torch_adam:
                self.optimiser.step()
                return
            p = self.p
            b1, b2 = p["ADAM_BETA1"], p["ADAM_BETA2"]
            self.adam_step += 1
            first, second = 1.0 / (1.0 - b1 ** self.adam_step), 1.0 / (1.0 - b2 ** self.adam_step)
            with torch.no_grad():
                for w, (m, v) in zip(self.parameters, self.moments):
                    g = w.grad
                    m.mul_(b1).add_(g, alpha=1.0 - b1)
                    v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
                    w.sub_(p["ETA"] * first * m / ((v * second).sqrt_() + p["ADAM_EPS"]))

        def train_batch(self, X, Y):
            """Forward, backward, Adam; the loss of the batch."""
            for w in self.parameters:
                w.grad = None
            logit = self.forward(X)
            loss = torch.nn.functional.cross_entropy(logit, torch.as_tensor(np.asarray(Y)))
            loss.backward()
            self.adam()
            return float(loss.detach())

    return BPTTNetwork


# -- timing and memory -------------------------------------------------------------------

def set_threads(torch, threads=None):
    threads = threads or shd_step.cores()
    torch.set_num_threads(threads)
    return threads


def run_one(hidden, trial_ms, repeats=5, threads=None, torch_adam=False, input_gain=1.0):
    """One T in this process: seconds per batch and the process's peak RSS."""
    import torch
    threads = set_threads(torch, threads)
    import simulators.inputs  # noqa: F401  (the imports belong to the baseline)
    import_rss = shd_step.rss_mb()
    pool, labels = shd_step.example_pool(trial_ms)
    weights = initial_weights(NUM_INPUT, hidden, NUM_OUTPUT)
    weights["in_to_hid"] *= input_gain
    net = make_torch_network(torch)(NUM_INPUT, hidden, NUM_OUTPUT, trial_ms, weights=weights,
                                    torch_adam=torch_adam)
    base_rss = shd_step.rss_mb()
    times = []
    for r in range(repeats + 1):
        k = (r * BATCH) % len(pool)
        start = time.perf_counter()
        net.train_batch(pool[k:k + BATCH], labels[k:k + BATCH])
        elapsed = time.perf_counter() - start
        if r:
            times.append(elapsed)
    with torch.no_grad():   # the hidden rate of the last batch, after the timed runs
        net.forward(pool[k:k + BATCH], count=True)
    row = shd_step.spread(times)
    peak = shd_step.peak_rss_mb()
    row.update({"hidden": hidden, "trial_ms": trial_ms, "repeats": repeats,
                "input_gain": input_gain,
                "hidden_rate_hz": net.last_spikes / (BATCH * hidden * trial_ms / 1000.0),
                "examples_per_s": BATCH / row["s_per_batch"], "threads": threads,
                "pool_mb": shd_step.pool_mb(pool), "loadavg_1min": os.getloadavg()[0],
                "torch": torch.__version__, "torch_adam": torch_adam, "peak_rss_mb": peak,
                "import_rss_mb": import_rss, "base_rss_mb": base_rss,
                "peak_above_base_mb": peak - base_rss})
    return row


# -- forward equivalence -----------------------------------------------------------------

def forward_equivalence(hidden=256, trial_ms=1000.0, num_input=NUM_INPUT,
                        num_output=NUM_OUTPUT, X=None, Y=None, weights=None, input_gain=1.0,
                        precision="double", backend="cpu"):
    """The same batch through EventProp's forward pass (EventPropNetwork.evaluate_batch) and
    BPTT's, with the same weights; the differences. ``X``, ``Y`` default to the benchmark's
    first batch at ``trial_ms``; ``weights`` to the networks' common initial weights, with the
    input weights times ``input_gain`` (at the initial weights the hidden layer is nearly
    silent, which would test little)."""
    import torch
    from simulators.network import EventPropNetwork
    if X is None:
        pool, labels = shd_step.example_pool(trial_ms)
        X, Y = pool[:BATCH], labels[:BATCH]
    p = {"NUM_HIDDEN": hidden, "RECURRENT": True, "LOSS_TYPE": "sum_weigh_exp", "DT_MS": 1.0,
         "TRIAL_MS": trial_ms, "N_BATCH": len(X), "BACKEND": backend, "MODEL_SEED": MODEL_SEED,
         "PDROP_INPUT": 0.0, "PRECISION": precision, "N_MAX_SPIKE": int(trial_ms) + 1}
    ep = EventPropNetwork(p, num_input, num_output, record_spikes=["hidden0"],
                          record_vars=[("output", "V")])
    if weights is None:
        weights = ep.get_weights()
        weights["in_to_hid"] = weights["in_to_hid"] * input_gain
    ep.set_weights(weights)
    result = ep.evaluate_batch(X, Y, record=True)
    logit_var = ep.output.vars["logit"]
    logit_var.pull_from_device()
    ep_logit = np.asarray(logit_var.view, np.float64).reshape(len(X), -1)
    ep_v = result.recording["vars"]["output.V"]                      # (steps, examples, out)
    S = ep.trial_steps
    ep_spikes = np.zeros((S, len(X), hidden), bool)
    for b, (t, ids) in enumerate(result.recording["spikes"]["hidden0"]):
        ep_spikes[np.rint(np.asarray(t) / p["DT_MS"]).astype(int), b, ids] = True
    # the engine's own coefficients, so that only the dynamics are compared
    coeffs = []
    for pop in (ep.hidden[0], ep.output):
        values = []
        for name in ("alpha_m", "alpha_s", "beta"):
            var = pop.vars[name]
            var.pull_from_device()
            values.append(np.asarray(var.view, np.float64).ravel())
        coeffs.append(values)
    if not all(np.all(v == v[0]) for c in coeffs for v in c) or \
            not all(a[0] == b[0] for a, b in zip(*coeffs)):
        raise ValueError("forward_equivalence needs homogeneous, equal hidden and output taus")
    dtype = torch.float64 if precision == "double" else torch.float32
    net = make_torch_network(torch)(num_input, hidden, num_output, trial_ms, weights=weights,
                                    dtype=dtype,
                                    coeffs=tuple(float(v[0]) for v in coeffs[0]))
    with torch.no_grad():
        logit, spikes, volts = net.forward(X, record=True)
    logit = logit.numpy().astype(np.float64)
    bptt_loss = float(torch.nn.functional.cross_entropy(
        torch.as_tensor(logit), torch.as_tensor(np.asarray(Y))))
    spikes = spikes.astype(bool)
    count_ep, count_bp = ep_spikes.sum(axis=0), spikes.sum(axis=0)
    return {"hidden": hidden, "trial_ms": trial_ms, "examples": len(X), "precision": precision,
            "input_gain": input_gain,
            "hidden_rate_hz": float(count_ep.mean() / (S * p["DT_MS"] / 1000.0)),
            "hidden_spikes_eventprop": int(count_ep.sum()),
            "hidden_spikes_bptt": int(count_bp.sum()),
            "neurons_with_different_counts": int(np.sum(count_ep != count_bp)),
            "spike_trains_identical": bool(np.array_equal(ep_spikes, spikes)),
            "max_abs_dV_output": float(np.max(np.abs(ep_v - volts))),
            "max_abs_output_V": float(np.max(np.abs(ep_v))),
            "max_abs_dlogit": float(np.max(np.abs(ep_logit - logit))),
            "loss_eventprop": result.loss, "loss_bptt": bptt_loss}


def equivalence_line(c):
    same = c["spike_trains_identical"]
    return (f"forward equivalence ({c['precision']}, {c['hidden']} hidden, T = "
            f"{c['trial_ms']:g} ms, {c['examples']} examples, initial weights with input weights"
            f" x {c['input_gain']:g}: hidden rate {c['hidden_rate_hz']:.1f} Hz): "
            f"{'PASS' if same and c['max_abs_dlogit'] < 1e-6 else 'DIFFERENT'}: hidden spike "
            f"trains {'identical' if same else 'differ'} ({c['hidden_spikes_eventprop']} "
            f"EventProp / {c['hidden_spikes_bptt']} BPTT spikes, "
            f"{c['neurons_with_different_counts']} neuron(s) with different counts); max "
            f"|dV_out| {c['max_abs_dV_output']:.2e} (|V_out| up to {c['max_abs_output_V']:.2f}),"
            f" max |dlogit| {c['max_abs_dlogit']:.2e}, loss {c['loss_eventprop']:.6f} vs "
            f"{c['loss_bptt']:.6f}")


def run_check(hidden, trial_ms, input_gain=1.5, precision="double"):
    """The forward-equivalence check in a subprocess; its result."""
    return shd_step.run_child([os.path.abspath(__file__), "--check-only", "--hidden",
                               str(hidden), "--trial-ms", str(trial_ms), "--precision",
                               precision, "--check-input-gain", str(input_gain)],
                              "forward-equivalence check")["check"]


def run_configs(hidden, trial_ms_list, repeats=5, threads=None, torch_adam=False,
                on_row=None, input_gain=1.0):
    """Each T of ``trial_ms_list`` in a subprocess of its own; the rows."""
    rows = []
    for trial_ms in trial_ms_list:
        argv = [os.path.abspath(__file__), "--hidden", str(hidden), "--trial-ms", str(trial_ms),
                "--repeats", str(repeats), "--input-gain", str(input_gain), "--no-check",
                "--quiet"]
        if threads:
            argv += ["--threads", str(threads)]
        if torch_adam:
            argv += ["--torch-adam"]
        rows.append(shd_step.child_row(argv, f"BPTT, {hidden} hidden, T = {trial_ms:g} ms",
                                       on_row))
    return rows


def table_header():
    return ("| hidden | T ms | s / batch (min-max) | examples / s | peak RSS MB | baseline MB | "
            "peak - baseline MB | hidden rate Hz | other load (cores) |\n"
            "|---|---|---|---|---|---|---|---|---|")


def table_row(row):
    return (f"| {row['hidden']} | {row['trial_ms']:g} | {shd_step.ms(row)} | "
            f"{row['examples_per_s']:.1f} | {row['peak_rss_mb']:.0f} | {row['base_rss_mb']:.0f} | "
            f"{row['peak_above_base_mb']:.0f} | {row['hidden_rate_hz']:.2g} | "
            f"{shd_step.load_text(row)} |")


def torch_version():
    """The installed torch's version, without importing it; None if there is none."""
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("torch")
    except PackageNotFoundError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=shd_step.W2_HIDDEN)
    ap.add_argument("--trial-ms", type=float, nargs="+", default=shd_step.W2_TRIAL_MS)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--input-gain", type=float, default=1.0,
                    help="scale the initial input weights, as shd_step.py --input-gain")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: the cores this process may use)")
    ap.add_argument("--no-check", action="store_true",
                    help="skip the forward-equivalence check")
    ap.add_argument("--check-ms", type=float, default=1000.0,
                    help="trial length of the forward-equivalence check (default 1000)")
    ap.add_argument("--check-input-gain", type=float, default=1.5,
                    help="the check's input weights: the initial ones times this (default 1.5, "
                         "a hidden layer firing ~20 Hz)")
    ap.add_argument("--torch-adam", action="store_true",
                    help="torch.optim.Adam instead of the same formula written out (its first "
                         "use imports torch._dynamo, ~70 MB more resident memory)")
    ap.add_argument("--check-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--precision", default="double", help=argparse.SUPPRESS)
    ap.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    if args.check_only:
        check = forward_equivalence(args.hidden, args.trial_ms[0],
                                    input_gain=args.check_input_gain, precision=args.precision)
        if args.json:
            shd_step.write_json(args.json, {"check": check})
        print(equivalence_line(check))
        return
    if torch_version() is None:
        print("BPTT reference: PyTorch is not installed (pip install torch==2.13.0): skipped")
        if args.json:
            shd_step.write_json(args.json, {"torch": None, "rows": []})
        return
    desc = shd_step.machine()
    threads = args.threads or shd_step.cores()
    if len(args.trial_ms) == 1 and args.quiet:
        rows = [run_one(args.hidden, args.trial_ms[0], args.repeats, threads, args.torch_adam,
                        args.input_gain)]
        if args.json:
            shd_step.write_json(args.json, {"rows": rows})
        else:
            print(table_row(rows[0]))
        return
    print(f"BPTT reference (PyTorch {torch_version()}, CPU, torch.set_num_threads({threads})): "
          f"{desc}")
    print(f"same network, inputs, loss, initial weights and Adam as shd_step.py; SuperSpike "
          f"surrogate (scale {SURROGATE_SCALE:g}); "
          f"{'torch.optim.Adam' if args.torch_adam else 'Adam written out (the engine formula)'};"
          f" input weights x {args.input_gain:g}; median (min-max) of {args.repeats} batches "
          f"after one warm-up; one subprocess per T",
          flush=True)
    check = None
    if not args.no_check:
        check = run_check(args.hidden, args.check_ms, args.check_input_gain)
        print(equivalence_line(check), flush=True)
    print(table_header(), flush=True)
    rows = run_configs(args.hidden, args.trial_ms, args.repeats, threads, args.torch_adam,
                       on_row=lambda r: print(table_row(r), flush=True),
                       input_gain=args.input_gain)
    if args.json:
        shd_step.write_json(args.json, {"machine": desc, "torch": torch_version(),
                                        "threads": threads, "check": check, "rows": rows})


if __name__ == "__main__":
    main()
