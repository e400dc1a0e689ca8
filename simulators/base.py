"""What every simulator shares: the parameters of a run, the epoch loop, and what a run writes.

A simulator (``simulator_yinyang.py``, ``simulator_MNIST.py``, ...) is a ``Simulator`` that says
where its examples come from; this module trains, tests and cross-validates it. Every run writes
to ``OUT_DIR/NAME/``: ``params.json``, ``metrics.csv``, ``summary.json``, ``NAME_results.txt``
(the reference code's line format), checkpoints ``checkpoints/last.npz`` and ``best.npz``, and
when asked ``confusion.npz``, ``predictions.npz``, ``recordings.h5`` and ``weights.h5``.
"""
import abc
import json
import math
import pathlib
import time

import numpy as np

from eventprop.params import (ParameterError, boolean, check_params, integer, optional,
                              pairs, path_like)
from eventprop.training.files import (atomic_path, load_arrays, save_arrays, write_json,
                                      write_text)
from eventprop.training.metrics import MetricsLog
from eventprop.training.progress import Progress
from eventprop.training.schedule import LearningRateSchedule

from .defaults import p as NETWORK_DEFAULTS, rules as NETWORK_RULES
from .network import EventPropNetwork

__all__ = ["EventPropNetwork", "ExampleSet", "RUN_DEFAULTS", "RUN_RULES", "Simulator"]

# The keys of a run, shared by all simulators (each sets its own values)
RUN_DEFAULTS = {
    "NAME": "test",               # the run's folder OUT_DIR/NAME
    "OUT_DIR": "results",          # runs go to OUT_DIR/NAME/
    "DATA_DIR": None,             # None: $EVENTPROP_DATA, else ~/data
    "N_EPOCH": 10,                 # epochs of training
    "SHUFFLE": True,              # reshuffle the training examples every epoch
    "TRAIN_DATA_SEED": 123,       # splits and shuffling of the training data
    "TEST_DATA_SEED": 456,        # the test data
    "N_FOLDS": 5,                 # cross_validate: folds of the training set
    "RESUME": False,              # continue the run in OUT_DIR/NAME from its last checkpoint
    "LOAD_LAST": False,           # start from the weights of checkpoint "last" ...
    "LOAD_BEST": False,           # ... or "best" (test() reads "last" unless LOAD_BEST)
    "CHECKPOINT_NAME": None,      # read checkpoints from OUT_DIR/CHECKPOINT_NAME, not NAME
    "COLLECT_CONFUSION": False,   # confusion.npz: [prediction, label] counts per epoch
    "REC_PREDICTIONS": False,     # predictions.npz: every example's prediction per epoch
    "REC_SPIKES": [],             # populations whose spikes are recorded (forward pass)
    "REC_SPIKES_EPOCH_TRIAL": [],  # in these [epoch, trial]s; trials count on into evaluation
    "REC_NEURONS": [],            # [population, variable]s recorded at every step
    "REC_NEURONS_EPOCH_TRIAL": [],  # in these [epoch, trial]s
    "REC_SYNAPSES": [],           # [synapse population, variable]s recorded at every step
    "REC_SYNAPSES_EPOCH_TRIAL": [],  # in these [epoch, trial]s
    "SPK_REC_STEPS": None,        # keep recordings of the first SPK_REC_STEPS steps (None: all)
    "WRITE_TO_DISK": True,        # write recordings to recordings.h5 (else only return them)
    "W_OUTPUT_EPOCH_TRIAL": [],   # [epoch, trial]s after which the weights go to weights.h5
    "BUILD": True,                # False: use the compiled model in the cache, never compile
    "TIMING": True,               # time per phase in summary.json and the final line
    "PROGRESS": True,             # progress bars on a terminal, one line per phase otherwise
}


def _names(v):
    ok = isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)
    return None if ok else "a list of population names"


