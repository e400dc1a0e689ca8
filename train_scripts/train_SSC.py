"""Train on SSC, validating on the official SSC validation file after every epoch.

    python train_scripts/train_SSC.py [KEY=VALUE ...]

Results go to results/ssc/."""
import sys

from eventprop.cli import parse_setting
from simulators.simulator_SHD import SHD_model, p

p.update(NAME="ssc", DATA_SET="SSC", EVALUATION="validation_set", N_TRAIN=75466)
p.update(parse_setting(arg) for arg in sys.argv[1:])

result = SHD_model(p).train(p)
print(f"Training correct: {result['train']['accuracy']:.4f}, "
      f"Validation correct: {result['validation']['accuracy']:.4f}")
