"""The GeNN 5 models of EventProp: neurons with their adjoints, synapses and custom updates.

Every definition is plain GeNN 5 (code strings with plain names); nothing here depends on
the backend that runs it. The functions take the options that change the code (loss type,
neuron type, regularisation, trainable time constants) and return one model each.

One trial runs ``trial_steps`` (S) forward steps followed by S + 1 backward steps, with the
model's timestep counting from 0 at the start of the trial. Every neuron derives from ``t``
the integer ``step``: forward steps are 0 .. S-1; in the backward steps each neuron first
integrates its adjoints from time (n+1) dt back to n dt, n = 2 S - step (nothing at n = S,
the terminal condition lambda(T) = 0), then applies the jump of its spike of forward step n,
then spikes if it spiked in forward step n - 1: the backward spike reaches the outgoing
synapses in the next step, where they read the adjoints of their targets at time n dt (the
time at which the forward spike had arrived) and send back what the jump needs.

Spike rings store the integer step of each spike and I - V at it, per neuron and batch
instance (``max_spikes`` slots). ``n_spk`` counts every spike, so the host can see spikes
that did not fit.
"""
import math

from eventprop.engine import (CustomUpdateVarAccess, VarAccess, VarAccessMode,
                              create_custom_update_model, create_neuron_model,
                              create_postsynaptic_model, create_weight_update_model)

LOSS_TYPES = ("first_spike", "first_spike_exp", "max", "sum", "sum_weigh_linear",
              "sum_weigh_exp", "sum_weigh_sigmoid", "sum_weigh_input", "avg_xentropy")
SUM_LOSSES = ("sum", "sum_weigh_linear", "sum_weigh_exp", "sum_weigh_sigmoid", "sum_weigh_input")
FIRST_SPIKE_LOSSES = ("first_spike", "first_spike_exp")
HIDDEN_NEURON_TYPES = ("LIF", "hetLIF", "ALIF")
REG_TYPES = ("none", "simple", "Thomas1")

RO = VarAccess.READ_ONLY
RO_REF = VarAccessMode.READ_ONLY

# Membrane and synaptic time constants are per-neuron variables shared by the batch, with the
# exact-integration coefficients alpha_m = exp(-dt/tau_m), alpha_s = exp(-dt/tau_syn) and
# beta = tau_syn / (tau_m - tau_syn) (alpha_m - alpha_s) and its adjoint counterpart
# gamma = tau_m / tau_syn beta, kept up to date by TauCoefficients.
TAU_VARS = [("tau_m", "scalar", RO), ("tau_syn", "scalar", RO), ("alpha_m", "scalar", RO),
            ("alpha_s", "scalar", RO), ("beta", "scalar", RO), ("gamma", "scalar", RO)]

# A value that is no step, not even the step n - 1 before backward step n = 0: it separates
# the input neurons' runs of spike steps and marks a neuron with no spike left to flag
NO_STEP = -2

# ``fire`` is an int, not a bool: GCC (12) vectorises no update that picks one of two bools
# by the pass
STEP_CODE = """
const int step = (int)(t / dt + 0.5);
int fire = 0;
"""

FORWARD_MEMBRANE = "V = alpha_m * V + beta * Isyn;"

# tau_m dlambda_V/ds = -lambda_V + A, tau_syn dlambda_I/ds = -lambda_I + lambda_V, integrated
# exactly over one step in backward time s with a constant drive A
BACKWARD_ADJOINTS = """
lambda_I = A + (lambda_I - A) * alpha_s + gamma * (lambda_V - A);
lambda_V = A + (lambda_V - A) * alpha_m;
"""

# dL/dtau_m = integral of lambda_V dV/dt, dL/dtau_syn = integral of lambda_I dI/dt (smooth
# part); the forward pass keeps both derivatives per step
TAU_FORWARD = """
const int f = (batch * num_neurons + id) * trial_steps + step;
fwd_dV[f] = (Isyn - V) / tau_m;
fwd_dI[f] = -Isyn / tau_syn;
"""
TAU_BACKWARD = """
const int f = (batch * num_neurons + id) * trial_steps + n;
dtau_m += lambda_V * fwd_dV[f] * dt;
dtau_syn += lambda_I * fwd_dI[f] * dt;
"""
TAU_GRAD_VARS = [("dtau_m", "scalar"), ("dtau_syn", "scalar")]
TAU_GRAD_EGPS = [("fwd_dV", "scalar*"), ("fwd_dI", "scalar*")]


