"""The EventProp network every simulator trains: built from ``p``, run trial by trial.

A trial is one mini-batch: a forward pass of S steps, then the backward pass of S + 1 steps
(the adjoints integrated backwards in time), then the batch-summed gradient, then Adam,
all on the same batch and the weights that produced it. Everything in flight is reset at
the start of every trial.
"""
import json
from dataclasses import dataclass

import numpy as np

import models
from eventprop.engine import (GeNNModel, create_out_post_var_ref, create_var_ref,
                              create_wu_var_ref, init_postsynaptic, init_weight_update)
from eventprop.params import ParameterError, check_params

from . import losses
from .defaults import p as DEFAULTS, rules as RULES
from .inputs import SpikeOverflowError, encode_batch, spike_step_capacity

WEIGHT_FLOOR = -3.0e38   # "no clamp" for Adam's min_value on weights
# The spike ring's variables before the first trial (every trial starts with the Reset group)
RING_STATE = dict.fromkeys((name for name, _ in models.RING_VARS), 0)


def zeros(size):
    """``size`` zeros as one repeated value: the initial values of a buffer that the engine
    allocates zeroed (in the type of its extra global parameter), without a zeroed copy of it
    on the host."""
    return np.broadcast_to(np.zeros(1), (size,))


@dataclass
class BatchResult:
    loss: float            # mean loss over the real examples of the batch
    predictions: np.ndarray
    n_correct: int
    lost_spikes: int       # spikes that found no ring slot (SPIKE_OVERFLOW "count")
    spikes: dict           # population name -> spikes of the real examples in this trial
    recording: dict = None  # what ``record`` asked for (see ``EventPropNetwork``)


