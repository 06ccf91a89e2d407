"""`defaults LAYER(...)` lines for options that most units of a kind share.

Only options that describe a convention of the model (bias, batch norm, activation, pooling
rounding, LRN constants) are lifted, never sizes or strides: `defaults conv(bias=false,
bn=bn(eps=0.001), act=relu)` reads like the bundled specs' slim-style arg scopes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..ir.ops import LAYERS
from .fuse import BN_FIELD_DEFAULTS
from .units import ULayer, Unit, walk
from .values import key

LIFTABLE = {
    "conv": ("bias", "bn", "act"),
    "maxpool": ("ceil",),
    "avgpool": ("ceil", "count_pad"),
    "lrn": ("alpha", "beta", "k"),
    "bn": ("eps", "momentum"),
}


def dsl_default(kind: str, opt: str) -> Any:
    """The value an option has when a spec does not write it."""
    if kind == "bn":
        return BN_FIELD_DEFAULTS.get(opt)
    return LAYERS[kind].options.get(opt) if kind in LAYERS else None


def shared_defaults(body: list[Unit]) -> dict[str, dict[str, Any]]:
    """For each layer kind, the liftable options whose value most units of the kind share
    (more than half, and not the language's default), in the layer's option order. The units
    that differ write their value (the writer compares each with the effective default)."""
    units = [u for u in walk(body) if isinstance(u, ULayer)]
    out: dict[str, dict[str, Any]] = {}
    has_conv_bn = any(u.layer.kind == "conv" and u.layer.opts.get("bn") for u in units)
    for kind, opts in LIFTABLE.items():
        mine = [u for u in units if u.layer.kind == kind]
        if len(mine) < 2 or (kind == "bn" and has_conv_bn):
            continue
        for opt in opts:
            counts: Counter[tuple[str, Any]] = Counter()
            first: dict[tuple[str, Any], Any] = {}
            for u in mine:
                v = u.layer.opts.get(opt, dsl_default(kind, opt))
                counts[key(v)] += 1
                first.setdefault(key(v), v)
            (top, n), *_ = counts.most_common(1)
            if n * 2 > len(mine) and n >= 2 and top != key(dsl_default(kind, opt)):
                out.setdefault(kind, {})[opt] = first[top]
    return out
