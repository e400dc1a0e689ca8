"""Per-epoch transformations of the training examples (the reference's §5.8, utils.py).

An example is a pair (times in ms, channel ids). Every function here is pure: it takes an
explicit numpy Generator, returns new arrays and never modifies its inputs, so that each epoch
can transform fresh copies of the original examples and a seed reproduces the result. Spikes
pushed out of range (t < 0 or t >= trial_ms, channel < 0 or >= num_channels) are dropped, and
examples come back sorted by channel, then time, like the loader's. Spikes that end up in the
same channel and time step are not merged here: the input encoding counts them once.

The results stay as compact as the loader's examples: times keep their type where a
transformation leaves them (unsigned whole ms stay so through NORMALISE_SPIKE_NUMBER,
random_shift and ID_jitter; random_dilate and blend give float64), and channel ids come back
in the smallest unsigned type that holds them.

Per epoch the reference applies, in this order (all with its training data generator):
1. BALANCE_TRAIN_CLASSES / BALANCE_EVAL_CLASSES: `balance_classes`;
2. AUGMENTATION["NORMALISE_SPIKE_NUMBER"]: `normalise_spike_number` of the training *and* the
   evaluation examples, both with target `min_spike_count(training examples)`. As it is not
   confined to the training examples, `augment` skips that key and the caller does this step;
3. the other AUGMENTATION keys, in the dict's order, on the training examples: `augment`.
"""
import numbers

import numpy as np

from eventprop.data.shd import compact

AUGMENTATION_KEYS = ("blend", "random_shift", "random_dilate", "ID_jitter",
                     "NORMALISE_SPIKE_NUMBER")


def _sorted(times, channels):
    """The spikes sorted by channel, then time, the channels (>= 0) compacted; the order is
    checked first, since most transformations keep it and sorting every example each epoch
    would cost more than the rest."""
    if len(channels) > 1:
        dc = np.diff(channels)
        # times compared, not differenced: the difference of unsigned times would wrap
        if np.any(dc < 0) or np.any((dc == 0) & (times[1:] < times[:-1])):
            order = np.lexsort((times, channels))
            times, channels = times[order], channels[order]
    return times, compact(channels)


def _inside(times, channels, num_channels=None, trial_ms=None):
    """The spikes with 0 <= channel < num_channels and 0 <= t < trial_ms (a bound left None
    is not checked), sorted."""
    keep = np.ones(len(times), dtype=bool)
    if num_channels is not None:
        keep &= (channels >= 0) & (channels < num_channels)
    if trial_ms is not None:
        keep &= (times >= 0) & (times < trial_ms)
    return _sorted(times[keep], channels[keep])


def _arrays(example):
    """The times as they are and the channels as signed 64-bit integers, in which shifts may
    go negative and differences do not wrap."""
    times, channels = np.asarray(example[0]), np.asarray(example[1], dtype=np.int64)
    if len(channels) and channels.min() < 0:
        raise ValueError(f"channel ids must be >= 0, found {channels.min()}")
    return times, channels


def balance_classes(labels, rng):
    """Indices of a class-balanced subset: for each class present (ascending), a random
    subset of (smallest class count) of its examples, shuffled; the classes concatenated."""
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    parts = []
    for c in classes:
        members = np.flatnonzero(labels == c)
        rng.shuffle(members)
        parts.append(members[:counts.min()])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def min_spike_count(examples):
    """The smallest number of spikes of any example: the target of normalise_spike_number."""
    if not len(examples):
        raise ValueError("min_spike_count needs at least one example")
    return min(len(_arrays(e)[0]) for e in examples)


def normalise_spike_number(examples, target, rng):
    """Each example keeps each spike with probability target / (its spike count), so that
    every example has about `target` spikes (examples with fewer keep all of theirs)."""
    result = []
    for example in examples:
        times, channels = _arrays(example)
        keep = rng.random(len(times)) < (target / len(times) if len(times) else 0.0)
        result.append(_sorted(times[keep], channels[keep]))
    return result


def random_shift(examples, max_shift, num_channels, rng):
    """Each example's channels all move by one integer, int(U(-max_shift, max_shift))
    (truncated towards 0, as in the reference, so 0 is twice as likely as any other)."""
    result = []
    for example in examples:
        times, channels = _arrays(example)
        shift = int(rng.uniform(-max_shift, max_shift))
        result.append(_inside(times, channels + shift, num_channels=num_channels))
    return result


def random_dilate(examples, factors, trial_ms, rng):
    """Each example's times are all scaled by one factor f = exp(U(ln a, ln b)) for
    `factors` = (a, b): log-uniform, so that stretching and squeezing are equally likely."""
    low, high = np.log(factors[0]), np.log(factors[1])
    result = []
    for example in examples:
        times, channels = _arrays(example)
        factor = np.exp(rng.uniform(low, high))
        result.append(_inside(times * factor, channels, trial_ms=trial_ms))
    return result


