"""Initialisation as the spec states it (`init=`), which the bundled specs set to their
reference's: torchvision's GoogLeNet draws every conv and linear weight from a normal with std
0.01 truncated to [-2, 2], Inception-v3 std 0.1, except 0.001 for the aux head's linear layer.

The statistics of the compiled model's weights are compared with the reference's own
initialisation, layer kind by layer kind (std within 3%, mean near 0, bounds kept), and with
the distribution's figures; the control: torch's default initialisation (what a spec without
`init=` gets) is told apart by the same check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.lazy import nn, torch, torchvision

import inceptdsl

ROOT = Path(__file__).resolve().parent.parent


def _weights(model: nn.Module, kind: str, prefix: str = "") -> torch.Tensor:
    return torch.cat(
        [
            m.weight.detach().flatten()
            for n, m in model.named_modules()
            if isinstance(m, getattr(nn, kind)) and n.startswith(prefix)
        ]
    )


def _stats_agree(got: torch.Tensor, want: torch.Tensor, std: float) -> bool:
    return (
        abs(got.std().item() / want.std().item() - 1) < 0.03
        and abs(got.std().item() / std - 1) < 0.03
        and abs(got.mean().item()) < 0.05 * std
        and got.abs().max().item() <= 2.0
    )


CASES = [
    # (spec, reference, {(module kind, name prefix): std})
    (
        "googlenet",
        lambda: torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True),
        {("Conv2d", ""): 0.01, ("Linear", ""): 0.01},
    ),
    (
        "inception_v3",
        lambda: torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True),
        {("Conv2d", ""): 0.1, ("Linear", "fc"): 0.1, ("Linear", "AuxLogits.fc"): 0.001},
    ),
]


@pytest.mark.parametrize(("spec", "ref", "stds"), CASES, ids=[c[0] for c in CASES])
def test_weights_are_initialised_as_the_reference(spec, ref, stds) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    net = inceptdsl.load(str(ROOT / "specs" / f"{spec}.incept"))
    ours, reference = net.to_torch(), ref()
    text = (ROOT / "specs" / f"{spec}.incept").read_text()
    plain = inceptdsl.loads(  # the same network without `init=`: torch's defaults
        re.sub(r"init=trunc_normal\([^)]*\)", "init=none", text),
        filename=str(ROOT / "specs" / f"{spec}.incept"),
    ).to_torch()
    for (kind, prefix), std in stds.items():
        want = _weights(reference, kind, prefix)
        assert _stats_agree(_weights(ours, kind, prefix), want, std), (kind, prefix)
        assert not _stats_agree(_weights(plain, kind, prefix), want, std), (kind, prefix)
    # BN starts at gamma 1, beta 0, as in the reference
    bns = [m for m in ours.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(torch.all(m.weight == 1) and torch.all(m.bias == 0) for m in bns)


def test_init_option_in_the_emitted_file() -> None:
    net = inceptdsl.load(str(ROOT / "specs" / "googlenet.incept"))
    source = net.emit("torch")
    assert "def trunc_normal(" in source
    assert "        self.conv1 = trunc_normal(\n" in source
    assert "self.fc = trunc_normal(nn.Linear(1024, 1000), std=0.01)" in source


def test_init_option_errors() -> None:
    from inceptdsl.errors import SpecError

    for bad in ("init=trunc_normal(sd=1.0)", "init=relu", "init=normal(std=-1.0)"):
        with pytest.raises(SpecError):
            inceptdsl.loads(f"network t {{\n  input 3 x 4 x 4\n  c: conv 4 1x1 {bad}\n}}\n")
