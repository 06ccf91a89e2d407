"""The state an op owns: each tensor a backend creates at a node, declared once by the op.

An op's `OpDef.tensors(attrs, cin, cout)` lists its tensors: the torch state_dict key and the
Keras variable (both after the node's path), the layout kind that converts one to the other
(backends/common/weightmap.py), the shape in torch's layout as a function of the attributes and
the input/output channels, and torch's default initialisation. The weight maps of the backends,
the optimizer's state keys (optimize/weights.py) and ONNX's seeded weights are derived from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KINDS = ("conv", "depthwise", "dense", "vector", "column")
"""Layouts: conv OIHW <-> HWIO, depthwise (C*m, 1, kh, kw) <-> (kh, kw, C, m), dense (out, in)
<-> (in, out), vector (C,) in both, column (C, 1, 1) <-> (C,)."""


@dataclass(frozen=True)
class TensorDef:
    """One tensor of a node. `key`/`layer` follow the node's path ("" is the path itself);
    `fan_in` > 0 initialises it U(-b, b), b = 1/sqrt(fan_in) (torch's default), else it is
    filled with `fill`. A `counter` (BN's num_batches_tracked) exists only in torch and is not a
    float weight."""

    key: str
    layer: str
    var: str
    kind: str
    shape: tuple[int, ...]
    fan_in: int = 0
    fill: float = 0.0
    multiplier: int = 1  # depthwise: channels per input channel
    counter: bool = False


TensorFn = Callable[[Any, int, int], tuple[TensorDef, ...]]
"""(attrs, input channels, output channels) -> the node's tensors, in state_dict order. With 0
channels (the optimizer, which needs only the keys) the shapes are not meaningful."""


def at(path: str, suffix: str) -> str:
    """`suffix` after `path`, either of them possibly "" (none)."""
    return ".".join(part for part in (path, suffix) if part)


def kernel(
    key: str, layer: str, var: str, kind: str, shape: tuple[int, ...], multiplier: int = 1
) -> TensorDef:
    """A kernel, initialised from its fan-in (every dimension but the first)."""
    return TensorDef(key, layer, var, kind, shape, math.prod(shape[1:]), 0.0, multiplier)


def bias(key: str, layer: str, channels: int, fan_in: int) -> TensorDef:
    """A bias beside a kernel of fan-in `fan_in` (torch initialises it from that)."""
    return TensorDef(key, layer, "bias", "vector", (channels,), fan_in)


def affine(prefix: str, channels: int) -> tuple[TensorDef, ...]:
    """A norm's learnable `weight` (gamma, 1) and `bias` (beta, 0)."""
    return (
        TensorDef(at(prefix, "weight"), prefix, "gamma", "vector", (channels,), 0, 1.0),
        TensorDef(at(prefix, "bias"), prefix, "beta", "vector", (channels,), 0, 0.0),
    )


def batch_norm(prefix: str, channels: int, scale: bool, center: bool) -> tuple[TensorDef, ...]:
    """A BN at `prefix`: gamma and beta where learnable, the running statistics, the counter."""
    gamma, beta = affine(prefix, channels)
    c = (channels,)
    return (
        *((gamma,) if scale else ()),
        *((beta,) if center else ()),
        TensorDef(at(prefix, "running_mean"), prefix, "moving_mean", "vector", c, 0, 0.0),
        TensorDef(at(prefix, "running_var"), prefix, "moving_variance", "vector", c, 0, 1.0),
        TensorDef(at(prefix, "num_batches_tracked"), prefix, "", "vector", (), counter=True),
    )
