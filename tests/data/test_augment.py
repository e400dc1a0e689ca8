"""The per-epoch transformations of the training examples (eventprop.data.augment)."""
import copy

import numpy as np
import pytest

from eventprop.data import (augment, balance_classes, blend, blend_members,
                            check_augmentation, id_jitter, min_spike_count,
                            normalise_spike_number, random_dilate, random_shift)
from eventprop.params import ParameterError, check_params

N, T = 700, 1000.0  # channels, trial length (ms)


def _random_examples(n=20, seed=0, spikes=(50, 300)):
    """Examples sorted by channel then time, with distinct times (so spikes can be traced)."""
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(n):
        count = int(rng.integers(*spikes))
        t = rng.permutation(np.arange(count) * (T / count) + rng.uniform(0, T / count))
        x = rng.integers(0, N, count)
        order = np.lexsort((t, x))
        examples.append((t[order], x[order]))
    return examples


def _as_loaded(examples):
    """The examples as the SHD loader keeps them at DT_MS = 1: whole ms and channel ids, both
    uint16."""
    return [(np.floor(t).astype(np.uint16), x.astype(np.uint16)) for t, x in examples]


def _spikes(example):
    return sorted(zip(np.asarray(example[1]).tolist(), np.asarray(example[0]).tolist()))


def _assert_valid(example, trial_ms=T, num_channels=N, time_types=(np.float64,)):
    t, x = example
    assert np.all((t >= 0) & (t < trial_ms)) and np.all((x >= 0) & (x < num_channels))
    assert np.issubdtype(x.dtype, np.integer) and t.dtype in time_types
    order = np.lexsort((t, x))
    np.testing.assert_array_equal(order, np.arange(len(t)))


def _same(a, b):
    assert len(a) == len(b)
    for (ta, xa), (tb, xb) in zip(a, b):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(xa, xb)


# every transformation as f(examples, labels, rng) -> examples
TRANSFORMS = {
    "normalise": lambda e, y, rng: normalise_spike_number(e, min_spike_count(e), rng),
    "shift": lambda e, y, rng: random_shift(e, 40, N, rng),
    "dilate": lambda e, y, rng: random_dilate(e, (0.8, 1.3), T, rng),
    "jitter": lambda e, y, rng: id_jitter(e, 5.0, N, rng),
    "blend": lambda e, y, rng: blend(e, y, [0.5, 0.5, 0.7], 15, N, T, rng)[0],
    "augment": lambda e, y, rng: augment(
        e, y, {"blend": [0.5, 0.5], "random_shift": 30, "random_dilate": [0.9, 1.1],
               "ID_jitter": 2.0}, N, T, 35, rng)[0],
}


@pytest.mark.parametrize("name", TRANSFORMS)
def test_results_in_range_and_sorted(name):
    examples = _random_examples()
    labels = np.arange(len(examples)) % 3
    for example in TRANSFORMS[name](examples, labels, np.random.default_rng(1)):
        _assert_valid(example)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_examples_as_loaded_come_back_in_range_and_sorted(name):
    # unsigned times, which ID_jitter puts out of order within a channel
    examples = _as_loaded(_random_examples())
    labels = np.arange(len(examples)) % 3
    for example in TRANSFORMS[name](examples, labels, np.random.default_rng(1)):
        _assert_valid(example, time_types=(np.uint16, np.float64))


@pytest.mark.parametrize("name, time_type", [("normalise", np.uint16), ("shift", np.uint16),
                                             ("jitter", np.uint16), ("dilate", np.float64),
                                             ("blend", np.float64)])
def test_examples_as_loaded_stay_compact(name, time_type):
    examples = _as_loaded(_random_examples())
    labels = np.arange(len(examples)) % 3
    for t, x in TRANSFORMS[name](examples, labels, np.random.default_rng(1)):
        assert t.dtype == time_type and x.dtype == np.uint16


def test_unsigned_times_out_of_order_within_a_channel_are_sorted():
    example = (np.array([5, 3, 1], dtype=np.uint16), np.array([1, 1, 2], dtype=np.uint16))
    [(t, x)] = normalise_spike_number([example], 3, np.random.default_rng(0))
    np.testing.assert_array_equal(t, [3, 5, 1])
    np.testing.assert_array_equal(x, [1, 1, 2])


