"""EventProp gradients on the cuda backend (on the GPU, or an emulated one) against the cpu
backend.

The cuda backend sums the feedback (addToPre) of a warp's lanes in a tree, in another order
than the cpu backend: the gradients agree to a few units in the last place of double
precision, not bit for bit."""
import numpy as np
import pytest

import models
from simulators.base import EventPropNetwork

# compares the two backends itself: once, with CuPy or the emulated GPU for cuda
pytestmark = pytest.mark.parametrize("backend", ["cuda"], indirect=True)

P = dict(NUM_HIDDEN=8, DT_MS=0.1, TRIAL_MS=20.0, N_BATCH=4, PRECISION="double", MODEL_SEED=5,
         INPUT_HIDDEN_MEAN=1.0, INPUT_HIDDEN_STD=0.5, HIDDEN_OUTPUT_MEAN=1.0,
         HIDDEN_OUTPUT_STD=0.5, N_MAX_SPIKE=40, PDROP_INPUT=0.0, RECURRENT=True,
         TRAIN_TAU=True, HIDDEN_NEURON_TYPE="hetLIF")


@pytest.mark.parametrize("loss_type", models.LOSS_TYPES)
def test_cuda_gradients_match_cpu(loss_type):
    rng = np.random.default_rng(0)
    X = [(rng.uniform(0, 15, 15), rng.integers(0, 4, 15)) for _ in range(3)]
    Y = [0, 1, 2]
    results = {name: EventPropNetwork({**P, "LOSS_TYPE": loss_type, "BACKEND": name}, 4, 3)
               .gradients(X, Y) for name in ("cpu", "cuda")}
    assert results["cuda"][0] == pytest.approx(results["cpu"][0], rel=1e-12)
    for key, g in results["cpu"][1].items():
        np.testing.assert_allclose(results["cuda"][1][key], g, rtol=1e-9,
                                   atol=1e-12 * np.abs(g).max(), err_msg=key)