def ring_slot(k):
    """Index of slot ``k`` of this neuron's spike ring: the slots k of all neurons lie side
    by side, so memory is touched as spikes fill slots, not max_spikes slots at once."""
    return f"(batch * max_spikes + {k}) * num_neurons + id"


# ImV is I - V of the latest forward step, which a spike stores in its ring slot; the spike
# code takes it from there, not from Isyn, so that it needs nothing of the update before it.
# In the backward pass ``due`` is the step of the latest stored spike not yet flagged and
# jump_ImV the I - V of the spike flagged in the step before (``back_spike``): the backward
# spike takes both from the ring, so that the update of every step reads no ring
RING_VARS = [("n_spk", "int"), ("p", "int"), ("back_spike", "int"), ("due", "int"),
             ("ImV", "scalar"), ("jump_ImV", "scalar")]
# Their values at the start of a trial, as (variable, type, value) for trial_reset
RING_RESET = [("n_spk", "int", "0"), ("p", "int", "0"), ("back_spike", "int", "0"),
              ("due", "int", str(NO_STEP))]
SPIKING_MEMBRANE = FORWARD_MEMBRANE + "\nImV = Isyn - V;"


def ring_egps(step_type):
    """The spike ring's arrays: the step of each stored spike (in ``step_type``, int16_t where
    the trial's steps fit, at half the memory) and its I - V."""
    return [("ring_step", f"{step_type}*"), ("ring_ImV", "scalar*")]


def spike_ring_reset(step_type, forward_reset, stored=(("ImV", "ImV"),)):
    """Reset code of a neuron with a spike ring. A forward spike is stored in ring slot p
    while one is free (its step in ``ring_step``, each (name, value) of ``stored`` in
    ``ring_<name>``), becomes ``due``, is counted, and ``forward_reset`` runs. A backward
    spike flags the stored spike in slot p - 1: its stored values go to ``jump_<name>`` for
    its jump in the next step, and ``due`` moves on to the spike before it."""
    slot = ring_slot("p")
    store = "".join(f"\n        ring_{name}[{slot}] = {value};" for name, value in stored)
    take = "".join(f"\n    jump_{name} = ring_{name}[{slot}];" for name, _ in stored)
    return f"""
const int spike_step = (int)(t / dt + 0.5);
if (spike_step < trial_steps) {{
    if (p < max_spikes) {{
        ring_step[{slot}] = ({step_type})spike_step;{store}
        due = spike_step;
        p++;
    }}
    n_spk++;
{_indent(forward_reset, 4)}
}}
else {{
    p--;{take}
    due = (p > 0) ? ring_step[{ring_slot('p - 1')}] : {NO_STEP};
    back_spike = 1;
}}
"""


def _step_suffix(step_type):
    return "" if step_type == "int" else f"_{step_type}"


def _spiking_sim_code(forward, propagate, jump, extra=""):
    """sim_code of a spiking neuron with a spike ring: ``forward`` in the forward steps; in
    the backward steps ``propagate`` (adjoints back one step), ``extra``, then the ``jump``
    of the spike flagged in the step before, then the backward spike of the next older
    stored spike where it is due. Without ring reads, the update of all neurons vectorises."""
    return STEP_CODE.strip() + f"""
if (step < trial_steps) {{
{_indent(forward, 4)}
}}
else {{
    const int n = 2 * trial_steps - step;
    if (n < trial_steps) {{
{_indent(propagate, 8)}
    }}
{_indent(extra, 4)}
    if (back_spike) {{
{_indent(jump, 8)}
    }}
    back_spike = 0;
    fire = (due == n - 1);
}}
"""


def _indent(code, n):
    return "\n".join(" " * n + line if line.strip() else line
                     for line in code.strip("\n").splitlines())


# -- input ---------------------------------------------------------------------------------

