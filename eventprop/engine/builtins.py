"""The built-in models and snippets of GeNN 5 that the project uses, by name."""
import numpy as np

from .spec import (SparseConnectInitSnippet, VarAccess, create_current_source_model,
                   create_neuron_model, create_postsynaptic_model, create_var_init_snippet,
                   create_weight_update_model)

NEURON_MODELS = {
    "SpikeSourceArray": create_neuron_model(
        "SpikeSourceArray",
        vars=[("startSpike", "unsigned int"),
              ("endSpike", "unsigned int", VarAccess.READ_ONLY_DUPLICATE)],
        extra_global_params=[("spikeTimes", "scalar*")],
        threshold_condition_code="startSpike != endSpike && t >= spikeTimes[startSpike]",
        reset_code="startSpike++;"),
    "LIF": create_neuron_model(
        "LIF",
        params=["C", "TauM", "Vrest", "Vreset", "Vthresh", "Ioffset", "TauRefrac"],
        derived_params=[("ExpTC", lambda p, dt: np.exp(-dt / p["TauM"])),
                        ("Rmembrane", lambda p, dt: p["TauM"] / p["C"])],
        vars=[("V", "scalar"), ("RefracTime", "scalar")],
        sim_code="""
        if (RefracTime <= 0.0) {
            scalar alpha = ((Isyn + Ioffset) * Rmembrane) + Vrest;
            V = alpha - (ExpTC * (alpha - V));
        }
        else {
            RefracTime -= dt;
        }
        """,
        threshold_condition_code="RefracTime <= 0.0 && V >= Vthresh",
        reset_code="V = Vreset; RefracTime = TauRefrac;"),
}

WEIGHT_UPDATE_MODELS = {
    "StaticPulse": create_weight_update_model(
        "StaticPulse", vars=[("g", "scalar", VarAccess.READ_ONLY)],
        pre_spike_syn_code="addToPost(g);"),
    "StaticPulseConstantWeight": create_weight_update_model(
        "StaticPulseConstantWeight", params=["g"], pre_spike_syn_code="addToPost(g);"),
}

POSTSYNAPTIC_MODELS = {
    "DeltaCurr": create_postsynaptic_model(
        "DeltaCurr", sim_code="injectCurrent(inSyn); inSyn = 0.0;"),
    "ExpCurr": create_postsynaptic_model(
        "ExpCurr", params=["tau"],
        derived_params=[("expDecay", lambda p, dt: np.exp(-dt / p["tau"])),
                        ("init", lambda p, dt: (p["tau"] * (1.0 - np.exp(-dt / p["tau"]))) / dt)],
        sim_code="injectCurrent(init * inSyn); inSyn *= expDecay;"),
}

CURRENT_SOURCE_MODELS = {
    "DC": create_current_source_model("DC", params=["amp"], injection_code="injectCurrent(amp);"),
}

CUSTOM_UPDATE_MODELS = {}

VAR_INIT_SNIPPETS = {
    "Constant": create_var_init_snippet("Constant", params=["constant"],
                                        var_init_code="value = constant;"),
    "Uniform": create_var_init_snippet(
        "Uniform", params=["min", "max"],
        var_init_code="const scalar scale = max - min; value = min + (gennrand_uniform() * scale);"),
    "Normal": create_var_init_snippet(
        "Normal", params=["mean", "sd"], var_init_code="value = mean + (gennrand_normal() * sd);"),
    "NormalClipped": create_var_init_snippet(
        "NormalClipped", params=["mean", "sd", "min", "max"],
        var_init_code="""
        scalar normal;
        do {
            normal = mean + (gennrand_normal() * sd);
        } while (normal > max || normal < min);
        value = normal;
        """),
}


def _fixed_probability(num_pre, num_post, params, rng):
    """Each (pre, post) pair is connected independently with probability ``prob``."""
    prob = params["prob"]
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"FixedProbability: prob must be in [0, 1], got {prob}")
    mask = rng.random((num_pre, num_post)) < prob
    pre, post = np.nonzero(mask)
    return pre, post


SPARSE_CONNECT_SNIPPETS = {
    "FixedProbability": SparseConnectInitSnippet("FixedProbability", ["prob"],
                                                 _fixed_probability),
}
