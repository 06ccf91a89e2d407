"""`inceptdsl import torch` of the constructs the language has beyond convs and concats: small
modules, one construct each, imported and checked independently of the importer's own check.

Each module is imported from a file, the written spec must use the construct (`multiply {`,
`shuffle 2`, ...), its report must count the module's parameters to the unit, the state_dict
must load strictly, and eval outputs must agree, with a 1% change of one weight as the control
(BN statistics from a training-mode pass).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support.import_check import SHAPE, check_exact
from support.lazy import torch

import inceptdsl
from inceptdsl.errors import UnsupportedModelError
from inceptdsl.importers.command import import_torch

MODELS = '''
import torch
from torch import nn
import torch.nn.functional as F


def cbr(i, o, k=3):
    return nn.Sequential(nn.Conv2d(i, o, k, padding=k // 2, bias=False), nn.BatchNorm2d(o))


class SE(nn.Module):
    """torchvision's SqueezeExcitation: the gate times the input."""

    def __init__(self, c, r=4):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)
        self.act = nn.ReLU()
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return self.gate(self.fc2(self.act(self.fc1(s)))) * x


class Gated(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = cbr(8, 16)
        self.act = nn.Hardswish()
        self.se = SE(16)
        self.head = nn.Conv2d(16, 8, 1)

    def forward(self, x):
        return self.head(self.se(self.act(self.stem(x))))


class Acts(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(8, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=1)
        self.c = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        x = nn.functional.leaky_relu(self.a(x), 0.2)
        x = F.elu(self.b(x), alpha=0.5)
        return F.mish(F.hardswish(self.c(x)))


def shuffle(x, groups):
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, c, h, w)


class Unit(nn.Module):
    """ShuffleNet v2's stride-1 unit: half the channels pass, half go through a branch."""

    def __init__(self, c):
        super().__init__()
        self.branch2 = nn.Sequential(nn.Conv2d(c // 2, c // 2, 1), nn.ReLU())

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        return shuffle(torch.cat((x1, self.branch2(x2)), dim=1), 2)


class Shuffle(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(8, 16, 3, padding=1)
        self.unit = Unit(16)
        self.tail = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        y = self.unit(self.stem(x))
        return self.tail(y[:, 4:12])


class Layer(nn.Module):
    """DenseNet's layer: it concatenates the list it is given."""

    def __init__(self, c, g):
        super().__init__()
        self.norm = nn.BatchNorm2d(c)
        self.conv = nn.Conv2d(c, g, 3, padding=1, bias=False)

    def forward(self, xs):
        return self.conv(F.relu(self.norm(torch.cat(xs, 1))))


class Block(nn.ModuleDict):
    """DenseNet's block: each layer reads the running list, the block returns its concat."""

    def __init__(self, c, g, n):
        super().__init__()
        for i in range(n):
            self.add_module(f"layer{i + 1}", Layer(c + i * g, g))

    def forward(self, x):
        feats = [x]
        for layer in self.values():
            feats.append(layer(feats))
        return torch.cat(feats, 1)


class Dense(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(8, 8, 3, padding=1)
        self.block = Block(8, 4, 3)
        self.tail = nn.Conv2d(20, 4, 1)

    def forward(self, x):
        return self.tail(self.block(self.stem(x)))


class Fork(nn.Module):
    """A flat concat of one conv of x and two of t = r(x): a nested concat writes it."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(8, 4, 1)
        self.r = nn.Conv2d(8, 6, 1)
        self.p = nn.Conv2d(6, 4, (1, 3), padding=(0, 1))
        self.q = nn.Conv2d(6, 4, (3, 1), padding=(1, 0))

    def forward(self, x):
        t = self.r(x)
        return torch.cat([self.a(x), self.p(t), self.q(t)], 1)


class Residuals(nn.Module):
    """alpha=, a division by a constant, and a residual reading timm's BatchNormAct2d."""

    def __init__(self):
        super().__init__()
        from timm.layers import BatchNormAct2d

        self.f = nn.Conv2d(8, 8, 3, padding=1)
        self.g = nn.Conv2d(8, 8, 3, padding=1)
        self.conv = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn = BatchNormAct2d(8)
        self.h = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        x = torch.add(x, self.f(x), alpha=0.3)
        x = x + self.g(x) / 2
        y = self.bn(self.conv(x))
        return y + self.h(y)


class Norms(nn.Module):
    """timm's LayerNorm2d on a map, nn.LayerNorm on a vector."""

    def __init__(self):
        super().__init__()
        from timm.layers import LayerNorm2d

        self.conv = nn.Conv2d(8, 16, 3, padding=1)
        self.gn = nn.GroupNorm(4, 16)
        self.norm = LayerNorm2d(16, eps=1e-6)
        self.fc = nn.Linear(16, 12)
        self.ln = nn.LayerNorm(12)
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        x = F.gelu(self.norm(self.gn(self.conv(x))))
        return self.head(self.ln(self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))))


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(8, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=1)
        self.c = nn.Conv2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.c(self.b(self.a(x)))


class Roles(nn.Module):
    """The branch holding the work is the main path: 0.5 * x + f(x), and Xception's block (a
    one-unit stack beside a two-unit conv + bn shortcut)."""

    def __init__(self):
        super().__init__()
        self.f = nn.Conv2d(8, 8, 3, padding=1)
        self.stack = Stack()
        self.skip = nn.Conv2d(8, 8, 1, stride=2, bias=False)
        self.skipbn = nn.BatchNorm2d(8)

    def forward(self, x):
        x = 0.5 * x + self.f(x)
        return self.stack(x) + self.skipbn(self.skip(x))


class Three(nn.Module):
    def __init__(self, after):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.after = after

    def forward(self, x):
        return self.after(self.conv(x))


class Structures(nn.Module):
    """One class in three structures: blocks Three, Three2, Three3."""

    def __init__(self):
        super().__init__()
        self.a = Three(nn.MaxPool2d(3, 1, 1))
        self.b = Three(nn.AvgPool2d(3, 1, 1))
        self.c = Three(nn.LocalResponseNorm(3))

    def forward(self, x):
        return self.c(self.b(self.a(x)))


class Refused(nn.Module):
    def __init__(self, what):
        super().__init__()
        self.what = what
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.ln = nn.LayerNorm(12)

    def forward(self, x):
        x = self.conv(x)
        if self.what == "permute":
            return x.permute(0, 1, 3, 2)
        return self.ln(x) if self.what == "importer" else torch.maximum(x, x.sigmoid())


class CNBlock(nn.Module):
    """ConvNeXt's block: a depthwise conv, then channels-last LayerNorm and Linears between
    two permutes, a layer scale (torchvision: (C, 1, 1) after permuting back; timm: (C,)
    before), and the residual."""

    def __init__(self, c, timm_style):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.norm = nn.LayerNorm(c, eps=1e-6)
        self.fc1 = nn.Linear(c, 4 * c)
        self.fc2 = nn.Linear(4 * c, c)
        self.timm_style = timm_style
        self.gamma = nn.Parameter(torch.rand(c) if timm_style else torch.rand(c, 1, 1))

    def forward(self, x):
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.fc2(F.gelu(self.fc1(self.norm(y))))
        if self.timm_style:
            y = (y * self.gamma).permute(0, 3, 1, 2)
        else:
            y = self.gamma * y.permute(0, 3, 1, 2)
        return x + y


class ChannelsLast(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = CNBlock(8, False)
        self.b = CNBlock(8, True)

    def forward(self, x):
        return self.b(self.a(x))


def build(kind):
    return {
        "gated": Gated,
        "acts": Acts,
        "shuffle": Shuffle,
        "dense": Dense,
        "fork": Fork,
        "residuals": Residuals,
        "norms": Norms,
        "roles": Roles,
        "structures": Structures,
        "channels_last": ChannelsLast,
        "permute": lambda: Refused("permute"),
        "importer": lambda: Refused("importer"),
        "language": lambda: Refused("language"),
    }[kind]()
'''

CASES = {
    "gated": ("multiply {", "hardswish", "hardsigmoid"),
    "acts": ("leaky_relu(slope=0.2)", "elu(alpha=0.5)", "mish"),
    "shuffle": ("shuffle 2", "slice 0 8", "slice 8 8", "slice 4 8"),
    "dense": ("concat {",),
    "fork": ("a: conv 4 1x1\n    r: conv 6 1x1 -> concat {\n      p: conv",),
    "norms": ("gn: groupnorm 4", "norm: layernorm eps=1e-06", "ln: layernorm"),
    "roles": (
        "residual { f: conv 8 3x3 pad=1 } shortcut { scale 0.5 }",
        "residual { stack: Stack } shortcut {",
    ),
    "structures": ("block Three {", "block Three2 {", "block Three3 {"),
    "channels_last": (
        "norm: layernorm eps=1e-06",
        "fc1: linear 32 per_position=true",
        "gamma: layer_scale dims=3",
        "gamma: layer_scale\n",
    ),
    "residuals": ("residual scale=0.3 {", "residual scale=0.5 {", "relu\n  residual { h: conv"),
}


@pytest.fixture(scope="module")
def models_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ops") / "ops_models.py"
    path.write_text(textwrap.dedent(MODELS))
    return path


@pytest.mark.parametrize("kind", sorted(CASES))
def test_construct_imports_exactly(models_file: Path, kind: str) -> None:
    text, _ = import_torch(f"{models_file}:build", {"kind": kind}, SHAPE, f"{kind}.incept")
    for word in CASES[kind]:
        assert word in text, (word, text)
    import importlib.util

    spec = importlib.util.spec_from_file_location("ops_models_check", models_file)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(0)
    check_exact(text, mod.build(kind))


def test_dense_concats_nest(models_file: Path) -> None:
    """cat([x, f1, f2]) after cat([x, f1]) reads the earlier concat: one concat per layer,
    each in the block that holds the list, and the layers' own scopes keep their names."""
    text, _ = import_torch(f"{models_file}:build", {"kind": "dense"}, SHAPE, "dense.incept")
    net = inceptdsl.loads(text, "dense.incept")
    concats = [n for n, d in net.graph.nodes(data=True) if d["op"].value == "concat"]
    assert len(concats) == 3, concats
    assert "block.layer3.conv" in net.graph


@pytest.mark.parametrize(
    ("kind", "message", "hint"),
    [
        ("importer", "ln (LayerNorm): a LayerNorm over [12]", "the language has this construct"),
        ("language", "maximum in the model's forward", "the language cannot express"),
        ("permute", "a permute [0, 1, 3, 2]", "the language cannot express"),
    ],
)
def test_refusal_says_who_lacks_the_construct(
    models_file: Path, kind: str, message: str, hint: str
) -> None:
    with pytest.raises(UnsupportedModelError) as err:
        import_torch(f"{models_file}:build", {"kind": kind}, SHAPE, "x.incept")
    assert message in str(err.value) and hint in (err.value.hint or "")
