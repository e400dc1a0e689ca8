"""The SHD data path on an SHD-sized file: preprocessing, reading the cache and one epoch's
augmentation, in seconds and memory.

Writes a training file in the official HDF5 format (8,156 examples of Poisson spikes,
SPIKES_PER_EXAMPLE per second over 1 s on 700 channels, float32 seconds as in the official
files) and then runs three stages, each in a subprocess of its own (peak RSS is process-wide):
``preprocess`` (the first load: reading, binning at DT_MS = 1, writing the cache),
``cache`` (the second load, from the cache) and ``augment`` (a load from the cache, then
AUGMENTATION on every example, as at the start of a training epoch). For each: seconds, the
process's peak resident set, and the resident set that the stage's result adds (the examples,
or the augmented examples beside them).

    python benchmarks/shd_data.py [--examples 8156] [--augmentation '{"random_shift": 40}']
                                  [--folder DIR] [--json FILE]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from shd_step import (NUM_INPUT, SHD_TRAIN_EXAMPLES, SPIKES_PER_EXAMPLE, T_MS, machine,
                      peak_rss_mb, rss_mb, run_child, write_json)

STAGES = ("preprocess", "cache", "augment")
AUGMENTATION = {"random_shift": 40.0, "ID_jitter": 5.0}
NUM_CLASSES, NUM_SPEAKERS = 20, 10


def write_file(folder, n_examples, seed=0):
    """An SHD training file of ``n_examples`` Poisson examples under ``folder`` (tonic's
    layout)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from tests.shd_files import shd_path, write_h5   # the official format, as the tests write it
    rng = np.random.default_rng(seed)
    times, units = [], []
    for _ in range(n_examples):
        count = rng.poisson(SPIKES_PER_EXAMPLE * T_MS / 1000.0)
        times.append(np.sort(rng.uniform(0.0, T_MS / 1000.0, count)))
        units.append(rng.integers(0, NUM_INPUT, count))
    index = np.arange(n_examples)
    return write_h5(shd_path(folder, "SHD", "train"), times, units, index % NUM_CLASSES,
                    index % NUM_SPEAKERS, num_classes=NUM_CLASSES)


def measured(work):
    """``work()``, the seconds it took and the resident memory it added, MB."""
    before, start = rss_mb(), time.perf_counter()
    result = work()
    return result, time.perf_counter() - start, rss_mb() - before


def run_stage(stage, folder, augmentation):
    """One stage in this process; its row."""
    from eventprop.data.augment import augment
    from eventprop.data.shd import load_spiking_audio
    cache = os.path.join(folder, "cache")
    from_cache = os.path.isdir(cache) and bool(os.listdir(cache))
    data, seconds, held = measured(lambda: load_spiking_audio(
        "SHD", "train", folder, trial_ms=T_MS, dt_ms=1.0, cache_dir=cache))
    examples = data.examples()
    if stage == "augment":
        (examples, _), seconds, held = measured(lambda: augment(
            examples, data.labels, augmentation, NUM_INPUT, T_MS, len(data),
            np.random.default_rng(1)))
    types = [str(examples[0][0].dtype), str(examples[0][1].dtype)]
    return {"stage": stage, "from_cache": from_cache, "seconds": seconds,
            "peak_rss_mb": peak_rss_mb(), "added_rss_mb": held, "examples": len(data),
            "spikes": sum(len(t) for t in data.times),
            "bytes_per_spike": sum(np.dtype(t).itemsize for t in types), "types": types}


def table(rows):
    lines = ["| stage | seconds | peak RSS MB | RSS added MB | spikes | types (times, ids) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['stage']} | {r['seconds']:.2f} | {r['peak_rss_mb']:.0f} | "
              f"{r['added_rss_mb']:.0f} | {r['spikes'] / 1e6:.1f} M | "
              f"{', '.join(r['types'])} |" for r in rows]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=SHD_TRAIN_EXAMPLES)
    ap.add_argument("--augmentation", type=json.loads, default=AUGMENTATION,
                    help=f"the AUGMENTATION dict, as JSON (default {json.dumps(AUGMENTATION)})")
    ap.add_argument("--folder", help="where the file and the cache go (default: a temporary "
                                     "folder, removed at the end)")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--stage", choices=("write",) + STAGES, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage == "write":
        start = time.perf_counter()
        write_file(args.folder, args.examples)
        write_json(args.json, {"seconds": time.perf_counter() - start})
        return
    if args.stage:
        write_json(args.json, {"rows": [run_stage(args.stage, args.folder,
                                                   args.augmentation)]})
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or scratch
        # in a subprocess too: a child's peak RSS starts from its parent's (Linux keeps the
        # high-water mark through fork and exec), so this process must stay small
        written = run_child([os.path.abspath(__file__), "--stage", "write", "--folder", folder,
                             "--examples", str(args.examples)], "writing the file")
        shutil.rmtree(os.path.join(folder, "cache"), ignore_errors=True)  # preprocess afresh
        print(f"SHD data path: {machine()}; {args.examples} examples of "
              f"{SPIKES_PER_EXAMPLE} spikes / s over {T_MS:g} ms written in "
              f"{written['seconds']:.1f} s; augmentation "
              f"{json.dumps(args.augmentation)}; one subprocess per stage", flush=True)
        rows = []
        for stage in STAGES:
            argv = [os.path.abspath(__file__), "--stage", stage, "--folder", folder,
                    "--augmentation", json.dumps(args.augmentation)]
            rows.append(run_child(argv, f"stage {stage}")["rows"][0])
        print(table(rows))
    if args.json:
        write_json(args.json, {"machine": machine(), "augmentation": args.augmentation,
                               "rows": rows})


if __name__ == "__main__":
    main()