def test_negative_channel_ids_are_refused():
    with pytest.raises(ValueError, match="channel ids must be >= 0, found -2"):
        random_shift([(np.array([1.0, 2.0]), np.array([3, -2]))], 5, N,
                     np.random.default_rng(0))


@pytest.mark.parametrize("name", TRANSFORMS)
def test_same_seed_same_result(name):
    examples = _random_examples()
    labels = np.arange(len(examples)) % 3
    run = [TRANSFORMS[name](examples, labels, np.random.default_rng(s)) for s in (5, 5, 6)]
    _same(run[0], run[1])
    assert any(_spikes(a) != _spikes(b) for a, b in zip(run[0], run[2]))


@pytest.mark.parametrize("name", TRANSFORMS)
def test_inputs_not_modified(name):
    examples = _random_examples()
    labels = np.arange(len(examples)) % 3
    before = copy.deepcopy((examples, labels))
    TRANSFORMS[name](examples, labels, np.random.default_rng(2))
    _same(examples, before[0])
    np.testing.assert_array_equal(labels, before[1])


def test_balance_classes_takes_the_smallest_count_of_each_class():
    labels = np.array([2, 0, 2, 1, 0, 2, 2, 1, 0, 0])  # counts 4, 2, 4
    picked = balance_classes(labels, np.random.default_rng(0))
    np.testing.assert_array_equal(labels[picked], [0, 0, 1, 1, 2, 2])
    assert len(set(picked.tolist())) == 6
    subsets = {tuple(sorted(balance_classes(labels, np.random.default_rng(s))[:2]))
               for s in range(20)}
    assert len(subsets) > 1  # different seeds pick different class-0 examples


def test_normalise_spike_number_gives_about_the_target():
    counts = [200, 2000, 8000]
    examples = [(np.arange(c) * (T / c), np.arange(c) % N) for c in counts]
    target = min_spike_count(examples)
    assert target == 200
    result = normalise_spike_number(examples, target, np.random.default_rng(0))
    _same(result[:1], examples[:1])  # the smallest keeps every spike
    for example, kept in zip(examples[1:], result[1:]):
        assert abs(len(kept[0]) - target) < 4 * np.sqrt(target)  # binomial, sd < sqrt(200)
        assert set(_spikes(kept)) <= set(_spikes(example))


def test_random_shift_moves_all_channels_of_an_example_by_one_integer():
    examples = [(np.linspace(0, 900, 5), np.arange(340, 345)) for _ in range(4000)]
    result = random_shift(examples, 40, N, np.random.default_rng(3))
    shifts = []
    for (t, x), (t2, x2) in zip(examples, result):
        np.testing.assert_array_equal(t2, t)
        assert len(set((x2 - x).tolist())) == 1
        shifts.append(int(x2[0] - x[0]))
    assert set(shifts) == set(range(-39, 40))
    # int() truncates towards 0: 0 comes from (-1, 1), twice as wide as any other shift
    assert shifts.count(1) < 1.5 * len(shifts) / 80 < shifts.count(0)


def test_random_shift_drops_spikes_pushed_out_of_range():
    example = (np.array([1.0, 2.0, 3.0]), np.array([0, 350, 699]))
    channel_at = {1.0: 0, 2.0: 350, 3.0: 699}
    kept = set()
    for t, x in random_shift([example] * 50, 100, N, np.random.default_rng(4)):
        shift = x - np.array([channel_at[v] for v in t.tolist()])
        assert len(set(shift.tolist())) == 1 and 2.0 in t.tolist()
        assert len(t) == sum(0 <= c + shift[0] < N for c in (0, 350, 699))
        kept.add(len(t))
    assert kept == {2, 3}


