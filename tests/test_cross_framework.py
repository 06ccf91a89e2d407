"""Weights across frameworks, for every bundled spec: torch -> Keras -> torch by IR node.

For each spec, a torch model (torch backend, random weights, BN statistics from a train-mode
pass on random data, then perturbed) fills a Keras
model (`build(graph, weights_from=torch_model, training=True)`, aux heads included): both give
the same inference output (NCHW vs NHWC, <= 1e-4 of the output's scale, or 4 x the network's
own float32 rounding where that is larger), and the same aux-head
outputs where they are deterministic; `keras_to_torch_state_dict` then returns the torch model's
state_dict bit for bit (keys, order, dtypes, values). The other direction starts from weights made
in Keras (keras.applications models, random Keras weights on the small specs): the torch model
built from them computes what the Keras model computes.
Every output comparison has its control: with the torch model's first conv weight changed by
1%, the comparison must exceed its tolerance. Each spec's pair of models is built once per
module.
"""

from __future__ import annotations

import copy
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from conftest import bundled_specs, spec_id
from support.fidelity import calibrate_bn, calibrate_keras_bn, control, he_init, relative_error
from support.keras_specs import example, keras_output, randomize_keras
from support.lazy import keras, nn, torch
from support.torch_specs import SPECS, load, randomize

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.backends import keras as keras_backend
from inceptdsl.backends.keras import BACKEND
from inceptdsl.errors import UsageError

TORCH = get("torch")
ROOT = Path(__file__).resolve().parent.parent


def _close(got: np.ndarray, want: np.ndarray, tol: float = 1e-4) -> None:
    assert got.shape == want.shape
    scale = max(float(np.abs(want).max()), 1e-6)
    assert float(np.abs(got - want).max()) <= tol * scale