def input_neuron(step_type="int"):
    """Spike source replaying each example's spike steps, forwards and then backwards.

    ``spikeStep`` holds, per batch instance, each neuron's sorted distinct steps after a
    separator NO_STEP: ``NO_STEP, steps of neuron 0, NO_STEP, steps of neuron 1, ...,
    NO_STEP``; ``startSpike`` is the index of a neuron's first step. In the forward steps
    the neuron spikes at its steps. In the backward steps it spikes again for each of them,
    latest first, in backward step 2 S - 1 - s for forward step s, so that the spike reaches
    its synapses when the backward pass is at the time at which the forward spike arrived
    (except for s = S - 1, which arrived at the end, where the adjoints are 0: a replay in
    step S would arrive in the next trial where a trial ends without a backward pass).
    ``due`` is the step of the next spike, so a neuron reads ``spikeStep`` only when it
    spikes and when the pass begins; ``p`` walks through its steps, and the separators end
    both walks. ``step_type``, the type of ``spikeStep``'s elements, can be int16_t where the
    steps fit, at half the memory."""
    return create_neuron_model(
        "EVPInput" + _step_suffix(step_type),
        params=[("trial_steps", "int")],
        vars=[("startSpike", "int", VarAccess.READ_ONLY_DUPLICATE), ("p", "int"),
              ("due", "int")],
        extra_global_params=[("spikeStep", f"{step_type}*")],
        sim_code="""
const int step = (int)(t / dt + 0.5);
if (step == 0) {
    due = spikeStep[p];
}
else if (step == trial_steps) {
    // a spike of the last forward step arrives at T, where lambda is 0: it needs no replay
    p -= (spikeStep[p - 1] == trial_steps - 1);
    due = 2 * trial_steps - 1 - spikeStep[p - 1];
}
""",
        threshold_condition_code="due == step",
        reset_code="""
if ((int)(t / dt + 0.5) < trial_steps) {
    p++;
    due = spikeStep[p];
}
else {
    p--;
    due = 2 * trial_steps - 1 - spikeStep[p - 1];
}
""")


# -- hidden --------------------------------------------------------------------------------

