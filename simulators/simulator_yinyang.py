"""The Yin-Yang benchmark (Kriener et al. 2022): 5 inputs, each example one spike per input.

Usage as in the reference code::

    from simulators.simulator_yinyang import p, yinyang
    p["N_EPOCH"] = 50
    yinyang(p).train(p)

Departures from the reference simulator: the data are the published splits (N_TRAIN,
N_VALIDATE, N_TEST count examples, not examples per class, and the seeds are those of the
published splits); the network is the shared ``EventPropNetwork``, so every key of the
network (LOSS_TYPE, RECURRENT, ...) works here too; outputs go to OUT_DIR/NAME/.
"""
from eventprop.data import yinyang_dataset, yinyang_spike_times
from eventprop.params import boolean, integer, number, probability
from eventprop.training.schedule import LearningRateSchedule

from .base import RUN_DEFAULTS, ExampleSet, Simulator
from .defaults import p as NETWORK_DEFAULTS

p = {key: value for key, value in NETWORK_DEFAULTS.items() if key != "PDROP_HIDDEN"}
p.update(RUN_DEFAULTS)
p.update({
    "NAME": "yinyang",
    "N_EPOCH": 100,
    "N_TRAIN": 5000,              # examples (the published training split)
    "N_VALIDATE": 1000,            # examples (the published validation split)
    "N_TEST": 1000,                # examples (the published test split)
    "TRAIN_DATA_SEED": 42,        # the seeds of the published splits
    "VALIDATION_DATA_SEED": 41,    # the seed of the validation split
    "TEST_DATA_SEED": 40,
    "DT_MS": 0.1,
    "TRIAL_MS": 30.0,
    "N_MAX_SPIKE": 400,
    "N_BATCH": 32,
    "NUM_HIDDEN": 200,
    "LOSS_TYPE": "first_spike",
    "TAU_0": 0.5,
    "TAU_1": 6.4,
    "ALPHA": 3e-3,
    "INPUT_HIDDEN_MEAN": 1.5,
    "INPUT_HIDDEN_STD": 0.78,
    "HIDDEN_OUTPUT_MEAN": 0.93,
    "HIDDEN_OUTPUT_STD": 0.1,
    "PDROP_INPUT": 0.0,
    "PDROP": 0.0,                 # hidden dropout (the network's PDROP_HIDDEN)
    "REWIRE_SILENT": True,        # keeps the hidden layer from falling silent under first_spike
    "ETA": 5e-3,
    "ETA_DECAY": 0.98,            # learning rate *= ETA_DECAY at the start of every epoch
    "TRAINING_PLOT": False,       # learning curves (PNG) every TRAINING_PLOT_INTERVAL epochs
    "TRAINING_PLOT_INTERVAL": 10,  # epochs
    "FANCY_PLOTS": False,         # at the end: learning curves and recorded spike rasters
    "W_REPORT_INTERVAL": 100,     # weights to weights.h5 every W_REPORT_INTERVAL trials ...
    "W_EPOCH_INTERVAL": 10,       # ... of every W_EPOCH_INTERVAL-th epoch
})


class YinYang(Simulator):
    defaults = p
    rules = {"N_TRAIN": integer(1), "N_VALIDATE": integer(0), "N_TEST": integer(1),
             "VALIDATION_DATA_SEED": integer(0), "PDROP": probability,
             "ETA_DECAY": number(0.0, 1.0, low_open=True),
             "TRAINING_PLOT": boolean, "FANCY_PLOTS": boolean,
             "TRAINING_PLOT_INTERVAL": integer(1), "W_REPORT_INTERVAL": integer(1),
             "W_EPOCH_INTERVAL": integer(1)}
    network_keys = {"PDROP_HIDDEN": "PDROP"}
    num_input = 5
    results_header = "# epoch accuracy mean_loss seconds_for_this_epoch\n"

    def num_output(self, p):
        return 3

    def splits(self, p, full_train=False):
        def split(size, seed):
            samples, labels = yinyang_dataset(size, seed)
            return ExampleSet(samples, labels, lambda s: yinyang_spike_times(
                s, p["TRIAL_MS"], p["DT_MS"]))
        return {"train": split(p["N_TRAIN"], p["TRAIN_DATA_SEED"]),
                "validation": split(p["N_VALIDATE"], p["VALIDATION_DATA_SEED"])
                if p["N_VALIDATE"] else None,
                "test": split(p["N_TEST"], p["TEST_DATA_SEED"])}

    def schedule(self, p):
        return LearningRateSchedule(p["ETA"], decay=p["ETA_DECAY"])

    def dump_weights_after(self, p, epoch, trial):
        return super().dump_weights_after(p, epoch, trial) or (
            epoch % p["W_EPOCH_INTERVAL"] == 0 and trial % p["W_REPORT_INTERVAL"] == 0)

    def after_epoch(self, p, run_dir, epoch, finished):
        if (p["TRAINING_PLOT"] and (epoch + 1) % p["TRAINING_PLOT_INTERVAL"] == 0) or \
                (p["FANCY_PLOTS"] and finished):
            from eventprop.training.plots import plot_run
            plot_run(run_dir)

    def results_line(self, epoch, phases, epoch_seconds, elapsed, hidden_stats):
        first = next(iter(phases.values()))
        return f"{epoch} {first['accuracy']} {first['loss']} {epoch_seconds}"


yinyang = YinYang   # the reference code's name
