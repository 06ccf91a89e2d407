"""Imported specs that read like hand-written ones: one block per (class, structure), loops.

Runs of calls of one block are written as `repeat N { B }` (identical calls) or `for ... in
[...] { B(...) }` (calls that differ in arguments), labelled ones with `as "block2-{i+1}"`;
a container used once (`nn.Sequential`, RegNet's `AnyStage`) is a labelled group, never a
block named `Sequential`; parameters take the constructor's names, also from a config record's
fields (EfficientNet's `MBConvConfig`), a class constant (ResNet's `expansion`) and as a
product or quotient of two (`expand_ratio * input_channels`, `width_out // group_width`), an
argument naming the input width last. The written specs of efficientnet_b0, resnet50 and
regnet_y_400mf are goldens (tests/golden/import/), and every import is still exact: counts,
strict load, equal outputs with a 1% control (check_exact).
"""

from __future__ import annotations

import importlib.util
import re
import textwrap
from pathlib import Path

import pytest
from support.golden import assert_golden
from support.import_check import check_exact
from support.lazy import torch, torchvision

from inceptdsl.importers.command import import_torch

LOOPS = """
from collections import OrderedDict

import torch
from torch import nn


class Unit(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.pw = nn.Conv2d(cout, cout, 1)

    def forward(self, x):
        return self.pw(torch.relu(self.bn(self.conv(x))))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            Unit(3, 8, 2), Unit(8, 8), Unit(8, 16), Unit(16, 24), Unit(24, 24, 2)
        )
        self.same = nn.Sequential(OrderedDict((f"block-{i}", Unit(24, 24)) for i in range(3)))
        self.widen = nn.Sequential(
            OrderedDict((f"blk{i + 1}", Unit(24 + 8 * i, 32 + 8 * i)) for i in range(3))
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        x = self.widen(self.same(self.features(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def build():
    return Net()
"""


def _blocks(text: str) -> list[str]:
    return re.findall(r"^block (\w+)", text, re.M)


