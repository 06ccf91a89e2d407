"""An imported spec checked against the torch model it was imported from: counts to the unit, a
strict state-dict load, equal eval outputs after a train-mode BN pass, and the 1% control
(tests/test_import_torch_ops.py and tests/test_import_torch_zoo.py; torch on first use)."""

from __future__ import annotations

import inceptdsl

from .lazy import nn, torch

TOLERANCE = 1e-4  # max |spec - model| / max |model|, float32


SHAPE = (8, 12, 12)


def _bn_from_train_pass(model: nn.Module, shape: tuple[int, int, int]) -> None:
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        model(torch.randn(4, *shape, generator=torch.Generator().manual_seed(1)))
    for m in bns:
        m.momentum = 0.1
    model.eval()


def _rel_diff(a: nn.Module, b: nn.Module, shape: tuple[int, int, int]) -> float:
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ya, yb = a(x), b(x)
    return float((ya - yb).abs().max() / ya.abs().max())


def check_exact(
    text: str, model: nn.Module, shape: tuple[int, int, int] = SHAPE, control: str | None = None
) -> inceptdsl.Network:
    """Counts to the unit, strict load, equal eval outputs, and the 1% control (on `control`,
    else the first conv weight: ConvNeXt's stem conv feeds a LayerNorm, which cancels it)."""
    net = inceptdsl.loads(text, "imported.incept")
    assert net.report().params == sum(p.numel() for p in model.parameters())
    _bn_from_train_pass(model, shape)
    built = net.to_torch(weights_from=model.state_dict())  # strict
    built.eval()
    assert _rel_diff(model, built, shape) <= TOLERANCE
    state = built.state_dict()
    first = control or next(k for k, v in state.items() if k.endswith("weight") and v.dim() == 4)
    state[first] = state[first] * 1.01
    built.load_state_dict(state)
    assert _rel_diff(model, built, shape) > TOLERANCE
    return net
