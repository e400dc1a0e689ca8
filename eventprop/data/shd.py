"""The Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC) data sets
(Cramer, Stradmann, Schemmel & Zenke 2022), read from the official HDF5 files.

The files are looked for where tonic (1.4 to at least 1.7) keeps them, ``<data>/SHD/shd_train.h5``
and ``<data>/SSC/ssc_valid.h5`` etc., so a copy fetched for tonic is reused and ``download=True``
can let tonic fetch a missing one. Only h5py and numpy are needed to read them.

Each example is preprocessed as the reference code did (see `load_spiking_audio`) and the
result is cached, because reading and binning the 8156 SHD or 75466 SSC training examples
takes far longer than loading the binned arrays back.
"""
import dataclasses
import hashlib
import json
import logging
import zipfile
from pathlib import Path

import h5py
import numpy as np

from eventprop.data.paths import MissingDataError, data_dir
from eventprop.training.files import load_arrays, save_arrays

SPLITS = {"SHD": ("train", "test"), "SSC": ("train", "valid", "test")}
NUM_CHANNELS = 700  # cochlea model channels in both data sets
URL = "https://zenkelab.org/datasets/"
TONIC_REQUIREMENT = "tonic>=1.4"
# bump when the preprocessing or the cache layout changes, so that old cache files are unused
CACHE_FORMAT = 1
# examples binned at a time: bounds the memory of the temporary flat arrays
_CHUNK = 1024

log = logging.getLogger(__name__)


@dataclasses.dataclass
class SpikeDataset:
    """The preprocessed examples of one split.

    ``times[i]`` (ms) and ``units[i]`` (channel ids) hold the spikes of example i, sorted by
    channel, then time, at most one per (channel, time step). Both are views of one array
    each, in the smallest unsigned type that holds them where the values are whole numbers:
    channel ids always, times where DT_MS is a whole number of ms (otherwise float64). At
    DT_MS = 1 a spike then takes 4 bytes instead of the 16 of float64 times and int64 ids.
    ``labels`` are int64 in 0..num_classes-1; ``speakers`` are int64 speaker ids (None for
    SSC, whose speaker ids are not usable)."""
    times: list
    units: list
    labels: np.ndarray
    num_classes: int
    speakers: np.ndarray = None
    num_channels: int = NUM_CHANNELS

    def __len__(self):
        return len(self.labels)

    def _indices(self, indices):
        # through arange, so that integer arrays, boolean masks and slices all work
        return np.arange(len(self))[indices if indices is not None else slice(None)]

    def examples(self, indices=None):
        """(times, units) pairs of the examples at `indices` (all when None), ready for the
        network's input encoding. The arrays are shared, not copied: do not modify them."""
        return [(self.times[i], self.units[i]) for i in self._indices(indices)]

    def subset(self, indices):
        """The examples at `indices`, with the same channels and classes."""
        idx = self._indices(indices)
        return dataclasses.replace(
            self, times=[self.times[i] for i in idx], units=[self.units[i] for i in idx],
            labels=self.labels[idx],
            speakers=None if self.speakers is None else self.speakers[idx])


def keep_classes(dataset, classes):
    """The examples of `dataset` whose label is in `classes` (REDUCED_CLASSES), in their
    order, relabelled 0..len(classes)-1 in the order of `classes`, so that the network needs
    only len(classes) outputs. (The reference kept the original labels and all outputs.)"""
    classes = [int(c) for c in classes]
    if not classes or len(set(classes)) != len(classes) or \
            not all(0 <= c < dataset.num_classes for c in classes):
        raise ValueError(f"classes must be distinct labels in 0..{dataset.num_classes - 1}, "
                         f"got {classes}")
    relabel = np.full(dataset.num_classes, -1, dtype=np.int64)
    relabel[classes] = np.arange(len(classes))
    kept = dataset.subset(relabel[dataset.labels] >= 0)
    return dataclasses.replace(kept, labels=relabel[kept.labels], num_classes=len(classes))


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, "
                         f"got {value!r}")


