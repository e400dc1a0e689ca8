"""W1, W2 and W3 in one command: EventProp against BPTT on the SHD-shaped network.

Runs W1 (EventProp, hidden 128, 256, 512, 1024 at T = 1000 ms), then, for each T of W2, the
EventProp run (256 hidden) and the BPTT run (PyTorch, the same network, inputs, loss and Adam:
bptt_reference.py) one after the other, so that the two sides of each ratio are measured
close together, plus the forward-equivalence check of the two models. Every configuration
runs in a subprocess of its own (peak RSS is process-wide). Prints Markdown tables: W1; W2
(EventProp s/batch and peak RSS per T, and the growth of the peak from the shortest to the
longest T); W3 (BPTT s/batch and peak RSS per T); and the ratios EventProp / BPTT of time and
memory at each T, with the speed-up BPTT / EventProp. Without PyTorch, W3 and the ratios are
skipped and the rest runs.

    python benchmarks/eventprop_vs_bptt.py [--trial-ms 500 1000 2000 4000] [--hidden 256]
        [--w1-hidden 128 256 512 1024] [--repeats 5] [--max-spikes 256] [--backend cpu]
        [--input-gain 1] [--threads N] [--no-w1] [--no-check] [--json FILE]
"""
import argparse
import time

import bptt_reference  # imports no torch
import shd_step

# The project's targets (printed beside the measurements; nothing is asserted)
TARGET_SPEEDUP_AT_1000 = 3.0     # EventProp at least 3x faster than BPTT at T = 1000 ms
TARGET_MEMORY_AT_1000 = 0.2      # EventProp's peak at most 1/5 of BPTT's at T = 1000 ms
TARGET_GROWTH_PERCENT = 10.0     # EventProp's peak grows < 10 % from T = 500 to 4000 ms


def ratio_rows(ep_rows, bp_rows):
    out = []
    bp = {r["trial_ms"]: r for r in bp_rows}
    for e in ep_rows:
        b = bp.get(e["trial_ms"])
        if b is None:
            continue
        out.append({
            "trial_ms": e["trial_ms"],
            "time_ratio": e["s_per_batch"] / b["s_per_batch"],
            "time_ratio_min": e["min"] / b["min"],
            "speedup": b["s_per_batch"] / e["s_per_batch"],
            "speedup_min": b["min"] / e["min"],
            "memory_ratio": e["peak_rss_mb"] / b["peak_rss_mb"],
            "memory_above_base_ratio": e["peak_above_base_mb"] / b["peak_above_base_mb"]})
    return out


