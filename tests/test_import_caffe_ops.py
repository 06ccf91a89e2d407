"""`inceptdsl import caffe` of the constructs the public Inception ports use: a flat Concat of
a fork's two convs (Inception-v3/v4) written as nested concats, an Eltwise SUM with
`coeff: 1, 0.17` (Inception-ResNet-v2) written as `residual scale=0.17`, and ResNet's
Convolution -> BatchNorm -> Scale -> ReLU written as one `conv ... bn= act=` unit.

Each fixture (tests/fixtures/caffe/, written for these tests) is imported and compared with a
hand-written spec of the same network: the same figures, the hand-written model's state_dict
loads strictly into the imported one, and the outputs agree, with a 1% weight change as the
control.
"""

from __future__ import annotations

import pytest
from conftest import ROOT
from support.lazy import torch

import inceptdsl
from inceptdsl.importers.command import import_caffe

FIXTURES = ROOT / "tests" / "fixtures" / "caffe"
TOLERANCE = 1e-5

HAND = {
    "fork_concat": (
        826,  # stem 8*8*9+8, a 8*4+4, r 8*6+6, p and q 6*4*3+4 each
        """
network fork_concat {
  input 8 x 9 x 9
  stem: conv 8 3x3 pad=1 act=relu
  concat {
    a: conv 4 1x1
    r: conv 6 1x1 -> concat { p: conv 4 1x3 pad=(0, 1)
                              q: conv 4 3x1 pad=(1, 0) }
  }
}
""",
        "r: conv 6 1x1 -> concat {",
    ),
    "eltwise_coeff": (
        1168,  # two 3x3 convs of 8 channels: 2 * (8*8*9+8)
        """
network eltwise_coeff {
  input 8 x 9 x 9
  stem: conv 8 3x3 pad=1 act=relu
  residual scale=0.17 act=relu { b: conv 8 3x3 pad=1 }
}
""",
        "residual scale=0.17 act=relu",
    ),
    "conv_bn_scale": (
        1264,  # convs 8*8*9 + 8*8 + 8*8*9, and gamma + beta of 8 channels for each of three
        """
network conv_bn_scale {
  input 8 x 9 x 9
  conv1: conv 8 3x3 pad=1 bias=false bn=true act=relu
  residual act=relu {
    res2a_branch2a: conv 8 1x1 bias=false bn=true act=relu
    res2a_branch2b: conv 8 3x3 pad=1 bias=false bn=true
  }
}
""",
        "defaults conv(bias=false, bn=bn(momentum=0.001), act=relu)\n  conv1: conv 8 3x3 pad=1\n",
    ),
}


def _out(model: torch.nn.Module) -> torch.Tensor:
    x = torch.randn(2, 8, 9, 9, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        return model(x)


@pytest.mark.parametrize("name", sorted(HAND))
def test_imports_as_the_hand_written_spec(name: str) -> None:
    params, hand_text, written = HAND[name]
    text, _ = import_caffe(str(FIXTURES / f"{name}.prototxt"), None, f"{name}.incept")
    assert written in text
    mine, hand = inceptdsl.loads(text, "imported.incept"), inceptdsl.loads(hand_text, "hand.incept")
    assert mine.report().params == hand.report().params == params
    assert mine.report().macs == hand.report().macs
    torch.manual_seed(0)
    reference = hand.to_torch().train()
    _out(reference)  # batch-norm statistics from a training-mode pass
    reference.eval()
    built = mine.to_torch(weights_from=reference.state_dict()).eval()  # strict
    ya, yb = _out(reference), _out(built)
    assert float((ya - yb).abs().max() / ya.abs().max()) <= TOLERANCE
    state = built.state_dict()
    key = next(k for k, v in state.items() if k.endswith("weight") and v.dim() == 4)
    state[key] = state[key] * 1.01
    built.load_state_dict(state)
    assert float((ya - _out(built)).abs().max() / ya.abs().max()) > TOLERANCE
