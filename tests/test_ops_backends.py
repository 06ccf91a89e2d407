"""Every op's test spec (tests/ops/*.incept) in every backend: the same function in torch and
Keras, and the weights crossing both ways bit for bit.

For each spec: a torch model with random parameters and BN statistics from a train-mode pass
fills a Keras model by IR node; both give the same output on a random batch (<= TOL of the
output's scale). The control: after one early weight tensor (or, in a spec with no weights,
the input) is changed by 1%, the same comparison must exceed TOL, so the check can fail.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT
from support.fidelity import calibrate_bn, randomize_params, relative_error
from support.keras_specs import example, keras_output
from support.lazy import torch

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.backends import keras as keras_backend
from inceptdsl.backends.keras import BACKEND as KERAS

TORCH = get("torch")
SPECS = sorted((ROOT / "tests" / "ops").glob("*.incept"))
TOL = 1e-5


def _torch_out(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_torch_and_keras_compute_the_same_function(spec) -> None:  # type: ignore[no-untyped-def]
    g = inceptdsl.load(str(spec)).graph
    torch.manual_seed(0)
    tmodel = randomize_params(TORCH.build(g), seed=1)
    calibrate_bn(tmodel, torch.from_numpy(example(g, batch=8, seed=2)))
    kmodel = KERAS.build(g, weights_from=tmodel, training=True)
    x = example(g, batch=2, seed=3)
    want = _torch_out(tmodel, x)
    got = keras_output(kmodel, x)
    assert relative_error(got, want) <= TOL

    # the weights come back bit for bit
    state = keras_backend.keras_to_torch_state_dict(g, kmodel)
    own = tmodel.state_dict()
    assert list(state) == list(own)
    assert all(torch.equal(state[k], v) for k, v in own.items())

    # control: a 1% change of the first parameter tensor (or of the input) must show
    w = next(iter(tmodel.parameters()), None)
    if w is not None:
        with torch.no_grad():
            w.mul_(1.01)
        changed = _torch_out(tmodel, x)
    else:
        changed = _torch_out(tmodel, x * 1.01)
    assert relative_error(got, changed) > TOL
