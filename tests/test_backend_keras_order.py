"""Keras weight order follows the spec's written order, so positional loading (keras.applications'
`set_weights(get_weights())`) puts same-shaped kernels where they belong.

A two-input Add lists its inputs as the spec writes them: `add { a  b }` gives `Add()([a, b])`
and `residual { main } shortcut { s }` gives `Add()([main, s])` (Xception's `add([x,
residual])`); Keras' ResNets write `Add()([shortcut, x])`, which is `add { shortcut  main }`.
Here the shortcut's and the main path's kernels have the same shape, so a swap would load
without complaint: a hand-written Keras model of each layout loads by position into the
compiled spec and must compute the same outputs, and the control (a 1% change of the main
path's kernel) must show.
"""

from __future__ import annotations

import numpy as np
import pytest
from support.lazy import keras, layers

import inceptdsl
from inceptdsl.backends.keras import BACKEND

TOL = 1e-5

RESIDUAL = """
network residual_first {
  input 3 x 8 x 8
  stem: conv 4 1x1 bias=false
  residual {
    main: conv 4 1x1 bias=false
  } shortcut {
    short: conv 4 1x1 bias=false
  }
  pool: global_avgpool
  flatten
}
"""

ADD = """
network shortcut_first {
  input 3 x 8 x 8
  stem: conv 4 1x1 bias=false
  add {
    short: conv 4 1x1 bias=false
    main: conv 4 1x1 bias=false
  }
  pool: global_avgpool
  flatten
}
"""


def _reference(main_first: bool) -> keras.Model:
    """The hand-written Keras model: Xception's `add([x, residual])` or ResNet's
    `Add()([shortcut, x])`; layer names differ from the spec's (only positions matter)."""
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 1, use_bias=False, name="c0")(inputs)
    if main_first:
        main = layers.Conv2D(4, 1, use_bias=False, name="main_path")(x)
        short = layers.Conv2D(4, 1, use_bias=False, name="projection")(x)
        x = layers.Add()([main, short])
    else:
        short = layers.Conv2D(4, 1, use_bias=False, name="projection")(x)
        main = layers.Conv2D(4, 1, use_bias=False, name="main_path")(x)
        x = layers.Add()([short, main])
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, x)


def _error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize(("spec", "main_first"), [(RESIDUAL, True), (ADD, False)])
def test_positional_loading_keeps_same_shaped_kernels_apart(spec: str, main_first: bool) -> None:
    ref = _reference(main_first)
    rng = np.random.default_rng(0)
    ref.set_weights([rng.standard_normal(w.shape).astype("float32") for w in ref.get_weights()])
    g = inceptdsl.loads(spec).graph
    ours = BACKEND.build(g, weights_from=ref)  # by position: the names differ
    main = ours.get_layer("main").kernel
    np.testing.assert_array_equal(main.numpy(), ref.get_layer("main_path").kernel.numpy())
    short = ours.get_layer("short").kernel
    np.testing.assert_array_equal(short.numpy(), ref.get_layer("projection").kernel.numpy())
    x = rng.standard_normal((2, 8, 8, 3)).astype("float32")
    want = np.asarray(ref(x))
    assert _error(np.asarray(ours(x)), want) <= TOL
    main.assign(main.numpy() * 1.01)  # control: a 1% change of one kernel shows
    assert _error(np.asarray(ours(x)), want) > TOL
