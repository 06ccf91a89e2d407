"""He et al.'s ResNet-50 deploy prototxt (tests/fixtures/caffe/make_resnet50.py, the layer
list of KaimingHe/deep-residual-networks) imported: every conv + BatchNorm + Scale (+ ReLU) is
one conv unit with `bn=`, the 16 residual units (named only `res2a_branch2a`, `bn2a_...`, no
`/`) are found by structure and written as one `Bottleneck` block (the projection of a stage's
first unit an `if`), called in a loop per stage, and the spec is exact.

The reference is torchvision's resnet50 made the network the prototxt describes, which differs
from torchvision's v1.5 in three places, each made here on the model (the same network, the
same weights by name): the stride of a stage's first unit sits on its 1x1 `branch2a` (v1), not
on the 3x3; conv1 has a bias (the only one in the file); pool1 is unpadded with Caffe's ceil
rounding (56 x 56 either way, other windows). pool5's 7x7 average is the global average at
224 px. Counts are the model's own to the unit (torchvision's 25,557,032 + conv1's 64 biases),
the state dict maps by name and loads strictly, outputs agree after a train-mode BN pass, and a
1% change of one weight exceeds the tolerance.
"""

from __future__ import annotations

import re

from conftest import ROOT
from support.import_check import TOLERANCE, _bn_from_train_pass, _rel_diff
from support.lazy import nn, torch, torchvision

import inceptdsl
from inceptdsl.importers.command import import_caffe

PROTOTXT = ROOT / "tests" / "fixtures" / "caffe" / "resnet50_deploy.prototxt"
SHAPE = (3, 224, 224)


def _caffe_style_resnet50() -> nn.Module:
    model = torchvision.models.resnet50()
    model.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=True)
    model.maxpool = nn.MaxPool2d(3, 2, ceil_mode=True)
    for stage in (model.layer2, model.layer3, model.layer4):
        stage[0].conv1.stride, stage[0].conv2.stride = (2, 2), (1, 1)
    return model


PARTS = {"branch2a": ("conv1", "bn1"), "branch2b": ("conv2", "bn2")} | {
    "branch2c": ("conv3", "bn3"),
    "branch1": ("downsample.0", "downsample.1"),
}


def _torchvision_key(key: str) -> str:
    """`res3b.branch2a.bn.weight` -> `layer2.1.bn1.weight`; conv1 and fc1000 likewise."""
    head, *rest = key.split(".")
    if head == "fc1000":
        return ".".join(["fc", *rest])
    if head == "conv1":
        return ".".join(["conv1" if rest[0] == "conv" else "bn1", *rest[1:]])
    m = re.fullmatch(r"res(\d)([a-z])", head)
    assert m, key
    conv, bn = PARTS[rest[0]]
    unit = f"layer{int(m.group(1)) - 1}.{ord(m.group(2)) - ord('a')}"
    return ".".join([unit, conv if rest[1] == "conv" else bn, *rest[2:]])


def test_resnet50_prototxt_is_one_bottleneck_block_and_exact() -> None:
    text, _ = import_caffe(str(PROTOTXT), None, "resnet50.incept")
    assert re.findall(r"^block (\w+)", text, re.M) == ["Bottleneck"]
    assert re.search(r"^# Bottleneck \(16\): res2a, res2b, res2c, res3a and 12 more$", text, re.M)
    header = " ".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    assert "53 Convolution + BatchNorm (+ Scale) pairs are written as one conv unit" in header
    assert "16 residual units without a `/` prefix (res2a, res2b, res2c, ...)" in header
    for line in (
        "if has_branch1 {\n      branch1: conv branch2c 1x1 stride=branch2a_stride act=none",
        "res3a: Bottleneck(128, 2, 512, true)\n"
        '  for l in ["b", "c", "d"] as "res3{l}" {\n    Bottleneck(128, 1, 512, false)',
    ):
        assert line in text, line
    assert "bn2a_branch2a" not in text and "scale" not in text.split("network")[1]

    net = inceptdsl.loads(text, "resnet50.incept")
    torch.manual_seed(0)
    model = _caffe_style_resnet50()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    report = net.report()
    assert report.params == sum(p.numel() for p in model.parameters())
    assert report.params - model.conv1.bias.numel() == sum(
        p.numel() for p in torchvision.models.resnet50().parameters()
    )
    assert report.buffers == sum(m.running_mean.numel() + m.running_var.numel() for m in bns)
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as flops:
        model.eval()(torch.randn(1, *SHAPE))
    assert report.macs == flops.get_total_flops() // 2

    _bn_from_train_pass(model, SHAPE)
    built = net.to_torch()
    theirs = model.state_dict()
    built.load_state_dict({k: theirs[_torchvision_key(k)] for k in built.state_dict()})
    assert len(built.state_dict()) == len(theirs)
    built.eval()
    assert _rel_diff(model, built, SHAPE) <= TOLERANCE
    state = built.state_dict()
    state["res4c.branch2b.conv.weight"] = state["res4c.branch2b.conv.weight"] * 1.01
    built.load_state_dict(state)
    assert _rel_diff(model, built, SHAPE) > TOLERANCE  # the control