def _resume_meta(arrays, path):
    """The run state that the checkpoint at ``path`` keeps beside the network's arrays (taken
    out of ``arrays``); an error naming what is missing in one that cannot be resumed."""
    meta = json.loads(str(arrays.pop("meta"))) if "meta" in arrays else {}
    missing = [key for key in ("network", "data_rng", "schedule", "state") if key not in meta]
    missing += [f"state.{key}" for key in ("epoch", "best_score", "best_epoch", "wall_time_s")
                if key not in meta.get("state", {})]
    if missing:
        raise ParameterError(f"RESUME: the checkpoint {path} lacks {', '.join(missing)} (it was "
                             "written by another version of eventprop), so the run cannot go "
                             "on from it; set RESUME=False to start afresh")
    return meta


def _run_name(v):
    return None if isinstance(v, str) and v and "/" not in v else \
        "a run name: a non-empty folder name without '/'"


RUN_RULES = {
    "NAME": _run_name, "CHECKPOINT_NAME": optional(_run_name),
    "OUT_DIR": path_like, "DATA_DIR": path_like,
    "N_EPOCH": integer(0), "N_FOLDS": integer(2),
    "TRAIN_DATA_SEED": optional(integer(0)), "TEST_DATA_SEED": optional(integer(0)),
    "SHUFFLE": boolean, "RESUME": boolean, "LOAD_LAST": boolean, "LOAD_BEST": boolean,
    "COLLECT_CONFUSION": boolean, "REC_PREDICTIONS": boolean, "WRITE_TO_DISK": boolean,
    "BUILD": boolean, "TIMING": boolean, "PROGRESS": boolean,
    "REC_SPIKES": _names, "REC_NEURONS": pairs, "REC_SYNAPSES": pairs,
    "REC_SPIKES_EPOCH_TRIAL": pairs, "REC_NEURONS_EPOCH_TRIAL": pairs,
    "REC_SYNAPSES_EPOCH_TRIAL": pairs, "W_OUTPUT_EPOCH_TRIAL": pairs,
    "SPK_REC_STEPS": optional(integer(1)),
}


class ExampleSet:
    """The examples of one split: ``inputs`` (first axis: examples) and ``labels``, turned
    into spike trains by ``encode(inputs) -> [(times, ids), ...]`` a batch at a time."""

    def __init__(self, inputs, labels, encode):
        self.inputs, self.labels, self.encode = inputs, np.asarray(labels), encode
        if len(inputs) != len(self.labels):
            raise ValueError(f"{len(inputs)} examples but {len(self.labels)} labels")

    def __len__(self):
        return len(self.labels)

    def subset(self, indices):
        return ExampleSet(self.inputs[indices], self.labels[indices], self.encode)

    def batch(self, indices):
        return self.encode(self.inputs[indices]), self.labels[indices]


