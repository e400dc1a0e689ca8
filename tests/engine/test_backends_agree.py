"""The cuda backend against the cpu backend on the same model (on the GPU, or an emulated one).

The recurrent network of test_network_reference, with dense recurrence, performs the same IEEE
operations in the same order on both backends (its sums follow the spike order, which both
keep), so the spikes and voltages must agree bit for bit, whether the cuda backend keeps its
spike lists in shared memory (as it does where they fit) or in device memory."""
import numpy as np
import pytest

from eventprop.engine.backends import cuda_codegen

from test_network_reference import network, simulate_engine

# compares the two backends itself: once, with CuPy or the emulated GPU for cuda
pytestmark = pytest.mark.parametrize("backend", ["cuda"], indirect=True)


@pytest.mark.parametrize("shared_bytes", [cuda_codegen.SHARED_BYTES, 0])
def test_cuda_matches_cpu_bit_for_bit(precision, shared_bytes, monkeypatch):
    monkeypatch.setattr(cuda_codegen, "SHARED_BYTES", shared_bytes)
    results = {}
    for name in ("cpu", "cuda"):
        monkeypatch.setenv("EVENTPROP_BACKEND", name)
        results[name] = simulate_engine(precision, 5, *network(5), recurrence="DENSE")
    for cpu, cuda in zip(results["cpu"], results["cuda"]):
        np.testing.assert_array_equal(cpu, cuda)
