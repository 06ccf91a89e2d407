"""`inceptdsl import torch` of torchvision and timm models that use the language's newer constructs:
SE gates (`multiply`), hardswish, stochastic depth, ShuffleNet's split and shuffle, DenseNet's
running concat, RegNet's quoted `block1-0` names, ConvNeXt's channels-last layers and layer
scale. Each is imported at a small input, then checked independently of the importer:
parameters to the unit, strict state_dict load, equal eval outputs with a 1% weight change as
the control (tests/test_import_torch_ops.py).
"""

from __future__ import annotations

import pytest
from support.import_check import check_exact
from support.lazy import torch, torchvision

from inceptdsl.importers.command import import_torch

SHAPE = (3, 64, 64)

CASES = {
    "efficientnet_b0": ("multiply {", "drop_path", "silu"),
    "regnet_y_400mf": ("multiply {", '"block1-0"'),
    "mobilenet_v3_large": ("hardswish", "hardsigmoid", "multiply {"),
    # the two halves of a chunk: `slice(0, oup // 2)` (torchvision: branch_features = oup // 2)
    "shufflenet_v2_x1_0": ("shuffle 2", "slice(0, oup // 2)", "slice(oup // 2, oup // 2)"),
    "densenet121": ("concat {",),
    # channels-last LayerNorm and Linears between permutes, the (C, 1, 1) layer scale
    "convnext_tiny": ('"3": linear', "per_position=true", "layer_scale: layer_scale", "drop_path"),
    # timm's BatchNormAct2d read by residuals, MixedConv2d's split convs numbered "0", "1"
    "mixnet_s": ("multiply {", '"0": conv', "slice 0"),
}


CONTROL = {"convnext_tiny": "features.1.0.block.3.weight"}  # a linear inside a block


def _make(name: str) -> tuple[str, dict, torch.nn.Module]:
    if name == "mixnet_s":
        import timm

        return "timm.models.mixnet_s", {}, timm.models.mixnet_s()
    return f"torchvision.models.{name}", {"weights": None}, getattr(torchvision.models, name)()


@pytest.mark.parametrize("name", sorted(CASES))
def test_model_imports_exactly(name: str) -> None:
    target, kwargs, _ = _make(name)
    text, _ = import_torch(target, kwargs, SHAPE, f"{name}.incept")
    for word in CASES[name]:
        assert word in text, word
    torch.manual_seed(0)
    _, _, model = _make(name)
    with torch.no_grad():  # trained layer scales, not the initial 1e-6 that hides each block
        for key, p in model.named_parameters():
            if key.endswith("layer_scale"):
                p.uniform_(0.5, 1.5)
    net = check_exact(text, model, SHAPE, CONTROL.get(name))
    rep = net.report()
    buffers = sum(
        b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var"))
    )
    assert rep.buffers == buffers
