"""The eventprop command: each subcommand runs, settings are typed, errors are plain."""
import json
import os

import pytest

from eventprop.cli import main, parse_setting

SMALL = ["--set", "N_TRAIN=64", "--set", "N_VALIDATE=32", "--set", "N_TEST=32",
         "--set", "NUM_HIDDEN=20", "--set", "N_EPOCH=1", "--quiet"]


def run(tmp_path, *args):
    return main([*args, "--out", str(tmp_path), "--backend", os.environ["EVENTPROP_BACKEND"],
                 *SMALL])


@pytest.mark.parametrize("text, expected", [
    ("ETA=0.01", ("ETA", 0.01)), ("N_EPOCH=3", ("N_EPOCH", 3)),
    ("RECURRENT=True", ("RECURRENT", True)), ("MODEL_SEED=None", ("MODEL_SEED", None)),
    ("REC_SPIKES=['hidden0']", ("REC_SPIKES", ["hidden0"])),
    ("LOSS_TYPE=sum", ("LOSS_TYPE", "sum")), ("NAME = my run", ("NAME", "my run")),
])
def test_settings_are_typed(text, expected):
    assert parse_setting(text) == expected


def test_train_test_train_test_xval_and_plot(tmp_path, capsys):
    assert run(tmp_path, "train", "yinyang") == 0
    run_dir = tmp_path / "yinyang"
    assert (run_dir / "checkpoints" / "last.npz").is_file()
    assert run(tmp_path, "test", "yinyang") == 0
    assert json.loads((run_dir / "test" / "summary.json").read_text())["test"]["accuracy"] >= 0
    assert run(tmp_path, "train-test", "yinyang", "--name", "tt") == 0
    assert "test" in json.loads((tmp_path / "tt" / "summary.json").read_text())
    assert run(tmp_path, "xval", "yinyang", "--name", "xv", "--set", "N_FOLDS=2") == 0
    assert (tmp_path / "xv" / "folds.csv").is_file()
    assert main(["plot", str(run_dir)]) == 0
    assert (run_dir / "learning_curves.png").stat().st_size > 0
    assert "results in" in capsys.readouterr().out


def test_params_file_then_set(tmp_path):
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"NUM_HIDDEN": 12, "ETA": 0.002}))
    run(tmp_path, "train", "yinyang", "--params", str(params), "--set", "ETA=0.003")
    saved = json.loads((tmp_path / "yinyang" / "params.json").read_text())
    # --set wins over the file, which wins over the defaults; SMALL sets NUM_HIDDEN last
    assert saved["ETA"] == 0.003 and saved["NUM_HIDDEN"] == 20


@pytest.mark.parametrize("args, message", [
    (["--set", "N_EPOK=2"], "Did you mean 'N_EPOCH'"),
    (["--set", "ETA=fast"], "'ETA' = 'fast' is invalid"),
    (["--params", "missing.json"], "cannot read --params missing.json"),
])
def test_errors_are_one_line(tmp_path, args, message):
    with pytest.raises(SystemExit, match=message):
        run(tmp_path, "train", "yinyang", *args)


def test_plot_of_a_folder_without_a_run(tmp_path):
    with pytest.raises(SystemExit, match="no metrics.csv"):
        main(["plot", str(tmp_path)])


def test_train_script_trains_then_tests(tmp_path):
    import pathlib
    import subprocess
    import sys
    script = pathlib.Path(__file__).resolve().parents[2] / "train_scripts" / "train_yinyang.py"
    out = subprocess.run(
        [sys.executable, str(script), f"OUT_DIR={tmp_path}", "N_EPOCH=1", "N_TRAIN=64",
         "N_VALIDATE=32", "N_TEST=32", "NUM_HIDDEN=20", "PROGRESS=False",
         f"BACKEND={os.environ['EVENTPROP_BACKEND']}"],
        capture_output=True, text=True, check=True)
    assert "test accuracy" in out.stdout
    assert (tmp_path / "yinyang" / "test" / "summary.json").is_file()


def test_missing_data_is_a_plain_error_naming_the_files(tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "shd", "--data", str(tmp_path), "--set", "DOWNLOAD=False", "--quiet"])
    message = str(exit_.value)
    assert message.startswith("eventprop: SHD files missing: shd_train.h5")
    assert str(tmp_path / "SHD") in message and "DOWNLOAD=True" in message
