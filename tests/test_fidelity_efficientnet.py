"""specs/efficientnet.incept, one spec for the family: every member b0..b7 (`--set variant=bN`)
builds torchvision's efficientnet_bN exactly, in torch and in Keras.

For each member the compiled torch model's state_dict has torchvision's keys, in its order,
with its shapes, and the parameter count equals the spec's report and the figure cited in the
spec (both models are built on the meta device: shapes without memory, so b7 costs about a
second). For every member, torchvision's weights (random, BN statistics from a train-mode pass)
load strictly and the eval outputs agree within 1e-5 of their scale; the Keras model built from
the same weights agrees within 1e-4 (tests/test_cross_framework.py's tolerance: float32 in two
orders). Each comparison has its control: a 1% change of one weight (torch) or kernel (Keras)
exceeds the tolerance.

The outputs are compared at 64x64, not at the member's resolution: the network is fully
convolutional and pools adaptively before the classifier, so every weight (and every layer's
computation per position) is the same at any input size; the member's resolution is only
the default input, checked in test_members_differ_where_torchvision_says. At 64x64 the last
stage still has a 2x2 grid, so every stride, padding and the SE pooling act on real extents.
BN statistics come from 16 samples: with 4, channels of the 2x2 stages get a near-zero
variance and the random network becomes so ill-conditioned that torch's own float32 result
is 6e-3 away from float64's (b5; Keras 1.4e-2); with 16 it is 7e-6. Each member's models are built
once (a module-scoped fixture) and released before the next member's.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SPECS
from support.fidelity import calibrate_bn, control, keras_control, relative_error
from support.keras_specs import keras_output
from support.lazy import torch, torchvision
from support.torch_specs import randomize

import inceptdsl

SPEC = str(SPECS / "efficientnet.incept")
MEMBERS = [f"b{i}" for i in range(8)]
SIZE = 64  # see the module's docstring: a full check of a fully convolutional network
TOL = 1e-5
KERAS_TOL = 1e-4  # torch vs Keras, as tests/test_cross_framework.py: float32 in two orders


def _torchvision(variant: str, **kwargs: object) -> torch.nn.Module:
    return getattr(torchvision.models, f"efficientnet_{variant}")(weights=None, **kwargs)


@pytest.mark.parametrize("variant", MEMBERS)
def test_state_dict_keys_and_shapes_are_torchvisions(variant: str) -> None:
    net = inceptdsl.load(SPEC, variant=variant)
    with torch.device("meta"):
        ours = net.to_torch()
        reference = _torchvision(variant)
    want = [(k, tuple(v.shape)) for k, v in reference.state_dict().items()]
    got = [(k, tuple(v.shape)) for k, v in ours.state_dict().items()]
    assert got == want
    params = sum(p.numel() for p in reference.parameters())
    assert net.report().params == params
    cited = {
        e.stmt.with_[0].value.value: e.stmt.value.value  # type: ignore[union-attr]
        for e in net.expectations
        if e.stmt.cmp == "==" and e.stmt.target == ("params",)
    }
    assert cited[variant] == params


class Case:
    """One member at 64x64: the spec's network, torchvision's model (random parameters, BN
    statistics from a train-mode pass), ours loaded strictly from its state_dict, an input
    batch (not the calibration batch) and the reference's eval output."""

    def __init__(self, variant: str) -> None:
        self.variant = variant
        torch.manual_seed(0)
        self.net = inceptdsl.load(SPEC, variant=variant, image_size=SIZE)
        calib = torch.randn(16, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(3))
        self.reference = calibrate_bn(randomize(_torchvision(variant)), calib)
        self.ours = self.net.to_torch(weights_from=self.reference).eval()  # strict
        self.x = torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            self.want = self.reference.eval()(self.x).numpy()


@pytest.fixture(scope="module", params=MEMBERS)
def case(request: pytest.FixtureRequest) -> Case:
    return Case(request.param)


def test_strict_load_and_equal_eval_output(case: Case) -> None:
    def run() -> np.ndarray:
        with torch.no_grad():
            return case.ours(case.x).numpy()  # type: ignore[no-any-return]

    assert run().shape == case.want.shape == (2, 1000)
    assert relative_error(run(), case.want) <= TOL
    delta = control(case.ours, run, case.want, TOL)
    print(f"efficientnet {case.variant}: tolerance {TOL}, control {delta:.1e}")


def test_keras_equals_torch(case: Case) -> None:
    """The Keras model built from our torch model's weights (cross-framework transfer)."""
    model = case.net.to_keras(weights_from=case.ours)
    x = case.x.numpy()

    def run() -> np.ndarray:
        return keras_output(model, x)

    err = relative_error(run(), case.want)
    assert err <= KERAS_TOL
    delta = keras_control(model, run, case.want, KERAS_TOL)
    print(f"efficientnet {case.variant} keras: {err:.1e} <= {KERAS_TOL}, control {delta:.1e}")


def test_members_differ_where_torchvision_says() -> None:
    """The member table reaches the network: resolution, dropout and BN settings per member."""
    b0, b5 = (inceptdsl.load(SPEC, variant=v) for v in ("b0", "b5"))
    assert b0.input_shape == (3, 224, 224) and b5.input_shape == (3, 456, 456)
    ref = _torchvision("b5")
    bn = next(m for m in ref.modules() if isinstance(m, torch.nn.BatchNorm2d))
    ours = {
        (d["attrs"].eps, d["attrs"].momentum)
        for _, d in b5.graph.nodes(data=True)
        if d["op"].value == "batchnorm"
    }
    assert ours == {(bn.eps, bn.momentum)} == {(0.001, 0.01)}
    drop = next(m for m in ref.classifier if isinstance(m, torch.nn.Dropout))
    assert b5.graph.nodes["classifier.0"]["attrs"].p == drop.p == 0.4
    with pytest.raises(inceptdsl.SpecError) as info:
        inceptdsl.load(SPEC, variant="b8")
    assert info.value.code == "E301" and '"b8", not one of its members' in info.value.message