def hidden_neuron(neuron_type="LIF", reg_type="none", train_tau=False, noise=False,
                  dropout=False, step_type="int"):
    """A hidden LIF (or hetLIF, whose taus differ per neuron) or ALIF neuron with its adjoints.

    The jump at a spike is the exact one of Wunderlich & Pehle for a reset to v_reset:
    lambda_V- = lambda_V+ + ((v_thresh - v_reset) lambda_V+ + RevISyn) / (I - V), with
    RevISyn = sum over outgoing synapses of w (lambda_V - lambda_I) of the targets. ALIF
    (threshold v_thresh + B, B += B_incr at a spike, tau_B dB/dt = -B) adds its adaptation
    adjoint lambda_B; the spike condition's rate of change is then (I - V)/tau_m + B/tau_B.

    With ``noise``, V receives Gaussian noise of amplitude ``noise_amp`` (V += noise_amp
    N(0, 1) sqrt(dt)) every forward step; the adjoints ignore it, as in the reference.
    With ``dropout``, a threshold crossing is dropped with probability ``p_drop`` (V stays
    above threshold, so the spike comes a step later unless V falls). ``step_type`` is the
    type of the ring's spike steps (see ``ring_egps``)."""
    if neuron_type not in HIDDEN_NEURON_TYPES:
        raise ValueError(f"hidden neuron type {neuron_type!r}: valid are {HIDDEN_NEURON_TYPES}")
    if reg_type not in REG_TYPES:
        raise ValueError(f"regularisation type {reg_type!r}: valid are {REG_TYPES}")
    alif = neuron_type == "ALIF"
    params = ["v_thresh", "v_reset", ("trial_steps", "int"), ("max_spikes", "int")]
    vars = [("V", "scalar"), ("lambda_V", "scalar"), ("lambda_I", "scalar")] + RING_VARS + TAU_VARS
    egps = ring_egps(step_type)
    derived = []
    forward = ("\n" + TAU_FORWARD if train_tau else "") + SPIKING_MEMBRANE
    propagate = "const scalar A = 0.0;" + BACKWARD_ADJOINTS + (TAU_BACKWARD if train_tau else "")
    threshold = "v_thresh"
    if alif:
        params += ["tau_B", "B_incr"]
        derived = [("alpha_B", lambda pars, dt: math.exp(-dt / pars["tau_B"]))]
        vars += [("B", "scalar"), ("lambda_B", "scalar"), ("jump_B", "scalar")]
        egps += [("ring_B", "scalar*")]
        forward += "\nB *= alpha_B;"
        propagate += "\nlambda_B *= alpha_B;"
        threshold = "v_thresh + B"
        jump = """
lambda_V += ((v_thresh + jump_B - v_reset - tau_m * jump_B / tau_B) * lambda_V
             - B_incr * lambda_B + RevISyn) / jump_ImV;
lambda_B -= tau_m / tau_B * lambda_V;
"""
        reset = spike_ring_reset(step_type, "V = v_reset;\nB += B_incr;",
                                 [("ImV", "ImV + tau_m * B / tau_B"), ("B", "B")])
    else:
        jump = "lambda_V += ((v_thresh - v_reset) * lambda_V + RevISyn) / jump_ImV;"
        reset = spike_ring_reset(step_type, "V = v_reset;")
    if reg_type in ("simple", "Thomas1"):
        # The spike-count penalty of Nowotny et al.: applied at every stored spike
        params += ["lbd_upper", "lbd_lower", "nu_upper"]
        jump += "\nlambda_V -= (n_spk > nu_upper ? lbd_upper : lbd_lower) * (n_spk - nu_upper);"
    if reg_type == "Thomas1":
        # ... plus a penalty on the layer's total spike count in this batch instance
        params += ["rho_upper", "glb_upper"]
        vars += [("layer_spikes", "scalar", VarAccess.READ_ONLY_SHARED_NEURON)]
        jump += ("\nif (layer_spikes > rho_upper) {\n"
                 "    lambda_V -= glb_upper * (layer_spikes - rho_upper) / num_neurons;\n}")
    if train_tau:
        vars += TAU_GRAD_VARS
        egps += TAU_GRAD_EGPS
    if noise:
        params.append("noise_amp")
        forward += "\nV += noise_amp * gennrand_normal() * sqrt(dt);"
    forward += f"\nfire = V >= {threshold};"
    if dropout:
        params.append("p_drop")
        forward += "\nfire = fire && (p_drop <= 0.0 || gennrand_uniform() >= p_drop);"
    name = f"EVP{neuron_type}" + ("" if reg_type == "none" else f"_{reg_type}") + \
        ("_tau" if train_tau else "") + ("_noise" if noise else "") + \
        ("_dropout" if dropout else "") + _step_suffix(step_type)
    return create_neuron_model(
        name, params=params, vars=vars, derived_params=derived, extra_global_params=egps,
        additional_input_vars=[("RevISyn", "scalar", 0.0)],
        sim_code=_spiking_sim_code(forward, propagate, jump),
        threshold_condition_code="fire", reset_code=reset)


# -- output --------------------------------------------------------------------------------

# Weight of V(t) in the sum-family losses at the trial fraction x = t / T
SUM_WEIGHTS = {
    "sum": "1.0",
    "sum_weigh_linear": "(1.0 - x)",
    "sum_weigh_exp": "exp(-x)",
    "sum_weigh_sigmoid": "(1.0 / (1.0 + exp((x - 0.5) / 0.2)))",
    "sum_weigh_input": "avgIn",
}


