"""Fidelity beyond the Inception zoo: specs/cnn/ (torchvision alexnet, vgg16, resnet18) and
specs/bn_inception.incept (pretrainedmodels' bninception) are the reference models.

For each, the reference's state_dict (random init, BN affine values randomised and running
statistics set from a train-mode pass on random data, so BN handling matters) loads into the
torch backend's build with `strict=True`,
every parameter and buffer has the reference's shape, the parameter count equals the spec's
report, and the eval-mode outputs agree (max abs difference <= 1e-5 of the output's scale);
the control: with our first conv weight changed by 1%, they no longer do.
These are the checks the specs' exact `expect` figures stand on: the figures say how many
weights there are, this says they are the same weights doing the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.fidelity import calibrate_bn, control
from support.lazy import nn, torch, torchvision
from support.torch_specs import randomize

import inceptdsl

SPECS = Path(__file__).resolve().parent.parent / "specs"


def _bninception(n: int) -> nn.Module:
    pretrainedmodels = pytest.importorskip("pretrainedmodels")
    return pretrainedmodels.bninception(num_classes=n, pretrained=None)


def _tv(name: str) -> Callable[[int], nn.Module]:
    return lambda n: getattr(torchvision.models, name)(weights=None, num_classes=n)


# (spec path below specs/, reference factory taking num_classes, num_classes to test)
CASES = [
    ("cnn/alexnet", _tv("alexnet"), 1000),
    ("cnn/vgg16", _tv("vgg16"), 1000),
    ("cnn/resnet18", _tv("resnet18"), 1000),
    ("cnn/resnet18", _tv("resnet18"), 10),
    ("bn_inception", _bninception, 1000),
]


@pytest.mark.parametrize(
    ("spec", "ref", "n"), [pytest.param(*c, id=f"{c[0]}-{c[2]}") for c in CASES]
)
def test_strict_load_and_equal_eval_output(
    spec: str, ref: Callable[[int], nn.Module], n: int
) -> None:
    torch.manual_seed(0)
    net = inceptdsl.load(str(SPECS / f"{spec}.incept"), num_classes=n)
    calib = torch.randn(4, *net.input_shape, generator=torch.Generator().manual_seed(3))
    reference = calibrate_bn(randomize(ref(n)), calib)
    ours = net.to_torch(weights_from=reference)  # strict: same keys, same shapes
    want_shapes = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    got_shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert got_shapes == want_shapes
    assert sum(p.numel() for p in ours.parameters()) == net.report().params
    x = torch.randn(2, *net.input_shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = reference.eval()(x)
        got = ours.eval()(x)
    assert got.shape == want.shape == (2, n)
    scale = want.abs().max().item()
    assert (got - want).abs().max().item() <= 1e-5 * scale

    def again() -> torch.Tensor:
        with torch.no_grad():
            return ours(x).numpy()

    delta = control(ours, again, want.numpy(), 1e-5)
    print(f"{spec} n={n}: tolerance 1e-5, control {delta:.1e}")
