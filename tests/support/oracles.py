"""NumPy oracles for the registry's activation functions: what every backend must compute.

Written from each ActDef's formula (inceptdsl/ir/ops/activation.py), in float64, with no
framework involved; tests/test_completeness.py checks that every registered activation has one.
Also pooling by definition and the pooling and conv-unit cases that the torch and Keras semantics
tests both run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from inceptdsl.ir.ops import Activation

_erf = np.vectorize(math.erf)


def _relu6(v: np.ndarray) -> np.ndarray:
    return np.clip(v, 0, 6)


def _softplus(v: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, v)


ORACLES: dict[str, Callable[..., np.ndarray]] = {
    "relu": lambda v: np.maximum(v, 0),
    "relu6": _relu6,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "tanh": np.tanh,
    "gelu": lambda v: 0.5 * v * (1 + _erf(v / math.sqrt(2))),
    "silu": lambda v: v / (1 + np.exp(-v)),
    "hardswish": lambda v: v * _relu6(v + 3) / 6,
    "hardsigmoid": lambda v: _relu6(v + 3) / 6,
    "leaky_relu": lambda v, slope: np.where(v >= 0, v, slope * v),
    "elu": lambda v, alpha: np.where(v > 0, v, alpha * (np.exp(v) - 1)),
    "mish": lambda v: v * np.tanh(_softplus(v)),
    "softplus": _softplus,
}


def act_oracle(a: Activation | None) -> Callable[[np.ndarray], np.ndarray]:
    """The oracle of `a` with its parameters bound (identity for no activation)."""
    if a is None:
        return lambda v: v
    f = ORACLES[a.fn]
    params = dict(a.params)
    return lambda v: f(v, **params)


# One spelling of each activation for per-layer tests, parameterised ones with non-defaults.
ACTIVATION_USES: dict[str, str] = {
    **{name: name for name in ORACLES},
    "leaky_relu": "leaky_relu slope=0.2",
    "elu": "elu alpha=0.5",
}


def pool_oracle(x, kind, kernel, stride, pads, out_hw, count_include_pad):  # type: ignore[no-untyped-def]
    """Pooling by definition: window (i*s - top, j*s - left) of the kernel's size, clipped to
    the padded input; max over the input part (padding is -inf), average over the input part
    divided by the positions inside the padded input (count_include_pad) or inside the input."""
    n, c, h, w = x.shape
    top, bottom, left, right = pads
    out = np.empty((n, c, *out_hw))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            h0, w0 = i * stride[0] - top, j * stride[1] - left
            h1, w1 = h0 + kernel[0], w0 + kernel[1]
            window = x[:, :, max(h0, 0) : min(h1, h), max(w0, 0) : min(w1, w)]
            if kind == "max":
                out[:, :, i, j] = window.max(axis=(2, 3))
                continue
            if count_include_pad:
                rows = min(h1, h + bottom) - max(h0, -top)
                cols = min(w1, w + right) - max(w0, -left)
            else:
                rows, cols = window.shape[2], window.shape[3]
            out[:, :, i, j] = window.sum(axis=(2, 3)) / (rows * cols)
    return out


POOLS = [
    # (layer options, input size): torch-native cases, TF `same` with asymmetric pads,
    # explicit asymmetric pads, ceil mode with and without padding.
    ("3x3 stride=2", 8),
    ("3x3 stride=2 ceil=true", 8),
    ("3x3 stride=1 pad=1", 7),
    ("3x3 stride=2 pad=1 ceil=true", 8),
    ("2x2 stride=2 ceil=true", 7),
    ("3x3 stride=2 pad=same", 8),
    ("3x3 stride=2 pad=same", 7),
    ("3x3 stride=1 pad=same", 8),
    ("2x2 stride=1 pad=same", 6),
    ("3x3 stride=2 pad=((0, 1), (1, 0))", 8),
    ("3x3 stride=2 pad=((1, 2), (2, 1)) ceil=true", 8),
    ("5x5 stride=3 pad=3", 11),
    ("3x3 stride=2 pad=1 ceil=true", 7),
]


CONVS = [
    ("conv 4 3x3 stride=2 pad=same", 8),  # asymmetric (0, 1, 0, 1)
    ("conv 4 3x3 stride=2 pad=same", 9),  # symmetric
    ("conv 4 4x4 stride=1 pad=same", 8),  # even kernel: (1, 2, 1, 2)
    ("conv 4 3x3 pad=((2, 0), (0, 1)) bias=false", 8),
    ("conv 6 3x3 pad=2 dilation=2 groups=3", 8),
    ("conv 4 1x7 pad=(0, 3) bn=bn(eps=0.001) act=relu", 8),
    ("conv 4 3x3 stride=2 pad=same bias=false bn=bn(scale=false) act=relu6", 8),
    ("conv 4 3x3 pad=1 bn=bn(center=false) act=tanh", 8),
    ("conv 4 3x3 pad=1 bn=bn(affine=false) act=sigmoid", 8),
    ("conv 4 1x1 act=gelu", 8),
    ("conv 4 1x1 act=silu", 8),
    ("conv 4 1x1 act=leaky_relu(slope=0.3)", 8),
]