def output_neuron(loss_type, train_tau=False, step_type="int"):
    """The output neuron of one loss: leaky integrators for the voltage losses, LIF for the
    spike-time losses. Each holds ``logit`` (the quantity whose softmax over the classes gives
    the class probabilities ``P``) and reads its example's label from ``label[batch]``
    (negative: a padding example, which drives nothing). ``step_type``: the type of the spike
    ring's steps of the spiking (first-spike) outputs (see ``ring_egps``)."""
    if loss_type in FIRST_SPIKE_LOSSES:
        if train_tau:
            raise ValueError(f"trainable output time constants need a voltage loss, not "
                             f"{loss_type!r}")
        return _first_spike_output(loss_type, step_type)
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"loss type {loss_type!r}: valid are {LOSS_TYPES}")
    vars = [("V", "scalar"), ("lambda_V", "scalar"), ("lambda_I", "scalar"),
            ("logit", "scalar"), ("P", "scalar", VarAccess.READ_ONLY_DUPLICATE)] + TAU_VARS
    egps = [("label", "int*")]
    additional = []
    own = "(batch * num_neurons + id) * trial_steps"
    if loss_type in SUM_LOSSES:
        # s_k = (1/T) sum_n w(n dt / T) V_k(n dt) dt; the drive is -dl/dV = w (delta - P) / T
        weight = SUM_WEIGHTS[loss_type]
        forward = f"const scalar x = (scalar)step / trial_steps;\nlogit += {weight} * V / trial_steps;"
        drive = (f"const scalar x = (scalar)n / trial_steps;\n"
                 f"A = {weight} * ((id == y) - P) / (trial_steps * dt);")
        if loss_type == "sum_weigh_input":
            additional = [("avgIn", "scalar", 0.0)]
            egps += [("fwd_w", "scalar*")]
            forward = f"fwd_w[{own} + step] = avgIn;\n" + forward
            drive = (f"A = fwd_w[{own} + n] * ((id == y) - P) / (trial_steps * dt);")
    elif loss_type == "max":
        # s_k = max_n V_k(n dt): a jump (delta - P) / tau_m at the step of the maximum
        vars += [("max_step", "int")]
        forward = "if (V > logit) {\n    logit = V;\n    max_step = step;\n}"
        drive = ""
    else:  # avg_xentropy: the time average of -log softmax_y(V(t)); logit = mean V predicts
        egps += [("fwd_V", "scalar*")]
        forward = f"fwd_V[{own} + step] = V;\nlogit += V / trial_steps;"
        drive = f"""
const int first = batch * num_neurons * trial_steps + n;
scalar vmax = fwd_V[first];
for (int k = 1; k < num_neurons; k++) {{
    vmax = fmax(vmax, fwd_V[first + k * trial_steps]);
}}
scalar z = 0.0;
for (int k = 0; k < num_neurons; k++) {{
    z += exp(fwd_V[first + k * trial_steps] - vmax);
}}
A = ((id == y) - exp(fwd_V[{own} + n] - vmax) / z) / (trial_steps * dt);
"""
    forward += "\n" + (TAU_FORWARD if train_tau else "") + FORWARD_MEMBRANE
    propagate = ("scalar A = 0.0;\nif (y >= 0) {\n" + _indent(drive, 4) + "\n}" if drive
                 else "const scalar A = 0.0;")
    propagate += BACKWARD_ADJOINTS + (TAU_BACKWARD if train_tau else "")
    if loss_type == "max":
        propagate += "if (y >= 0 && n == max_step) {\n    lambda_V += ((id == y) - P) / tau_m;\n}"
    if train_tau:
        vars += TAU_GRAD_VARS
        egps += TAU_GRAD_EGPS
    sim_code = f"""
const int step = (int)(t / dt + 0.5);
if (step < trial_steps) {{
{_indent(forward, 4)}
}}
else {{
    const int n = 2 * trial_steps - step;
    const int y = label[batch];
    if (n < trial_steps) {{
{_indent(propagate, 8)}
    }}
}}
"""
    return create_neuron_model(
        f"EVPOutput_{loss_type}" + ("_tau" if train_tau else ""),
        params=[("trial_steps", "int")], vars=vars, extra_global_params=egps,
        additional_input_vars=additional, sim_code=sim_code)