def id_jitter(examples, sigma, num_channels, rng):
    """Every spike's channel moves by its own round(N(0, 1) * sigma)."""
    result = []
    for example in examples:
        times, channels = _arrays(example)
        jitter = np.round(rng.standard_normal(len(times)) * sigma).astype(np.int64)
        result.append(_inside(times, channels + jitter, num_channels=num_channels))
    return result


def blend_members(members, probs, num_channels, trial_ms, rng):
    """One example blended from `members` (of one class): each member is moved so that its
    mean channel and mean time are those of the group (by int(group mean - own mean), i.e.
    truncated towards 0, separately for channel and time), member i keeps each spike with
    probability probs[i], and the spikes are merged.

    Members without spikes add none and do not count in the group means (the reference's
    means would be NaN there)."""
    members = [_arrays(m) for m in members]
    full = [m for m in members if len(m[0])]
    mean_t = np.mean([np.mean(t) for t, _ in full]) if full else 0.0
    mean_x = np.mean([np.mean(x) for _, x in full]) if full else 0.0
    times, channels = [], []
    for (t, x), p in zip(members, probs):
        keep = rng.random(len(t)) < p
        if len(t):
            times.append(np.add(t[keep], int(mean_t - np.mean(t)), dtype=np.float64))
            channels.append(x[keep] + int(mean_x - np.mean(x)))
    if not times:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    return _inside(np.concatenate(times), np.concatenate(channels), num_channels, trial_ms)


def blend(examples, labels, probs, n_new, num_channels, trial_ms, rng):
    """`n_new` extra examples and their labels: each blends len(probs) examples drawn with
    replacement from the class of a randomly picked example (see blend_members)."""
    labels = np.asarray(labels, dtype=np.int64)
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    new, new_labels = [], np.empty(max(n_new, 0), dtype=np.int64)
    for k in range(len(new_labels)):
        label = labels[rng.integers(0, len(examples))]
        same = by_class[label]
        picked = same[rng.integers(0, len(same), len(probs))]
        new.append(blend_members([examples[i] for i in picked], probs, num_channels,
                                 trial_ms, rng))
        new_labels[k] = label
    return new, new_labels


def augment(examples, labels, augmentation, num_channels, trial_ms, n_train, rng):
    """The training examples and labels after the AUGMENTATION dict's transformations, in
    the dict's order: "blend" appends examples up to `n_train` in all, "random_shift",
    "random_dilate" and "ID_jitter" transform every example present at that point.
    NORMALISE_SPIKE_NUMBER is skipped (the caller applies it to training and evaluation
    examples, see the module docstring)."""
    problem = check_augmentation(augmentation)
    if problem:
        raise ValueError(f"augmentation {augmentation!r} is invalid: it must be {problem}")
    examples, labels = list(examples), np.asarray(labels, dtype=np.int64)
    for key, value in augmentation.items():
        if key == "blend":
            new, new_labels = blend(examples, labels, value, n_train - len(examples),
                                    num_channels, trial_ms, rng)
            examples, labels = examples + new, np.concatenate([labels, new_labels])
        elif key == "random_shift":
            examples = random_shift(examples, value, num_channels, rng)
        elif key == "random_dilate":
            examples = random_dilate(examples, value, trial_ms, rng)
        elif key == "ID_jitter":
            examples = id_jitter(examples, value, num_channels, rng)
    return examples, labels


def _number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _value_problem(key, v):
    """What is wrong with `v` as the value of `key`, or None."""
    if key == "blend":
        ok = isinstance(v, (list, tuple)) and len(v) > 0 and \
            all(_number(p) and 0 <= p <= 1 for p in v)
        return None if ok else "a non-empty list of keep probabilities in [0, 1]"
    if key == "random_dilate":
        ok = isinstance(v, (list, tuple)) and len(v) == 2 and all(map(_number, v)) and \
            0 < v[0] <= v[1]
        return None if ok else "a pair [a, b] of dilation factors with 0 < a <= b"
    if key == "NORMALISE_SPIKE_NUMBER":
        return None if isinstance(v, bool) else "True or False"
    # random_shift (channels) and ID_jitter (sigma in channels)
    return None if _number(v) and v >= 0 else "a number >= 0"


def check_augmentation(value):
    """None if `value` is a valid AUGMENTATION dict, else what it must be (a phrase that
    completes "it must be ...", as the rules of eventprop.params return)."""
    keys = ", ".join(map(repr, AUGMENTATION_KEYS))
    if not isinstance(value, dict):
        return f"a dict with keys among {keys}"
    for key, v in value.items():
        if key not in AUGMENTATION_KEYS:
            return f"a dict with keys among {keys} (unknown key {key!r})"
        problem = _value_problem(key, v)
        if problem:
            return f"a dict in which {key!r} is {problem} (got {v!r})"
    return None
