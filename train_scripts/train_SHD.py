"""Train on SHD, validating on N_VALIDATE held-out training examples after every epoch.

    python train_scripts/train_SHD.py [KEY=VALUE ...]

Results go to results/shd/ (learning curves: eventprop plot results/shd)."""
import sys

from eventprop.cli import parse_setting
from simulators.simulator_SHD import SHD_model, p

p["NAME"] = "shd"
p.update(parse_setting(arg) for arg in sys.argv[1:])

result = SHD_model(p).train(p)
print(f"Training correct: {result['train']['accuracy']:.4f}, "
      f"Validation correct: {result['validation']['accuracy']:.4f}"
      if "validation" in result else
      f"Training correct: {result['train']['accuracy']:.4f}")
