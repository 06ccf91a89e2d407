"""Parameters, buffers and MACs of each node: the only place these numbers are computed.

Conventions (every report, `expect` and backend check uses them):
- params: trainable parameters: conv/linear weights and biases, BN gamma/beta where present
  (= sum(p.numel() for p in model.parameters()) in torch, Keras' trainable weight count).
- buffers: BN running mean + running variance elements (not torch's num_batches_tracked)
  (= Keras' non-trainable weight count).
- macs: multiply-accumulates of conv and linear layers, separable/depthwise included, bias adds
  excluded, one sample (= torchvision's `_ops`, = half of torch FlopCounterMode's count).
- flops = 2 x macs, defined here once (FLOPS_PER_MAC).
"""

from __future__ import annotations

from collections.abc import Callable

from .ir.ops import Attrs, BatchNormAttrs, ConvAttrs, LinearAttrs, Op, SepConvAttrs

Shape = tuple[int, ...]
Cost = tuple[int, int, int]  # (params, buffers, macs)

FLOPS_PER_MAC = 2


def _bn(bn: BatchNormAttrs | None, channels: int) -> tuple[int, int]:
    if bn is None:
        return 0, 0
    return channels * (int(bn.scale) + int(bn.center)), 2 * channels


def conv2d(a: ConvAttrs, ins: list[Shape], out: Shape) -> Cost:
    cin = ins[0][0]
    kh, kw = a.kernel
    weights = a.out_channels * (cin // a.groups) * kh * kw
    bias = a.out_channels if a.bias else 0
    bn_p, bn_b = _bn(a.bn, a.out_channels)
    macs = weights * out[1] * out[2]
    return weights + bias + bn_p, bn_b, macs


def sepconv2d(a: SepConvAttrs, ins: list[Shape], out: Shape) -> Cost:
    cin = ins[0][0]
    kh, kw = a.kernel
    mid = cin * a.depth_multiplier
    depthwise = mid * kh * kw
    pointwise = mid * a.out_channels
    bias = a.out_channels if a.bias else 0
    bn_p, bn_b = _bn(a.bn, a.out_channels)
    macs = (depthwise + pointwise) * out[1] * out[2]
    return depthwise + pointwise + bias + bn_p, bn_b, macs


def batchnorm(a: BatchNormAttrs, ins: list[Shape], out: Shape) -> Cost:
    p, b = _bn(a, ins[0][0])
    return p, b, 0


def linear(a: LinearAttrs, ins: list[Shape], out: Shape) -> Cost:
    weights = ins[0][0] * a.out_features
    return weights + (a.out_features if a.bias else 0), 0, weights


def free(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    return 0, 0, 0


CostFn = Callable[[Attrs, list[Shape], Shape], Cost]

COSTS: dict[Op, CostFn] = {
    Op.INPUT: free,
    Op.CONV2D: conv2d,  # type: ignore[dict-item]
    Op.SEPCONV2D: sepconv2d,  # type: ignore[dict-item]
    Op.BATCHNORM: batchnorm,  # type: ignore[dict-item]
    Op.ACT: free,
    Op.MAXPOOL2D: free,
    Op.AVGPOOL2D: free,
    Op.GLOBAL_AVGPOOL: free,
    Op.GLOBAL_MAXPOOL: free,
    Op.ADAPTIVE_AVGPOOL2D: free,
    Op.LRN: free,
    Op.DROPOUT: free,
    Op.FLATTEN: free,
    Op.LINEAR: linear,  # type: ignore[dict-item]
    Op.CONCAT: free,
    Op.ADD: free,
    Op.SCALE: free,
    Op.IDENTITY: free,
}
"""The cost function of every op (a test checks every Op has one)."""
