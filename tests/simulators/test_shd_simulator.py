"""The SHD / SSC simulator on small files in the official format: the evaluation modes, the
per-epoch augmentation, the learning-rate rule in a run, leave-one-speaker-out
cross-validation and the train scripts."""
import csv
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from eventprop.params import ParameterError
from simulators import simulator_SHD
from simulators.simulator_SHD import SHD_model

ROOT = pathlib.Path(__file__).resolve().parents[2]
# 36 examples per file: 3 classes, speakers 0, 1, 2 (12 examples each), spikes within 1 s
FILES = dict(n_per_split=36, speakers=(0, 1, 2), classes=3, max_spikes=80)
SSC_FILES = dict(FILES, dataset="SSC")


def small(tmp_path, data, **changes):
    return {**simulator_SHD.p, "OUT_DIR": str(tmp_path / "out"), "DATA_DIR": str(data),
            "DOWNLOAD": False, "N_TRAIN": 24, "N_VALIDATE": 12, "N_EPOCH": 2,
            "NUM_HIDDEN": 16, "N_BATCH": 8, "TRIAL_MS": 200.0, "N_MAX_SPIKE": 60,
            "MODEL_SEED": 2, "PROGRESS": False,
            "BACKEND": os.environ["EVENTPROP_BACKEND"], **changes}


