"""NumPy oracles for the registry's activation functions: what every backend must compute.

Written from each ActDef's formula (inceptdsl/ir/ops/activation.py), in float64, with no
framework involved; tests/test_completeness.py checks that every registered activation has one.
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
