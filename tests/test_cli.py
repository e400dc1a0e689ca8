"""The eventprop command."""
import subprocess
import sys

import pytest

from eventprop import __version__
from eventprop.cli import main


def test_info_reports_backends_and_cache(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTPROP_CACHE_DIR", str(tmp_path))
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "cpu backend" in out and "cuda backend" in out and "genn backend" in out
    assert str(tmp_path) in out


def test_clear_cache_removes_compiled_models(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    (cache / "sub").mkdir(parents=True)
    (cache / "model_x.so").write_bytes(b"")
    monkeypatch.setenv("EVENTPROP_CACHE_DIR", str(cache))
    assert main(["clear-cache"]) == 0
    assert not cache.exists()


def test_version_and_unknown_command():
    out = subprocess.run([sys.executable, "-m", "eventprop.cli", "--version"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout
    with pytest.raises(SystemExit):
        main(["trian"])
