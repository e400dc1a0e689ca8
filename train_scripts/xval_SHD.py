"""Leave-one-speaker-out cross-validation on SHD: one fresh network per speaker.

    python train_scripts/xval_SHD.py [KEY=VALUE ...]

SPEAKER_LEFT defaults to all ten training speakers. Results go to results/shd_xval/: a run
folder per fold and folds.csv with the mean and standard deviation."""
import sys

from eventprop.cli import parse_setting
from simulators.simulator_SHD import SHD_model, p

p.update(NAME="shd_xval", SPEAKER_LEFT=list(range(10)))
p.update(parse_setting(arg) for arg in sys.argv[1:])

summary = SHD_model(p).cross_validate(p)
acc = summary["validation_accuracy"]
print(f"validation accuracy over {summary['n_folds']} speakers: "
      f"{100 * acc['mean']:.2f} +- {100 * acc['std']:.2f}%")