class EventPropNetwork:
    """input -> hidden0 -> ... -> hidden{L-1} -> output, trained by EventProp.

    Synapse populations (and the keys of ``get_weights`` / ``gradients``): ``in_to_hid``,
    ``hid_to_hidfwd{l}`` (layer l -> l+1), ``hid_to_hid`` (recurrent; ``hid_to_hid{l}`` with
    several layers), ``hid_to_out``. Trainable time constants appear as
    ``"<population>.tau_m"`` and ``"<population>.tau_syn"``.

    The forward pass of a batch can be recorded (``train_batch(X, Y, record=True)``): the
    spikes of the populations in ``record_spikes`` and, at every step, the variables
    ``record_vars`` = [(population or synapse population, variable), ...]. With
    ``build=False`` the compiled model must be in the code cache already.
    """

    def __init__(self, p, num_input, num_output, record_spikes=(), record_vars=(),
                 build=True):
        self.p = check_params(p, DEFAULTS, RULES)
        for name, value in (("num_input", num_input), ("num_output", num_output)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        p = self.p
        self.num_input, self.num_output = int(num_input), int(num_output)
        steps = p["TRIAL_MS"] / p["DT_MS"]
        self.trial_steps = int(round(steps))
        if abs(steps - self.trial_steps) > 1e-6 * max(1.0, steps):
            raise ParameterError(f"parameter 'TRIAL_MS' = {p['TRIAL_MS']} must be a whole "
                                 f"number of time steps DT_MS = {p['DT_MS']}")
        if p["LOSS_TYPE"] in models.FIRST_SPIKE_LOSSES and (
                p["TRAIN_TAU_OUTPUT"] or p["OUTPUT_NEURON_TYPE"] != "LI"):
            raise ParameterError(f"LOSS_TYPE {p['LOSS_TYPE']!r} has spiking LIF outputs: "
                                 "OUTPUT_NEURON_TYPE must be 'LI' and TRAIN_TAU_OUTPUT False")
        self.batch_size = p["N_BATCH"]
        self.n_layers = p["N_HID_LAYER"]
        self.hidden_names = [f"hidden{l}" for l in range(self.n_layers)]
        self.rng = np.random.default_rng(p["MODEL_SEED"])
        self.learning_rate = p["ETA"]
        self.adam_step = 0
        self.model = GeNNModel(p["PRECISION"], "eventprop", backend=p["BACKEND"],
                               time_precision="double")
        self.model.dt = p["DT_MS"]
        self.model.batch_size = self.batch_size
        if p["MODEL_SEED"] is not None:
            self.model.seed = p["MODEL_SEED"]
        self._define()
        self._check_recording(record_spikes, record_vars)
        for name in self.record_spikes:
            self.model.neuron_populations[name].spike_recording_enabled = True
        self.model.build(never_rebuild=not build)
        self.model.load(num_recording_timesteps=self.trial_steps if record_spikes else None)
        self.model.custom_update("TauCoefficients")
        self.epoch_spikes = {name: np.zeros(p["NUM_HIDDEN"], dtype=np.int64)
                             for name in self.hidden_names}

    def _check_recording(self, record_spikes, record_vars):
        pops, syns = self.model.neuron_populations, self.synapses
        for name in record_spikes:
            if name not in pops:
                raise ValueError(f"cannot record spikes of '{name}': populations are "
                                 f"{', '.join(pops)}")
        self.record_spikes = list(record_spikes)
        self.record_vars = []
        for item in record_vars:
            try:
                group, var = item
            except (TypeError, ValueError):
                raise ValueError(f"a recorded variable is a pair (population, variable), got "
                                 f"{item!r}") from None
            owner = pops.get(group) or syns.get(group)
            if owner is None:
                raise ValueError(f"cannot record '{group}.{var}': populations are "
                                 f"{', '.join(pops)}; synapse populations {', '.join(syns)}")
            if var not in owner.vars:
                raise ValueError(f"'{group}' has no variable '{var}'; it has "
                                 f"{', '.join(owner.vars)}")
            self.record_vars.append((group, var, owner.vars[var]))

    # -- definition --------------------------------------------------------------------
    def _define(self):
        p, B, S, nmax = self.p, self.batch_size, self.trial_steps, self.p["N_MAX_SPIKE"]
        model = self.model
        self.n_input_neurons = self.num_input * (p["N_INPUT_DELAY"] + 1)
        # spike steps (the input's, the rings') in 16 bits where they fit, at half the memory
        step_type = "int16_t" if S < np.iinfo(np.int16).max else "int"
        self.input = model.add_neuron_population(
            "input", self.n_input_neurons, models.input_neuron(step_type),
            {"trial_steps": S}, {"startSpike": 0, "p": 0, "due": 0})
        self.input.extra_global_params["spikeStep"].set_init_values(
            zeros(spike_step_capacity(B, self.n_input_neurons, nmax)))

        self.hidden = []
        noise, dropout = p["HIDDEN_NOISE"] > 0.0, p["PDROP_HIDDEN"] > 0.0
        hidden_model = models.hidden_neuron(p["HIDDEN_NEURON_TYPE"], p["REG_TYPE"],
                                            p["TRAIN_TAU"], noise, dropout, step_type)
        for name in self.hidden_names:
            params = {"v_thresh": p["V_THRESH"], "v_reset": p["V_RESET"], "trial_steps": S,
                      "max_spikes": nmax}
            state = {"V": p["V_RESET"], "lambda_V": 0.0, "lambda_I": 0.0, **RING_STATE}
            if p["HIDDEN_NEURON_TYPE"] == "ALIF":
                params.update(tau_B=p["TAU_B"], B_incr=p["B_INCR"])
                state.update(B=p["B_INIT"], lambda_B=0.0, jump_B=0.0)
            if p["REG_TYPE"] != "none":
                params.update(lbd_upper=p["LBD_UPPER"], lbd_lower=p["LBD_LOWER"],
                              nu_upper=p["NU_UPPER"])
            if p["REG_TYPE"] == "Thomas1":
                params.update(rho_upper=p["RHO_UPPER"], glb_upper=p["GLB_UPPER"])
                state["layer_spikes"] = 0.0
            if p["TRAIN_TAU"]:
                state.update(dtau_m=0.0, dtau_syn=0.0)
            if noise:
                params["noise_amp"] = 0.0
            if dropout:
                params["p_drop"] = 0.0
            state.update(self._initial_taus(p["HIDDEN_NEURON_TYPE"] == "hetLIF",
                                             p["NUM_HIDDEN"]))
            pop = model.add_neuron_population(name, p["NUM_HIDDEN"], hidden_model, params,
                                              state)
            if dropout:
                pop.set_param_dynamic("p_drop")
            if noise:
                pop.set_param_dynamic("noise_amp")
            self._ring_egps(pop, p["HIDDEN_NEURON_TYPE"] == "ALIF")
            if p["TRAIN_TAU"]:
                self._tau_buffers(pop)
            self.hidden.append(pop)

        loss = p["LOSS_TYPE"]
        params = {"trial_steps": S}
        state = {"V": p["V_RESET"], "lambda_V": 0.0, "lambda_I": 0.0, "logit": 0.0, "P": 0.0}
        if loss in models.FIRST_SPIKE_LOSSES:
            params.update(v_thresh=p["V_THRESH"], v_reset=p["V_RESET"], max_spikes=nmax,
                          tau0=p["TAU_0"], alpha=p["ALPHA"])
            if loss == "first_spike_exp":
                params["tau1"] = p["TAU_1"]
            state.update(first_step=-1, **RING_STATE)
        if loss == "max":
            state["max_step"] = 0
        if p["TRAIN_TAU_OUTPUT"]:
            state.update(dtau_m=0.0, dtau_syn=0.0)
        state.update(self._initial_taus(p["OUTPUT_NEURON_TYPE"] == "hetLI", self.num_output))
        self.output = model.add_neuron_population(
            "output", self.num_output, models.output_neuron(loss, p["TRAIN_TAU_OUTPUT"],
                                                           step_type),
            params, state)
        self.output.extra_global_params["label"].set_init_values(np.full(B, -1, np.int32))
        if loss in models.FIRST_SPIKE_LOSSES:
            self._ring_egps(self.output, False)
        elif loss in ("avg_xentropy", "sum_weigh_input"):
            per_step = "fwd_V" if loss == "avg_xentropy" else "fwd_w"
            self.output.extra_global_params[per_step].set_init_values(
                zeros(B * self.num_output * S))
        if p["TRAIN_TAU_OUTPUT"]:
            self._tau_buffers(self.output)

        # Synapses
        self.synapses = {}
        self._connect("in_to_hid", self.input, self.hidden[0], p["INPUT_HIDDEN_MEAN"],
                      p["INPUT_HIDDEN_STD"])
        for l in range(self.n_layers):
            if l + 1 < self.n_layers:
                self._connect(f"hid_to_hidfwd{l}", self.hidden[l], self.hidden[l + 1],
                              p["HIDDEN_HIDDENFWD_MEAN"], p["HIDDEN_HIDDENFWD_STD"])
            if p["RECURRENT"]:
                self._connect("hid_to_hid" if self.n_layers == 1 else f"hid_to_hid{l}",
                              self.hidden[l], self.hidden[l], p["HIDDEN_HIDDEN_MEAN"],
                              p["HIDDEN_HIDDEN_STD"])
        self._connect("hid_to_out", self.hidden[-1], self.output, p["HIDDEN_OUTPUT_MEAN"],
                      p["HIDDEN_OUTPUT_STD"])
        if loss == "sum_weigh_input":
            self._add_accumulator()

        self._define_custom_updates()

    def _initial_taus(self, heterogeneous, size):
        """tau_m, tau_syn of a population: TAU_MEM / TAU_SYN, or Gamma(3, tau / 3) per neuron
        clipped to [MIN_TAU, 3 tau] (hetLIF, hetLI), drawn from MODEL_SEED. The
        integration coefficients are computed from them by TauCoefficients after load()."""
        p = self.p

        def draw(tau, low):
            if not heterogeneous:
                return np.full(size, tau)
            return np.clip(self.rng.gamma(3.0, tau / 3.0, size), low, 3.0 * tau)
        return {"tau_m": draw(p["TAU_MEM"], p["MIN_TAU_M"]),
                "tau_syn": draw(p["TAU_SYN"], p["MIN_TAU_SYN"]),
                "alpha_m": 0.0, "alpha_s": 0.0, "beta": 0.0, "gamma": 0.0}

    def _ring_egps(self, pop, alif):
        size = self.batch_size * pop.num_neurons * self.p["N_MAX_SPIKE"]
        egps = pop.extra_global_params
        egps["ring_step"].set_init_values(zeros(size))
        egps["ring_ImV"].set_init_values(zeros(size))
        if alif:
            egps["ring_B"].set_init_values(zeros(size))

    def _tau_buffers(self, pop):
        size = self.batch_size * pop.num_neurons * self.trial_steps
        for name in ("fwd_dV", "fwd_dI"):
            pop.extra_global_params[name].set_init_values(zeros(size))

    def _connect(self, name, source, target, mean, std):
        weights = self.rng.normal(mean, std, (source.num_neurons, target.num_neurons))
        state = {"g": weights.ravel(), "Gradient": 0.0}
        post = {"lambda_I_post": create_var_ref(target, "lambda_I"),
                "tau_syn_post": create_var_ref(target, "tau_syn")}
        send_back = source is not self.input
        if send_back:
            post["lambda_V_post"] = create_var_ref(target, "lambda_V")
        wu = init_weight_update(models.eventprop_synapse(send_back),
                                {"trial_steps": self.trial_steps}, state, post_var_refs=post)
        psm = init_postsynaptic(models.exp_curr(), {}, {},
                                {"alpha_s": create_var_ref(target, "alpha_s")})
        sg = self.model.add_synapse_population(name, "DENSE", source, target, wu, psm)
        if send_back:
            sg.pre_target_var = "RevISyn"
        self.synapses[name] = sg

    def _add_accumulator(self):
        """sum_weigh_input: a leaky integrator of the input spikes weighs the outputs' V."""
        p = self.p
        acc = self.model.add_neuron_population(
            "accumulator", 1, models.accumulator_neuron(),
            {"tau_acc": p["TAU_ACCUMULATOR"], "trial_steps": self.trial_steps}, {"V": 0.0})
        self.model.add_synapse_population(
            "in_to_acc", "DENSE", self.input, acc,
            init_weight_update("StaticPulseConstantWeight", {"g": 0.01}),
            init_postsynaptic("DeltaCurr"))
        relay = self.model.add_synapse_population(
            "acc_to_out", "DENSE", acc, self.output,
            init_weight_update(models.relay_synapse(), {}, {},
                               pre_var_refs={"V_pre": create_var_ref(acc, "V")}),
            init_postsynaptic("DeltaCurr"))
        relay.post_target_var = "avgIn"
        self.accumulator = acc

    def _define_custom_updates(self):
        p, model = self.p, self.model
        loss = p["LOSS_TYPE"]
        add = model.add_custom_update

        # Reset: every variable that carries state from one trial to the next
        add("input_reset", "Reset",
            models.trial_reset("InputReset", [("p", "int", "startSpike")],
                               reads=[("startSpike", "int")]),
            {}, {}, {n: create_var_ref(self.input, n) for n in ("p", "startSpike")})
        values = [("V", "scalar", "v_reset"), ("lambda_V", "scalar", "0.0"),
                  ("lambda_I", "scalar", "0.0")] + models.RING_RESET
        params = {"v_reset": p["V_RESET"]}
        if p["HIDDEN_NEURON_TYPE"] == "ALIF":
            values += [("B", "scalar", "b_init"), ("lambda_B", "scalar", "0.0")]
            params["b_init"] = p["B_INIT"]
        hidden_reset = models.trial_reset("HiddenReset", values, list(params))
        for pop in self.hidden:
            add(f"{pop.name}_reset", "Reset", hidden_reset, params, {},
                {n: create_var_ref(pop, n) for n, _, _ in values})

        values = [("V", "scalar", "v_reset"), ("lambda_V", "scalar", "0.0"),
                  ("lambda_I", "scalar", "0.0"), ("logit", "scalar", "logit0")]
        if loss in models.FIRST_SPIKE_LOSSES:
            # A silent output counts as spiking 1 ms after the trial
            logit0 = -(p["TRIAL_MS"] + 1.0) / p["TAU_0"]
            values += [("first_step", "int", "-1")] + models.RING_RESET
        else:
            logit0 = p["V_RESET"] if loss == "max" else 0.0
        if loss == "max":
            values.append(("max_step", "int", "0"))
        add("output_reset", "Reset",
            models.trial_reset("OutputReset", values, ["v_reset", "logit0"]),
            {"v_reset": p["V_RESET"], "logit0": logit0}, {},
            {n: create_var_ref(self.output, n) for n, _, _ in values})
        if loss == "sum_weigh_input":
            add("accumulator_reset", "Reset",
                models.trial_reset("AccumulatorReset", [("V", "scalar", "0.0")]),
                {}, {}, {"V": create_var_ref(self.accumulator, "V")})
        current_reset = models.trial_reset("CurrentReset", [("inSyn", "scalar", "0.0")])
        for name, sg in self.synapses.items():
            add(f"{name}_current_reset", "Reset", current_reset, {}, {},
                {"inSyn": create_out_post_var_ref(sg)})

        # The class probabilities P = softmax(logit) of each batch instance
        self.uses_softmax = loss != "avg_xentropy"
        if self.uses_softmax:
            logit = create_var_ref(self.output, "logit")
            top = add("softmax_max", "Softmax1", models.SOFTMAX_MAX, {}, {"max_x": 0.0},
                      {"x": logit})
            total = add("softmax_sum", "Softmax2", models.SOFTMAX_SUM, {}, {"sum_exp": 0.0},
                        {"x": logit, "max_x": create_var_ref(top, "max_x")})
            add("softmax_value", "Softmax3", models.SOFTMAX_VALUE, {}, {},
                {"x": logit, "max_x": create_var_ref(top, "max_x"),
                 "sum_exp": create_var_ref(total, "sum_exp"),
                 "P": create_var_ref(self.output, "P")})
        if p["REG_TYPE"] == "Thomas1":
            for pop in self.hidden:
                add(f"{pop.name}_layer_spikes", "LayerSpikes", models.LAYER_SPIKE_COUNT, {}, {},
                    {"n_spk": create_var_ref(pop, "n_spk"),
                     "layer_spikes": create_var_ref(pop, "layer_spikes")})

        # Gradients (every weight array; taus when trained) and Adam on the trained ones
        self.gradient_reductions = {}
        self.optimisers = []
        adam = {"beta1": p["ADAM_BETA1"], "beta2": p["ADAM_BETA2"], "epsilon": p["ADAM_EPS"],
                "alpha": 0.0, "first_moment_scale": 1.0, "second_moment_scale": 1.0,
                "grad_scale": 1.0}
        for name, sg in self.synapses.items():
            reduce = add(f"{name}_reduce", "GradientReduce", models.GRADIENT_REDUCE, {},
                         {"reduced": 0.0}, {"gradient": create_wu_var_ref(sg, "Gradient")})
            self.gradient_reductions[name] = reduce
            if p["TRAIN_W_OUTPUT"] if name == "hid_to_out" else p["TRAIN_W"]:
                self._add_adam(name, adam, WEIGHT_FLOOR, create_wu_var_ref(reduce, "reduced"),
                               create_wu_var_ref(sg, "g"))
        self.tau_populations = ([pop for pop in self.hidden] if p["TRAIN_TAU"] else []) + \
            ([self.output] if p["TRAIN_TAU_OUTPUT"] else [])
        for pop in self.tau_populations:
            for var, floor in (("tau_m", p["MIN_TAU_M"]), ("tau_syn", p["MIN_TAU_SYN"])):
                key = f"{pop.name}.{var}"
                reduce = add(f"{pop.name}_d{var}_reduce", "GradientReduce",
                             models.GRADIENT_REDUCE, {}, {"reduced": 0.0},
                             {"gradient": create_var_ref(pop, f"d{var}")})
                self.gradient_reductions[key] = reduce
                self._add_adam(f"{pop.name}_{var}", adam, floor,
                               create_var_ref(reduce, "reduced"), create_var_ref(pop, var))
        for pop in self.hidden + [self.output]:
            add(f"{pop.name}_tau_coefficients", "TauCoefficients", models.TAU_COEFFICIENTS,
                {}, {}, {n: create_var_ref(pop, n)
                         for n in ("tau_m", "tau_syn", "alpha_m", "alpha_s", "beta", "gamma")})

    def _add_adam(self, name, params, floor, gradient, variable):
        cu = self.model.add_custom_update(f"{name}_adam", "Learn", models.ADAM,
                                          {**params, "min_value": floor}, {"m": 0.0, "v": 0.0},
                                          {"gradient": gradient, "variable": variable})
        for dynamic in ("alpha", "first_moment_scale", "second_moment_scale", "grad_scale"):
            cu.set_param_dynamic(dynamic)
        self.optimisers.append(cu)

    # -- running trials ----------------------------------------------------------------
    def _check_batch(self, X, Y, limit):
        if len(X) != len(Y):
            raise ValueError(f"X has {len(X)} examples but Y has {len(Y)} labels")
        if len(X) == 0:
            raise ValueError("no examples given")
        if limit and len(X) > self.batch_size:
            raise ValueError(f"{len(X)} examples do not fit in one batch of N_BATCH = "
                             f"{self.batch_size}")
        Y = np.asarray(Y)
        if not np.issubdtype(Y.dtype, np.integer) or Y.min() < 0 or Y.max() >= self.num_output:
            raise ValueError(f"labels must be integers in [0, {self.num_output - 1}]")
        return Y

    def _forward(self, X, Y, train, record=False):
        """Reset, push the batch, run the forward pass; per-example losses and predictions of
        the real examples (the rest of the batch is padding with label -1), and what was
        recorded."""
        p, B, n = self.p, self.batch_size, len(X)
        egp = self.input.extra_global_params["spikeStep"]
        start, end, steps = encode_batch(
            X, B, self.num_input, p["N_INPUT_DELAY"], p["INPUT_DELAY"], p["DT_MS"],
            self.trial_steps, p["N_MAX_SPIKE"], p["PDROP_INPUT"] if train else 0.0, self.rng,
            out=egp.view)
        egp.push_to_device(len(steps))
        var = self.input.vars["startSpike"]
        var.view[...] = start.reshape(var.view.shape)
        var.push_to_device()
        self.trial_spikes = {"input": int(np.sum(end[:n] - start[:n]))}
        label = self.output.extra_global_params["label"]
        label.view[:] = -1
        label.view[:n] = Y
        label.push_to_device()
        for pop in self.hidden:
            if p["PDROP_HIDDEN"] > 0.0:
                pop.set_dynamic_param_value("p_drop", p["PDROP_HIDDEN"] if train else 0.0)
            if p["HIDDEN_NOISE"] > 0.0:
                pop.set_dynamic_param_value("noise_amp", p["HIDDEN_NOISE"] if train else 0.0)

        self.model.custom_update("Reset")
        self.model.timestep = 0
        if record:
            recording = self._run_recorded(n)
        else:
            recording = None
            self.model.run(self.trial_steps)

        lost = self._count_spikes(n)
        logit = self._pull(self.output.vars["logit"])[:n]
        fwd_v = None
        if p["LOSS_TYPE"] == "avg_xentropy":
            egp = self.output.extra_global_params["fwd_V"]
            egp.pull_from_device()
            fwd_v = egp.view.reshape(B, self.num_output, self.trial_steps)[:n]
        example_loss = losses.example_losses(p, logit, Y, fwd_v)
        return example_loss, np.argmax(logit, axis=1), lost, recording

    def _run_recorded(self, n_real):
        """The forward pass, step by step where variables are recorded: the spikes
        {population: [(times, ids) per example]} and the variables {"group.var": array
        (steps, examples, ...)} of the real examples."""
        values = {f"{g}.{v}": [] for g, v, _ in self.record_vars}
        if self.record_vars:
            for _ in range(self.trial_steps):
                self.model.step_time()
                for group, name, var in self.record_vars:
                    var.pull_from_device()
                    view = np.array(var.view)
                    values[f"{group}.{name}"].append(
                        view[:n_real] if view.shape[0] == self.batch_size else view)
        else:
            self.model.run(self.trial_steps)
        recording = {"spikes": {}, "vars": {k: np.stack(v) for k, v in values.items()}}
        if self.record_spikes:
            self.model.pull_recording_buffers_from_device()
            for name in self.record_spikes:
                data = self.model.neuron_populations[name].spike_recording_data
                recording["spikes"][name] = data[:n_real]
        return recording

    def _pull(self, var):
        var.pull_from_device()
        return np.asarray(var.view).reshape(self.batch_size, -1)

    def _count_spikes(self, n_real):
        """Spike counts of this trial: overflowed rings, and the epoch's per-neuron counts."""
        lost = 0
        spiking = self.hidden + ([self.output] if self.p["LOSS_TYPE"] in
                                 models.FIRST_SPIKE_LOSSES else [])
        for pop in spiking:
            counts = self._pull(pop.vars["n_spk"])
            self.trial_spikes[pop.name] = int(counts[:n_real].sum())
            if pop.name in self.epoch_spikes:
                self.epoch_spikes[pop.name] += counts[:n_real].sum(axis=0)
            most = int(counts.max())
            if most > self.p["N_MAX_SPIKE"]:
                if self.p["SPIKE_OVERFLOW"] == "error":
                    raise SpikeOverflowError(
                        f"population '{pop.name}': a neuron emitted {most} spikes in one "
                        f"trial, more than N_MAX_SPIKE = {self.p['N_MAX_SPIKE']}; spikes "
                        f"beyond that get no gradient. Set N_MAX_SPIKE >= {most} (or "
                        "SPIKE_OVERFLOW = 'count' to go on and count them)")
                lost += int(np.maximum(counts - self.p["N_MAX_SPIKE"], 0).sum())
        return lost

    def _backward(self):
        if self.uses_softmax:
            for group in ("Softmax1", "Softmax2", "Softmax3"):
                self.model.custom_update(group)
        if self.p["REG_TYPE"] == "Thomas1":
            self.model.custom_update("LayerSpikes")
        self.model.run(self.trial_steps + 1)
        self.model.custom_update("GradientReduce")

    def _result(self, example_loss, predictions, Y, lost, recording):
        return BatchResult(float(np.mean(example_loss)), predictions,
                           int(np.sum(predictions == Y)), lost, dict(self.trial_spikes),
                           recording)

    def train_batch(self, X, Y, record=False):
        """One training step on one batch: forward (with dropout), backward, Adam."""
        Y = self._check_batch(X, Y, limit=True)
        example_loss, predictions, lost, recording = self._forward(X, Y, True, record)
        self._backward()
        self._adam_step(len(X))
        return self._result(example_loss, predictions, Y, lost, recording)

    def evaluate_batch(self, X, Y, record=False):
        """The forward pass only, without dropout."""
        Y = self._check_batch(X, Y, limit=True)
        example_loss, predictions, lost, recording = self._forward(X, Y, False, record)
        self._deliver_last_spikes()
        return self._result(example_loss, predictions, Y, lost, recording)

    def _deliver_last_spikes(self):
        """Ends a trial without a backward pass: spikes of the last forward step are delivered
        one step later, and that step must belong to this trial, as the backward pass's first
        step does, or the spikes would reach the first step of the next trial."""
        self.model.step_time()

    def _adam_step(self, n_real):
        p = self.p
        self.adam_step += 1
        values = {"alpha": self.learning_rate,
                  "first_moment_scale": 1.0 / (1.0 - p["ADAM_BETA1"] ** self.adam_step),
                  "second_moment_scale": 1.0 / (1.0 - p["ADAM_BETA2"] ** self.adam_step),
                  "grad_scale": 1.0 / n_real}
        for cu in self.optimisers:
            for name, value in values.items():
                cu.set_dynamic_param_value(name, value)
        self.model.custom_update("Learn")
        if self.tau_populations:
            self.model.custom_update("TauCoefficients")

    # -- the gradient API ----------------------------------------------------------------
    def _batches(self, X, Y):
        Y = self._check_batch(X, Y, limit=False)
        for i in range(0, len(X), self.batch_size):
            yield X[i:i + self.batch_size], Y[i:i + self.batch_size]

    def loss(self, X, Y):
        """The mean loss over the examples (forward passes only, no dropout)."""
        total = 0.0
        for x, y in self._batches(X, Y):
            total += self._forward(x, y, False)[0].sum()
            self._deliver_last_spikes()
        return float(total / len(X))

    def gradients(self, X, Y):
        """``(loss(X, Y), gradient of it)`` at the current weights; no optimiser step."""
        total = 0.0
        grads = {key: 0.0 for key in self.gradient_reductions}
        for x, y in self._batches(X, Y):
            total += self._forward(x, y, False)[0].sum()
            self._backward()
            for key, cu in self.gradient_reductions.items():
                reduced = cu.vars["reduced"]
                reduced.pull_from_device()
                grads[key] = grads[key] + np.array(reduced.values, dtype=np.float64)
        return float(total / len(X)), {key: (g / len(X)).reshape(self._shape(key))
                                       for key, g in grads.items()}

    def _parameters(self):
        """(key, variable) of every weight array and trainable time constant."""
        out = [(name, sg.vars["g"]) for name, sg in self.synapses.items()]
        out += [(f"{pop.name}.{var}", pop.vars[var]) for pop in self.tau_populations
                for var in ("tau_m", "tau_syn")]
        return out

    def _shape(self, key):
        """Shape of parameter array ``key``: (n_pre, n_post) for weights, (n,) for taus."""
        if key in self.synapses:
            sg = self.synapses[key]
            return (sg.src.num_neurons, sg.trg.num_neurons)
        return (self.model.neuron_populations[key.split(".")[0]].num_neurons,)

    def get_weights(self):
        """Copies of the weights, shape (n_pre, n_post), and of the trainable taus."""
        weights = {}
        for key, var in self._parameters():
            var.pull_from_device()
            weights[key] = np.array(var.values, dtype=np.float64).reshape(self._shape(key))
        return weights

    def set_weights(self, weights):
        """Sets the arrays named in ``weights`` (the keys and shapes of ``get_weights``)."""
        params = dict(self._parameters())
        for key, value in weights.items():
            if key not in params:
                raise KeyError(f"no weight array '{key}'; arrays: {', '.join(params)}")
            var = params[key]
            value = np.asarray(value, dtype=np.float64)
            expected = self._shape(key)
            if value.shape != expected:
                raise ValueError(f"'{key}' has shape {expected}, got {value.shape}")
            var.view[...] = value.reshape(np.shape(var.view))
            var.push_to_device()
        if any("." in key for key in weights):
            self.model.custom_update("TauCoefficients")

    def training_state(self):
        """Everything training changes, as arrays: the weights and taus (``get_weights`` keys),
        Adam's moments (``adam/<array>/m``, ``.../v``), its step count and learning rate, and
        the states of the random-number generators (host and engine). ``set_training_state``
        of it continues training exactly where this one stands."""
        state = dict(self.get_weights())
        for cu in self.optimisers:
            for name in ("m", "v"):
                var = cu.vars[name]
                var.pull_from_device()
                state[f"adam/{cu.name}/{name}"] = np.array(var.values)
        state["adam_step"] = np.array(self.adam_step)
        state["learning_rate"] = np.array(self.learning_rate)
        state["rng"] = np.array(json.dumps(self.rng.bit_generator.state))
        engine_rng = self.model.get_rng_state()
        if engine_rng is not None:
            state["engine_rng"] = engine_rng
        return state

    def set_training_state(self, state):
        expected = {key for key, _ in self._parameters()}
        expected |= {f"adam/{cu.name}/{name}" for cu in self.optimisers for name in ("m", "v")}
        expected |= {"adam_step", "learning_rate", "rng", "engine_rng"}
        missing = expected - set(state) - {"engine_rng"}
        unknown = set(state) - expected
        if missing or unknown:
            raise ValueError("training state does not fit this network: "
                             + "; ".join(f"{what}: {', '.join(sorted(keys))}" for what, keys in
                                         (("missing", missing), ("unknown", unknown)) if keys))
        self.set_weights({k: v for k, v in state.items() if "/" not in k
                          and k not in ("adam_step", "learning_rate", "rng", "engine_rng")})
        for cu in self.optimisers:
            for name in ("m", "v"):
                var = cu.vars[name]
                var.view[...] = np.asarray(state[f"adam/{cu.name}/{name}"]).reshape(
                    np.shape(var.view))
                var.push_to_device()
        self.adam_step = int(state["adam_step"])
        self.learning_rate = float(state["learning_rate"])
        self.rng.bit_generator.state = json.loads(str(state["rng"]))
        if "engine_rng" in state:
            self.model.set_rng_state(state["engine_rng"])

    # -- epochs ------------------------------------------------------------------------
    def end_epoch(self, rewire=True):
        """Silent hidden neurons of the epoch (no spike in any trial since the last call),
        per layer; with REWIRE_SILENT their input weights are redrawn (or lifted by
        REWIRE_LIFT). Starts the next epoch's counts."""
        p = self.p
        silent = {name: np.flatnonzero(counts == 0) for name, counts in self.epoch_spikes.items()}
        if p["REWIRE_SILENT"] and rewire:
            updates = {}
            for l, name in enumerate(self.hidden_names):
                key = "in_to_hid" if l == 0 else f"hid_to_hidfwd{l - 1}"
                w = self.get_weights()[key]
                cols = silent[name]
                if p["REWIRE_LIFT"] != 0.0:
                    w[:, cols] += p["REWIRE_LIFT"]
                else:
                    w[:, cols] = self.rng.normal(p["INPUT_HIDDEN_MEAN"], p["INPUT_HIDDEN_STD"],
                                                 (w.shape[0], len(cols)))
                updates[key] = w
            self.set_weights(updates)
        for counts in self.epoch_spikes.values():
            counts[:] = 0
        return {name: len(ids) for name, ids in silent.items()}
