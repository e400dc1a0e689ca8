"""Train on Yin-Yang, then test the best checkpoint on the test split.

    python train_scripts/train_yinyang.py [KEY=VALUE ...]

Results go to results/yinyang/ (learning curves: eventprop plot results/yinyang)."""
import sys

from eventprop.cli import parse_setting
from simulators.simulator_yinyang import p, yinyang

p["NAME"] = "yinyang"
p.update(parse_setting(arg) for arg in sys.argv[1:])

model = yinyang(p)
model.train(p)
result = model.test(dict(p, LOAD_BEST=True))
print(f"test accuracy {100 * result['test']['accuracy']:.2f}%")
