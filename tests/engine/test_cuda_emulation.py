"""The emulated GPU on which the cuda backend's kernels run where there is no GPU: each of
CUDA's rules that the generated kernels depend on, on a kernel of its own; and the generated
kernels of a network and of EventProp free of races between threads."""
import sys

import numpy as np
import pytest

import emulated_cupy
from simulators.base import EventPropNetwork

from test_network_reference import network, simulate_engine

# nothing here depends on the backend of the other tests: once, with cuda
pytestmark = pytest.mark.parametrize("backend", ["cuda"], indirect=True)


def run(body, block, *arrays, grid=1, shared=""):
    """Runs ``body`` as a kernel of ``grid`` blocks of ``block`` threads on int32 ``arrays``
    a, b, ...; the arrays afterwards."""
    params = ", ".join(f"int* {'abcdefgh'[k]}" for k in range(len(arrays)))
    code = f'{shared}\nextern "C" __global__ void k({params}) {{\n{body}\n}}\n'
    device = [emulated_cupy.asarray(np.asarray(a, dtype=np.int32)) for a in arrays]
    emulated_cupy.RawModule(code=code).get_function("k")((grid,), (block,), device)
    return [d.get() for d in device]


def test_threads_wait_at_syncthreads_for_the_whole_block():
    # every thread writes its slot, then reads its neighbour's: all writes come first
    (out,) = run("const unsigned int i = threadIdx.x; a[i] = i + 1; __syncthreads(); "
                 "a[64 + i] = a[(i + 1) % 64];", 64, np.zeros(128))
    np.testing.assert_array_equal(out[64:], (np.arange(64) + 1) % 64 + 1)


def test_warp_intrinsics_exchange_values_between_the_lanes_of_a_mask():
    (out,) = run("const int l = threadIdx.x; const unsigned int m = 0x0000ffffu;"
                 "if (l < 16) { a[l] = __shfl_down_sync(m, 100 + l, 3);"
                 "a[32 + l] = __shfl_up_sync(m, 100 + l, 3);"
                 "a[64 + l] = (int)__ballot_sync(m, l % 5 == 0);"
                 "a[96 + l] = (int)__match_any_sync(m, l / 4); }", 32, np.zeros(128))
    lane = np.arange(16)
    np.testing.assert_array_equal(out[:13], 103 + lane[:13])
    np.testing.assert_array_equal(out[13:16], -1)       # lanes 16-18 are outside the mask
    np.testing.assert_array_equal(out[32:48], np.where(lane < 3, lane, lane - 3) + 100)
    np.testing.assert_array_equal(out[64:80], 1 | 1 << 5 | 1 << 10 | 1 << 15)
    np.testing.assert_array_equal(out[96:112], 0xF << (lane // 4 * 4))


def test_activemask_holds_only_the_lanes_that_reach_the_call_together():
    # the odd lanes wait for each other at a ballot first, and reach another call
    (out,) = run("const int l = threadIdx.x;"
                 "if (l % 2) { a[l] = (int)__ballot_sync(0xaaaaaaaau, 1); a[32 + l] = (int)__activemask(); }"
                 "else { a[64 + l] = (int)__activemask(); }", 32, np.zeros(96))
    lane = np.arange(32)
    odd, even = lane[1::2], lane[::2]
    np.testing.assert_array_equal(out[odd].view(np.uint32), 0xAAAAAAAA)
    np.testing.assert_array_equal(out[32 + odd].view(np.uint32), 0xAAAAAAAA)
    np.testing.assert_array_equal(out[64 + even].view(np.uint32), 0x55555555)


def test_a_launch_in_which_no_thread_can_go_on_stops_and_says_who_waits_where():
    # lane 0 waits at the barrier, lane 1 for lane 0 at the ballot, the others have returned
    with pytest.raises(RuntimeError, match=r"no thread of block 0 can go on:\n"
                                           r"  thread 0 \(warp 0, lane 0\) waits at __syncthreads\n"
                                           r"  thread 1 \(warp 0, lane 1\) waits at a warp "
                                           r"intrinsic __ballot_sync with mask 0x00000003$"):
        run("if (threadIdx.x == 0) __syncthreads(); "
            "else if (threadIdx.x == 1) a[0] = __ballot_sync(3u, 1);", 32, np.zeros(1))


def test_a_mask_without_the_calling_lane_stops_the_launch():
    with pytest.raises(RuntimeError, match=r"thread 0 \(warp 0, lane 0\) waits at a warp "
                                           r"intrinsic __ballot_sync with mask 0x00000002$"):
        run("if (threadIdx.x == 0) a[0] = __ballot_sync(2u, 1);", 32, np.zeros(1))


def test_a_block_reads_poison_where_it_did_not_write_shared_memory():
    # block 0 writes the shared word, block 1 only reads it
    (out,) = run("if (blockIdx.x == 0) s[0] = 7; a[blockIdx.x] = s[0];", 1, np.zeros(2),
                 grid=2, shared="__shared__ int s[1];")
    np.testing.assert_array_equal(out, [7, -1])


def threads_ascending_and_descending(simulate, monkeypatch):
    """What ``simulate()`` returns on the cuda backend of the emulated GPU with the threads
    (and blocks) run in the order of their ids, and the other way round."""
    monkeypatch.setitem(sys.modules, "cupy", emulated_cupy)   # also where a GPU is present
    results = []
    for order in ("ascending", "descending"):
        monkeypatch.setattr(emulated_cupy, "THREAD_ORDER", order)
        results.append(simulate())
    return results


def test_the_network_kernels_have_no_races_between_threads(precision, monkeypatch):
    # the dense recurrence: every sum in the spike order, so that only a race could change it
    ascending, descending = threads_ascending_and_descending(
        lambda: simulate_engine(precision, 5, *network(5), recurrence="DENSE"), monkeypatch)
    for a, d in zip(ascending, descending):
        np.testing.assert_array_equal(a, d)


def test_the_eventprop_kernels_have_no_races_between_threads(monkeypatch):
    p = dict(NUM_HIDDEN=40, DT_MS=0.5, TRIAL_MS=30.0, N_BATCH=3, PRECISION="double",
             MODEL_SEED=2, INPUT_HIDDEN_MEAN=1.0, INPUT_HIDDEN_STD=0.5, HIDDEN_OUTPUT_MEAN=1.0,
             HIDDEN_OUTPUT_STD=0.5, N_MAX_SPIKE=40, RECURRENT=True, TRAIN_TAU=True,
             HIDDEN_NEURON_TYPE="hetLIF", BACKEND="cuda")
    rng = np.random.default_rng(1)
    X = [(rng.uniform(0, 25, 40), rng.integers(0, 6, 40)) for _ in range(3)]
    ascending, descending = threads_ascending_and_descending(
        lambda: EventPropNetwork(p, 6, 3).gradients(X, [0, 1, 2]), monkeypatch)
    assert ascending[0] == descending[0]
    assert any(np.abs(g).max() > 0 for g in ascending[1].values())
    for key, g in ascending[1].items():
        np.testing.assert_array_equal(descending[1][key], g, err_msg=key)
