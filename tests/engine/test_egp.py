"""Extra global parameters: pointer EGPs indexed by batch and id, and scalar EGPs."""
import numpy as np
import pytest

from eventprop.engine import create_neuron_model

from helpers import make_model, pulled, with_batch_axis

N = 7

drive_neuron = create_neuron_model(
    "Drive", vars=[("V", "scalar")], extra_global_params=[("drive", "scalar*")],
    sim_code="V += drive[batch * num_neurons + id];")

offset_neuron = create_neuron_model(
    "Offset", vars=[("V", "scalar")], extra_global_params=[("offset", "scalar")],
    sim_code="V += offset;")


def test_pointer_egp_indexed_by_batch_and_id(precision, batch_size):
    model = make_model(precision, batch_size, "egp_pointer", 0.5)
    pop = model.add_neuron_population("pop", N, drive_neuron, {}, {"V": 0.0})
    d0 = (np.arange(batch_size * N) + 1.0) * 0.25            # distinct per batch and id
    pop.extra_global_params["drive"].set_init_values(d0)
    model.build()
    model.load()

    egp = pop.extra_global_params["drive"]
    assert egp.view.shape == (batch_size * N,)
    np.testing.assert_array_equal(egp.view, d0)

    model.step_time()
    model.step_time()
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["V"]), batch_size),
                                  2 * d0.reshape(batch_size, N))

    # Change the EGP between steps: the next step uses the new values
    d1 = -3.0 * np.arange(batch_size * N)[::-1]
    egp.view[:] = d1
    egp.push_to_device()
    model.step_time()
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["V"]), batch_size),
                                  (2 * d0 + d1).reshape(batch_size, N))

    # Writing one element only affects that batch and neuron
    egp.view[batch_size * N - 1] = 100.0
    egp.push_to_device()
    model.step_time()
    d2 = d1.copy()
    d2[-1] = 100.0
    np.testing.assert_array_equal(with_batch_axis(pulled(pop.vars["V"]), batch_size),
                                  (2 * d0 + d1 + d2).reshape(batch_size, N))


def test_constant_initial_values_are_kept_as_one_value(precision, batch_size):
    # a large zeroed buffer (a spike ring, say) must not be held twice in memory
    model = make_model(precision, batch_size, "egp_constant", 0.5)
    pop = model.add_neuron_population("pop", N, drive_neuron, {}, {"V": 0.0})
    egp = pop.extra_global_params["drive"]
    egp.set_init_values(np.full(batch_size * N, 1.5))
    assert egp.init_values.shape == (batch_size * N,) and egp.init_values.strides == (0,)
    model.build()
    model.load()
    np.testing.assert_array_equal(egp.view, np.full(batch_size * N, 1.5))
    egp.view[:] = 0.0
    egp.push_to_device()
    model.step_time()
    np.testing.assert_array_equal(pulled(pop.vars["V"]), 0.0)
    model.unload()
    model.load()       # loading again starts from the initial values
    model.step_time()
    np.testing.assert_array_equal(pulled(pop.vars["V"]), 1.5)


def test_scalar_egp(precision, batch_size):
    model = make_model(precision, batch_size, "egp_scalar", 0.5)
    pop = model.add_neuron_population("pop", N, offset_neuron, {}, {"V": 1.0})
    pop.extra_global_params["offset"].set_init_values(2.5)
    model.build()
    model.load()

    egp = pop.extra_global_params["offset"]
    assert egp.view.shape == (1,)
    model.step_time()
    np.testing.assert_array_equal(pulled(pop.vars["V"]), 3.5)

    egp.view[0] = -0.75
    egp.push_to_device()
    model.step_time()
    model.step_time()
    np.testing.assert_array_equal(pulled(pop.vars["V"]), 2.0)


def test_scalar_egp_takes_one_value(precision, batch_size):
    model = make_model(precision, batch_size, "egp_scalar_bad", 0.5)
    pop = model.add_neuron_population("pop", N, offset_neuron, {}, {"V": 1.0})
    with pytest.raises(ValueError):
        pop.extra_global_params["offset"].set_init_values([1.0, 2.0])
