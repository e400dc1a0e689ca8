"""metrics.csv: one row per epoch and phase, appended as the run goes."""
import csv
import pathlib

from .files import atomic_path

COLUMNS = ["epoch", "phase", "loss", "accuracy", "learning_rate", "wall_time_s",
           "hidden_spikes_per_neuron", "silent_neurons", "lost_spikes"]


class MetricsLog:
    def __init__(self, path, resume_after=None):
        """A new file, or with ``resume_after`` = epoch the existing file with the rows of
        later epochs removed (those of an epoch that was not checkpointed)."""
        self.path = pathlib.Path(path)
        rows = []
        if resume_after is not None and self.path.exists():
            rows = [r for r in read_metrics(self.path) if int(r["epoch"]) <= resume_after]
        with atomic_path(self.path) as tmp:
            with open(tmp, "w", newline="") as f:
                writer = csv.DictWriter(f, COLUMNS)
                writer.writeheader()
                writer.writerows(rows)

    def append(self, rows):
        with atomic_path(self.path, copy_existing=True) as tmp:
            with open(tmp, "a", newline="") as f:
                csv.DictWriter(f, COLUMNS).writerows(rows)


def read_metrics(path):
    """The rows of a metrics.csv as dicts of strings."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
