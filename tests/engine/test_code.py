"""The code-string dialect: literal precision, comments, integer arithmetic, maths
functions and `t` / `dt` / `id` / `batch`, run end to end."""
import numpy as np

from eventprop.engine import create_neuron_model
from eventprop.engine.code import written_names

from helpers import as_batched, make_model, pulled

N = 6


def run_once(precision, batch_size, sim_code, vars):
    neuron = create_neuron_model("Dialect", vars=[(v, t) for v, t in vars], sim_code=sim_code)
    model = make_model(precision, batch_size, "dialect", 0.25)
    pop = model.add_neuron_population("pop", N, neuron, {}, {v: 0 for v, _ in vars})
    model.build()
    model.load()
    model.step_time()
    return {v: as_batched(pulled(pop.vars[v]), batch_size) for v, _ in vars}


def test_literals_follow_precision_unless_suffixed(precision, batch_size):
    # 1e-8 vanishes next to 1 in float arithmetic but not in double
    out = run_once(precision, batch_size,
                   "plain = (1.0 + 1e-8) - 1.0; wide = (1.0d + 1e-8d) - 1.0d; "
                   "narrow = (1.0f + 1e-8f) - 1.0f;",
                   [("plain", "scalar"), ("wide", "scalar"), ("narrow", "scalar")])
    expected_plain = 0.0 if precision == "float" else (1.0 + 1e-8) - 1.0
    np.testing.assert_array_equal(out["plain"], expected_plain)
    np.testing.assert_allclose(out["wide"], (1.0 + 1e-8) - 1.0, rtol=1e-6)
    np.testing.assert_array_equal(out["narrow"], 0.0)


def test_comments_integers_and_maths(precision, batch_size):
    out = run_once(precision, batch_size,
                   """
                   // integer division truncates; comments are ignored
                   q = 7 / 2;   /* a block comment
                                   over two lines */
                   m = 7 % 3;
                   s = sin(0.5) + exp(1.0) + fmax(2.0, 3.0) + pow(2.0, 10.0);
                   """,
                   [("q", "int"), ("m", "int"), ("s", "scalar")])
    np.testing.assert_array_equal(out["q"], 3)
    np.testing.assert_array_equal(out["m"], 1)
    np.testing.assert_allclose(out["s"], np.sin(0.5) + np.e + 3.0 + 1024.0,
                               rtol=1e-6 if precision == "float" else 1e-14)


def test_time_index_and_batch_names(precision, batch_size):
    # In step n (from 0), t = n * dt; the values are those of the first step
    out = run_once(precision, batch_size,
                   "tt = t; step = dt; who = id; which = batch; nb = num_batch; "
                   "nn = num_neurons;",
                   [("tt", "scalar"), ("step", "scalar"), ("who", "int"), ("which", "int"),
                    ("nb", "int"), ("nn", "int")])
    np.testing.assert_array_equal(out["tt"], 0.0)
    np.testing.assert_array_equal(out["step"], 0.25)
    np.testing.assert_array_equal(out["who"], np.tile(np.arange(N), (batch_size, 1)))
    np.testing.assert_array_equal(out["which"], np.repeat(np.arange(batch_size)[:, None], N, 1))
    np.testing.assert_array_equal(out["nb"], batch_size)
    np.testing.assert_array_equal(out["nn"], N)


def test_written_names_count_subscripted_and_incremented_targets():
    code = "a = b; c[i] += 1.0; d[e[j]]++; ++f; g--; if (h[k] == l) { m[0] = 1; }"
    assert written_names(code) == {"a", "c", "d", "f", "g", "m"}
