"""SHD / SSC: reading the official files, preprocessing, missing files, downloading through
tonic, the cache of preprocessed examples, class selection."""
import logging
import os
import sys
import types

import h5py
import numpy as np
import pytest

from eventprop.data import (MissingDataError, SpikeDataset, keep_classes, load_spiking_audio,
                            spiking_audio_files)
from shd_files import random_examples, shd_path, write_h5, write_shd_files


def _load(root, tmp_path, split="train", dataset="SHD", **kwargs):
    return load_spiking_audio(dataset, split, root, cache_dir=tmp_path / "cache", **kwargs)


def _one_example(tmp_path, times, units, **kwargs):
    """The preprocessed spikes of a file holding one example with these spikes (seconds)."""
    root = tmp_path / "data"
    write_h5(shd_path(root, "SHD", "train"), [times], [units], [0], time_dtype=np.float64)
    data = _load(root, tmp_path, **kwargs)
    return data.times[0], data.units[0]


def _expected(times_s, units, trial_ms, dt_ms):
    """Spikes binned the plain way: whole microseconds, t < trial_ms, one per (channel, bin),
    sorted by channel, then time."""
    t_us = np.trunc(np.asarray(times_s, dtype=np.float64) * 1e6)
    keep = t_us < trial_ms * 1000
    pairs = sorted({(int(x), int(t // (dt_ms * 1000)))
                    for x, t in zip(np.asarray(units)[keep], t_us[keep])})
    return (np.array([b * dt_ms for _, b in pairs], dtype=np.float64),
            np.array([x for x, _ in pairs], dtype=np.int64))


def _assert_same_examples(a, b):
    assert len(a) == len(b)
    for (ta, ua), (tb, ub) in zip(a, b):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(ua, ub)


# -- reading and preprocessing ---------------------------------------------------------------

def test_times_become_ms_sorted_by_channel_then_time(tmp_path):
    times, units = _one_example(tmp_path, [0.0105, 0.0203, 0.0021, 0.002], [3, 1, 3, 7],
                                trial_ms=100.0, dt_ms=1.0)
    # 10.5 ms -> 10, 20.3 -> 20, 2.1 -> 2; 0.002 s lies on a bin edge: the bin it starts
    np.testing.assert_array_equal(units, [1, 3, 3, 7])
    np.testing.assert_array_equal(times, [20.0, 2.0, 10.0, 2.0])


def test_a_spike_takes_four_bytes_at_a_whole_dt(tmp_path):
    # ms and channel ids as uint16: SSC's ~75,000 training examples fit in memory 4x smaller
    # than as float64 times and int64 ids
    times, units = _one_example(tmp_path, [0.9005, 0.0203, 0.0021], [3, 1, 699],
                                trial_ms=1000.0, dt_ms=2.0)
    assert times.dtype == np.uint16 and units.dtype == np.uint16
    np.testing.assert_array_equal(times, [20.0, 900.0, 2.0])


def test_times_are_float64_at_a_fractional_dt(tmp_path):
    times, _ = _one_example(tmp_path, [0.0105, 0.0203], [3, 1], trial_ms=100.0, dt_ms=0.1)
    assert times.dtype == np.float64
    np.testing.assert_array_equal(times, [np.float64(203) * 0.1, np.float64(105) * 0.1])


def test_times_beyond_16_bits_keep_a_wider_type(tmp_path):
    times, _ = _one_example(tmp_path, [70.0, 1.0], [3, 1], trial_ms=80_000.0, dt_ms=1.0)
    assert times.dtype == np.uint32
    np.testing.assert_array_equal(times, [1000.0, 70_000.0])


def test_spikes_of_one_channel_in_one_step_become_one(tmp_path):
    times, units = _one_example(tmp_path, [0.0101, 0.0109, 0.0111, 0.0101],
                                [5, 5, 5, 6], trial_ms=100.0, dt_ms=2.0)
    # DT = 2 ms: 10.1, 10.9 and 11.1 ms all fall in the bin [10, 12)
    np.testing.assert_array_equal(units, [5, 6])
    np.testing.assert_array_equal(times, [10.0, 10.0])


def test_spikes_at_or_after_trial_ms_are_dropped(tmp_path):
    times, units = _one_example(tmp_path, [0.0499, 0.05, 0.07, 0.001], [1, 2, 3, 4],
                                trial_ms=50.0, dt_ms=1.0)
    # 49.9 ms is kept (in the step at 49 ms); exactly 50 ms and later cannot be presented
    np.testing.assert_array_equal(units, [1, 4])
    np.testing.assert_array_equal(times, [49.0, 1.0])


def test_rescale_x_and_t(tmp_path):
    times, units = _one_example(
        tmp_path, [0.0104, 0.0111, 0.0205, 0.0302, 0.0101], [10, 11, 10, 699, 3],
        trial_ms=50.0, dt_ms=1.0, rescale_x=0.5, rescale_t=2.0)
    # binned: (10, 10 ms), (11, 11 ms), (10, 20 ms), (699, 30 ms), (3, 10 ms); then channels
    # floor(x / 2) = 5, 5, 5, 349, 1 and times 20, 22, 40, 60 (>= 50: dropped), 20 ms
    np.testing.assert_array_equal(units, [1, 5, 5, 5])
    np.testing.assert_array_equal(times, [20.0, 20.0, 22.0, 40.0])


def test_rescale_merges_spikes_that_land_in_one_step(tmp_path):
    times, units = _one_example(tmp_path, [0.010, 0.011, 0.012], [4, 4, 5],
                                trial_ms=50.0, dt_ms=1.0, rescale_t=0.5, rescale_x=0.5)
    # 10 and 11 ms -> 5 and 5.5 ms, both in the step at 5 ms; channels 4, 4, 5 -> 2
    np.testing.assert_array_equal(units, [2, 2])
    np.testing.assert_array_equal(times, [5.0, 6.0])


@pytest.mark.parametrize("time_dtype", [np.float32, np.float16])
def test_random_files_match_plain_binning(tmp_path, time_dtype):
    root = tmp_path / "data"
    rng = np.random.default_rng(4)
    times, units, labels, speakers = random_examples(30, rng, max_spikes=400, duration_s=1.2)
    write_h5(shd_path(root, "SHD", "test"), times, units, labels, speakers,
             time_dtype=time_dtype)
    data = _load(root, tmp_path, split="test", trial_ms=1000.0, dt_ms=2.0)
    expected = [_expected(np.asarray(t, dtype=time_dtype), u, 1000.0, 2.0)
                for t, u in zip(times, units)]
    _assert_same_examples(data.examples(), expected)


def test_labels_speakers_and_classes(shd_root, tmp_path):
    written = write_shd_files(shd_root, classes=4, speakers=(3, 7), n_per_split=10)
    data = _load(shd_root, tmp_path)
    np.testing.assert_array_equal(data.labels, written["train"]["labels"])
    np.testing.assert_array_equal(data.speakers, written["train"]["speakers"])
    assert data.labels.dtype == np.int64 and data.speakers.dtype == np.int64
    assert (len(data), data.num_classes, data.num_channels) == (10, 4, 700)


def test_ssc_has_a_validation_split_and_no_speakers(tmp_path):
    root = tmp_path / "data"
    written = write_shd_files(root, dataset="SSC", classes=5, n_per_split=7)
    data = _load(root, tmp_path, split="valid", dataset="SSC")
    np.testing.assert_array_equal(data.labels, written["valid"]["labels"])
    assert data.speakers is None and data.num_classes == 5


@pytest.mark.parametrize("shd_root", [dict(dataset="SSC", n_per_split=5)], indirect=True)
def test_shd_root_fixture_takes_write_shd_files_arguments(shd_root):
    assert sorted(p.name for p in (shd_root / "SSC").iterdir()) == \
        ["ssc_test.h5", "ssc_train.h5", "ssc_valid.h5"]
    with h5py.File(shd_root / "SSC" / "ssc_valid.h5", "r") as f:
        assert len(f["labels"]) == 5


# -- arguments and missing files -------------------------------------------------------------

@pytest.mark.parametrize("dataset, split, word, choices", [
    ("NMNIST", "train", "dataset", "'SHD', 'SSC'"),
    ("SHD", "valid", "split", "'train', 'test'"),
    ("SSC", "eval", "split", "'train', 'valid', 'test'")])
def test_bad_dataset_or_split(tmp_path, dataset, split, word, choices):
    with pytest.raises(ValueError, match=word) as e:
        load_spiking_audio(dataset, split, tmp_path)
    assert choices in str(e.value)


@pytest.mark.parametrize("kwargs, word", [(dict(trial_ms=0.0), "trial_ms"),
                                          (dict(dt_ms=-1.0), "dt_ms"),
                                          (dict(rescale_t=0.0), "rescale_t"),
                                          (dict(rescale_x=1.5), "rescale_x")])
def test_bad_settings(shd_root, tmp_path, kwargs, word):
    with pytest.raises(ValueError, match=word):
        _load(shd_root, tmp_path, **kwargs)


def test_missing_file_names_file_folder_and_source(tmp_path):
    root = tmp_path / "data"
    write_shd_files(root, splits=["train"])
    with pytest.raises(MissingDataError) as e:
        _load(root, tmp_path, split="test")
    message = str(e.value)
    for part in ("shd_test.h5", str(root / "SHD"), "https://zenkelab.org/datasets/",
                 "download=True", "pip install"):
        assert part in message
    assert "shd_train.h5" not in message


def test_every_missing_file_is_named(tmp_path):
    with pytest.raises(MissingDataError) as e:
        spiking_audio_files("SSC", root=tmp_path)
    for name in ("ssc_train.h5", "ssc_valid.h5", "ssc_test.h5"):
        assert name in str(e.value)
    assert isinstance(e.value, FileNotFoundError)


def test_root_from_environment(shd_root, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTPROP_DATA", str(shd_root))
    assert spiking_audio_files("SHD") == {"train": shd_root / "SHD" / "shd_train.h5",
                                          "test": shd_root / "SHD" / "shd_test.h5"}
    assert len(load_spiking_audio("SHD", "train", cache_dir=tmp_path / "cache")) == 12


# -- downloading through tonic ---------------------------------------------------------------

def _fake_tonic(monkeypatch, make=None):
    """A `tonic` module whose SHD / SSC record their arguments and run `make(folder, name)`."""
    calls = []

    def dataset_class(name):
        def construct(save_to, **kwargs):
            calls.append((name, save_to, kwargs))
            split = kwargs.get("split") or ("train" if kwargs["train"] else "test")
            if make is not None:
                make(os.path.join(save_to, name), f"{name.lower()}_{split}.h5")
        return construct

    tonic = types.ModuleType("tonic")
    tonic.datasets = types.ModuleType("tonic.datasets")
    tonic.datasets.SHD, tonic.datasets.SSC = dataset_class("SHD"), dataset_class("SSC")
    monkeypatch.setitem(sys.modules, "tonic", tonic)
    monkeypatch.setitem(sys.modules, "tonic.datasets", tonic.datasets)
    return calls


def _write_small(folder, name):
    write_h5(os.path.join(folder, name), [[0.001, 0.002]], [[1, 2]], [1], num_classes=2)


@pytest.mark.parametrize("dataset, split, kwargs", [("SHD", "test", {"train": False}),
                                                    ("SHD", "train", {"train": True}),
                                                    ("SSC", "valid", {"split": "valid"})])
def test_download_through_tonic(tmp_path, monkeypatch, dataset, split, kwargs):
    calls = _fake_tonic(monkeypatch, _write_small)
    root = tmp_path / "data"
    data = _load(root, tmp_path, split=split, dataset=dataset, download=True)
    assert calls == [(dataset, str(root), kwargs)]
    _assert_same_examples(data.examples(), [([1.0, 2.0], [1, 2])])


def test_no_download_when_the_file_is_there(shd_root, tmp_path, monkeypatch):
    calls = _fake_tonic(monkeypatch)
    assert len(_load(shd_root, tmp_path, download=True)) == 12
    assert calls == []


def test_download_failure(tmp_path, monkeypatch):
    def fail(folder, name):
        raise OSError("network is unreachable")
    _fake_tonic(monkeypatch, fail)
    with pytest.raises(MissingDataError) as e:
        _load(tmp_path / "data", tmp_path, download=True)
    for part in ("network is unreachable", "shd_train.h5", "https://zenkelab.org/datasets/"):
        assert part in str(e.value)


def test_download_that_leaves_no_file(tmp_path, monkeypatch):
    _fake_tonic(monkeypatch)
    with pytest.raises(MissingDataError, match="did not leave"):
        _load(tmp_path / "data", tmp_path, download=True)


def test_download_without_tonic(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tonic", None)  # makes `import tonic` fail
    with pytest.raises(MissingDataError) as e:
        _load(tmp_path / "data", tmp_path, download=True)
    assert "tonic is not installed" in str(e.value) and "pip install 'tonic" in str(e.value)


# -- the cache -------------------------------------------------------------------------------

def _cache_files(tmp_path):
    folder = tmp_path / "cache"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _count_h5_opens(monkeypatch):
    opened = []
    real = h5py.File

    def counting(*args, **kwargs):
        opened.append(args[0])
        return real(*args, **kwargs)
    monkeypatch.setattr(h5py, "File", counting)
    return opened


def test_second_load_comes_from_the_cache(shd_root, tmp_path, monkeypatch, caplog):
    first = _load(shd_root, tmp_path, trial_ms=800.0)
    [file] = _cache_files(tmp_path)
    stamp = file.stat().st_mtime_ns
    opened = _count_h5_opens(monkeypatch)
    with caplog.at_level(logging.INFO, logger="eventprop.data.shd"):
        second = _load(shd_root, tmp_path, trial_ms=800.0)
    assert opened == [] and "from the cache" in caplog.text
    assert file.stat().st_mtime_ns == stamp
    _assert_same_examples(second.examples(), first.examples())
    np.testing.assert_array_equal(second.labels, first.labels)
    np.testing.assert_array_equal(second.speakers, first.speakers)
    assert second.num_classes == first.num_classes


@pytest.mark.parametrize("changed", [dict(trial_ms=500.0), dict(dt_ms=2.0),
                                     dict(rescale_t=0.5), dict(rescale_x=0.5)])
def test_each_setting_has_its_own_cache_entry(shd_root, tmp_path, monkeypatch, changed):
    base = dict(trial_ms=1000.0, dt_ms=1.0)
    _load(shd_root, tmp_path, **base)
    opened = _count_h5_opens(monkeypatch)
    data = _load(shd_root, tmp_path, **{**base, **changed})
    assert len(opened) == 1 and len(_cache_files(tmp_path)) == 2
    if "trial_ms" in changed:
        assert max(t.max(initial=0) for t in data.times) < 500.0


def test_replaced_source_file_is_read_again(tmp_path):
    root = tmp_path / "data"
    write_shd_files(root, seed=1)
    _load(root, tmp_path)
    written = write_shd_files(root, seed=2, n_per_split=9)
    path = written["train"]["path"]
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    data = _load(root, tmp_path)
    np.testing.assert_array_equal(data.labels, written["train"]["labels"])
    assert len(data) == 9


def test_corrupt_cache_file_is_rewritten(shd_root, tmp_path, caplog):
    first = _load(shd_root, tmp_path)
    [file] = _cache_files(tmp_path)
    file.write_bytes(b"not an npz file")
    with caplog.at_level(logging.WARNING, logger="eventprop.data.shd"):
        second = _load(shd_root, tmp_path)
    assert "ignoring the unusable data cache file" in caplog.text
    _assert_same_examples(second.examples(), first.examples())
    assert _cache_files(tmp_path) == [file]
    with np.load(file) as rewritten:
        assert rewritten["offsets"][-1] > 0


def test_default_cache_is_beside_the_compiled_models(shd_root, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTPROP_CACHE_DIR", str(tmp_path / "engine"))
    load_spiking_audio("SHD", "test", shd_root)
    [file] = (tmp_path / "engine" / "data").iterdir()
    assert file.name.startswith("SHD_test_") and file.suffix == ".npz"


# -- the dataset -----------------------------------------------------------------------------

def _small_dataset():
    times = [np.array([float(i)]) for i in range(6)]
    units = [np.array([i], dtype=np.int32) for i in range(6)]
    return SpikeDataset(times=times, units=units, labels=np.array([0, 1, 2, 3, 1, 2]),
                        speakers=np.array([5, 5, 6, 6, 7, 7]), num_classes=4)


def test_subset_and_examples():
    data = _small_dataset()
    part = data.subset([4, 1])
    assert len(part) == 2 and part.num_classes == 4
    np.testing.assert_array_equal(part.labels, [1, 1])
    np.testing.assert_array_equal(part.speakers, [7, 5])
    _assert_same_examples(part.examples(), [([4.0], [4]), ([1.0], [1])])
    _assert_same_examples(data.examples(data.labels == 2), [([2.0], [2]), ([5.0], [5])])
    assert len(data.examples()) == 6


def test_keep_classes_relabels_in_the_given_order():
    kept = keep_classes(_small_dataset(), [2, 0])
    np.testing.assert_array_equal(kept.labels, [1, 0, 0])  # examples 0, 2, 5 in their order
    np.testing.assert_array_equal(kept.speakers, [5, 6, 7])
    _assert_same_examples(kept.examples(), [([0.0], [0]), ([2.0], [2]), ([5.0], [5])])
    assert kept.num_classes == 2


@pytest.mark.parametrize("classes", [[], [1, 1], [4], [-1]])
def test_keep_classes_rejects_bad_classes(classes):
    with pytest.raises(ValueError, match="classes"):
        keep_classes(_small_dataset(), classes)