def _torch_eval(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(torch.from_numpy(x)).numpy()


TOL = 1e-4


def _calibrated(model: nn.Module, g: nx.DiGraph) -> nn.Module:
    """`model` with random BN affine values and statistics from a train-mode pass."""
    return calibrate_bn(randomize(he_init(model)), torch.from_numpy(example(g, batch=4, seed=3)))


def _noise(tmodel: nn.Module, x: np.ndarray) -> float:
    """The network's float32 rounding at `x`: torch float32 vs float64, relative to the scale.
    Deep BN networks with statistics from real batches amplify rounding (inception_v4: about
    3e-4), so two float32 frameworks can agree no better than this."""
    with torch.no_grad():
        want = copy.deepcopy(tmodel).double().eval()(torch.from_numpy(x).double()).numpy()
    return relative_error(_torch_eval(tmodel, x).astype(np.float64), want)


def _checked(tmodel: nn.Module, x: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """The torch model's output equals `other` within TOL or 4 x its own float32 rounding,
    whichever is larger, and a 1% weight change exceeds that tolerance (the control)."""
    tol = max(TOL, 4 * _noise(tmodel, x))
    _close(_torch_eval(tmodel, x), other, tol)
    return tol, control(tmodel, lambda: _torch_eval(tmodel, x), other, tol)


@pytest.fixture(scope="module", params=bundled_specs(), ids=spec_id)
def models(request: pytest.FixtureRequest) -> tuple[nx.DiGraph, nn.Module, keras.Model]:
    g = inceptdsl.load(str(request.param)).graph
    torch.manual_seed(0)
    tmodel = _calibrated(TORCH.build(g), g).eval()
    kmodel = BACKEND.build(g, weights_from=tmodel, training=True)
    return g, tmodel, kmodel


def test_torch_to_keras_to_torch(models: tuple[nx.DiGraph, nn.Module, keras.Model]) -> None:
    g, tmodel, kmodel = models
    x = example(g, batch=1)
    tol, delta = _checked(tmodel, x, keras_output(kmodel, x))
    print(f"{g.graph['name']}: torch vs keras tolerance {tol:.1e}, control {delta:.1e}")
    state = keras_backend.keras_to_torch_state_dict(g, kmodel)
    own = tmodel.state_dict()
    assert list(state) == list(own)
    for key, value in own.items():
        assert state[key].dtype == value.dtype and torch.equal(state[key], value), key
    TORCH.build(g, weights_from=state)  # loads strictly


@pytest.mark.parametrize("name", ["inception_v3", "inception_resnet_v2", "xception"])
def test_keras_applications_weights_reach_torch(name: str) -> None:
    """Keras -> torch from weights made in Keras: a keras.applications model (random weights
    and BN statistics) fills our Keras model by position, which hands them to the torch model;
    the torch model then computes what keras.applications computes."""
    app = {
        "inception_v3": keras.applications.InceptionV3,
        "inception_resnet_v2": keras.applications.InceptionResNetV2,
        "xception": keras.applications.Xception,
    }[name]
    ref = randomize_keras(app(weights=None, classifier_activation=None), seed=7)
    g = inceptdsl.load(str(ROOT / "specs" / "keras" / f"{name}.incept")).graph
    calibrate_keras_bn(ref, example(g, batch=4, seed=3).transpose(0, 2, 3, 1))
    tmodel = TORCH.build(
        g, weights_from=keras_backend.keras_to_torch_state_dict(g, BACKEND.build(g, ref))
    )
    x = example(g, batch=1, seed=1)
    _checked(tmodel, x, keras_output(ref, x))


def test_aux_heads_agree_across_frameworks() -> None:
    """inception_v3's aux head has no dropout, so torch in training mode with its BNs in eval
    mode computes it deterministically; the Keras training model outputs it under its name."""
    g = inceptdsl.load(str(ROOT / "specs" / "inception_v3.incept")).graph
    tmodel = _calibrated(TORCH.build(g), g).train()
    for m in tmodel.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
    kmodel = BACKEND.build(g, weights_from=tmodel, training=True)
    x = example(g, batch=1)
    with torch.no_grad():
        aux = tmodel(torch.from_numpy(x)).AuxLogits.numpy()
    got = keras_output(kmodel, x, "AuxLogits")
    _close(got, aux)

    def again() -> np.ndarray:
        with torch.no_grad():
            return tmodel(torch.from_numpy(x)).AuxLogits.numpy()

    control(tmodel, again, got, TOL)


def test_inference_model_takes_torch_weights_without_aux_heads() -> None:
    g = load("auxnet")
    tmodel = _calibrated(TORCH.build(g), g).eval()
    kmodel = BACKEND.build(g, weights_from=tmodel)  # the inference model: no aux layers
    x = example(g)
    _checked(tmodel, x, keras_output(kmodel, x))
    # back to torch, the missing aux weights come from `base` or are an error
    with pytest.raises(UsageError, match="missing") as err:
        keras_backend.keras_to_torch_state_dict(g, kmodel)
    assert "missing (in the network, not in the weights): aux1.conv (" in err.value.render()
    assert "aux1, aux2: build it with training=True" in str(err.value.hint)
    fresh = TORCH.build(g).state_dict()
    state = keras_backend.keras_to_torch_state_dict(g, kmodel, base=fresh)
    assert all(torch.equal(state[k], fresh[k]) for k in fresh if k.startswith("aux"))
    assert all(torch.equal(state[k], v) for k, v in tmodel.state_dict().items() if k[:3] != "aux")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_small_specs_cross_both_ways(name: str) -> None:
    """The small specs hold what the bundled ones lack: separable convs, partial BN, LRN,
    asymmetric and ceil-mode padding, bias-free linear layers, aux heads."""
    g = load(name)
    tmodel = _calibrated(TORCH.build(g), g).eval()
    kmodel = BACKEND.build(g, weights_from=tmodel, training=True)
    x = example(g)
    _checked(tmodel, x, keras_output(kmodel, x))
    state = keras_backend.keras_to_torch_state_dict(g, kmodel)
    assert list(state) == list(tmodel.state_dict())
    assert all(torch.equal(state[k], v) for k, v in tmodel.state_dict().items())
    # and from weights made in Keras
    randomize_keras(kmodel, seed=5)
    back = TORCH.build(g, weights_from=keras_backend.keras_to_torch_state_dict(g, kmodel))
    _checked(back, x, keras_output(kmodel, x))


def test_weights_of_another_network_are_refused() -> None:
    g = load("branches")
    other = TORCH.build(load("branches", num_classes=3))
    with pytest.raises(UsageError, match="do not fit"):
        BACKEND.build(g, weights_from=other)
    with pytest.raises(UsageError, match="unexpected"):
        BACKEND.build(g, weights_from={**TORCH.build(g).state_dict(), "x": torch.zeros(1)})
    with pytest.raises(UsageError, match="do not fit"):
        keras_backend.keras_to_torch_state_dict(g, BACKEND.build(load("tfsame")))


def test_to_torch_takes_a_keras_model_directly() -> None:
    """`net.to_torch(weights_from=keras_model)`: the torch backend recognises a Keras model and
    converts it by IR node, so the public API needs no explicit state_dict step."""
    net = inceptdsl.load(str(ROOT / "specs" / "keras" / "xception.incept"))
    ref = randomize_keras(keras.applications.Xception(weights=None, classifier_activation=None))
    calibrate_keras_bn(ref, example(net.graph, batch=4, seed=4).transpose(0, 2, 3, 1))
    kmodel = net.to_keras(weights_from=ref)
    tmodel = net.to_torch(weights_from=kmodel)
    x = example(net.graph, batch=1, seed=3)
    _checked(tmodel, x, keras_output(ref, x))
