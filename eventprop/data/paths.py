"""Where the data sets live."""
import os
import pathlib


class MissingDataError(FileNotFoundError):
    """A data set's files are not where the loader looks. The message names the missing files,
    the folder they belong in and how to get them, because a bare "file not found" deep inside
    a training script does not say what to do next."""


def data_dir(value=None):
    """The data folder: `value` when given, else $EVENTPROP_DATA, else ~/data (`~` expanded
    in each)."""
    if value is None or value == "":
        value = os.environ.get("EVENTPROP_DATA") or "~/data"
    return pathlib.Path(value).expanduser()