def _first_spike_output(loss_type, step_type):
    """LIF output for L = -log softmax_y(-t / tau0) + alpha f(t_y), t_k the first spike time
    of output k (T + 1 ms when silent), f(t) = 1 / (1.01 T - t) (first_spike) or
    exp(t / tau1) - 1 (first_spike_exp). The loss's derivative by the first spike time enters
    that spike's jump. A silent label neuron has a flat loss; it gets the reference's push
    (alpha f'(T) on lambda_V at the end of the trial) so that it can start to fire."""
    if loss_type == "first_spike":
        params = ["tau0", "alpha"]
        dfdt = "alpha / ((1.01 * T - ty) * (1.01 * T - ty))"
        push = "alpha / ((0.01 * T) * (0.01 * T))"
    else:
        params = ["tau0", "tau1", "alpha"]
        dfdt = "alpha / tau1 * exp(ty / tau1)"
        push = "alpha / tau1 * exp(T / tau1)"
    jump = f"""
scalar dldt = 0.0;
if (p == 0 && y >= 0) {{
    const scalar ty = first_step * dt;
    dldt = (id == y) ? (1.0 - P) / tau0 + {dfdt} : -P / tau0;
}}
lambda_V += ((v_thresh - v_reset) * lambda_V + dldt) / jump_ImV;
"""
    extra = f"""
const int y = label[batch];
const scalar T = trial_steps * dt;
if (n == trial_steps - 1 && id == y && first_step < 0) {{
    lambda_V += {push};
}}
"""
    # The push comes after the propagation of the last step, as in the reference code
    return create_neuron_model(
        f"EVPOutput_{loss_type}" + _step_suffix(step_type),
        params=["v_thresh", "v_reset", ("trial_steps", "int"), ("max_spikes", "int")] + params,
        vars=[("V", "scalar"), ("lambda_V", "scalar"), ("lambda_I", "scalar"),
              ("first_step", "int"), ("logit", "scalar"), ("P", "scalar", VarAccess.READ_ONLY_DUPLICATE)]
             + RING_VARS + TAU_VARS,
        extra_global_params=ring_egps(step_type) + [("label", "int*")],
        sim_code=_spiking_sim_code(SPIKING_MEMBRANE + "\nfire = V >= v_thresh;",
                                   "const scalar A = 0.0;" + BACKWARD_ADJOINTS, jump, extra),
        threshold_condition_code="fire",
        reset_code=spike_ring_reset(step_type, """
if (first_step < 0) {
    first_step = spike_step;
    logit = -spike_step * dt / tau0;
}
V = v_reset;
"""))


def accumulator_neuron():
    """The input-activity accumulator of sum_weigh_input: a leaky integrator of the input
    spikes that passes its V to the outputs (``avgIn``) every forward step."""
    return create_neuron_model(
        "EVPAccumulator", params=["tau_acc", ("trial_steps", "int")], vars=[("V", "scalar")],
        sim_code="""
const int step = (int)(t / dt + 0.5);
const bool fire = step < trial_steps;
if (fire) {
    V += (Isyn - V) * dt / tau_acc;
}
""",
        threshold_condition_code="fire")


# -- synapses ------------------------------------------------------------------------------

def eventprop_synapse(send_back=True):
    """Forward spikes of the source (arriving in steps 1 .. S) add g to the target's current.
    Backward spikes (arriving after S) accumulate dL/dg = -tau_syn lambda_I of the target and,
    with ``send_back``, send g (lambda_V - lambda_I) of the target to the source's RevISyn
    (not from the input population, which has no adjoints). Nothing arrives in step 0 but the
    backward spikes of the first backward step of a trial that ended without its backward
    pass (an evaluation): they belong to no pass and carry nothing, as the adjoints are 0 at
    the end of a trial."""
    backward = "Gradient -= tau_syn_post * lambda_I_post;"
    refs = [("lambda_I_post", "scalar", RO_REF), ("tau_syn_post", "scalar", RO_REF)]
    if send_back:
        backward += "\n    addToPre(g * (lambda_V_post - lambda_I_post));"
        refs.insert(0, ("lambda_V_post", "scalar", RO_REF))
    return create_weight_update_model(
        "EVPSynapse" if send_back else "EVPInputSynapse", params=[("trial_steps", "int")],
        vars=[("g", "scalar", RO), ("Gradient", "scalar")], post_neuron_var_refs=refs,
        pre_spike_syn_code=f"""
const int step = (int)(t / dt + 0.5);
if (step > trial_steps) {{
    {backward}
}}
else if (step > 0) {{
    addToPost(g);
}}
""")


def relay_synapse():
    """Passes the source's V to the target every time the source emits (the accumulator)."""
    return create_weight_update_model(
        "EVPRelay", pre_neuron_var_refs=[("V_pre", "scalar", RO_REF)],
        pre_spike_syn_code="addToPost(V_pre);")