def metrics(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def spikes_of(example_set):
    return [(tuple(t), tuple(i)) for t, i in example_set.inputs]


def whole(tmp_path, data, **changes):
    """Trials of the files' full second, so that every example has spikes of its own."""
    return small(tmp_path, data, TRIAL_MS=1000.0, N_MAX_SPIKE=100, **changes)


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
def test_random_split_draws_disjoint_training_and_validation_examples(tmp_path, shd_root):
    p = whole(tmp_path, shd_root)
    data = SHD_model(p).splits(p)
    train, validation = spikes_of(data["train"]), spikes_of(data["validation"])
    assert (len(train), len(validation)) == (24, 12)
    assert not set(train) & set(validation)
    assert len(data["test"]) == 36


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
@pytest.mark.parametrize("index", [0, 2])
def test_speaker_split_holds_out_every_example_of_one_speaker(tmp_path, shd_root, index):
    p = whole(tmp_path, shd_root, EVALUATION="speaker", SPEAKER_LEFT=[index], N_TRAIN=100)
    sim = SHD_model(p)
    speakers = sim._load(p, "train").speakers
    data = sim.splits(p)
    held = spikes_of(data["validation"])
    assert len(held) == np.sum(speakers == index) == 12
    # the other speakers' examples, all of them (N_TRAIN exceeds their number)
    assert len(data["train"]) == 24 and not set(spikes_of(data["train"])) & set(held)
    with pytest.raises(ParameterError, match="SPEAKER_LEFT.*3 speakers"):
        q = dict(p, SPEAKER_LEFT=[3])
        SHD_model(q).splits(q)


@pytest.mark.parametrize("shd_root", [SSC_FILES], indirect=True)
def test_ssc_validates_on_the_official_validation_file(tmp_path, shd_root):
    p = whole(tmp_path, shd_root, DATA_SET="SSC", EVALUATION="validation_set")
    sim = SHD_model(p)
    data = sim.splits(p)
    assert spikes_of(data["validation"]) == spikes_of(simulator_SHD.example_set(
        sim._load(p, "valid")))
    assert len(data["train"]) == 24 and sim.num_output(p) == 35


@pytest.mark.parametrize("changes, message", [
    (dict(DATA_SET="SSC", EVALUATION="speaker"), "speaker ids"),
    (dict(EVALUATION="validation_set"), "SHD has none"),
    (dict(REDUCED_CLASSES=[0, 20]), "classes 0-19"),
    (dict(AUGMENTATION={"random_shfit": 3}), "AUGMENTATION"),
    (dict(EMA_WHICH="test"), "EMA_WHICH"),
    (dict(CHECKPOINT=False), "CHECKPOINT"),
])
def test_bad_settings_are_refused_early(tmp_path, changes, message):
    with pytest.raises(ParameterError, match=message):
        SHD_model(small(tmp_path, tmp_path, **changes))


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
def test_too_many_examples_asked_for_is_an_error(tmp_path, shd_root):
    p = small(tmp_path, shd_root, N_TRAIN=30)
    with pytest.raises(ParameterError, match="N_TRAIN \\+ N_VALIDATE = 42.*36 examples"):
        SHD_model(p).splits(p)


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
def test_reduced_classes_renumber_the_labels(tmp_path, shd_root):
    p = small(tmp_path, shd_root, REDUCED_CLASSES=[2, 0], N_TRAIN=16, N_VALIDATE=8)
    sim = SHD_model(p)
    data = sim.splits(p)
    assert sim.num_output(p) == 2
    assert set(data["train"].labels) | set(data["validation"].labels) == {0, 1}
    assert len(data["test"]) == 24


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
def test_augmentation_changes_the_training_examples_only_and_is_reproducible(tmp_path,
                                                                             shd_root):
    p = whole(tmp_path, shd_root, AUGMENTATION={"random_shift": 40.0, "ID_jitter": 2.0})
    sim = SHD_model(p)
    data = sim.splits(p)

    def epoch(seed):
        return sim.epoch_data(p, data["train"], data["validation"],
                              np.random.default_rng(seed))
    train, validation = epoch(1)
    assert validation is data["validation"]
    assert spikes_of(train) != spikes_of(data["train"])
    assert list(train.labels) == list(data["train"].labels)
    for t, i in train.inputs:
        assert np.all((i >= 0) & (i < 700)) and np.all((t >= 0) & (t < p["TRIAL_MS"]))
    assert spikes_of(epoch(1)[0]) == spikes_of(train)
    assert spikes_of(epoch(2)[0]) != spikes_of(train)


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
def test_blend_and_balancing_set_the_number_of_training_examples(tmp_path, shd_root):
    p = small(tmp_path, shd_root, N_TRAIN=30, N_VALIDATE=6, BALANCE_TRAIN_CLASSES=True,
              AUGMENTATION={"blend": [0.5, 0.5]})
    sim = SHD_model(p)
    data = sim.splits(p)
    counts = np.bincount(data["train"].labels, minlength=3)
    train, _ = sim.epoch_data(p, data["train"], data["validation"],
                              np.random.default_rng(0))
    # balancing keeps min(count) of each class, blend then adds examples up to N_TRAIN
    assert len(train) == 30
    assert np.all(np.bincount(train.labels[:3 * counts.min()]) == counts.min())


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
def test_learning_rate_eases_in_per_trial_and_halves_on_a_plateau(tmp_path, shd_root):
    # 3 training trials per epoch; the ease-in doubles the rate after every trial (eval
    # trials too, as in the reference); alphas 0 make both averages equal the accuracy, so
    # the rule lowers the rate after every epoch e > MIN_EPOCH_ETA_FIXED = 1 after the last
    p = small(tmp_path, shd_root, N_EPOCH=5, ETA=1e-3, LR_EASE_IN_FACTOR=2.0,
              EMA_ALPHA1=0.0, EMA_ALPHA2=0.0, MIN_EPOCH_ETA_FIXED=1)
    SHD_model(p).train(p)
    rates = [float(r["learning_rate"]) for r in metrics(tmp_path / "out" / "shd")
             if r["phase"] == "train"]
    # epoch 0: trials at 1e-6, 2e-6, 4e-6 (the last is logged); the 2 validation trials and
    # epoch 1's trials take it to 1.28e-4; epoch 2 reaches 1e-3 (capped); the rule drops
    # after epoch 2 (2 - 0 > 1) and after epoch 4 (4 - 2 > 1), not after epoch 3
    assert rates == pytest.approx([4e-6, 1.28e-4, 1e-3, 5e-4, 5e-4])


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
def test_resumed_run_continues_schedule_and_augmentation_exactly(tmp_path, shd_root):
    p = small(tmp_path, shd_root, N_EPOCH=3, LR_EASE_IN_FACTOR=1.5, EMA_ALPHA1=0.0,
              EMA_ALPHA2=0.0, MIN_EPOCH_ETA_FIXED=0, PDROP_INPUT=0.2,
              AUGMENTATION={"random_shift": 20.0, "NORMALISE_SPIKE_NUMBER": True})
    whole = dict(p, NAME="whole")
    SHD_model(whole).train(whole)
    part = dict(p, NAME="part", N_EPOCH=2)
    SHD_model(part).train(part)
    resumed = dict(p, NAME="part", RESUME=True)
    SHD_model(resumed).train(resumed)
    drop = ("wall_time_s",)
    a = [{k: v for k, v in r.items() if k not in drop} for r in metrics(tmp_path / "out" /
                                                                       "whole")]
    b = [{k: v for k, v in r.items() if k not in drop} for r in metrics(tmp_path / "out" /
                                                                       "part")]
    assert a == b
    with np.load(tmp_path / "out" / "whole" / "checkpoints" / "last.npz") as x, \
            np.load(tmp_path / "out" / "part" / "checkpoints" / "last.npz") as y:
        for key in ("in_to_hid", "hid_to_out"):
            np.testing.assert_array_equal(x[key], y[key])


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
def test_checkpoint_best_follows_the_validation_accuracy(tmp_path, shd_root):
    p = small(tmp_path, shd_root, N_EPOCH=3, CHECKPOINT_BEST="validation")
    result = SHD_model(p).train(p)
    rows = [r for r in metrics(tmp_path / "out" / "shd") if r["phase"] == "validation"]
    best = max(range(3), key=lambda e: (float(rows[e]["accuracy"]), -e))
    assert result["best_epoch"] == best
    q = dict(p, LOAD_BEST=True)
    tested = SHD_model(q).test(q)
    assert 0.0 <= tested["test"]["accuracy"] <= 1.0
    none = dict(p, NAME="no_best", CHECKPOINT_BEST="neither", N_EPOCH=1)
    SHD_model(none).train(none)
    assert not (tmp_path / "out" / "no_best" / "checkpoints" / "best.npz").exists()


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
def test_leave_one_speaker_out_cross_validation_writes_its_tables(tmp_path, shd_root):
    p = small(tmp_path, shd_root, SPEAKER_LEFT=[0, 2], N_EPOCH=1, N_TRAIN=100,
              NAME="xval")
    summary = SHD_model(p).cross_validate(p)
    root = tmp_path / "out" / "xval"
    lines = (root / "folds.csv").read_text().splitlines()
    assert lines[0].startswith("fold,held_out,train_accuracy")
    assert lines[1].startswith("0,speaker 0,") and lines[2].startswith("1,speaker 2,")
    assert lines[3].startswith("mean,") and lines[4].startswith("std,")
    accs = [json.loads((root / f"fold{i}" / "summary.json").read_text())["validation"]
            ["accuracy"] for i in range(2)]
    assert summary["validation_accuracy"]["mean"] == pytest.approx(np.mean(accs))
    assert summary["validation_accuracy"]["std"] == pytest.approx(np.std(accs))
    # each fold validated on one speaker's 12 examples and trained on the other 24
    for i in range(2):
        rows = metrics(root / f"fold{i}")
        assert [r["phase"] for r in rows] == ["train", "validation"]
    results = (root / "fold0" / "xval_results.txt").read_text().splitlines()
    assert len(results) == 2 and len(results[1].split()) == 6


@pytest.mark.parametrize("shd_root", [SSC_FILES], indirect=True)
def test_cross_validation_of_ssc_is_refused(tmp_path, shd_root):
    p = small(tmp_path, shd_root, DATA_SET="SSC", EVALUATION="validation_set")
    with pytest.raises(ParameterError, match="only SHD has speaker ids"):
        SHD_model(p).cross_validate(p)


def script(tmp_path, data, name, *args):
    settings = [f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in
                small(tmp_path, data, N_EPOCH=1).items()
                if k in ("OUT_DIR", "DATA_DIR", "DOWNLOAD", "N_TRAIN", "N_VALIDATE",
                         "NUM_HIDDEN", "N_BATCH", "TRIAL_MS", "N_MAX_SPIKE", "N_EPOCH",
                         "PROGRESS", "BACKEND")]
    return subprocess.run([sys.executable, str(ROOT / "train_scripts" / name), *args,
                           *settings], capture_output=True, text=True, check=True,
                          cwd=tmp_path).stdout


@pytest.mark.parametrize("shd_root", [FILES], indirect=True)
def test_shd_scripts(tmp_path, shd_root):
    assert "Validation correct" in script(tmp_path, shd_root, "train_SHD.py")
    assert (tmp_path / "out" / "shd" / "summary.json").is_file()
    out = script(tmp_path, shd_root, "xval_SHD.py", "SPEAKER_LEFT=[0, 1]")
    assert "over 2 speakers" in out
    script(tmp_path, shd_root, "train_test_SHD.py", "--seeds", "2")
    lines = (tmp_path / "out" / "shd_tt_traintest.txt").read_text().splitlines()
    assert len(lines) == 2 and all(len(line.split()) == 2 for line in lines)


@pytest.mark.parametrize("shd_root", [SSC_FILES], indirect=True)
def test_ssc_script(tmp_path, shd_root):
    assert "Validation correct" in script(tmp_path, shd_root, "train_SSC.py")
    assert json.loads((tmp_path / "out" / "ssc" / "params.json").read_text())[
        "DATA_SET"] == "SSC"
