"""Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC): 700 input channels.

Usage as in the reference code::

    from simulators.simulator_SHD import p, SHD_model
    p["RECURRENT"] = True
    SHD_model(p).train(p)

``DATA_SET`` picks SHD or SSC. ``train`` splits the training file by ``EVALUATION``:
"random" (N_TRAIN + N_VALIDATE examples drawn with TRAIN_DATA_SEED), "speaker" (every
example of the speaker ``SPEAKER_LEFT[0]`` validates, SHD only) or "validation_set" (the
official SSC validation file). ``cross_validate`` leaves each speaker of SPEAKER_LEFT out in
turn. Every epoch the training examples are balanced, normalised and augmented afresh from
TRAIN_DATA_SEED (see AUGMENTATION); Adam's rate eases in from ETA / 1000 and is lowered by
the two-EMA plateau rule.
"""
import numpy as np

from eventprop.data.augment import (augment, balance_classes, check_augmentation,
                                    min_spike_count, normalise_spike_number)
from eventprop.data.shd import (NUM_CHANNELS, keep_classes, load_spiking_audio,
                                spiking_audio_files)
from eventprop.params import (ParameterError, boolean, choice, class_list, integer, number,
                              pairs, path_like, positive)
from eventprop.training.schedule import LearningRateSchedule, Plateau

from .base import RUN_DEFAULTS, ExampleSet, Simulator, phase_columns
from .defaults import p as NETWORK_DEFAULTS

NUM_CLASSES = {"SHD": 20, "SSC": 35}

p = dict(NETWORK_DEFAULTS)
p.update({key: value for key, value in RUN_DEFAULTS.items() if key != "N_FOLDS"})
p.update({
    "NAME": "shd",
    "DATA_SET": "SHD",            # "SHD" or "SSC"
    "DOWNLOAD": True,             # fetch missing files into DATA_DIR (needs tonic)
    "DATA_BUFFER_NAME": None,     # folder of the preprocessed-data cache (None: the default)
    "N_EPOCH": 100,
    "N_TRAIN": 7644,               # training examples (at most; blend: exactly)
    "N_VALIDATE": 512,             # validation examples of EVALUATION "random"; 0: none
    "EVALUATION": "random",       # "random", "speaker" (SHD) or "validation_set" (SSC)
    "SPEAKER_LEFT": [0],          # indices into the sorted training speakers held out
    "REDUCED_CLASSES": None,      # a list of classes to keep, e.g. [0, 1]; None: all
    "BALANCE_TRAIN_CLASSES": False,  # every epoch, as many training examples of each class
    "BALANCE_EVAL_CLASSES": False,  # every epoch, as many evaluation examples of each class
    "AUGMENTATION": {"NORMALISE_SPIKE_NUMBER": False},  # per epoch, training examples only
    "RESCALE_T": 1.0,              # times are multiplied by this at loading
    "RESCALE_X": 1.0,              # channel ids are multiplied by this (<= 1) and floored
    "LR_EASE_IN_FACTOR": 1.05,     # Adam's rate grows by this factor per trial from ETA/1000
    "EMA_ALPHA1": 0.8,             # fast moving average of the accuracy (plateau rule)
    "EMA_ALPHA2": 0.95,            # slow moving average of the accuracy
    "ETA_FAC": 0.5,                # the rate is multiplied by this when fast <= slow ...
    "MIN_EPOCH_ETA_FIXED": 300,    # ... and more than this many epochs passed since the last
    "EMA_WHICH": "validation",    # the accuracy the rule follows: "validation" or "training"
    "ETA_DECAY": 1.0,              # the rate is multiplied by this at every epoch start
    "CHECKPOINT_BEST": "neither",  # checkpoint "best" by "validation" or "training" accuracy
    "CHECKPOINT": True,           # checkpoint "last" after every epoch: True only
    "DEBUG_HIDDEN_N": False,       # hidden spike statistics in NAME_results.txt
    "TAU_OUTPUT_EPOCH_TRIAL": [],  # [epoch, trial]s after which taus go to weights.h5
    "AVG_SNSUM": False,            # batch-averaged spike counts: not available (False only)
    "CUDA_VISIBLE_DEVICES": True,  # the cuda backend uses the first visible GPU
    "PROFILE": False,              # reference build/memory profiling: False only (see TIMING)
    "TEST_ST_INTEGRITY": False,    # reference debug plot of the input arrays: False only
})


def _speaker_indices(v):
    ok = isinstance(v, (list, tuple)) and len(v) >= 1 and all(
        isinstance(i, int) and i >= 0 for i in v)
    return None if ok else "a non-empty list of speaker indices, e.g. [0] or [0, 1, 2]"


def example_set(dataset, indices=None):
    """An ``ExampleSet`` of (times in ms, channel ids) pairs of ``dataset`` (those at
    ``indices``); the pairs go to the network as they are."""
    indices = np.arange(len(dataset)) if indices is None else np.asarray(indices)
    return ExampleSet(_pair_array(dataset.examples(indices)), dataset.labels[indices], list)


