"""The Yin-Yang data set (Kriener, Göltz & Petrovici 2022, arXiv:2102.08211).

Points in the unit square, inside a yin-yang sign, each labelled yin (0), yang (1) or dot (2).
The generator draws from numpy's legacy RandomState in exactly the order the authors' reference
implementation (lkriener/yin_yang_data_set, dataset.py) does, so the same seed gives the same
data bit for bit; in particular the published train / validation / test splits come back from
their seeds (see PUBLISHED_SPLITS) and results stay comparable with the literature.
"""
import numpy as np

# name: (size, seed) of the splits published with the data set
PUBLISHED_SPLITS = {"train": (5000, 42), "validation": (1000, 41), "test": (1000, 40)}


def _which_class(x, y, r_small, r_big):
    """0 (yin), 1 (yang) or 2 (dot) for a point inside the big circle; the same comparisons,
    with the same < / <= as the reference, so that points on a boundary get the same class."""
    d_right = np.sqrt((x - 1.5 * r_big) ** 2 + (y - r_big) ** 2)
    d_left = np.sqrt((x - 0.5 * r_big) ** 2 + (y - r_big) ** 2)
    if d_right < r_small or d_left < r_small:
        return 2
    is_yin = (d_right <= r_small
              or r_small < d_left <= 0.5 * r_big
              or (y > r_big and d_right > 0.5 * r_big))
    return int(is_yin)


def yinyang_dataset(size, seed, r_small=0.1, r_big=0.5):
    """`size` samples from RandomState(`seed`): samples float64 (size, 4) = [x, y, 1-x, 1-y]
    and labels int64 (size,).

    Each sample first draws its class uniformly, then draws points in the square
    [0, 2 r_big)^2 until one falls inside the big circle and in that class (rejection
    sampling), which keeps the classes balanced although the dots are small. The mirrored
    coordinates 1-x, 1-y make every class reachable by positive weights from the inputs."""
    rng = np.random.RandomState(seed)
    samples = np.empty((size, 4), dtype=np.float64)
    labels = np.empty(size, dtype=np.int64)
    for i in range(size):
        goal = rng.randint(3)
        while True:
            x, y = rng.rand(2) * 2. * r_big
            if np.sqrt((x - r_big) ** 2 + (y - r_big) ** 2) > r_big:
                continue
            if _which_class(x, y, r_small, r_big) == goal:
                break
        samples[i] = (x, y, 1. - x, 1. - y)
        labels[i] = goal
    return samples, labels


def _check_trial(trial_ms, dt):
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}")
    if not trial_ms > 4 * dt:
        raise ValueError(f"trial_ms ({trial_ms}) must be longer than 4 * dt ({4 * dt}): "
                         "spikes are kept 2 * dt away from both ends of the trial")


def yinyang_spike_times(samples, trial_ms, dt):
    """One (times, ids) pair per sample: five input neurons spiking once each, ids 0..4 in
    that order. Neuron 0 is a bias that spikes at 2 * dt in every trial, giving the network
    a reference time; neurons 1..4 spike at 2 * dt + f * (trial_ms - 4 * dt) for the four
    features f, so the earliest and latest spikes lie 2 * dt inside the trial and none is
    lost at a boundary of the time grid."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 4:
        raise ValueError(f"samples must have shape (n, 4), got {samples.shape}")
    if samples.size and not (np.all(samples >= 0.) and np.all(samples <= 1.)):
        raise ValueError("samples must lie in [0, 1], got values from "
                         f"{np.nanmin(samples)} to {np.nanmax(samples)}"
                         + (" and NaN" if np.isnan(samples).any() else ""))
    _check_trial(trial_ms, dt)
    start = 2 * dt
    span = trial_ms - 4 * dt
    ids = np.arange(5, dtype=np.int64)
    return [(np.concatenate(([start], start + s * span)), ids.copy()) for s in samples]