def source_path(dataset, split, root=None):
    """Where the official file of `split` lives: tonic's layout under data_dir(root)."""
    _check_choice("dataset", dataset, tuple(SPLITS))
    _check_choice("split", split, SPLITS[dataset])
    return data_dir(root) / dataset / f"{dataset.lower()}_{split}.h5"


def _missing_message(dataset, paths, reason):
    files = ", ".join(f"{p.name} (in {p.parent})" for p in paths)
    zips = ", ".join(f"{p.name}.zip" for p in paths)
    return (f"{dataset} files missing: {files}. {reason}Get them from {URL} ({zips}, "
            f"unzipped into that folder), or let tonic fetch them (download=True; the "
            f"simulators' DOWNLOAD=True; pip install '{TONIC_REQUIREMENT}', or the eventprop "
            f"extra 'shd'); or set EVENTPROP_DATA (or root) to the data folder that holds "
            f"{dataset}/")


def _download(dataset, split, root):
    """Let tonic fetch and unzip `split` into tonic's layout under data_dir(root); None on
    success, else why not."""
    try:
        import tonic.datasets  # only needed here, so it is an optional dependency
    except ImportError as e:
        return f"tonic is not installed ({e})"
    kwargs = {"train": split == "train"} if dataset == "SHD" else {"split": split}
    try:
        getattr(tonic.datasets, dataset)(save_to=str(data_dir(root)), **kwargs)
    # tonic reports network, checksum and archive failures with whatever its helpers raise
    except Exception as e:
        return f"tonic failed to download {split} ({type(e).__name__}: {e})"
    if not source_path(dataset, split, root).is_file():
        return f"tonic finished but did not leave {source_path(dataset, split, root)}"
    return None


def spiking_audio_files(dataset, splits=None, root=None, download=False):
    """{split: path} of the official files of `splits` (all of `dataset`'s when None).

    Missing files are downloaded through tonic when `download` is true; any file still
    missing raises one MissingDataError naming each, its folder and how to get it, so that a
    run needing several splits can check them all before it starts."""
    _check_choice("dataset", dataset, tuple(SPLITS))
    splits = SPLITS[dataset] if splits is None else tuple(splits)
    paths = {s: source_path(dataset, s, root) for s in splits}
    problems = []
    if download:
        for split, path in paths.items():
            problem = None if path.is_file() else _download(dataset, split, root)
            if problem and problem not in problems:
                problems.append(problem)
    missing = [p for p in paths.values() if not p.is_file()]
    if missing:
        reason = ("Download failed: " + "; ".join(problems) + ". ") if problems else ""
        raise MissingDataError(_missing_message(dataset, missing, reason))
    return paths


def _bin_chunk(times, units, trial_ms, dt_ms, rescale_t, rescale_x):
    """Flat (example, channel, bin) arrays of a chunk of examples, sorted and deduplicated.

    Times are truncated to whole microseconds first (as tonic stores them), so that a time on
    a bin edge lands in the bin it starts: then bin = floor(t_us / (DT * 1000))."""
    counts = np.array([len(t) for t in times], dtype=np.int64)
    example = np.repeat(np.arange(len(times)), counts)
    t_us = np.trunc(np.concatenate(times).astype(np.float64) * 1e6)
    channel = np.concatenate(units).astype(np.int64)
    if len(channel) and (channel.min() < 0 or channel.max() >= NUM_CHANNELS):
        raise ValueError(f"channel ids must lie in 0..{NUM_CHANNELS - 1}, found "
                         f"{channel.min()}..{channel.max()}")
    inside = (t_us >= 0) & (t_us < trial_ms * 1000.0)
    example, channel = example[inside], channel[inside]
    bins = np.floor(t_us[inside] / (dt_ms * 1000.0)).astype(np.int64)
    # the reference rescales only when a factor differs from 1, with these float formulas
    if rescale_x != 1.0 or rescale_t != 1.0:
        channel = np.floor(channel * rescale_x).astype(np.int64)
        t_ms = bins * dt_ms * rescale_t
        inside = t_ms < trial_ms
        example, channel = example[inside], channel[inside]
        bins = np.floor(t_ms[inside] / dt_ms).astype(np.int64)
    # one key per (example, channel, bin), sorted and deduplicated (a sort and a comparison:
    # numpy 2's np.unique hashes instead and is ten times slower here)
    n_bins = int(bins.max(initial=0)) + 1
    key = np.sort((example * NUM_CHANNELS + channel) * n_bins + bins)
    key = key[np.concatenate([[True], key[1:] != key[:-1]])]
    example = key // (NUM_CHANNELS * n_bins)
    return (key % n_bins, key // n_bins % NUM_CHANNELS,
            np.bincount(example, minlength=len(times)))