def _pair_array(examples):
    # element by element: numpy would make a list of equal-length pairs a 2-D array
    pairs = np.empty(len(examples), dtype=object)
    for k, example in enumerate(examples):
        pairs[k] = example
    return pairs


class SHD(Simulator):
    defaults = p
    rules = {"DATA_SET": choice("SHD", "SSC"), "DOWNLOAD": boolean,
             "DATA_BUFFER_NAME": path_like,
             "N_TRAIN": integer(1), "N_VALIDATE": integer(0),
             "EVALUATION": choice("random", "speaker", "validation_set"),
             "SPEAKER_LEFT": _speaker_indices, "REDUCED_CLASSES": class_list,
             "BALANCE_TRAIN_CLASSES": boolean, "BALANCE_EVAL_CLASSES": boolean,
             "AUGMENTATION": check_augmentation,
             "RESCALE_T": positive, "RESCALE_X": number(0.0, 1.0, low_open=True),
             "LR_EASE_IN_FACTOR": number(1.0),
             "EMA_ALPHA1": number(0.0, 1.0), "EMA_ALPHA2": number(0.0, 1.0),
             "ETA_FAC": number(0.0, 1.0, low_open=True), "MIN_EPOCH_ETA_FIXED": integer(0),
             "EMA_WHICH": choice("validation", "training"),
             "ETA_DECAY": number(0.0, 1.0, low_open=True),
             "CHECKPOINT_BEST": choice("validation", "training", "neither"),
             "CHECKPOINT": choice(True), "DEBUG_HIDDEN_N": boolean,
             "TAU_OUTPUT_EPOCH_TRIAL": pairs,
             "AVG_SNSUM": choice(False), "CUDA_VISIBLE_DEVICES": choice(True),
             "PROFILE": choice(False), "TEST_ST_INTEGRITY": choice(False)}
    results_header = "# epoch train_accuracy train_loss eval_accuracy eval_loss seconds\n"

    def check(self, p=None):
        p = super().check(p)
        if p["EVALUATION"] == "speaker" and p["DATA_SET"] != "SHD":
            raise ParameterError("EVALUATION 'speaker' needs speaker ids, which only SHD has; "
                                 "use 'random' or 'validation_set' for SSC")
        if p["EVALUATION"] == "validation_set" and p["DATA_SET"] != "SSC":
            raise ParameterError("EVALUATION 'validation_set' is the official SSC validation "
                                 "file; SHD has none: use 'random' or 'speaker'")
        classes = NUM_CLASSES[p["DATA_SET"]]
        if p["REDUCED_CLASSES"] and max(p["REDUCED_CLASSES"]) >= classes:
            raise ParameterError(f"parameter 'REDUCED_CLASSES' = {p['REDUCED_CLASSES']!r} is "
                                 f"invalid: {p['DATA_SET']} has the classes 0-{classes - 1}")
        return p

    @property
    def num_input(self):
        # channel ids are floored after RESCALE_X, so 700 channels become these many
        return int(np.floor((NUM_CHANNELS - 1) * self.p["RESCALE_X"])) + 1

    def num_output(self, p):
        return len(p["REDUCED_CLASSES"]) if p["REDUCED_CLASSES"] else NUM_CLASSES[p["DATA_SET"]]

    # -- data ----------------------------------------------------------------------------
    def _load(self, p, split):
        data = load_spiking_audio(p["DATA_SET"], split, root=p["DATA_DIR"],
                                  trial_ms=p["TRIAL_MS"], dt_ms=p["DT_MS"],
                                  rescale_t=p["RESCALE_T"], rescale_x=p["RESCALE_X"],
                                  download=p["DOWNLOAD"], cache_dir=p["DATA_BUFFER_NAME"])
        return keep_classes(data, p["REDUCED_CLASSES"]) if p["REDUCED_CLASSES"] else data

    def _held_out_speaker(self, p, train, index):
        """(speaker, training indices, held-out indices) for SPEAKER_LEFT entry ``index``,
        an index into the training file's distinct speakers in ascending order."""
        speakers = np.unique(train.speakers)
        if index >= len(speakers):
            raise ParameterError(f"parameter 'SPEAKER_LEFT' holds {index}, but the training "
                                 f"data have {len(speakers)} speakers: indices 0.."
                                 f"{len(speakers) - 1}")
        speaker = speakers[index]
        held = np.flatnonzero(train.speakers == speaker)
        rest = np.flatnonzero(train.speakers != speaker)
        rest = np.random.default_rng(p["TRAIN_DATA_SEED"]).permutation(rest)[:p["N_TRAIN"]]
        return int(speaker), np.sort(rest), held

    def splits(self, p, full_train=False):
        # every file first, so that one error names all that are missing before any is read
        spiking_audio_files(p["DATA_SET"], root=p["DATA_DIR"], download=p["DOWNLOAD"])
        train = self._load(p, "train")
        test = example_set(self._load(p, "test"))
        if full_train:
            return {"train": example_set(train), "validation": None, "test": test}
        if p["N_VALIDATE"] > 0 and p["EVALUATION"] == "speaker":
            _, rest, held = self._held_out_speaker(p, train, p["SPEAKER_LEFT"][0])
            return {"train": example_set(train, rest), "validation": example_set(train, held),
                    "test": test}
        order = np.random.default_rng(p["TRAIN_DATA_SEED"]).permutation(len(train))
        part = {"train": example_set(train, np.sort(order[:p["N_TRAIN"]])), "test": test}
        if p["N_VALIDATE"] > 0 and p["EVALUATION"] == "validation_set":
            return {**part, "validation": example_set(self._load(p, "valid"))}
        n_validate = p["N_VALIDATE"] if p["EVALUATION"] == "random" else 0
        if p["N_TRAIN"] + n_validate > len(train):
            raise ParameterError(f"N_TRAIN + N_VALIDATE = {p['N_TRAIN'] + n_validate} but the "
                                 f"{p['DATA_SET']} training data hold {len(train)} examples")
        return {**part, "validation": example_set(train, np.sort(
            order[p["N_TRAIN"]:p["N_TRAIN"] + n_validate])) if n_validate else None}

    def folds(self, p):
        """Leave one speaker out, for each index in SPEAKER_LEFT."""
        if p["DATA_SET"] != "SHD":
            raise ParameterError("cross_validate leaves one speaker out at a time; only SHD "
                                 "has speaker ids")
        train = self._load(p, "train")
        out = []
        for index in p["SPEAKER_LEFT"]:
            speaker, rest, held = self._held_out_speaker(p, train, index)
            out.append((f"speaker {speaker}", example_set(train, rest),
                        example_set(train, held)))
        return out

    def epoch_data(self, p, train, evaluate, rng):
        """Balancing, spike-number normalisation and augmentation, in the reference's order,
        drawn afresh every epoch from ``rng``; the evaluation set is only balanced and
        normalised."""
        if train is None:
            return train, evaluate
        if p["BALANCE_TRAIN_CLASSES"]:
            train = train.subset(balance_classes(train.labels, rng))
        if evaluate is not None and p["BALANCE_EVAL_CLASSES"]:
            evaluate = evaluate.subset(balance_classes(evaluate.labels, rng))
        augmentation = dict(p["AUGMENTATION"])
        if augmentation.pop("NORMALISE_SPIKE_NUMBER", False):
            target = min_spike_count(list(train.inputs))
            train = _replace_examples(train, normalise_spike_number(
                list(train.inputs), target, rng))
            if evaluate is not None:
                evaluate = _replace_examples(evaluate, normalise_spike_number(
                    list(evaluate.inputs), target, rng))
        if augmentation:
            examples, labels = augment(list(train.inputs), train.labels, augmentation,
                                       self.num_input, p["TRIAL_MS"], p["N_TRAIN"], rng)
            train = _replace_examples(train, examples, labels)
        return train, evaluate

    # -- learning rate and checkpoints ---------------------------------------------------
    def schedule(self, p):
        return LearningRateSchedule(
            p["ETA"], decay=p["ETA_DECAY"],
            ease_in=p["LR_EASE_IN_FACTOR"] if p["LR_EASE_IN_FACTOR"] > 1.0 else None,
            plateau=Plateau(p["EMA_ALPHA1"], p["EMA_ALPHA2"], p["ETA_FAC"],
                            p["MIN_EPOCH_ETA_FIXED"],
                            "evaluation" if p["EMA_WHICH"] == "validation" else "train"))

    def _run(self, p, train, evaluate, *args, **kwargs):
        if train is not None and evaluate is None and p["EMA_WHICH"] == "validation":
            raise ParameterError("EMA_WHICH 'validation' lowers the learning rate by the "
                                 "validation accuracy, but this run has no evaluation set "
                                 "(N_VALIDATE = 0): set EMA_WHICH 'training' or N_VALIDATE > 0")
        return super()._run(p, train, evaluate, *args, **kwargs)

    def best_score(self, p, phases, eval_phase):
        phase = {"validation": eval_phase, "training": "train"}.get(p["CHECKPOINT_BEST"])
        return -phases[phase]["accuracy"] if phase in phases else None

    def dump_weights_after(self, p, epoch, trial):
        return super().dump_weights_after(p, epoch, trial) or \
            [epoch, trial] in [list(x) for x in p["TAU_OUTPUT_EPOCH_TRIAL"]]

    def results_line(self, epoch, phases, epoch_seconds, elapsed, hidden_stats):
        line = [epoch] + phase_columns(phases)
        if self.p["DEBUG_HIDDEN_N"]:
            for stats in hidden_stats:
                line += list(stats)
        line.append(round(elapsed, 3))
        return " ".join(str(x) for x in line)


def _replace_examples(data, examples, labels=None):
    return ExampleSet(_pair_array(examples), data.labels if labels is None else labels,
                      data.encode)


SHD_model = SHD   # the reference code's name
