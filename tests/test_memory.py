"""memory.py's inference peak against a measurement: torch's MemTracker (a TorchDispatchMode
that records every tensor's storage as the real forward allocates and frees it) on CPU, for the
four reference networks at batch 1 and 4."""

from __future__ import annotations

import pytest
from conftest import SPECS
from support.lazy import torch

import inceptdsl
from inceptdsl.middle.memory import estimate


def _measure(net: inceptdsl.Network, batch: int) -> dict[str, int]:
    from torch.distributed._tools.mem_tracker import MemTracker

    model = net.to_torch().eval()
    x = torch.randn(batch, *net.input_shape)
    mt = MemTracker()
    mt.track_external(model, x)
    with torch.no_grad(), mt:
        model(x)
    peak = mt.get_tracker_snapshot("peak")
    stats = next(iter(peak.values()))
    return {str(k).rsplit(".", 1)[-1]: v for k, v in stats.items()}


@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_peak_matches_torch(name: str) -> None:
    net = inceptdsl.load(str(SPECS / f"{name}.incept"))
    for batch in (1, 4):
        m = _measure(net, batch)
        est = estimate(net.graph, batch)
        # Activations at the peak: the tracker's ACT plus the input batch (OTH).
        measured = m["ACT"] + m["OTH"]
        assert abs(est.peak_activations_bytes - measured) <= 0.02 * measured, (batch, m)
        assert est.params_bytes == m["PARAM"]
        # torch's buffers add num_batches_tracked (one int64 per BN): the documented difference.
        assert 0 < m["BUFFER"] - est.buffers_bytes < 0.01 * m["BUFFER"]
        # Control: the estimate at another batch is far outside the tolerance.
        other = estimate(net.graph, 2 * batch).peak_activations_bytes
        assert abs(other - measured) > 0.5 * measured