def _read_split(path, dataset, trial_ms, dt_ms, rescale_t, rescale_x):
    """The preprocessed split as flat arrays: bins, channels, offsets (per-example starts and
    the end), labels, speakers (None for SSC), num_classes."""
    with h5py.File(path, "r") as f:
        labels = f["labels"][()].astype(np.int64)
        n = len(labels)
        if n == 0 or len(f["spikes/times"]) != n or len(f["spikes/units"]) != n:
            raise ValueError(f"{path}: holds {n} labels, {len(f['spikes/times'])} spike-time "
                             f"and {len(f['spikes/units'])} channel arrays; expected the same "
                             "non-zero number of each")
        num_classes = len(f["extra/keys"])
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(f"{path}: labels must lie in 0..{num_classes - 1} "
                             f"(extra/keys names {num_classes} classes)")
        speakers = f["extra/speaker"][()].astype(np.int64) if dataset == "SHD" else None
        parts = []
        for start in range(0, n, _CHUNK):
            times = f["spikes/times"][start:start + _CHUNK]
            units = f["spikes/units"][start:start + _CHUNK]
            try:
                bins, channels, counts = _bin_chunk(times, units, trial_ms, dt_ms,
                                                    rescale_t, rescale_x)
            except ValueError as e:
                raise ValueError(f"{path}: {e}") from None
            # compact at once, so that the whole split is never held in 64 bits
            parts.append((compact(bins), compact(channels), counts))
    bins, channels, counts = (np.concatenate(a) for a in zip(*parts))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return bins, channels, offsets, labels, speakers, num_classes


def _cache_dir(cache_dir):
    if cache_dir is not None:
        return Path(cache_dir)
    # beside the compiled models, so that `eventprop clear-cache` removes both
    from eventprop.engine.backends.cpu import default_cache_dir
    return default_cache_dir() / "data"


def _cache_key(dataset, split, path, trial_ms, dt_ms, rescale_t, rescale_x):
    """Everything the cached arrays depend on; the source file is identified by its size and
    modification time, so that a replaced file is read again."""
    stat = path.stat()
    return json.dumps({"format": CACHE_FORMAT, "dataset": dataset, "split": split,
                       "trial_ms": trial_ms, "dt_ms": dt_ms, "rescale_t": rescale_t,
                       "rescale_x": rescale_x, "source_size": stat.st_size,
                       "source_mtime_ns": stat.st_mtime_ns}, sort_keys=True)


def compact(a):
    """`a` (integers >= 0) in the smallest unsigned type that holds its values, which keeps
    the data in memory and the cache file small."""
    return a.astype(np.min_scalar_type(int(a.max(initial=0))))


def _bin_start_ms(bins, dt_ms):
    """The start of each bin in ms: whole numbers in the smallest unsigned type that holds
    them where dt_ms is a whole number, else float64."""
    if float(dt_ms).is_integer():
        largest = int(bins.max(initial=0)) * int(dt_ms)
        return np.multiply(bins, int(dt_ms), dtype=np.min_scalar_type(largest))
    return bins * float(dt_ms)