def test_random_dilate_scales_times_by_one_factor_in_range():
    t0 = np.linspace(10, 700, 40)
    examples = [(t0, np.arange(40)) for _ in range(100)]
    factors = []
    for t, x in random_dilate(examples, (0.5, 2.0), T, np.random.default_rng(5)):
        ratio = t / t0[:len(t)]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
        np.testing.assert_array_equal(x, np.arange(len(t)))
        assert 0.5 <= ratio[0] <= 2.0
        assert len(t) == np.sum(t0 * ratio[0] < T)  # the spikes beyond the trial are dropped
        factors.append(ratio[0])
    # log-uniform: as many factors below 1 as above
    assert 35 < sum(f < 1 for f in factors) < 65 and min(factors) < 0.6 < 1.8 < max(factors)


def test_id_jitter_moves_each_channel_by_a_rounded_gaussian():
    count = 4000
    t = np.arange(count) * 0.2  # distinct times: each output spike traces back to its input
    example = (t, np.full(count, 350))
    [(t2, x2)] = id_jitter([example], 3.0, N, np.random.default_rng(6))
    assert len(t2) == count
    moved = x2[np.argsort(t2)].astype(np.int64) - 350  # uint16 ids
    assert abs(moved.mean()) < 0.2 and abs(moved.std() - 3.0) < 0.15
    assert len(set(moved.tolist())) > 10


def test_blend_members_moves_members_to_the_group_means():
    a = (np.array([5.0, 15.0]), np.array([10, 20]))   # means: t 10, channel 15
    b = (np.array([25.0, 36.0]), np.array([31, 41]))  # means: t 30.5, channel 36
    # group means t 20.25, channel 25.5; shifts truncate towards 0:
    # a by int(10.25) = 10 ms and int(10.5) = 10 channels, b by int(-10.25) = -10 ms and
    # int(-10.5) = -10 channels (floor would give -11)
    t, x = blend_members([a, b], [1.0, 1.0], N, T, np.random.default_rng(0))
    assert _spikes((t, x)) == [(20, 15.0), (21, 15.0), (30, 25.0), (31, 26.0)]
    t, x = blend_members([a, b], [1.0, 0.0], N, T, np.random.default_rng(0))
    assert _spikes((t, x)) == [(20, 15.0), (30, 25.0)]


def test_blend_members_keeps_each_spike_with_its_members_probability():
    a = (np.arange(2000) * 0.4, np.full(2000, 100))
    b = (np.arange(2000) * 0.4 + 0.1, np.full(2000, 100))
    t, x = blend_members([a, b], [0.2, 0.7], N, T, np.random.default_rng(1))
    from_a = np.sum(np.isclose(t % 0.4, 0.0) | np.isclose(t % 0.4, 0.4))
    assert abs(from_a - 400) < 4 * np.sqrt(400 * 0.8)
    assert abs((len(t) - from_a) - 1400) < 4 * np.sqrt(2000 * 0.21)


def test_blend_members_drops_out_of_range_and_ignores_empty_members():
    a = (np.array([1.0, 999.0]), np.array([0, 699]))    # means: t 500, channel 349.5
    b = (np.array([300.0, 310.0]), np.array([340, 345]))  # means: t 305, channel 342.5
    empty = (np.zeros(0), np.zeros(0, dtype=np.int64))
    t, x = blend_members([a, empty, b], [1.0, 1.0, 1.0], N, T, np.random.default_rng(2))
    # group means t 402.5, channel 346: a moves by -97 ms and -3 channels, which puts its
    # first spike at channel -3, -96 ms (dropped); b moves by +97 ms, +3 channels
    assert _spikes((t, x)) == [(343, 397.0), (348, 407.0), (696, 902.0)]
    t, x = blend_members([empty], [1.0], N, T, np.random.default_rng(2))
    assert len(t) == len(x) == 0


def test_blend_makes_examples_of_one_class_from_its_members():
    # class c lives in channels 100c..100c+9; all its examples have the same mean channel
    # and time, so blending does not move them and each spike must come from a member
    examples, labels = [], []
    for c in range(3):
        for k in range(5):
            examples.append((np.array([10.0 + k, 20.0 - k]), np.array([100 * c + k,
                                                                        100 * c + 9 - k])))
            labels.append(c)
    labels = np.array(labels)
    new, new_labels = blend(examples, labels, [1.0, 1.0], 60, N, T, np.random.default_rng(3))
    assert len(new) == 60 and new_labels.dtype == np.int64
    assert sorted(set(new_labels.tolist())) == [0, 1, 2]
    for example, label in zip(new, new_labels):
        members = set().union(*(_spikes(e) for e, y in zip(examples, labels) if y == label))
        spikes = _spikes(example)
        assert set(spikes) <= members and len(spikes) == 4  # two members, two spikes each
    blended = [len(set(_spikes(e))) for e in new]
    assert max(blended) == 4 and min(blended) == 2  # different and identical member pairs


