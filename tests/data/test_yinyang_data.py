"""The Yin-Yang generator against the published splits, and its spike-time encoding."""
import numpy as np
import pytest

from eventprop.data import PUBLISHED_SPLITS, yinyang_dataset, yinyang_spike_times
from shared_data import shared_data_folder


def _published_folder():
    return shared_data_folder("yinyang", "the published Yin-Yang splits")


@pytest.mark.parametrize("split", sorted(PUBLISHED_SPLITS))
def test_published_split_reproduced_bit_for_bit(split):
    folder = _published_folder()
    size, seed = PUBLISHED_SPLITS[split]
    samples, labels = yinyang_dataset(size, seed)
    expected_samples = np.load(folder / f"{split}_samples.npy")
    expected_labels = np.load(folder / f"{split}_labels.npy")
    assert samples.dtype == np.float64 and samples.shape == (size, 4)
    assert labels.dtype == np.int64 and labels.shape == (size,)
    assert np.array_equal(samples, expected_samples)
    assert np.array_equal(labels, expected_labels)


def test_published_split_sizes_and_seeds():
    assert PUBLISHED_SPLITS == {"train": (5000, 42), "validation": (1000, 41),
                                "test": (1000, 40)}


def test_classes_balanced_and_samples_in_sign():
    samples, labels = yinyang_dataset(3000, seed=0)
    assert set(np.unique(labels)) == {0, 1, 2}
    fractions = np.bincount(labels, minlength=3) / len(labels)
    assert np.all(np.abs(fractions - 1 / 3) < 0.04), fractions
    x, y = samples[:, 0], samples[:, 1]
    assert np.all((samples >= 0) & (samples <= 1))
    assert np.all(np.hypot(x - 0.5, y - 0.5) <= 0.5)
    assert np.array_equal(samples[:, 2], 1. - x) and np.array_equal(samples[:, 3], 1. - y)
    # dots: within r_small of the two centres
    dots = np.minimum(np.hypot(x - 0.75, y - 0.5), np.hypot(x - 0.25, y - 0.5)) < 0.1
    assert np.array_equal(dots, labels == 2)


def test_same_seed_same_data_other_seed_other_data():
    a = yinyang_dataset(50, seed=7)
    b = yinyang_dataset(50, seed=7)
    c = yinyang_dataset(50, seed=8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_other_radii_change_the_classes():
    samples, labels = yinyang_dataset(500, seed=3, r_small=0.2)
    x, y = samples[:, 0], samples[:, 1]
    dots = np.minimum(np.hypot(x - 0.75, y - 0.5), np.hypot(x - 0.25, y - 0.5)) < 0.2
    assert np.array_equal(dots, labels == 2)


def test_spike_times_of_a_known_sample():
    (times, ids), = yinyang_spike_times([[0.25, 0.5, 0.75, 1.0]], trial_ms=30., dt=1.)
    assert times.dtype == np.float64 and ids.dtype == np.int64
    assert np.array_equal(ids, [0, 1, 2, 3, 4])
    # bias at 2 dt; features at 2 dt + f * (30 - 4 dt) = 2 + 26 f
    assert np.array_equal(times, [2., 8.5, 15., 21.5, 28.])


def test_spike_times_one_pair_per_sample_within_the_trial():
    samples, _ = yinyang_dataset(20, seed=1)
    trial_ms, dt = 30., 0.1
    encoded = yinyang_spike_times(samples, trial_ms, dt)
    assert len(encoded) == 20
    for s, (times, ids) in zip(samples, encoded):
        assert np.array_equal(ids, np.arange(5))
        assert times[0] == 2 * dt
        assert np.allclose(times[1:], 2 * dt + s * (trial_ms - 4 * dt))
        assert np.all((times >= 2 * dt) & (times <= trial_ms - 2 * dt))


@pytest.mark.parametrize("samples, match", [
    (np.zeros((3, 2)), r"shape \(n, 4\)"),
    (np.zeros(4), r"shape \(n, 4\)"),
    ([[0., 0.5, 1., 1.5]], r"\[0, 1\]"),
    ([[-0.1, 0.5, 1., 0.]], r"\[0, 1\]"),
    ([[np.nan, 0.5, 1., 0.]], r"\[0, 1\]"),
])
def test_spike_times_reject_bad_samples(samples, match):
    with pytest.raises(ValueError, match=match):
        yinyang_spike_times(samples, trial_ms=30., dt=1.)


@pytest.mark.parametrize("trial_ms, dt, match", [(4., 1., "trial_ms"), (30., 0., "dt")])
def test_spike_times_reject_bad_trial(trial_ms, dt, match):
    with pytest.raises(ValueError, match=match):
        yinyang_spike_times([[0.5] * 4], trial_ms, dt)
