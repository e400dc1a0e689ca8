"""The real data sets the tests read from $EVENTPROP_DATA, where they are found."""
import os
import pathlib

import pytest


def shared_data_folder(name, what, present=pathlib.Path.is_dir):
    """$EVENTPROP_DATA/``name``, or a skip that says why it cannot be used: ``what`` names
    its files, ``present(folder)`` says whether they are there."""
    root = os.environ.get("EVENTPROP_DATA")
    if not root:
        pytest.skip(f"EVENTPROP_DATA is not set: {what} are read from $EVENTPROP_DATA/{name}")
    folder = pathlib.Path(root).expanduser() / name
    if not present(folder):
        pytest.skip(f"{what} are not in {folder} (EVENTPROP_DATA/{name})")
    return folder
