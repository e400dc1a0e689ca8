"""Train on latency-coded MNIST (55,000 training, 5,000 validation images), then test the
best checkpoint on the 10,000 test images.

    python train_scripts/train_MNIST.py [KEY=VALUE ...]

Results go to results/mnist/."""
import sys

from eventprop.cli import parse_setting
from simulators.simulator_MNIST import mnist_model, p

p["NAME"] = "mnist"
p.update(parse_setting(arg) for arg in sys.argv[1:])

model = mnist_model(p)
model.train(p)
result = model.test(dict(p, LOAD_BEST=True))
print(f"test accuracy {100 * result['test']['accuracy']:.2f}%")
