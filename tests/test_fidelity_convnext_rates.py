"""specs/convnext.incept's stochastic depth: every block's drop rate equals torchvision's.

torchvision's ConvNeXt raises the rate linearly over all blocks of all stages
(stochastic_depth_prob * k / (blocks - 1), 0.1 for convnext_tiny, 0.4 for convnext_small), so
the spec computes it from the loop indices; the rates only act in training, which the output
comparisons (tests/test_fidelity_convnext.py, in eval) cannot see. Both models are built on
the meta device (shapes without memory).
"""

from __future__ import annotations

import pytest
from conftest import SPECS
from support.lazy import torch, torchvision

import inceptdsl

SPEC = str(SPECS / "convnext.incept")


def _rates(net: inceptdsl.Network) -> dict[str, float]:
    return {
        name.removesuffix(".stochastic_depth"): d["attrs"].p
        for name, d in net.graph.nodes(data=True)
        if d["op"].value == "drop_path"
    }


@pytest.mark.parametrize("variant,prob", [("tiny", 0.1), ("small", 0.4)])
def test_drop_rates_rise_over_all_blocks_as_torchvisions(variant: str, prob: float) -> None:
    from torchvision.ops import StochasticDepth

    with torch.device("meta"):
        reference = getattr(torchvision.models, f"convnext_{variant}")(weights=None)
    want = {
        name.removesuffix(".stochastic_depth"): m.p
        for name, m in reference.named_modules()
        if isinstance(m, StochasticDepth)
    }
    net = inceptdsl.load(SPEC, variant=variant)
    assert _rates(net) == want
    rates = list(want.values())
    assert rates[0] == 0.0 and rates[-1] == pytest.approx(prob) and rates == sorted(rates)
    assert len(set(rates)) == len(rates) == {"tiny": 18, "small": 36}[variant]
    # The rate is a parameter: 0 turns stochastic depth off everywhere.
    assert set(
        _rates(inceptdsl.load(SPEC, variant=variant, stochastic_depth_prob=0.0)).values()
    ) == {0.0}
