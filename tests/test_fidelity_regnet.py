"""specs/regnet.incept, one spec for the family: every member (`--set variant=y_400mf` ..
`x_800mf`) builds torchvision's regnet_* exactly, its stage widths and depths computed in the
spec from the design-space parameters.

For each member the compiled torch model's state_dict has torchvision's keys, in its order,
with its shapes, and the parameter count equals the spec's report, the figure cited in the
spec and torchvision's weights meta (ours on the meta device; torchvision's RegNet computes
its BlockParams with torch ops, which the meta device cannot run).
For every member, torchvision's model (random parameters, BN statistics from a train-mode pass
over 16 samples) loads strictly and the eval outputs agree within 1e-5 of their scale, and the
Keras model built from the same weights (carried across from our torch model) within 1e-4,
tests/test_cross_framework.py's tolerance; each comparison with its control (a 1% change of
one weight, or of one Keras kernel, exceeds the tolerance). The outputs are compared at
64x64: the network is fully convolutional and pools adaptively before `fc`, so every weight
and every layer's per-position computation is the same at any input size, and at 64x64 the
last stage still has a 2x2 grid. Each member's models are built once (a module-scoped
fixture) and released before the next member's.
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

SPEC = str(SPECS / "regnet.incept")
TOL = 1e-5
KERAS_TOL = 1e-4  # torch vs Keras, as tests/test_cross_framework.py: float32 in two orders
SIZE = 64  # see the module docstring: a full check of a fully convolutional network
MEMBERS = ["y_400mf", "y_800mf", "y_1_6gf", "y_3_2gf", "y_8gf", "x_400mf", "x_800mf"]


def _torchvision(variant: str) -> torch.nn.Module:
    return getattr(torchvision.models, f"regnet_{variant}")(weights=None)


@pytest.mark.parametrize("variant", MEMBERS)
def test_state_dict_keys_and_shapes_are_torchvisions(variant: str) -> None:
    net = inceptdsl.load(SPEC, variant=variant)
    with torch.device("meta"):
        ours = net.to_torch()
    reference = _torchvision(variant)  # its BlockParams compute in torch: not on meta
    want = [(k, tuple(v.shape)) for k, v in reference.state_dict().items()]
    got = [(k, tuple(v.shape)) for k, v in ours.state_dict().items()]
    assert got == want
    params = sum(p.numel() for p in reference.parameters())
    assert net.report().params == params
    weights = torchvision.models.get_model_weights(f"regnet_{variant}")
    assert weights.IMAGENET1K_V1.meta["num_params"] == params
    cited = {
        e.stmt.with_[0].value.value: e.stmt.value.value  # type: ignore[union-attr]
        for e in net.expectations
        if e.stmt.cmp == "==" and e.stmt.target == ("params",)
    }
    assert cited[variant] == params


class Case:
    """One member at 64x64: the spec's network, our strict load of torchvision's model
    (random parameters, BN statistics from a train-mode pass), an input batch (not the
    calibration batch) and the reference's eval output."""

    def __init__(self, variant: str) -> None:
        self.variant = variant
        torch.manual_seed(0)
        self.net = inceptdsl.load(SPEC, variant=variant, image_size=SIZE)
        calib = torch.randn(16, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(3))
        reference = calibrate_bn(randomize(_torchvision(variant)), calib)
        self.ours = self.net.to_torch(weights_from=reference).eval()  # strict
        self.x = torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            self.want = reference.eval()(self.x).numpy()


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
    print(f"regnet {case.variant}: tolerance {TOL}, control {delta:.1e}")


def test_keras_through_cross_framework_transfer(case: Case) -> None:
    """Grouped convs, SE (the y members) in Keras, weights carried across from our model."""
    model = case.net.to_keras(weights_from=case.ours)
    x = case.x.numpy()

    def run() -> np.ndarray:
        return keras_output(model, x)

    err = relative_error(run(), case.want)
    assert err <= KERAS_TOL
    delta = keras_control(model, run, case.want, KERAS_TOL)
    print(f"regnet {case.variant} keras: {err:.1e} <= {KERAS_TOL}, control {delta:.1e}")


def test_design_space_parameters_reach_the_network() -> None:
    """The widths and depths are computed from (depth, w_0, w_a, w_m, group width): a point
    of the design space that is not a member builds what torchvision's BlockParams gives."""
    from torchvision.models.regnet import BlockParams, RegNet

    point = {"depth": 13, "w_0": 32, "w_a": 18.5, "w_m": 2.3, "group_width": 16}
    net = inceptdsl.load(SPEC, variant="x_400mf", **point)
    blocks = BlockParams.from_init_params(**point)
    with torch.device("meta"):
        ours = net.to_torch()
        reference = RegNet(blocks)
    want = [(k, tuple(v.shape)) for k, v in reference.state_dict().items()]
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == want
    with pytest.raises(inceptdsl.SpecError) as info:
        inceptdsl.load(SPEC, variant="y_16gf")
    assert info.value.code == "E301" and '"y_16gf", not one of its members' in info.value.message
