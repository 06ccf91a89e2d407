"""Parameters, buffers and MACs of each node: computed only by the ops' cost functions
(inceptdsl/ir/ops/), reached through this module.

Conventions (every report, `expect` and backend check uses them):
- params: trainable parameters: conv/linear weights and biases, BN gamma/beta where present,
  learnable scales (= sum(p.numel() for p in model.parameters()) in torch, Keras' trainable
  weight count).
- buffers: BN running mean + running variance elements (not torch's num_batches_tracked)
  (= Keras' non-trainable weight count).
- macs: multiply-accumulates of conv and linear layers, separable/depthwise included, bias adds
  excluded, one sample (= torchvision's `_ops`, = half of torch FlopCounterMode's count). Norms,
  activations, pooling and elementwise products are not counted (FlopCounterMode does not
  count them either).
- flops = 2 x macs, defined here once (FLOPS_PER_MAC).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ir.ops import REGISTRY, Attrs, Op
from ..ir.registry import Cost, CostFn, Shape

FLOPS_PER_MAC = 2

COSTS: dict[Op, CostFn] = {op: d.cost for op, d in REGISTRY.items()}
"""The cost function of every op (derived from the registry)."""


def cost_of(op: Op, attrs: Attrs, ins: Sequence[Shape], out: Shape) -> Cost:
    """(params, buffers, macs) of one node with these input and output shapes."""
    return COSTS[op](attrs, list(ins), out)


__all__ = ["COSTS", "FLOPS_PER_MAC", "Cost", "cost_of"]
