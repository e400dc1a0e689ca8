"""The benchmarks' BPTT reference (benchmarks/bptt_reference.py) is the engine's network: its
constants, its initial weights and, where PyTorch is installed, its forward pass, spike for
spike; the SHD data benchmark runs its stages on the data it writes; the step benchmark's
clock puts each call in its phase. No timing is asserted anywhere."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import bptt_reference  # noqa: E402
import shd_step  # noqa: E402
from simulators.defaults import p as DEFAULTS  # noqa: E402
from simulators.network import EventPropNetwork  # noqa: E402


def test_bptt_constants_are_the_network_defaults():
    for key, value in bptt_reference.DEFAULTS.items():
        assert DEFAULTS[key] == value, key


def test_bptt_initial_weights_are_the_eventprop_network_ones():
    p = {"NUM_HIDDEN": 5, "RECURRENT": True, "LOSS_TYPE": "sum_weigh_exp", "TRIAL_MS": 10.0,
         "N_BATCH": 2, "MODEL_SEED": bptt_reference.MODEL_SEED, "PRECISION": "double"}
    net = EventPropNetwork(p, 7, 3)
    expected = bptt_reference.initial_weights(7, 5, 3)
    weights = net.get_weights()
    assert set(weights) == set(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(weights[key], value, err_msg=key)


def test_coefficients_are_exact_integration():
    alpha_m, alpha_s, beta = bptt_reference.coefficients(20.0, 5.0, 1.0)
    assert alpha_m == pytest.approx(np.exp(-1 / 20))
    assert alpha_s == pytest.approx(np.exp(-1 / 5))
    assert beta == pytest.approx(5.0 / (20.0 - 5.0) * (alpha_m - alpha_s), rel=1e-12)


def test_poisson_examples_keep_the_shd_rate_at_any_trial_length():
    rng = np.random.default_rng(0)
    examples = shd_step.poisson_examples(20, rng, 2000.0)
    counts = [len(t) for t, _ in examples]
    assert np.mean(counts) == pytest.approx(2 * shd_step.SPIKES_PER_EXAMPLE, rel=0.02)
    assert all(t.max() < 2000.0 and i.max() < shd_step.NUM_INPUT for t, i in examples)
    assert 0 < shd_step.max_input_spikes(examples) < shd_step.N_MAX_SPIKE


def test_phase_clock_times_forward_and_backward_runs_and_updates_apart(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(shd_step.time, "perf_counter", lambda: now[0])

    class Model:           # a run of n steps takes n seconds, an update half a second
        def run(self, n):
            now[0] += n

        def custom_update(self, group):
            now[0] += 0.5

    model = Model()
    clock = shd_step.PhaseClock(model, steps=2)
    model.run(2)
    model.run(3)
    model.custom_update("Learn")
    model.custom_update("Reset")
    assert clock.take() == {"forward": 2.0, "backward": 3.0, "updates": 1.0}
    assert clock.take() == {"forward": 0.0, "backward": 0.0, "updates": 0.0}


@pytest.mark.parametrize("backend", ["cpu", "cuda"], indirect=True)
def test_epoch_splits_its_time_into_the_phases(backend, monkeypatch):
    # 70 examples: two full batches and a partial one, of a small network of the benchmark's
    monkeypatch.setattr(shd_step, "SHD_TRAIN_EXAMPLES", 70)
    pool, labels = shd_step.example_pool(trial_ms=20.0)
    net = shd_step.network(4, backend, trial_ms=20.0, input_gain=40.0)
    seconds, phases, rate = shd_step.epoch(net, pool, labels, backend)
    assert set(phases) == set(shd_step.PHASES)
    assert all(phases[name] > 0 for name in ("forward", "backward", "updates"))
    assert phases["host"] >= 0
    assert sum(phases.values()) == pytest.approx(seconds)
    # the rate comes from the batches' hidden spike counts, over 70 examples of 20 ms
    assert rate > 0
    assert rate == pytest.approx(net.epoch_spikes["hidden0"].sum() / (70 * 4 * 0.02))


def test_data_benchmark_loads_and_augments_the_file_it_writes(tmp_path):
    subprocess.run([sys.executable, os.path.join(os.path.dirname(shd_step.__file__),
                                                 "shd_data.py"),
                    "--examples", "40", "--folder", str(tmp_path), "--json",
                    str(tmp_path / "out.json")], check=True, capture_output=True)
    rows = json.loads((tmp_path / "out.json").read_text())["rows"]
    assert [(r["stage"], r["from_cache"]) for r in rows] == \
        [("preprocess", False), ("cache", True), ("augment", True)]
    # 40 examples of about 8,000 spikes, a few merged where a channel fires twice in a ms
    assert len({r["spikes"] for r in rows}) == 1 and 300_000 < rows[0]["spikes"] < 340_000
    assert [r["types"] for r in rows] == [["uint16", "uint16"]] * 3


def test_bptt_forward_pass_is_the_eventprop_forward_pass(backend):
    pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    num_input, hidden, num_output, trial_ms = 12, 6, 3, 50.0
    X = [(rng.uniform(0.0, trial_ms, 250), rng.integers(0, num_input, 250)) for _ in range(3)]
    Y = np.array([0, 2, 1])
    weights = {"in_to_hid": rng.normal(0.1, 0.05, (num_input, hidden)),
               "hid_to_hid": rng.normal(0.0, 0.3, (hidden, hidden)),
               "hid_to_out": rng.normal(0.0, 0.5, (hidden, num_output))}
    c = bptt_reference.forward_equivalence(hidden, trial_ms, num_input, num_output, X, Y,
                                           weights, backend=backend)
    assert c["hidden_spikes_eventprop"] > 20            # the hidden layer is active
    assert c["spike_trains_identical"], c
    assert c["max_abs_dV_output"] < 1e-12
    assert c["max_abs_dlogit"] < 1e-12
    assert c["loss_bptt"] == pytest.approx(c["loss_eventprop"], abs=1e-12)
