"""`inceptdsl import torch` of torchvision models that use the language's newer constructs:
SE gates (`multiply`), hardswish, stochastic depth, ShuffleNet's split and shuffle, DenseNet's
running concat, RegNet's quoted `block1-0` names. Each is imported at a small input, then
checked independently of the importer: parameters to the unit, strict state_dict load, equal
eval outputs with a 1% weight change as the control (tests/test_import_torch_ops.py).
"""

from __future__ import annotations

import pytest
import torch
import torchvision
from test_import_torch_ops import check_exact

from inceptdsl.importers.command import import_torch

SHAPE = (3, 64, 64)

CASES = {
    "efficientnet_b0": ("multiply {", "drop_path", "silu"),
    "regnet_y_400mf": ("multiply {", '"block1-0"'),
    "mobilenet_v3_large": ("hardswish", "hardsigmoid", "multiply {"),
    "shufflenet_v2_x1_0": ("shuffle 2", "slice 0"),
    "densenet121": ("concat {",),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_torchvision_model_imports_exactly(name: str) -> None:
    text, _ = import_torch(f"torchvision.models.{name}", {"weights": None}, SHAPE, f"{name}.incept")
    for word in CASES[name]:
        assert word in text, word
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    net = check_exact(text, model, SHAPE)
    rep = net.report()
    buffers = sum(
        b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var"))
    )
    assert rep.buffers == buffers