def exp_curr():
    """Exponential current decaying with the target neuron's own tau_syn."""
    return create_postsynaptic_model(
        "EVPExpCurr", neuron_var_refs=[("alpha_s", "scalar", RO_REF)],
        sim_code="injectCurrent(inSyn);\ninSyn *= alpha_s;")


# -- custom updates ------------------------------------------------------------------------

def trial_reset(class_name, values, params=(), reads=()):
    """Sets each referenced variable to its value at the start of a trial.

    ``values``: (variable, type, value expression) triples; an expression may name the
    ``params`` and the read-only references ``reads`` ((variable, type) pairs)."""
    return create_custom_update_model(
        class_name, params=list(params),
        var_refs=[(n, t) for n, t, _ in values] + [(n, t, RO_REF) for n, t in reads],
        update_code="\n".join(f"{name} = {expr};" for name, _, expr in values))


GRADIENT_REDUCE = create_custom_update_model(
    "GradientReduce",
    vars=[("reduced", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_SUM)],
    var_refs=[("gradient", "scalar")],
    update_code="reduced = gradient;\ngradient = 0.0;")

# Adam on the batch-summed gradient; grad_scale turns the sum into the mean over the real
# examples of the batch, min_value clamps time constants
ADAM = create_custom_update_model(
    "Adam",
    params=["beta1", "beta2", "epsilon", "alpha", "first_moment_scale",
            "second_moment_scale", "grad_scale", "min_value"],
    vars=[("m", "scalar"), ("v", "scalar")],
    var_refs=[("gradient", "scalar", RO_REF), ("variable", "scalar")],
    update_code="""
const scalar grad = gradient * grad_scale;
m = beta1 * m + (1.0 - beta1) * grad;
v = beta2 * v + (1.0 - beta2) * grad * grad;
variable -= alpha * m * first_moment_scale / (sqrt(v * second_moment_scale) + epsilon);
variable = fmax(variable, min_value);
""")

# The three steps of a numerically safe softmax over the neurons of each batch instance
SOFTMAX_MAX = create_custom_update_model(
    "SoftmaxMax", vars=[("max_x", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_MAX)],
    var_refs=[("x", "scalar", RO_REF)], update_code="max_x = x;")
SOFTMAX_SUM = create_custom_update_model(
    "SoftmaxSum", vars=[("sum_exp", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM)],
    var_refs=[("x", "scalar", RO_REF), ("max_x", "scalar", RO_REF)],
    update_code="sum_exp = exp(x - max_x);")
SOFTMAX_VALUE = create_custom_update_model(
    "SoftmaxValue",
    var_refs=[("x", "scalar", RO_REF), ("max_x", "scalar", RO_REF),
              ("sum_exp", "scalar", RO_REF), ("P", "scalar")],
    update_code="P = exp(x - max_x) / sum_exp;")

# Total spikes of a hidden layer in each batch instance (Thomas1 regularisation)
LAYER_SPIKE_COUNT = create_custom_update_model(
    "LayerSpikeCount",
    var_refs=[("n_spk", "int", RO_REF), ("layer_spikes", "scalar", VarAccessMode.REDUCE_SUM)],
    update_code="layer_spikes = n_spk;")

# beta = tau_syn / (tau_m - tau_syn) (alpha_m - alpha_s), written with expm1 so that it stays
# exact as tau_m approaches tau_syn (where it tends to alpha_s dt / tau_m)
TAU_COEFFICIENTS = create_custom_update_model(
    "TauCoefficients",
    var_refs=[("tau_m", "scalar", RO_REF), ("tau_syn", "scalar", RO_REF),
              ("alpha_m", "scalar"), ("alpha_s", "scalar"), ("beta", "scalar"),
              ("gamma", "scalar")],
    update_code="""
alpha_m = exp(-dt / tau_m);
alpha_s = exp(-dt / tau_syn);
const scalar d = dt / tau_syn - dt / tau_m;
beta = alpha_s * dt / tau_m * (d == 0.0 ? 1.0 : expm1(d) / d);
gamma = tau_m / tau_syn * beta;
""")