def _load_cache(file, key):
    """The cached arrays of `key`, or None if `file` is missing, unreadable, from another
    key or inconsistent (then it is rewritten)."""
    if not file.is_file():
        return None
    try:
        a = load_arrays(file)
        if str(a["key"]) != key:
            raise ValueError("written for other settings")
        offsets, n = a["offsets"], len(a["labels"])
        if len(offsets) != n + 1 or offsets[0] != 0 or np.any(np.diff(offsets) < 0) or \
                offsets[-1] != len(a["bins"]) or len(a["channels"]) != len(a["bins"]):
            raise ValueError("inconsistent array sizes")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        log.warning("ignoring the unusable data cache file %s (%s); it is rewritten", file, e)
        return None
    return (a["bins"], a["channels"], offsets, a["labels"],
            a["speakers"] if "speakers" in a else None, int(a["num_classes"]))


def _save_cache(file, key, bins, channels, offsets, labels, speakers, num_classes):
    arrays = {"key": np.array(key), "bins": bins, "channels": channels,
              "offsets": offsets, "labels": labels, "num_classes": np.array(num_classes)}
    if speakers is not None:
        arrays["speakers"] = speakers
    save_arrays(file, arrays)


def load_spiking_audio(dataset, split, root=None, trial_ms=1400.0, dt_ms=1.0, rescale_t=1.0,
                       rescale_x=1.0, download=False, cache_dir=None):
    """The `split` ("train" or "test"; SSC also "valid") of `dataset` ("SHD" or "SSC") as a
    SpikeDataset, preprocessed as in the reference (genn_eventprop, TRIAL_MS = `trial_ms`,
    DT_MS = `dt_ms`, RESCALE_T, RESCALE_X):

    1. spike times (s) become whole microseconds (truncated, as tonic stores them); spikes at
       t >= trial_ms are dropped. (The reference kept t <= TRIAL_MS; a spike at exactly
       TRIAL_MS would come at or after the trial end, where it cannot be presented.)
    2. each spike moves to the start of its DT bin, floor(t / dt_ms) * dt_ms, and several
       spikes of one channel in one bin become one;
    3. unless both factors are 1: channel x -> floor(x * rescale_x), t -> t * rescale_t; spikes
       with t >= trial_ms are dropped, the rest re-binned to floor(t / dt_ms) * dt_ms and
       deduplicated again.

    num_channels stays 700 with rescale_x < 1, as in the reference; rescale_x > 1 would need
    more channels and is refused. The result is cached in `cache_dir` (default: the data/
    folder of the compiled-model cache, see eventprop.engine.backends.cpu.default_cache_dir)
    under a name that depends on every setting above and on the source file's size and
    modification time."""
    for name, value in (("trial_ms", trial_ms), ("dt_ms", dt_ms), ("rescale_t", rescale_t)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    if not 0 < rescale_x <= 1:
        raise ValueError(f"rescale_x must lie in (0, 1], got {rescale_x!r}")
    path = spiking_audio_files(dataset, [split], root, download)[split]
    settings = (float(trial_ms), float(dt_ms), float(rescale_t), float(rescale_x))
    key = _cache_key(dataset, split, path, *settings)
    file = _cache_dir(cache_dir) / (f"{dataset}_{split}_"
                                    f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.npz")
    arrays = _load_cache(file, key)
    if arrays is None:
        log.info("preprocessing %s (trial %g ms, dt %g ms, rescale t %g, x %g)", path,
                 *settings)
        arrays = _read_split(path, dataset, *settings)
        _save_cache(file, key, *arrays)
        log.info("cached the preprocessed %s %s examples in %s", dataset, split, file)
    else:
        log.info("read the preprocessed %s %s examples from the cache %s", dataset, split,
                 file)
    bins, channels, offsets, labels, speakers, num_classes = arrays
    cut = offsets[1:-1]
    return SpikeDataset(times=np.split(_bin_start_ms(bins, dt_ms), cut),
                        units=np.split(channels, cut), labels=labels,
                        speakers=speakers, num_channels=NUM_CHANNELS, num_classes=num_classes)
