"""The simulators end to end on small data: what a run writes, resuming, testing a checkpoint,
cross-validation, and that a short run learns."""
import csv
import json
import os

import h5py
import numpy as np
import pytest

from eventprop.params import ParameterError
from simulators import simulator_yinyang
from simulators.base import EventPropNetwork
from simulators.simulator_yinyang import YinYang, yinyang


def small(tmp_path, **changes):
    """A Yin-Yang run of a few hundred examples, written under tmp_path."""
    return {**simulator_yinyang.p, "OUT_DIR": str(tmp_path), "N_TRAIN": 128, "N_VALIDATE": 64,
            "N_TEST": 64, "N_EPOCH": 2, "NUM_HIDDEN": 30, "MODEL_SEED": 3, "PROGRESS": False,
            "BACKEND": os.environ["EVENTPROP_BACKEND"], "W_EPOCH_INTERVAL": 1000, **changes}


def metrics(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_train_writes_the_run_folder(tmp_path):
    p = small(tmp_path, COLLECT_CONFUSION=True, REC_PREDICTIONS=True,
              REC_SPIKES=["hidden0", "output"], REC_SPIKES_EPOCH_TRIAL=[[1, 0]],
              REC_NEURONS=[["output", "V"]], REC_NEURONS_EPOCH_TRIAL=[[1, 4]],
              REC_SYNAPSES=[["hid_to_out", "g"]], REC_SYNAPSES_EPOCH_TRIAL=[[0, 1]],
              W_OUTPUT_EPOCH_TRIAL=[[0, 2]])
    result = yinyang(p).train(p)
    run = tmp_path / "yinyang"
    assert json.loads((run / "params.json").read_text()) == json.loads(json.dumps(p))
    rows = metrics(run)
    assert [(r["epoch"], r["phase"]) for r in rows] == [
        ("0", "train"), ("0", "validation"), ("1", "train"), ("1", "validation")]
    assert set(rows[0]) == {"epoch", "phase", "loss", "accuracy", "learning_rate",
                            "wall_time_s", "hidden_spikes_per_neuron", "silent_neurons",
                            "lost_spikes"}
    # the learning rate decays by ETA_DECAY from the first epoch on
    assert float(rows[0]["learning_rate"]) == pytest.approx(p["ETA"] * p["ETA_DECAY"])
    assert float(rows[2]["learning_rate"]) == pytest.approx(p["ETA"] * p["ETA_DECAY"] ** 2)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["finished"] and summary["epochs"] == 2
    assert summary["validation"]["accuracy"] == float(rows[3]["accuracy"])
    assert result["validation"] == summary["validation"]
    lines = (run / "yinyang_results.txt").read_text().splitlines()
    assert lines[0].startswith("#") and len(lines) == 3
    epoch, acc, loss, seconds = lines[2].split()
    assert (int(epoch), float(acc), float(loss)) == (1, float(rows[2]["accuracy"]),
                                                     float(rows[2]["loss"]))
    assert (run / "checkpoints" / "last.npz").is_file()
    assert (run / "checkpoints" / "best.npz").is_file()

    with np.load(run / "confusion.npz") as c:
        assert c["train"].shape == (2, 3, 3) and c["validation"].shape == (2, 3, 3)
        assert c["train"][1].sum() == 128 and c["validation"][1].sum() == 64
        # [prediction, label]: the label sums are the class counts of the split
        labels = np.load(run / "predictions.npz")["validation_labels"]
        np.testing.assert_array_equal(c["validation"][1].sum(axis=0), np.bincount(labels, None, 3))
        assert np.trace(c["validation"][1]) / 64 == pytest.approx(float(rows[3]["accuracy"]))
    with np.load(run / "predictions.npz") as pr:
        assert pr["validation_predictions"].shape == (2, 64)

    with h5py.File(run / "recordings.h5", "r") as f:
        assert sorted(f) == ["e0_t1", "e1_t0", "e1_t4"]
        spikes = f["e1_t0/spikes/hidden0"]
        assert len(spikes["times"]) == len(spikes["ids"]) == len(spikes["example"]) > 0
        assert spikes["ids"][()].max() < 30 and spikes["times"][()].max() < p["TRIAL_MS"]
        assert f["e1_t4/vars/output.V"].shape == (300, 32, 3)
        assert f["e0_t1/vars/hid_to_out.g"].shape == (300, 90)
    assert set(result["recordings"]) == {"e0_t1", "e1_t0", "e1_t4"}
    with h5py.File(run / "weights.h5", "r") as f:
        # e0_t0 by W_EPOCH_INTERVAL / W_REPORT_INTERVAL, e0_t2 by W_OUTPUT_EPOCH_TRIAL
        assert sorted(f) == ["e0_t0", "e0_t2"] and f["e0_t2/in_to_hid"].shape == (5, 30)


def test_a_new_run_replaces_an_old_one(tmp_path):
    p = small(tmp_path, N_EPOCH=2)
    yinyang(p).train(p)
    p = small(tmp_path, N_EPOCH=1, N_VALIDATE=0)
    yinyang(p).train(p)
    run = tmp_path / "yinyang"
    assert len(metrics(run)) == 1
    # no best checkpoint without validation: the old run's one is gone
    assert not (run / "checkpoints" / "best.npz").exists()


def test_resume_after_a_crash_ends_where_an_uninterrupted_run_ends(tmp_path, monkeypatch):
    # dropout of input and hidden spikes: the random streams must resume too
    p = small(tmp_path, N_EPOCH=3, PDROP=0.1, PDROP_INPUT=0.1)
    yinyang(dict(p, NAME="whole")).train(dict(p, NAME="whole"))

    calls = {"n": 0}
    real = EventPropNetwork.train_batch

    def crashing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4 + 2:    # the third batch of epoch 1 (4 batches per epoch)
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)
    monkeypatch.setattr(EventPropNetwork, "train_batch", crashing)
    with pytest.raises(KeyboardInterrupt):
        yinyang(dict(p, NAME="cut")).train(dict(p, NAME="cut"))
    monkeypatch.setattr(EventPropNetwork, "train_batch", real)
    assert [r["epoch"] for r in metrics(tmp_path / "cut")] == ["0", "0"]

    result = yinyang(dict(p, NAME="cut", RESUME=True)).train(dict(p, NAME="cut", RESUME=True))
    whole = np.load(tmp_path / "whole" / "checkpoints" / "last.npz")
    cut = np.load(tmp_path / "cut" / "checkpoints" / "last.npz")
    for key in whole.files:
        if key != "meta":
            np.testing.assert_array_equal(cut[key], whole[key], err_msg=key)
    same = ("epoch", "phase", "loss", "accuracy", "learning_rate")
    assert [[r[k] for k in same] for r in metrics(tmp_path / "cut")] == \
        [[r[k] for k in same] for r in metrics(tmp_path / "whole")]
    assert result["epochs"] == 3 and result["finished"]