def test_augment_applies_the_keys_in_order_and_blends_up_to_n_train():
    examples = _random_examples(10)
    labels = np.arange(10) % 2
    out, out_labels = augment(examples, labels, {"blend": [0.5, 0.5], "ID_jitter": 0.0},
                              N, T, 25, np.random.default_rng(4))
    assert len(out) == len(out_labels) == 25
    _same(out[:10], examples)  # ID_jitter 0 leaves every example as it is
    np.testing.assert_array_equal(out_labels[:10], labels)
    # the same as the single steps in that order from the same generator
    rng = np.random.default_rng(7)
    out, out_labels = augment(examples, labels, {"random_shift": 20, "random_dilate": [0.9, 1.2],
                                                 "NORMALISE_SPIKE_NUMBER": True},
                              N, T, 10, rng)
    rng = np.random.default_rng(7)
    expected = random_dilate(random_shift(examples, 20, N, rng), (0.9, 1.2), T, rng)
    _same(out, expected)  # NORMALISE_SPIKE_NUMBER is left to the caller
    np.testing.assert_array_equal(out_labels, labels)


def test_augment_rejects_invalid_dicts():
    with pytest.raises(ValueError, match="random_shift"):
        augment(_random_examples(2), [0, 1], {"random_shift": -3}, N, T, 2,
                np.random.default_rng(0))


@pytest.mark.parametrize("value", [{}, {"NORMALISE_SPIKE_NUMBER": False},
                                   {"blend": [0.5, 0.5], "random_shift": 40,
                                    "random_dilate": (0.9, 1.1), "ID_jitter": 0.5,
                                    "NORMALISE_SPIKE_NUMBER": True}])
def test_check_augmentation_accepts_valid_dicts(value):
    assert check_augmentation(value) is None


@pytest.mark.parametrize("value, words", [
    ([("blend", [0.5])], ["a dict"]),
    ({"shift": 3}, ["'shift'", "'random_shift'", "'NORMALISE_SPIKE_NUMBER'"]),
    ({"blend": [0.5, 1.5]}, ["'blend'", "[0, 1]", "1.5"]),
    ({"blend": []}, ["'blend'", "non-empty"]),
    ({"random_shift": -1}, ["'random_shift'", ">= 0"]),
    ({"random_shift": True}, ["'random_shift'", ">= 0"]),
    ({"random_dilate": [0.0, 2.0]}, ["'random_dilate'", "0 < a <= b"]),
    ({"random_dilate": [2.0, 1.0]}, ["'random_dilate'", "0 < a <= b"]),
    ({"random_dilate": 1.5}, ["'random_dilate'", "pair"]),
    ({"ID_jitter": "big"}, ["'ID_jitter'", ">= 0"]),
    ({"NORMALISE_SPIKE_NUMBER": 1}, ["'NORMALISE_SPIKE_NUMBER'", "True or False"])])
def test_check_augmentation_says_what_is_wrong(value, words):
    message = check_augmentation(value)
    for word in words:
        assert word in message


def test_check_augmentation_is_a_parameter_rule():
    defaults = {"AUGMENTATION": {}}
    rules = {"AUGMENTATION": check_augmentation}
    assert check_params({"AUGMENTATION": {"random_shift": 40}}, defaults, rules) == \
        {"AUGMENTATION": {"random_shift": 40}}
    with pytest.raises(ParameterError, match="'AUGMENTATION'.*it must be a dict in which "
                                             "'ID_jitter' is a number >= 0"):
        check_params({"AUGMENTATION": {"ID_jitter": -1}}, defaults, rules)
