"""Small SHD / SSC files in the official HDF5 format, in tonic's layout, for the tests.

The official files hold per example a variable-length array of spike times in seconds
(spikes/times) and one of channel ids 0..699 (spikes/units), the labels, and under extra/
the class names (keys), the speaker ids (speaker) and speaker metadata (meta_info).
"""
import pathlib

import h5py
import numpy as np

SPLITS = {"SHD": ("train", "test"), "SSC": ("train", "valid", "test")}


def shd_path(root, dataset, split):
    """tonic's place for a split: <root>/SHD/shd_train.h5, <root>/SSC/ssc_valid.h5, ..."""
    return pathlib.Path(root) / dataset / f"{dataset.lower()}_{split}.h5"


def write_h5(path, times, units, labels, speakers=None, num_classes=None,
             time_dtype=np.float32):
    """One file in the official format: `times` (seconds) and `units` are lists of arrays,
    one per example; `num_classes` (default max label + 1) names the classes in extra/keys."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = np.asarray(labels)
    n = len(labels)
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    speakers = np.zeros(n, dtype=np.uint16) if speakers is None else np.asarray(speakers)
    with h5py.File(path, "w") as f:
        for name, arrays, dtype in (("times", times, time_dtype), ("units", units, np.uint16)):
            data = f.create_dataset(f"spikes/{name}", (n,), dtype=h5py.vlen_dtype(dtype))
            for i, a in enumerate(arrays):
                data[i] = np.asarray(a, dtype=dtype)
        f["labels"] = labels.astype(np.uint16)
        f["extra/speaker"] = speakers.astype(np.uint16)
        f["extra/keys"] = np.array([f"class-{c}" for c in range(num_classes)], dtype="S")
        n_speakers = int(speakers.max()) + 1
        f["extra/meta_info/gender"] = np.array(["f", "m"] * n_speakers, dtype="S")[:n_speakers]
        f["extra/meta_info/age"] = np.full(n_speakers, 30, dtype=np.uint16)
        f["extra/meta_info/body_height"] = np.full(n_speakers, 175, dtype=np.uint16)
    return path


def random_examples(n, rng, classes=3, speakers=(0, 1, 2), max_spikes=60, duration_s=1.0):
    """`n` examples with random spike trains: (times in s, units, labels, speakers), each
    class and speaker cycling so that all occur when n is large enough."""
    times, units = [], []
    for _ in range(n):
        count = int(rng.integers(1, max_spikes + 1))
        times.append(np.sort(rng.uniform(0.0, duration_s, count)))
        units.append(rng.integers(0, 700, count))
    labels = np.arange(n) % classes
    speaker_ids = np.asarray(speakers)[(np.arange(n) // classes) % len(speakers)]
    return times, units, labels, speaker_ids


def write_shd_files(root, dataset="SHD", n_per_split=12, speakers=(0, 1, 2), classes=3,
                    seed=0, splits=None, max_spikes=60, duration_s=1.0):
    """Files for `splits` (default: all of `dataset`'s) under `root` in tonic's layout, each
    with `n_per_split` random examples of `classes` classes and `speakers` (SSC files get
    speaker 0 throughout: its speaker ids are not used). Returns {split: dict(path, times,
    units, labels, speakers)} with the written content."""
    rng = np.random.default_rng(seed)
    written = {}
    for split in (SPLITS[dataset] if splits is None else splits):
        times, units, labels, speaker_ids = random_examples(
            n_per_split, rng, classes, speakers if dataset == "SHD" else (0,), max_spikes,
            duration_s)
        path = write_h5(shd_path(root, dataset, split), times, units, labels, speaker_ids,
                        num_classes=classes)
        written[split] = dict(path=path, times=times, units=units, labels=labels,
                              speakers=speaker_ids)
    return written