def test_resume_with_other_network_parameters_is_refused(tmp_path):
    p = small(tmp_path, N_EPOCH=1)
    yinyang(p).train(p)
    p = small(tmp_path, N_EPOCH=2, NUM_HIDDEN=31, RESUME=True)
    with pytest.raises(ParameterError, match="RESUME"):
        yinyang(p).train(p)


def test_resume_from_a_checkpoint_without_run_state_names_what_is_missing(tmp_path):
    p = small(tmp_path, N_EPOCH=1)
    yinyang(p).train(p)
    file = tmp_path / p["NAME"] / "checkpoints" / "last.npz"
    with np.load(file) as saved:
        arrays = dict(saved)
    meta = json.loads(str(arrays["meta"]))
    del meta["schedule"], meta["state"]["best_score"]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(file, **arrays)
    p = small(tmp_path, N_EPOCH=2, RESUME=True)
    with pytest.raises(ParameterError, match=r"last.npz lacks schedule, state.best_score"):
        yinyang(p).train(p)


def test_test_of_a_checkpoint_reproduces_the_accuracy_of_training(tmp_path):
    p = small(tmp_path, N_EPOCH=2)
    sim = yinyang(p)
    trained = sim.train_test(p)
    tested = sim.test(p)
    assert tested["test"] == trained["test"]
    assert metrics(tmp_path / "yinyang" / "test")[0]["phase"] == "test"
    # and "best" by its own loss (LOAD_BEST)
    best_epoch = trained["best_epoch"]
    rows = [r for r in metrics(tmp_path / "yinyang") if r["phase"] == "test"]
    tested = sim.test(dict(p, LOAD_BEST=True))
    assert tested["test"]["accuracy"] == float(rows[best_epoch]["accuracy"])