def print_ratios(ep_rows, bp_rows, ratios):
    ep = {r["trial_ms"]: r for r in ep_rows}
    bp = {r["trial_ms"]: r for r in bp_rows}
    print("| T ms | EventProp s / batch | BPTT s / batch | time EventProp / BPTT (of mins) | "
          "speed-up BPTT / EventProp (of mins) | EventProp peak MB | BPTT peak MB | "
          "memory EventProp / BPTT | above baseline: EventProp / BPTT MB (ratio) | "
          "other load EventProp / BPTT (cores) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in ratios:
        e, b = ep[r["trial_ms"]], bp[r["trial_ms"]]
        print(f"| {r['trial_ms']:g} | {shd_step.ms(e)} | {shd_step.ms(b)} | "
              f"{r['time_ratio']:.3f} ({r['time_ratio_min']:.3f}) | "
              f"{r['speedup']:.2f}x ({r['speedup_min']:.2f}x) | {e['peak_rss_mb']:.0f} | "
              f"{b['peak_rss_mb']:.0f} | {r['memory_ratio']:.3f} | "
              f"{e['peak_above_base_mb']:.0f} / {b['peak_above_base_mb']:.0f} "
              f"({r['memory_above_base_ratio']:.3f}) | {shd_step.load_text(e)} / "
              f"{shd_step.load_text(b)} |")


def busy(*rows):
    return any((shd_step.other_load(r) or 0.0) > shd_step.BUSY_CORES for r in rows)


def print_targets(ep_rows, ratios, bp_rows=()):
    """Each target beside what was measured (met / not met); no assertion."""
    def verdict(ok):
        return "met" if ok else "NOT met"
    lines = []
    at = {r["trial_ms"]: r for r in ratios}
    if 1000.0 in at:
        r = at[1000.0]
        rows = [x for x in list(ep_rows) + list(bp_rows) if x["trial_ms"] == 1000.0]
        lines.append(f"- EventProp >= {TARGET_SPEEDUP_AT_1000:g}x faster than BPTT at T = 1000 ms:"
                     f" {r['speedup']:.2f}x (medians; {r['speedup_min']:.2f}x of the fastest "
                     f"batches): {verdict(r['speedup'] >= TARGET_SPEEDUP_AT_1000)}"
                     + (" -- BUT other processes were busy meanwhile: measure again"
                        if busy(*rows) else ""))
        lines.append(f"- EventProp peak memory <= {TARGET_MEMORY_AT_1000:g} of BPTT's at "
                     f"T = 1000 ms: {r['memory_ratio']:.3f} of the process peaks "
                     f"({r['memory_above_base_ratio']:.3f} of the peaks above each process's "
                     f"baseline): {verdict(r['memory_ratio'] <= TARGET_MEMORY_AT_1000)}")
    rows = sorted(ep_rows, key=lambda r: r["trial_ms"])
    if len(rows) > 1:
        g = shd_step.growth(rows)
        lines.append(f"- EventProp peak memory grows < {TARGET_GROWTH_PERCENT:g} % from T = "
                     f"{rows[0]['trial_ms']:g} to {rows[-1]['trial_ms']:g} ms: {g:+.1f} % "
                     f"({rows[0]['peak_rss_mb']:.0f} -> {rows[-1]['peak_rss_mb']:.0f} MB): "
                     f"{verdict(g < TARGET_GROWTH_PERCENT)}")
    if lines:
        print("\nTargets (measured on a shared machine; see the spread in the tables):")
        print("\n".join(lines))


def memory_notes(ep_rows):
    """Where EventProp's memory goes, from the rows' own figures."""
    rows = sorted(ep_rows, key=lambda r: r["trial_ms"])
    print("\nEventProp memory by part, MB: after imports | + examples + model build (of which "
          "the examples' spike arrays) | engine state arrays: total (rings / gradients / Adam / "
          "other) | initial-value copies kept by the extra global parameters | peak - baseline")
    for r in rows:
        a = r.get("engine_arrays_mb") or {}
        parts = " / ".join(f"{a.get(k, 0):.0f}" for k in ("rings", "gradients", "adam", "other"))
        print(f"- T = {r['trial_ms']:g} ms: {r['import_rss_mb']:.0f} | "
              f"+{r['base_rss_mb'] - r['import_rss_mb']:.0f} ({r.get('pool_mb', 0):.0f}) | "
              f"{a.get('total', 0):.0f} ({parts}) | {a.get('egp_init_copies', 0):.0f} | "
              f"{r['peak_above_base_mb']:.0f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trial-ms", type=float, nargs="+", default=shd_step.W2_TRIAL_MS)
    ap.add_argument("--hidden", type=int, default=shd_step.W2_HIDDEN,
                    help="hidden size of W2 and W3")
    ap.add_argument("--w1-hidden", type=int, nargs="+", default=shd_step.W1_HIDDEN)
    ap.add_argument("--no-w1", action="store_true", help="skip W1")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--max-spikes", type=int, default=shd_step.N_MAX_SPIKE,
                    help="EventProp's N_MAX_SPIKE for every T")
    ap.add_argument("--input-gain", type=float, default=1.0,
                    help="scale both networks' initial input weights (1: the defaults, with "
                         "which the hidden layer is almost silent; 1.5: ~25 Hz)")
    ap.add_argument("--backend", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: cores)")
    ap.add_argument("--no-check", action="store_true",
                    help="skip the forward-equivalence check")
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args()
    start = time.time()
    torch = bptt_reference.torch_version()
    threads = args.threads or shd_step.cores()
    desc = shd_step.machine()
    print(f"Machine: {desc}")
    print(f"EventProp: {args.backend} backend, N_MAX_SPIKE = {args.max_spikes} for every T. "
          f"BPTT: " + (f"PyTorch {torch} on the CPU, torch.set_num_threads({threads})"
                       if torch else "PyTorch is not installed (pip install torch==2.13.0): "
                                     "W3 and the ratios are skipped"))
    print(f"Network: 700 Poisson inputs ({shd_step.SPIKES_PER_EXAMPLE} spikes / s / example), "
          f"recurrent LIF hidden, 20 LI outputs, sum_weigh_exp, dt = 1 ms, batch "
          f"{shd_step.BATCH}, Adam (lr 1e-3), initial input weights x {args.input_gain:g}. "
          f"Times: median (min-max) of {args.repeats} batches after one warm-up; every "
          f"configuration in its own subprocess.\n", flush=True)
    result = {"machine": desc, "backend": args.backend, "n_max_spike": args.max_spikes,
              "input_gain": args.input_gain,
              "repeats": args.repeats, "torch": torch, "torch_threads": threads if torch else None}

    if not args.no_w1:
        print(f"## W1: EventProp, T = {shd_step.T_MS:g} ms\n")
        print(shd_step.table_header(), flush=True)
        result["w1"] = shd_step.run_configs(
            [(h, shd_step.T_MS) for h in args.w1_hidden], args.backend, args.repeats,
            args.max_spikes, on_row=lambda r: print(shd_step.table_row(r), flush=True),
            input_gain=args.input_gain)

    if torch and not args.no_check:
        check = bptt_reference.run_check(args.hidden, 1000.0)
        result["check"] = check
        print("\n" + bptt_reference.equivalence_line(check), flush=True)

    print(f"\nW2 / W3: {args.hidden} hidden, T = "
          f"{', '.join(format(t, 'g') for t in args.trial_ms)} ms (EventProp, then BPTT, per T)",
          flush=True)
    ep_rows, bp_rows = [], []
    for trial_ms in args.trial_ms:
        ep_rows += shd_step.run_configs([(args.hidden, trial_ms)], args.backend, args.repeats,
                                        args.max_spikes, input_gain=args.input_gain)
        print(f"  EventProp T = {trial_ms:g}: {shd_step.ms(ep_rows[-1])} s, peak "
              f"{ep_rows[-1]['peak_rss_mb']:.0f} MB (other load, cores: "
              f"{shd_step.load_text(ep_rows[-1])})", flush=True)
        if torch:
            bp_rows += bptt_reference.run_configs(args.hidden, [trial_ms], args.repeats,
                                                  threads, input_gain=args.input_gain)
            print(f"  BPTT      T = {trial_ms:g}: {shd_step.ms(bp_rows[-1])} s, peak "
                  f"{bp_rows[-1]['peak_rss_mb']:.0f} MB (other load, cores: "
                  f"{shd_step.load_text(bp_rows[-1])})", flush=True)
    result["w2"], result["w3"] = ep_rows, bp_rows

    print(f"\n## W2: EventProp memory against T ({args.hidden} hidden)\n")
    print(shd_step.table_header())
    for r in ep_rows:
        print(shd_step.table_row(r))
    g = shd_step.growth(ep_rows)
    if g is not None:
        g2 = shd_step.growth(ep_rows, "peak_above_base_mb")
        first, last = (sorted(ep_rows, key=lambda r: r["trial_ms"])[k] for k in (0, -1))
        flat = [r["base_rss_mb"] - r["pool_mb"] for r in (first, last)]
        state = [(r.get("engine_arrays_mb") or {}).get("total", 0.0) for r in (first, last)]
        print(f"\nPeak RSS grows {g:+.1f} % from T = {first['trial_ms']:g} to "
              f"{last['trial_ms']:g} ms (the peak above the baseline: {g2:+.1f} %). The "
              f"baseline less the examples' spike arrays: {flat[0]:.0f} -> {flat[1]:.0f} MB "
              f"({100 * (flat[1] / flat[0] - 1):+.1f} %); the engine's state arrays: "
              f"{state[0]:.0f} -> {state[1]:.0f} MB; the examples' spike arrays: "
              f"{first['pool_mb']:.0f} -> {last['pool_mb']:.0f} MB; peak - baseline (the "
              f"transients of a batch, such as encoding its input spikes): "
              f"{first['peak_above_base_mb']:.0f} -> {last['peak_above_base_mb']:.0f} MB.")
    memory_notes(ep_rows)

    if torch:
        print(f"\n## W3: BPTT reference ({args.hidden} hidden)\n")
        print(bptt_reference.table_header())
        for r in bp_rows:
            print(bptt_reference.table_row(r))
        ratios = ratio_rows(ep_rows, bp_rows)
        result["ratios"] = ratios
        print("\n## EventProp / BPTT\n")
        print_ratios(ep_rows, bp_rows, ratios)
        print_targets(ep_rows, ratios, bp_rows)
    else:
        print("\nW3 and the ratios: skipped (PyTorch is not installed).")
        print_targets(ep_rows, [])
    print(f"\n({time.time() - start:.0f} s in all)")
    if args.json:
        shd_step.write_json(args.json, result)


if __name__ == "__main__":
    main()
