"""The network's parameters: their defaults ``p`` and the rules of their values."""
import models
from eventprop.params import (boolean, choice, integer, number, optional, positive,
                              probability)

# The network's keys and their defaults (those of the reference SHD simulator)
p = {
    "NUM_HIDDEN": 256,            # neurons per hidden layer
    "N_HID_LAYER": 1,             # hidden layers
    "RECURRENT": False,           # all-to-all recurrent weights in each hidden layer
    "HIDDEN_NEURON_TYPE": "LIF",  # "LIF", "hetLIF" (per-neuron taus), "ALIF"
    "OUTPUT_NEURON_TYPE": "LI",   # "LI", "hetLI" (per-neuron taus)
    "N_INPUT_DELAY": 0,           # extra copies of the input, each delayed by INPUT_DELAY more
    "INPUT_DELAY": 50.0,          # ms
    "TAU_SYN": 5.0,               # ms, hidden and output
    "TAU_MEM": 20.0,              # ms, hidden and output
    "V_THRESH": 1.0,              # firing threshold
    "V_RESET": 0.0,               # reset and initial membrane potential
    "TAU_B": 100.0,               # ms, ALIF adaptation time constant
    "B_INCR": 0.1,                # ALIF threshold increment per spike
    "B_INIT": 0.0,                # ALIF threshold adaptation at the start of a trial
    "MIN_TAU_M": 3.0,             # ms, lower clamp of trained taus and of hetLIF/hetLI draws
    "MIN_TAU_SYN": 1.0,            # ms, the same for tau_syn
    "INPUT_HIDDEN_MEAN": 0.02,    # initial weights: Normal(mean, std)
    "INPUT_HIDDEN_STD": 0.01,     # input -> hidden0
    "HIDDEN_OUTPUT_MEAN": 0.0,    # last hidden layer -> output
    "HIDDEN_OUTPUT_STD": 0.3,     # last hidden layer -> output
    "HIDDEN_HIDDEN_MEAN": 0.0,    # recurrent (RECURRENT)
    "HIDDEN_HIDDEN_STD": 0.02,    # recurrent (RECURRENT)
    "HIDDEN_HIDDENFWD_MEAN": 0.02,  # hidden layer l -> l + 1
    "HIDDEN_HIDDENFWD_STD": 0.01,  # hidden layer l -> l + 1
    "TRAIN_W": True,              # train input and hidden weights
    "TRAIN_W_OUTPUT": True,       # train hidden -> output weights
    "TRAIN_TAU": False,           # train hidden tau_m, tau_syn
    "TRAIN_TAU_OUTPUT": False,    # train output tau_m, tau_syn (voltage losses)
    "PDROP_INPUT": 0.1,           # dropout of input spikes (training only)
    "PDROP_HIDDEN": 0.0,          # a dropped hidden spike is delayed, as in the reference
    "HIDDEN_NOISE": 0.0,          # membrane noise amplitude (training only), per sqrt(ms)
    "REG_TYPE": "none",           # "none", "simple", "Thomas1"
    "LBD_UPPER": 2e-9,            # spike-count penalty above / below NU_UPPER
    "LBD_LOWER": 2e-9,             # (REG_TYPE "simple" or "Thomas1")
    "NU_UPPER": 14.0,             # target spikes per neuron per trial
    "RHO_UPPER": 10000.0,         # Thomas1: target spikes per layer per trial
    "GLB_UPPER": 1e-8,            # Thomas1: strength of the layer penalty
    "REWIRE_SILENT": False,       # at the end of an epoch, rewire neurons that never spiked
    "REWIRE_LIFT": 0.0,           # 0: redraw their input weights; else add this to them
    "LOSS_TYPE": "sum_weigh_exp",  # see the loss table in the README
    "TAU_0": 1.0,                 # ms, first-spike softmax temperature
    "TAU_1": 100.0,               # ms, first_spike_exp time scale
    "ALPHA": 5e-5,                # weight of the first-spike time term
    "TAU_ACCUMULATOR": 20.0,      # ms, sum_weigh_input accumulator
    "N_MAX_SPIKE": 1500,          # ring slots per neuron: spikes of one trial that get a gradient
    "SPIKE_OVERFLOW": "error",    # "error" or "count" when a ring overflows
    "DT_MS": 1.0,                  # ms, time step
    "TRIAL_MS": 1400.0,            # ms, length of a trial (inputs are cropped)
    "N_BATCH": 32,                 # examples per mini-batch (one trial)
    "ETA": 1e-3,                  # learning rate
    "ADAM_BETA1": 0.9,             # Adam's moment decay rates
    "ADAM_BETA2": 0.999,           # Adam's moment decay rates
    "ADAM_EPS": 1e-8,              # Adam's epsilon
    "MODEL_SEED": None,           # seed of weights, taus, dropout and rewiring (None: random)
    "BACKEND": "auto",            # "auto", "cpu", "cuda", "genn"
    "PRECISION": "float",         # "float", "double"
}

rules = {
    "NUM_HIDDEN": integer(1), "N_HID_LAYER": integer(1), "N_INPUT_DELAY": integer(0),
    "HIDDEN_NEURON_TYPE": choice(*models.HIDDEN_NEURON_TYPES),
    "OUTPUT_NEURON_TYPE": choice("LI", "hetLI"),
    "INPUT_DELAY": number(0.0), "TAU_SYN": positive, "TAU_MEM": positive, "TAU_B": positive,
    "V_THRESH": number(), "V_RESET": number(), "B_INCR": number(), "B_INIT": number(),
    "MIN_TAU_M": positive, "MIN_TAU_SYN": positive,
    "INPUT_HIDDEN_STD": number(0.0), "HIDDEN_OUTPUT_STD": number(0.0),
    "HIDDEN_HIDDEN_STD": number(0.0), "HIDDEN_HIDDENFWD_STD": number(0.0),
    "PDROP_INPUT": probability, "PDROP_HIDDEN": probability, "HIDDEN_NOISE": number(0.0),
    "REG_TYPE": choice(*models.REG_TYPES),
    "LBD_UPPER": number(0.0), "LBD_LOWER": number(0.0), "NU_UPPER": number(0.0),
    "RHO_UPPER": number(0.0), "GLB_UPPER": number(0.0), "REWIRE_LIFT": number(),
    "LOSS_TYPE": choice(*models.LOSS_TYPES),
    "TAU_0": positive, "TAU_1": positive, "ALPHA": number(0.0), "TAU_ACCUMULATOR": positive,
    "N_MAX_SPIKE": integer(1), "SPIKE_OVERFLOW": choice("error", "count"),
    "DT_MS": positive, "TRIAL_MS": positive, "N_BATCH": integer(1), "ETA": number(0.0),
    "ADAM_BETA1": number(0.0, 1.0), "ADAM_BETA2": number(0.0, 1.0), "ADAM_EPS": positive,
    "MODEL_SEED": optional(integer(0)),
    "BACKEND": choice("auto", "cpu", "cuda", "genn"),
    "PRECISION": choice("float", "double"),
    "RECURRENT": boolean, "TRAIN_W": boolean, "TRAIN_W_OUTPUT": boolean,
    "TRAIN_TAU": boolean, "TRAIN_TAU_OUTPUT": boolean, "REWIRE_SILENT": boolean,
}