def test_test_reads_another_run_with_checkpoint_name(tmp_path):
    p = small(tmp_path, N_EPOCH=1)
    yinyang(p).train_test(p)
    q = dict(p, NAME="other", CHECKPOINT_NAME="yinyang")
    assert yinyang(q).test(q)["test"] == json.loads(
        (tmp_path / "yinyang" / "summary.json").read_text())["test"]
    with pytest.raises(FileNotFoundError, match="nothing"):
        q = dict(p, CHECKPOINT_NAME="nothing")
        yinyang(q).test(q)


def test_cross_validation_writes_a_table_of_folds(tmp_path):
    p = small(tmp_path, N_EPOCH=1, N_FOLDS=2, N_TRAIN=96)
    summary = yinyang(p).cross_validate(p)
    root = tmp_path / "yinyang"
    lines = (root / "folds.csv").read_text().splitlines()
    assert lines[0].startswith("fold,held_out,train_accuracy") and len(lines) == 1 + 2 + 2
    assert lines[1].startswith("0,fold 0,")
    folds = [json.loads((root / f"fold{i}" / "summary.json").read_text()) for i in range(2)]
    accs = [f["validation"]["accuracy"] for f in folds]
    assert summary["validation_accuracy"]["mean"] == pytest.approx(np.mean(accs))
    assert summary["validation_accuracy"]["std"] == pytest.approx(np.std(accs))
    # the folds split the training set: 48 examples evaluated in each
    for i in range(2):
        with open(root / f"fold{i}" / "metrics.csv") as f:
            assert "validation" in f.read()
    assert yinyang(p).splits(p)["train"].labels.shape == (96,)


def test_progress_lines_without_a_terminal(tmp_path, capsys):
    p = small(tmp_path, N_EPOCH=1, PROGRESS=True)
    yinyang(p).train(p)
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith("epoch 0 train: loss") for line in err)
    assert any(line.startswith("epoch 0 validation: loss") for line in err)
    p = small(tmp_path, N_EPOCH=1, PROGRESS=False)
    yinyang(p).train(p)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("change, message", [
    ({"N_EPOK": 3}, "Did you mean 'N_EPOCH'"),
    ({"N_EPOCH": 2.5}, "'N_EPOCH' = 2.5 is invalid: it must be an integer"),
    ({"PDROP": 1.5}, "'PDROP' = 1.5 is invalid"),
    ({"LOSS_TYPE": "mse"}, "'LOSS_TYPE'"),
    ({"REC_SPIKES": ["hidden0"]}, "REC_SPIKES_EPOCH_TRIAL"),
    ({"LOAD_LAST": True, "LOAD_BEST": True}, "choose one"),
])
def test_bad_parameters_are_named(tmp_path, change, message):
    with pytest.raises(ParameterError, match=message):
        YinYang(small(tmp_path, **change))


def test_recording_an_unknown_population_is_an_error(tmp_path):
    p = small(tmp_path, REC_SPIKES=["hiden0"], REC_SPIKES_EPOCH_TRIAL=[[0, 0]])
    with pytest.raises(ValueError, match="hiden0"):
        yinyang(p).train(p)


def accuracy_of(p, net, split):
    data = yinyang(p).splits(p)[split]
    correct = 0
    for start in range(0, len(data), p["N_BATCH"]):
        X, Y = data.batch(np.arange(start, min(start + p["N_BATCH"], len(data))))
        correct += net.evaluate_batch(X, Y).n_correct
    return correct / len(data)


def test_a_short_run_learns(tmp_path):
    p = small(tmp_path, N_TRAIN=480, N_VALIDATE=300, N_EPOCH=4, NUM_HIDDEN=100)
    sim = yinyang(p)
    untrained = accuracy_of(p, EventPropNetwork(sim.network_params(p), 5, 3), "validation")
    result = sim.train(p)
    trained = result["validation"]["accuracy"]
    print(f"Yin-Yang validation accuracy: untrained {untrained:.3f}, trained {trained:.3f}")
    assert trained > 0.6             # chance: 1/3
    assert trained > untrained + 0.15