def test_loops_and_groups(tmp_path: Path) -> None:
    """One block for Unit (in a numbered and in labelled sequences alike); a `for` over the
    numbered calls (a keyword left at its default in some filled in), `repeat 3 as` over
    identical labelled ones, `for i, ... in enumerate(...) as "blk{i+1}"` over labelled ones
    that differ; the containers are groups. Names, and so the strict load, are unchanged."""
    path = tmp_path / "loops_model.py"
    path.write_text(textwrap.dedent(LOOPS))
    text, _ = import_torch(f"{path}:build", {}, (3, 32, 32), "loops.incept")
    assert _blocks(text) == ["Unit"], text
    assert "block Unit(cout: int, stride: int = 1)" in text
    assert "for cout, stride in [(8, 2), (8, 1), (16, 1), (24, 1), (24, 2)] {" in text
    assert 'repeat 3 as "block-{i}" { Unit(24) }' in text
    assert 'for i, cout in enumerate([32, 40, 48]) as "blk{i+1}" {' in text
    assert "same: {" in text and "widen: {" in text
    spec = importlib.util.spec_from_file_location("loops_model_check", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(0)
    net = check_exact(text, mod.build(), (3, 32, 32))
    assert "widen.blk2.pw" in net.graph and "same.block-2.conv" in net.graph
    assert "features.4.conv" in net.graph


ZOO = {
    # model: (blocks in order, lines the spec must hold)
    "efficientnet_b0": (
        ["SqueezeExcitation", "MBConv", "MBConv2", "MBConv3"],
        [
            # the padding is recovered as `(kernel - 1) // 2` (so the kernel is an int written
            # `kernel x kernel`), the SE width as a quotient of a constructor argument
            "block MBConv2(expand_ratio: int, kernel: int, stride: int, out_channels: int, "
            "input_channels: int) {",
            "conv(expand_ratio * input_channels, kernel x kernel, stride=stride,\n"
            "           pad=(kernel - 1) // 2, groups=expand_ratio * input_channels)",
            "SqueezeExcitation(input_channels // 4, expand_ratio * input_channels)",
            "for stochastic_depth_prob in [",
        ],
    ),
    "resnet50": (
        ["Bottleneck"],
        [
            # the output width is planes * expansion (a class constant), not `inplanes`, which
            # holds the same values in every block but the first of a stage; the downsample
            # some instances have is an `if` (one block per class)
            "block Bottleneck(planes: int, has_downsample: bool, stride: int = 1, "
            "expansion: int = 4) {",
            "conv3: conv(planes * expansion, 1x1)",
            "if has_downsample {\n      downsample: { conv(planes * expansion, 1x1, "
            "stride=stride) -> bn }",
            "Bottleneck(256, true, stride=2)\n    repeat 5 { Bottleneck(256, false) }",
        ],
    ),
    "regnet_y_400mf": (
        ["SqueezeExcitation", "BottleneckTransform", "ResBottleneckBlock"],
        [
            "groups=width_out // group_width",
            'repeat 5 as "block3-{i+1}" { ResBottleneckBlock(208, 1, 208, false) }',
            "trunk_output: {",
            'block1: { "block1-0": ResBottleneckBlock(48, 2, 32, true) }',
            # the SE width, int(round(0.25 * width_in)), is width_in // 4 in every instance
            "se: SqueezeExcitation(width_in // 4, width_out)",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_spec_reads_like_a_hand_written_one(request: pytest.FixtureRequest, name: str) -> None:
    shape = (3, 64, 64)
    text, _ = import_torch(f"torchvision.models.{name}", {"weights": None}, shape, f"{name}.incept")
    assert_golden(request, f"import/{name}.incept", text)
    blocks, lines = ZOO[name]
    assert _blocks(text) == blocks
    for line in lines:
        assert line in text, line
    torch.manual_seed(0)
    check_exact(text, getattr(torchvision.models, name)(), shape)


def _classes(text: str) -> dict[str, tuple[str, int]]:
    """Each block's module class and instance count, from the `# Class (N): paths` line above
    it; a class written as two blocks fails here."""
    out: dict[str, tuple[str, int]] = {}
    for cls, count, block in re.findall(r"^# (\w+) \((\d+)\):.*\nblock (\w+)", text, re.M):
        assert cls not in out, f"{cls} is two blocks: {out[cls][0]} and {block}"
        out[cls] = (block, int(count))
    assert len(out) == len(_blocks(text))
    return out


TIMM = {
    # model: (smallest input that runs, {class: block}, lines the spec must hold)
    "inception_resnet_v2": (
        # 75 px: at 73 (and 43, 50) the 3x3 convs of Mixed_7a meet a 1x1 map
        (3, 75, 75),
        {"Mixed_5b": "Mixed5b", "Block35": "Block35", "Mixed_6a": "Mixed6a"}
        | {"Block17": "Block17", "Mixed_7a": "Mixed7a", "Block8": "Block8"},
        [
            # the last Block8 has no ReLU and scale 1.0: parameters, not a second block
            "block Block8(act: act, scale: float = 1.0) {\n  residual scale=scale act=act {",
            "repeat 9 { Block8(relu, scale=0.2) }",
            "block8: Block8(none)",
            "block Block35 {\n  residual scale=0.17 act=relu {",
        ],
    ),
    "xception41": (
        (3, 32, 32),  # runs from 8 px; 32 keeps a 2x2 map in the exit flow
        {"SeparableConv2d": "SeparableConv2d", "ClassifierHead": "ClassifierHead"}
        | {"Sequential": "Stack", "XceptionModule": "XceptionModule"},
        [
            # the stack (the stride, the most params) is the main path, the 1x1 projection
            # the shortcut; the last module has no skip (`no_skip`, its argument) and ReLUs
            # inside its separable convs instead of before them: `act` parameters
            "if not no_skip {\n    residual { stack: Stack(",
            "shortcut {\n      if has_shortcut {\n        shortcut: conv",
            "act_dw: act_dw\n  conv_pw: conv out_chs 1x1",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(TIMM))
def test_timm_spec_has_one_block_per_class(request: pytest.FixtureRequest, name: str) -> None:
    """inception_resnet_v2 and xception41: every module class that is a block is one block,
    named after it, called once per instance of the class in the model; no numbered names;
    exact (counts, strict load, equal outputs, 1% control)."""
    import timm

    shape, classes, lines = TIMM[name]
    text, _ = import_torch(f"timm.models.{name}", {}, shape, f"{name}.incept")
    assert_golden(request, f"import/{name}.incept", text)
    found = _classes(text)
    assert {c: b for c, (b, _) in found.items()} == classes
    torch.manual_seed(0)
    model = timm.create_model(name)
    for cls, (_, count) in found.items():
        if cls != "Sequential":
            assert count == sum(type(m).__name__ == cls for m in model.modules()), cls
    for line in lines:
        assert line in text, line
    check_exact(text, model, shape)
