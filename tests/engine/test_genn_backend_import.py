"""What the ``genn`` backend does without pygenn: these run everywhere."""
import sys

import numpy as np
import pytest

from eventprop.engine import GeNNModel, init_postsynaptic, init_weight_update
from eventprop.engine.backends.genn import padded_rows


def test_missing_pygenn_raises_import_error_with_install_hint(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pygenn", None)   # absent even where installed
    model = GeNNModel("float", "no_pygenn", backend="genn")   # pygenn is imported at build
    model.add_neuron_population("pop", 2, "LIF",
                                {"C": 1.0, "TauM": 20.0, "Vrest": -70.0, "Vreset": -70.0,
                                 "Vthresh": -55.0, "Ioffset": 0.0, "TauRefrac": 2.0},
                                {"V": -70.0, "RefracTime": 0.0})
    with pytest.raises(ImportError) as e:
        model.build(str(tmp_path))
    message = str(e.value)
    assert "pygenn 5" in message and "source" in message
    assert "https://genn-team.github.io/" in message


def test_padded_rows_match_the_front_end_layout():
    """pygenn's padded rows (stride = longest row, rows sorted by post) are the
    layout the cpu backend uses, so both agree on slots for the same connections."""
    model = GeNNModel("float", "layout", backend="cpu")
    src = model.add_neuron_population("src", 5, "SpikeSourceArray", {},
                                      {"startSpike": 0, "endSpike": 0})
    trg = model.add_neuron_population("trg", 4, "SpikeSourceArray", {},
                                      {"startSpike": 0, "endSpike": 0})
    sg = model.add_synapse_population("syn", "SPARSE", src, trg,
                                      init_weight_update("StaticPulse", {}, {"g": 0.0}),
                                      init_postsynaptic("DeltaCurr"))
    pre = np.array([3, 0, 3, 1, 3, 0, 4])
    post = np.array([2, 3, 0, 1, 3, 0, 2])
    sg.set_sparse_connections(pre, post)
    row_length, stride, _, slot = sg._csr()

    # What pygenn's set_sparse_connections derives from the same indices
    rows = padded_rows(np.bincount(pre, minlength=5), int(np.bincount(pre).max()),
                       np.lexsort((post, pre)))
    assert rows.stride == stride == 3
    np.testing.assert_array_equal(rows.slot, slot)
    np.testing.assert_array_equal(rows.sorted_slots, np.sort(slot))
    np.testing.assert_array_equal(rows.sorted_slots, [0, 1, 3, 9, 10, 11, 12])
