"""specs/efficientnet.incept, one spec for the family: every member b0..b7 (`--set variant=bN`)
builds torchvision's efficientnet_bN exactly.

For each member the compiled torch model's state_dict has torchvision's keys, in its order,
with its shapes, and the parameter count equals the spec's report and the figure cited in the
spec (both models are built on the meta device: shapes without memory, so b7 costs about a
second). For b0 and b1 (b1 differs in depth and resolution), torchvision's weights (random,
BN statistics from a train-mode pass) load strictly and the eval outputs agree within 1e-5 of
their scale, with the control that a 1% change of one weight exceeds that.
"""

from __future__ import annotations

import pytest
from conftest import SPECS
from support.fidelity import calibrate_bn, control
from support.lazy import torch, torchvision
from support.torch_specs import randomize

import inceptdsl

SPEC = str(SPECS / "efficientnet.incept")
MEMBERS = [f"b{i}" for i in range(8)]


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


@pytest.mark.parametrize("variant", ["b0", "b1"])
def test_strict_load_and_equal_eval_output(variant: str) -> None:
    torch.manual_seed(0)
    net = inceptdsl.load(SPEC, variant=variant, image_size=64)  # small inputs, same weights
    calib = torch.randn(4, *net.input_shape, generator=torch.Generator().manual_seed(3))
    reference = calibrate_bn(randomize(_torchvision(variant)), calib)
    ours = net.to_torch(weights_from=reference)  # strict
    x = torch.randn(2, *net.input_shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = reference.eval()(x)
        got = ours.eval()(x)
    assert got.shape == want.shape == (2, 1000)
    scale = want.abs().max().item()
    assert (got - want).abs().max().item() <= 1e-5 * scale

    def again() -> torch.Tensor:
        with torch.no_grad():
            return ours(x).numpy()

    delta = control(ours, again, want.numpy(), 1e-5)
    print(f"efficientnet {variant}: tolerance 1e-5, control {delta:.1e}")


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
    assert info.value.code == "E304" and '"b8" is not in the list' in info.value.message