class Simulator(abc.ABC):
    """Trains, tests and cross-validates one benchmark from one parameter dictionary ``p``.

    Subclasses set ``defaults`` (their module's ``p``), ``rules``, ``num_input`` and
    ``results_columns``, and implement ``splits(p)``; they may override the hooks below."""
    defaults = None
    rules = {}
    num_input = None
    results_header = ""
    # simulator key -> network key, where the reference simulator names a key differently
    network_keys = {}

    def __init__(self, p=None):
        self.p = self.check(p)

    # -- parameters ----------------------------------------------------------------------
    def check(self, p=None):
        """``p`` (default: the module's ``p``) checked against the defaults and rules."""
        p = check_params(self.defaults if p is None else p, self.defaults,
                         {**NETWORK_RULES, **RUN_RULES, **self.rules})
        for what in ("SPIKES", "NEURONS", "SYNAPSES"):
            if p[f"REC_{what}"] and not p[f"REC_{what}_EPOCH_TRIAL"]:
                raise ParameterError(f"REC_{what} = {p[f'REC_{what}']!r} records nothing: "
                                     f"REC_{what}_EPOCH_TRIAL lists no [epoch, trial]")
        if p["LOAD_LAST"] and p["LOAD_BEST"]:
            raise ParameterError("LOAD_LAST and LOAD_BEST are both True; choose one")
        return p

    def _use(self, p):
        if p is not None:
            self.p = self.check(p)
        return self.p

    def network_params(self, p):
        """The network's share of ``p``."""
        names = {self.network_keys.get(k, k): k for k in self.defaults}
        return {key: p[names[key]] for key in NETWORK_DEFAULTS if key in names}

    @abc.abstractmethod
    def num_output(self, p):
        """The number of classes."""

    @abc.abstractmethod
    def splits(self, p, full_train=False):
        """{"train": ExampleSet, "validation": ExampleSet or None, "test": ExampleSet}; with
        ``full_train`` the training split is all training data (for train_test)."""

    def schedule(self, p):
        """The learning-rate schedule of a training run (constant ETA unless overridden)."""
        return LearningRateSchedule(p["ETA"])

    def epoch_data(self, p, train, evaluate, rng):
        """The training and evaluation examples of one epoch (``train`` and ``evaluate``
        unless overridden, e.g. by augmentation drawn from ``rng``)."""
        return train, evaluate

    def best_score(self, p, phases, eval_phase):
        """The epoch's score for checkpoint "best" (lower is better; None: this epoch is not
        a candidate): by default the evaluation loss."""
        return phases[eval_phase]["loss"] if eval_phase in phases else None

    def folds(self, p):
        """Cross-validation folds: [(name, training ExampleSet, held-out ExampleSet)]; by
        default N_FOLDS random parts of the training split."""
        train = self.splits(p)["train"]
        rng = np.random.default_rng(p["TRAIN_DATA_SEED"])
        parts = np.array_split(rng.permutation(len(train)), p["N_FOLDS"])
        return [(f"fold {i}", train.subset(np.sort(np.concatenate(
                    [f for j, f in enumerate(parts) if j != i]))), train.subset(np.sort(held)))
                for i, held in enumerate(parts)]

    @abc.abstractmethod
    def results_line(self, epoch, phases, epoch_seconds, elapsed, hidden_stats):
        """The reference code's line in NAME_results.txt."""

    def dump_weights_after(self, p, epoch, trial):
        return [epoch, trial] in [list(x) for x in p["W_OUTPUT_EPOCH_TRIAL"]]

    def after_epoch(self, p, run_dir, epoch, finished):
        """Called when an epoch's files are written."""

    # -- the four ways to run -------------------------------------------------------------
    def train(self, p=None):
        """Trains on the training split, evaluating the validation split after every epoch."""
        p = self._use(p)
        data = self.splits(p)
        return self._run(p, data["train"], data["validation"], "validation", self.run_dir(p))

    def train_test(self, p=None):
        """Trains on the whole training data, evaluating the test set after every epoch."""
        p = self._use(p)
        data = self.splits(p, full_train=True)
        return self._run(p, data["train"], data["test"], "test", self.run_dir(p))

    def test(self, p=None):
        """The test set through the weights of checkpoint "last" (or "best" with LOAD_BEST)."""
        p = self._use(p)
        if not (p["LOAD_LAST"] or p["LOAD_BEST"]):
            p = dict(p, LOAD_LAST=True)
        data = self.splits(p)
        return self._run(p, None, data["test"], "test", self.run_dir(p) / "test", epochs=1)

    def cross_validate(self, p=None):
        """One run per fold (see ``folds``), each a fresh network trained on the rest of the
        training split and evaluated on the fold; OUT_DIR/NAME/fold{i}/ and a table of all
        folds with their mean and standard deviation."""
        p = self._use(p)
        root = self.run_dir(p)
        rows = []
        for i, (name, train, held_out) in enumerate(self.folds(p)):
            result = self._run(p, train, held_out, "validation", root / f"fold{i}",
                               label=name)
            rows.append({"fold": i, "held_out": name,
                         **{f"{ph}_{m}": result[ph][m] for ph in ("train", "validation")
                            for m in ("accuracy", "loss")},
                         "wall_time_s": result["wall_time_s"]})
        return self._write_folds(p, root, rows)

    # -- the epoch loop ------------------------------------------------------------------
    def run_dir(self, p):
        return pathlib.Path(p["OUT_DIR"]).expanduser() / p["NAME"]

    def _checkpoint_dir(self, p):
        """Where LOAD_LAST / LOAD_BEST read from."""
        return (pathlib.Path(p["OUT_DIR"]).expanduser() / (p["CHECKPOINT_NAME"] or p["NAME"])
                / "checkpoints")

    def _network(self, p):
        record_vars = [tuple(x) for x in p["REC_NEURONS"]] + [tuple(x) for x in
                                                             p["REC_SYNAPSES"]]
        return EventPropNetwork(self.network_params(p), self.num_input, self.num_output(p),
                                record_spikes=p["REC_SPIKES"], record_vars=record_vars,
                                build=p["BUILD"])

    def _run(self, p, train, evaluate, eval_phase, run_dir, epochs=None, label=None):
        progress = Progress(p["PROGRESS"])
        run_dir = pathlib.Path(run_dir)
        net = self._network(p)
        schedule = self.schedule(p)
        epochs = p["N_EPOCH"] if epochs is None else epochs
        data_rng = np.random.default_rng(p["TRAIN_DATA_SEED"])
        state = {"epoch": -1, "best_score": math.inf, "best_epoch": None, "wall_time_s": 0.0}
        resume = p["RESUME"] and (run_dir / "checkpoints" / "last.npz").is_file()
        if resume:
            arrays = load_arrays(run_dir / "checkpoints" / "last.npz")
            meta = _resume_meta(arrays, run_dir / "checkpoints" / "last.npz")
            if meta["network"] != _jsonable(self.network_params(p)):
                raise ParameterError(f"RESUME: the network parameters differ from those of "
                                     f"the run in {run_dir}; resume with its params.json")
            net.set_training_state(arrays)
            data_rng.bit_generator.state = meta["data_rng"]
            schedule.set_state(meta["schedule"])
            state = meta["state"]
            progress.line(f"resuming {run_dir} after epoch {state['epoch']}")
        elif p["LOAD_LAST"] or p["LOAD_BEST"]:
            which = "best" if p["LOAD_BEST"] else "last"
            arrays = load_arrays(self._checkpoint_dir(p) / f"{which}.npz")
            net.set_weights({k: v for k, v in arrays.items() if k in net.get_weights()})
        if not resume:
            _clear_run(run_dir, progress)
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(run_dir / "params.json", p)
        metrics = MetricsLog(run_dir / "metrics.csv",
                             resume_after=state["epoch"] if resume else None)
        outputs = _EpochOutputs(p, run_dir, net.num_output, resume_after=state["epoch"]
                                if resume else None)
        results_path = run_dir / f"{p['NAME']}_results.txt"
        if not resume:
            write_text(results_path, self.results_header)
        timing = {name: 0.0 for name, data in (("train", train), (eval_phase, evaluate))
                  if data is not None}
        last = state.get("last", {})
        start = time.perf_counter() - state["wall_time_s"]
        for epoch in range(state["epoch"] + 1, epochs):
            epoch_start = time.perf_counter()
            if train is not None:
                schedule.start_epoch()
            epoch_train, epoch_eval = self.epoch_data(p, train, evaluate, data_rng)
            phases = [(name, data) for name, data in (("train", epoch_train),
                                                      (eval_phase, epoch_eval))
                      if data is not None]
            trial = 0
            last = {}
            for name, data in phases:
                training = name == "train"
                order = data_rng.permutation(len(data)) if training and p["SHUFFLE"] else \
                    np.arange(len(data))
                t0 = time.perf_counter()
                last[name] = self._phase(p, net, schedule, name, data, order, epoch, trial,
                                         training, outputs, progress, label)
                timing[name] += time.perf_counter() - t0
                trial += last[name]["trials"]
                if training or train is None:
                    # silent neurons of the training phase; REWIRE_SILENT rewires them before
                    # the evaluation, so that checkpoints hold the network that was evaluated
                    hidden_stats = self._hidden_stats(net, len(data))
                    silent = net.end_epoch(rewire=training)
            elapsed = time.perf_counter() - start
            rows = [{"epoch": epoch, "phase": name, "loss": r["loss"],
                     "accuracy": r["accuracy"], "learning_rate": net.learning_rate,
                     "wall_time_s": round(elapsed, 3),
                     "hidden_spikes_per_neuron": r["hidden_spikes_per_neuron"],
                     "silent_neurons": sum(silent.values()), "lost_spikes": r["lost_spikes"]}
                    for name, r in last.items()]
            if train is not None:
                if schedule.end_epoch(epoch, {"train" if name == "train" else "evaluation":
                                              r["accuracy"] for name, r in last.items()}):
                    progress.line(f"learning rate lowered to {schedule.rate:.3g}")
                score = self.best_score(p, last, eval_phase)
                if score is not None and score < state["best_score"]:
                    state.update(best_score=score, best_epoch=epoch)
                    save_arrays(run_dir / "checkpoints" / "best.npz", self._checkpoint(
                        p, net, data_rng, schedule, state))
            state.update(epoch=epoch, wall_time_s=elapsed, last=last)
            if train is not None:
                save_arrays(run_dir / "checkpoints" / "last.npz",
                            self._checkpoint(p, net, data_rng, schedule, state))
            outputs.end_epoch()
            metrics.append(rows)
            with atomic_path(results_path, copy_existing=True) as tmp:
                with open(tmp, "a") as f:
                    f.write(self.results_line(epoch, last, time.perf_counter() - epoch_start,
                                              elapsed, hidden_stats) + "\n")
            for name, r in last.items():
                progress.line(f"{label + ' ' if label else ''}epoch {epoch} {name}: loss "
                              f"{r['loss']:.4f}, accuracy {100 * r['accuracy']:.2f}%, "
                              f"{elapsed:.1f} s")
            self._write_summary(p, run_dir, state, last, epochs, timing, net, finished=False)
            self.after_epoch(p, run_dir, epoch, epoch == epochs - 1)
        summary = self._write_summary(p, run_dir, state, last, epochs, timing, net,
                                      finished=True)
        if p["TIMING"]:
            progress.line("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items()))
        summary["recordings"] = outputs.recordings
        return summary

    def _phase(self, p, net, schedule, phase, data, order, epoch, first_trial, training,
               outputs, progress, label):
        B = p["N_BATCH"]
        loss = correct = lost = hidden_spikes = seen = 0
        predictions = np.empty(len(data), dtype=np.int64)
        n_hidden = p["NUM_HIDDEN"] * p["N_HID_LAYER"]
        what = f"{label + ' ' if label else ''}epoch {epoch} {phase}"
        with progress.phase(len(data), what) as bar:
            for k, start in enumerate(range(0, len(data), B)):
                trial = first_trial + k
                indices = order[start:start + B]
                X, Y = data.batch(indices)
                record = outputs.records(epoch, trial)
                if training:
                    net.learning_rate = schedule.rate
                step = net.train_batch if training else net.evaluate_batch
                r = step(X, Y, record=bool(record))
                schedule.after_trial()
                if record:
                    outputs.add_recording(epoch, trial, record, r, Y)
                if training and self.dump_weights_after(p, epoch, trial):
                    outputs.add_weights(epoch, trial, net.get_weights())
                n = len(indices)
                seen += n
                loss += r.loss * n
                correct += r.n_correct
                lost += r.lost_spikes
                hidden_spikes += sum(v for k2, v in r.spikes.items() if k2.startswith("hidden"))
                predictions[indices] = r.predictions
                bar.update(n, loss / seen, correct / seen)
        outputs.add_phase(phase, predictions, data.labels)
        return {"loss": loss / len(data) if len(data) else math.nan,
                "accuracy": correct / len(data) if len(data) else 0.0,
                "lost_spikes": lost, "trials": math.ceil(len(data) / B),
                "hidden_spikes_per_neuron": hidden_spikes / max(1, len(data) * n_hidden)}

    @staticmethod
    def _hidden_stats(net, n_examples):
        """Per hidden layer: mean, std, min, max of the spikes per neuron and example, and the
        number of silent neurons, over the epoch so far."""
        out = []
        for counts in net.epoch_spikes.values():
            rate = counts / max(1, n_examples)
            out.append((rate.mean(), rate.std(), rate.min(), rate.max(), int(np.sum(counts == 0))))
        return out

    def _checkpoint(self, p, net, data_rng, schedule, state):
        meta = {"state": state, "data_rng": data_rng.bit_generator.state,
                "schedule": schedule.state(), "network": _jsonable(self.network_params(p))}
        return {**net.training_state(), "meta": np.array(json.dumps(meta))}

    def _write_summary(self, p, run_dir, state, last, epochs, timing, net, finished):
        summary = {"name": p["NAME"], "simulator": type(self).__name__,
                   "finished": finished, "epochs": state["epoch"] + 1, "n_epoch": epochs,
                   "best_epoch": state["best_epoch"],
                   "best_score": None if math.isinf(state["best_score"])
                   else state["best_score"],
                   "wall_time_s": state["wall_time_s"], "backend": net.model.backend.name,
                   **{name: {"loss": r["loss"], "accuracy": r["accuracy"]}
                      for name, r in last.items()}}
        if p["TIMING"]:
            summary["timing_s"] = timing
        write_json(run_dir / "summary.json", summary)
        return summary

    def _write_folds(self, p, root, rows):
        keys = [k for k in rows[0] if k not in ("fold", "held_out")]
        stats = {k: {"mean": float(np.mean([r[k] for r in rows])),
                     "std": float(np.std([r[k] for r in rows]))} for k in keys}
        lines = ["fold,held_out," + ",".join(keys)]
        lines += [f"{r['fold']},{r['held_out']}," + ",".join(f"{r[k]:.6g}" for k in keys)
                  for r in rows]
        lines += [f"{s},," + ",".join(f"{stats[k][s]:.6g}" for k in keys)
                  for s in ("mean", "std")]
        write_text(root / "folds.csv", "\n".join(lines) + "\n")
        summary = {"name": p["NAME"], "n_folds": len(rows), "folds": rows, **stats}
        write_json(root / "summary.json", summary)
        Progress(p["PROGRESS"]).line(
            f"cross-validation over {len(rows)} folds: validation accuracy "
            f"{100 * stats['validation_accuracy']['mean']:.2f} +- "
            f"{100 * stats['validation_accuracy']['std']:.2f}%  ({root / 'folds.csv'})")
        return summary


RUN_FILES = ("params.json", "metrics.csv", "summary.json", "confusion.npz", "predictions.npz",
             "recordings.h5", "weights.h5", "checkpoints/last.npz", "checkpoints/best.npz")


def _clear_run(run_dir, progress):
    """A new run in a folder that holds an old one replaces it, saying so, so that no file
    of the old run (a better "best" checkpoint, say) passes for one of the new."""
    old = [run_dir / f for f in RUN_FILES if (run_dir / f).exists()]
    old += list(run_dir.glob("*_results.txt")) if run_dir.is_dir() else []
    if old:
        progress.line(f"replacing the run in {run_dir} (RESUME=True continues it instead)")
    for path in old:
        path.unlink()


def parameter_table(simulator):
    """The parameters of a simulator class as a Markdown table: key, default and the comment
    beside the key where it is defined (the network's, the run's or the simulator's)."""
    import inspect
    import re
    from . import defaults
    meaning = {}
    for module in (defaults, inspect.getmodule(Simulator), inspect.getmodule(simulator)):
        for line in inspect.getsource(module).splitlines():
            m = re.match(r'\s*"(\w+)":.*?#\s*(.*)$', line)
            if m:
                meaning[m.group(1)] = m.group(2)
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for key, value in simulator.defaults.items():
        rows.append(f"| `{key}` | `{value!r}` | {meaning.get(key, '')} |")
    return "\n".join(rows) + "\n"


def phase_columns(phases):
    """The columns ``train_accuracy train_loss eval_accuracy eval_loss`` of the reference's
    NAME_results.txt (0 and nan for a phase that did not run)."""
    train = phases.get("train")
    evaluation = next((r for name, r in phases.items() if name != "train"), None)
    return [x for r in (train, evaluation)
            for x in ((r["accuracy"], r["loss"]) if r else (0.0, float("nan")))]


def _jsonable(d):
    return json.loads(json.dumps(d))


class _EpochOutputs:
    """The optional outputs of each epoch: confusion matrices, predictions, recordings and
    weight snapshots, kept in memory during the epoch and written at its end."""

    def __init__(self, p, run_dir, num_output, resume_after):
        self.p, self.run_dir, self.num_output = p, run_dir, num_output
        self.when = {what: {tuple(x) for x in p[f"REC_{what}_EPOCH_TRIAL"]} if p[f"REC_{what}"]
                     else set() for what in ("SPIKES", "NEURONS", "SYNAPSES")}
        self.files = {}
        for name, asked in (("confusion", p["COLLECT_CONFUSION"]),
                            ("predictions", p["REC_PREDICTIONS"])):
            if asked:
                path = run_dir / f"{name}.npz"
                kept = {}
                if resume_after is not None and path.exists():
                    kept = {k: list(v[:resume_after + 1]) if v.ndim > 1 else v
                            for k, v in load_arrays(path).items()}
                self.files[name] = kept
        self.recordings = {}
        self.pending = {"recordings.h5": {}, "weights.h5": {}}

    def records(self, epoch, trial):
        return [what for what, when in self.when.items() if (epoch, trial) in when]

    def add_recording(self, epoch, trial, what, result, labels):
        rec = result.recording
        steps = self.p["SPK_REC_STEPS"]
        group = {"labels": np.asarray(labels), "predictions": result.predictions}
        dt = self.p["DT_MS"]
        if "SPIKES" in what:
            for pop, per_example in rec["spikes"].items():
                times = [t for t, _ in per_example]
                ids = [i for _, i in per_example]
                example = np.repeat(np.arange(len(times)), [len(t) for t in times])
                t, i = np.concatenate(times), np.concatenate(ids)
                keep = t < steps * dt if steps else np.ones(len(t), bool)
                group[f"spikes/{pop}/times"] = t[keep]
                group[f"spikes/{pop}/ids"] = i[keep]
                group[f"spikes/{pop}/example"] = example[keep]
        for kind, names in (("NEURONS", self.p["REC_NEURONS"]),
                            ("SYNAPSES", self.p["REC_SYNAPSES"])):
            if kind in what:
                for g, v in names:
                    group[f"vars/{g}.{v}"] = rec["vars"][f"{g}.{v}"][:steps]
        key = f"e{epoch}_t{trial}"
        self.recordings[key] = group
        if self.p["WRITE_TO_DISK"]:
            self.pending["recordings.h5"][key] = group

    def add_weights(self, epoch, trial, weights):
        self.pending["weights.h5"][f"e{epoch}_t{trial}"] = weights

    def add_phase(self, phase, predictions, labels):
        if "confusion" in self.files:
            counts = np.zeros((self.num_output, self.num_output), dtype=np.int64)
            np.add.at(counts, (predictions, labels), 1)
            self.files["confusion"].setdefault(phase, []).append(counts)
        if "predictions" in self.files:
            self.files["predictions"].setdefault(f"{phase}_predictions", []).append(predictions)
            self.files["predictions"][f"{phase}_labels"] = labels

    def end_epoch(self):
        for name, arrays in self.files.items():
            save_arrays(self.run_dir / f"{name}.npz",
                        {k: np.asarray(v) for k, v in arrays.items()})
        for filename, groups in self.pending.items():
            if groups:
                import h5py
                with atomic_path(self.run_dir / filename, copy_existing=True) as tmp:
                    with h5py.File(tmp, "a") as f:
                        for key, arrays in groups.items():
                            if key in f:
                                del f[key]
                            for name, value in arrays.items():
                                f.create_dataset(f"{key}/{name}", data=np.asarray(value))
                groups.clear()
