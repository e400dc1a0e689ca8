"""The learning-rate schedule: ease-in, per-epoch decay and the two-EMA plateau rule, each
against rates worked out by hand."""
import math

import pytest

from eventprop.training.schedule import LearningRateSchedule, Plateau


def test_constant_without_options():
    s = LearningRateSchedule(0.01)
    for epoch in range(3):
        s.start_epoch()
        s.after_trial()
        assert not s.end_epoch(epoch, {"train": 0.5})
    assert s.rate == 0.01


def test_ease_in_starts_at_a_thousandth_and_reaches_eta_after_142_trials():
    s = LearningRateSchedule(1e-3, ease_in=1.05)
    assert s.rate == pytest.approx(1e-6)
    rates = []
    for _ in range(150):
        s.after_trial()
        rates.append(s.rate)
    # 1.05 ** 141 < 1000 <= 1.05 ** 142
    assert rates[140] == pytest.approx(1e-6 * 1.05 ** 141)
    assert rates[140] < 1e-3
    assert rates[141:] == [1e-3] * 9


def test_decay_multiplies_the_rate_at_the_start_of_every_epoch():
    s = LearningRateSchedule(0.1, decay=0.5)
    rates = []
    for _ in range(3):
        s.start_epoch()
        rates.append(s.rate)
    assert rates == pytest.approx([0.05, 0.025, 0.0125])


@pytest.mark.parametrize("min_epochs, drops", [(1, [4, 6, 8]), (4, [5])])
def test_plateau_lowers_the_rate_when_the_fast_average_falls_below_the_slow(min_epochs, drops):
    # alpha_fast 0.5, alpha_slow 0.8, accuracy 0.8 for 3 epochs then 0:
    # e_fast 0.4 0.6 0.7 0.35 0.175 0.0875 ...; e_slow 0.16 0.288 0.3904 0.312 0.250 0.200 ...
    # so e_fast <= e_slow from epoch 4 on; a drop needs epoch - last drop > min_epochs
    s = LearningRateSchedule(0.1, plateau=Plateau(0.5, 0.8, 0.5, min_epochs, "evaluation"))
    seen = []
    for epoch in range(10):
        acc = 0.8 if epoch < 3 else 0.0
        if s.end_epoch(epoch, {"train": 1.0, "evaluation": acc}):
            seen.append(epoch)
    assert seen == drops
    assert s.rate == pytest.approx(0.1 * 0.5 ** len(drops))
    assert s.target == s.rate


def test_plateau_follows_the_accuracy_it_is_told_to():
    s = LearningRateSchedule(0.1, plateau=Plateau(0.5, 0.8, 0.5, 0, "train"))
    # a falling validation accuracy does nothing while the training accuracy holds
    for epoch in range(6):
        assert not s.end_epoch(epoch, {"train": 0.9, "evaluation": 0.9 / (epoch + 1)})


def test_a_drop_ends_the_ease_in():
    s = LearningRateSchedule(0.1, ease_in=1.05, plateau=Plateau(0.0, 0.0, 0.5, 0, "train"))
    # alphas 0: both averages equal the accuracy, so the rule drops at epoch 1
    assert not s.end_epoch(0, {"train": 0.5})
    assert s.end_epoch(1, {"train": 0.5})
    assert s.rate == s.target == 0.05


def test_state_round_trip_continues_identically():
    def run(s, epochs):
        out = []
        for epoch in epochs:
            s.start_epoch()
            for _ in range(20):
                s.after_trial()
            s.end_epoch(epoch, {"train": math.sin(epoch)})
            out.append(s.rate)
        return out
    make = lambda: LearningRateSchedule(0.01, decay=0.9, ease_in=1.5,  # noqa: E731
                                        plateau=Plateau(0.5, 0.8, 0.5, 1, "train"))
    whole = run(make(), range(8))
    first = make()
    run(first, range(4))
    second = make()
    second.set_state(first.state())
    assert whole[4:] == run(second, range(4, 8))
