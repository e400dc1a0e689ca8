"""Train on the whole SHD training file and test after every epoch, for several data seeds.

    python train_scripts/train_test_SHD.py [--seeds N] [KEY=VALUE ...]

Run k (k = 0 .. N-1, default N = 10) uses TRAIN_DATA_SEED + 31 k and goes to
results/shd_tt_{k}/; each run's final "train_accuracy test_accuracy" is appended to
results/shd_tt_traintest.txt."""
import argparse
import pathlib

from eventprop.cli import parse_setting
from eventprop.training.files import atomic_path
from simulators.simulator_SHD import SHD_model, p

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("--seeds", type=int, default=10, help="number of runs (default 10)")
ap.add_argument("settings", nargs="*", type=parse_setting, metavar="KEY=VALUE")
args = ap.parse_args()

p.update(NAME="shd_tt", EMA_WHICH="training")
p.update(dict(args.settings))
table = pathlib.Path(p["OUT_DIR"]).expanduser() / f"{p['NAME']}_traintest.txt"
for k in range(args.seeds):
    q = dict(p, NAME=f"{p['NAME']}_{k}", TRAIN_DATA_SEED=p["TRAIN_DATA_SEED"] + 31 * k)
    result = SHD_model(q).train_test(q)
    with atomic_path(table, copy_existing=True) as tmp:
        with open(tmp, "a") as f:
            f.write(f"{result['train']['accuracy']} {result['test']['accuracy']}\n")
    print(f"seed {q['TRAIN_DATA_SEED']}: train {result['train']['accuracy']:.4f}, "
          f"test {result['test']['accuracy']:.4f}")
