"""Files written atomically: a run killed at any moment leaves each file either as it was
before or complete, never half written, so that a run can always be resumed from them."""
import contextlib
import json
import os
import pathlib
import shutil
import tempfile

import numpy as np


@contextlib.contextmanager
def atomic_path(path, copy_existing=False):
    """A temporary path next to ``path`` that replaces ``path`` when the block succeeds.
    With ``copy_existing`` it starts as a copy of ``path`` (for appending)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        if copy_existing and path.exists():
            shutil.copyfile(path, tmp)
        yield pathlib.Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path, text):
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, default=_plain) + "\n")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pathlib.Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def save_arrays(path, arrays):
    """``arrays`` (name -> array) as one .npz file."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def load_arrays(path):
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
