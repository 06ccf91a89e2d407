"""The optimized graph's state from the original's: a weight map (inceptdsl.optimize.weights)
evaluated with NumPy.

Both backends use it: the torch one on a state_dict turned into arrays, the Keras one on its
variables laid out as the IR (and torch) lay them out. Arithmetic is in float64, so a folded
kernel is rounded once, when it is cast back to the source's dtype. Shared sub-expressions (a
BN's factor appears in its kernel and its bias) are computed once.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from inceptdsl.errors import UsageError
from inceptdsl.optimize.weights import (
    Binary,
    Concat,
    Expr,
    Fill,
    InvStd,
    Source,
    Times,
)

from .listing import first_of


class _Evaluator:
    def __init__(self, state: Mapping[str, np.ndarray]) -> None:
        self.state = state
        self.memo: dict[Expr, np.ndarray] = {}

    def __call__(self, e: Expr) -> np.ndarray:
        if e not in self.memo:
            self.memo[e] = self._eval(e)
        return self.memo[e]

    def _eval(self, e: Expr) -> np.ndarray:
        if isinstance(e, Source):
            return np.asarray(self.state[e.key], dtype=np.float64)
        if isinstance(e, Fill):
            return np.full(e.shape, e.value, dtype=np.float64)
        if isinstance(e, Times):
            return self(e.a) * e.factor
        if isinstance(e, InvStd):
            return 1.0 / np.sqrt(self(e.var) + e.eps)
        if isinstance(e, Concat):
            return np.concatenate([self(p) for p in e.parts], axis=0)
        if isinstance(e, Binary):
            a, b = self(e.a), self(e.b)
            if b.shape != a.shape:  # a vector along axis 0 (a conv's output channels),
                # stored (C,) or, as torchvision's layer scale, (C, 1, 1)
                b = b.reshape((-1,) + (1,) * (a.ndim - 1))
            if e.op == "+":
                return a + b
            if e.op == "-":
                return a - b
            return a * b
        raise TypeError(f"unknown weight expression {e!r}")


def apply(weights: Mapping[str, Expr], state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every tensor of `weights` computed from `state` (the original network's arrays, IR
    layout), in the dtype of the first source it reads (float32 for float32 weights)."""
    needed = {k for e in weights.values() for k in e.sources()}
    missing = sorted(needed - set(state))
    if missing:
        raise UsageError(
            f"the weights lack {first_of(missing, 5)}",
            hint="weights_from must come from the unoptimized network built from the same spec",
        )
    ev = _Evaluator(state)
    out: dict[str, np.ndarray] = {}
    for key, e in weights.items():
        if isinstance(e, Source):  # unchanged: a copy (never the caller's memory), no float64
            out[key] = np.array(state[e.key], order="C")
            continue
        srcs = list(e.sources())
        dtype = np.asarray(state[srcs[0]]).dtype if srcs else np.dtype(np.float32)
        out[key] = np.ascontiguousarray(ev(e).astype(dtype))
    return out
