"""Full-size Caffe ports of Inception-v3 and Inception-ResNet-v2 (tests/fixtures/caffe/
make_inception_v3.py, make_inception_resnet_v2.py: the released models' layer lists in the
shape the public ports write them: conv + BatchNorm + Scale + ReLU per unit, underscore names,
the 8x8 modules' 1x3/3x1 pairs in one flat Concat, Inception-ResNet's `Eltwise` with
`coeff: 1 coeff: S`) import, compile, count what the bundled specs count to the unit, and
compute what the bundled spec's compiled model computes with the same weights.

The weights pair up node by node in the order both graphs hold their weighted nodes (the
prototxts keep torchvision's / timm's branch order); each pair's tensors must have the same
names below the node and the same shapes, and the load is strict. BN statistics come from a
train-mode pass of the bundled model; a 1% change of one weight is the control.
"""

from __future__ import annotations

from conftest import ROOT, SPECS
from support.import_check import TOLERANCE, _bn_from_train_pass, _rel_diff
from support.lazy import torch

import inceptdsl
from inceptdsl.importers.command import import_caffe

FIXTURES = ROOT / "tests" / "fixtures" / "caffe"


def _weighted(net: inceptdsl.Network) -> list[str]:
    g = net.graph
    return [n for n in g if g.nodes[n]["params"] or g.nodes[n]["buffers"]]


def _check(prototxt: str, ref: inceptdsl.Network, shape: tuple[int, int, int]) -> str:
    text, _ = import_caffe(str(FIXTURES / prototxt), None, "imported.incept")
    net = inceptdsl.loads(text, "imported.incept")
    a, b = net.report(), ref.report()
    assert (a.params, a.buffers, a.macs) == (b.params, b.buffers, b.macs)
    assert all(r.ok for r in net.verify())
    mine, theirs = net.to_torch(), ref.to_torch()
    torch.manual_seed(0)
    _bn_from_train_pass(theirs, shape)
    state = theirs.state_dict()
    pairs = list(zip(_weighted(net), _weighted(ref), strict=True))
    mapped = {}
    for na, nb in pairs:
        own = {k[len(nb) :]: v for k, v in state.items() if k.startswith(nb + ".")}
        for rest, v in own.items():
            mapped[na + rest] = v
    assert sorted(mapped) == sorted(mine.state_dict())
    assert all(mapped[k].shape == v.shape for k, v in mine.state_dict().items())
    mine.load_state_dict(mapped)  # strict
    mine.eval()
    assert _rel_diff(theirs, mine, shape) <= TOLERANCE
    first = next(k for k in mapped if k.endswith("conv.weight"))
    mine.load_state_dict({**mapped, first: mapped[first] * 1.01})
    assert _rel_diff(theirs, mine, shape) > TOLERANCE  # the control
    return text


def test_inception_v3_port() -> None:
    """23,834,568 params without the aux head (specs/inception_v3.incept, aux_logits=false);
    the 8x8 modules' flat six-input Concat is written as nested concats."""
    ref = inceptdsl.load(str(SPECS / "inception_v3.incept"), aux_logits=False)
    text = _check("inception_v3_deploy.prototxt", ref, (3, 299, 299))
    assert "94 Convolution + BatchNorm (+ Scale) pairs" in text.replace("\n# ", " ")
    assert (
        "inception_c1_1x3_reduce: conv 384 1x1 -> concat {\n"
        "      inception_c1_1x3: conv 384 1x3 pad=(0, 1)\n"
        "      inception_c1_3x1: conv 384 3x1 pad=(1, 0)\n    }"
    ) in text


PORT = """import "inception_resnet_v2.incept" (inception_resnet_v2)
network caffe_port extends inception_resnet_v2 {
  defaults avgpool(count_pad=true)
}
"""


def test_inception_resnet_v2_port() -> None:
    """55,843,464 params (specs/inception_resnet_v2.incept); `coeff: 1 coeff: 0.17` is
    `residual scale=0.17`. The reference is the bundled spec with its one difference from a
    Caffe port made: Caffe's AVE pool counts the padding (Mixed_5b's pool in timm does not),
    a variant of it (`defaults avgpool(count_pad=true)`); at 75 px, the smallest input the
    network takes, every weight and the padded borders are exercised."""
    ref = inceptdsl.loads(PORT, str(SPECS / "caffe_port.incept"))
    text = _check("inception_resnet_v2_deploy.prototxt", ref, (3, 75, 75))
    flat = text.replace("\n# ", " ")
    assert "204 Convolution + BatchNorm (+ Scale) pairs" in flat
    assert text.count("residual scale=0.17 act=relu {") == 10
    assert text.count("residual scale=0.1 act=relu {") == 20
    assert text.count("residual scale=0.2 act=relu {") == 9
    assert "residual {" in text  # the last Block8: coeff 1, no ReLU
