"""Activation functions: the `act` op, the `act=` option of conv-like layers, and one layer
keyword per function (`relu`, `leaky_relu slope=0.2`, ...).

Each function is an `ActDef` with its formula (what every backend must compute, checked against
a NumPy oracle in tests/test_activations.py) and its parameters. In the IR an activation is an
`Activation(fn, params)` with every parameter filled in; the spec writes a bare name
(`act=relu`, defaults) or a record (`act=leaky_relu(slope=0.2)`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import TypeMismatchError, UnknownOptionError
from ...front.source import Span
from ...middle.values import Record, Symbol, format_value
from ...names import did_you_mean
from ..options import number
from ..registry import (
    ACTIVATION_DEFS,
    ActDef,
    Attrs,
    BuildCtx,
    LayerDef,
    Op,
    OpDef,
    register,
    register_activation,
)


class Activation(Attrs):
    """An activation function with all its parameters, in its ActDef's order."""

    fn: str
    params: tuple[tuple[str, float], ...] = ()

    def param(self, name: str) -> float:
        return dict(self.params)[name]

    def __str__(self) -> str:
        if not self.params:
            return self.fn
        return f"{self.fn}({', '.join(f'{k}={v!r}' for k, v in self.params)})"


class ActAttrs(Attrs):
    fn: Activation


for _a in (
    ActDef("relu", "max(x, 0)"),
    ActDef("relu6", "min(max(x, 0), 6)"),
    ActDef("sigmoid", "1 / (1 + exp(-x))"),
    ActDef("tanh", "tanh(x)"),
    ActDef("gelu", "x * Phi(x), Phi the standard normal CDF (exact, not the tanh approximation)"),
    ActDef("silu", "x * sigmoid(x) (swish)"),
    ActDef("hardswish", "x * relu6(x + 3) / 6"),
    ActDef("hardsigmoid", "relu6(x + 3) / 6"),
    ActDef("leaky_relu", "x if x >= 0 else slope * x", {"slope": 0.01}),
    ActDef("elu", "x if x > 0 else alpha * (exp(x) - 1)", {"alpha": 1.0}),
    ActDef("mish", "x * tanh(softplus(x))"),
    ActDef("softplus", "log(1 + exp(x))"),
):
    register_activation(_a)

ACTIVATIONS: tuple[str, ...] = tuple(ACTIVATION_DEFS)
"""Every activation name, in registry order."""


def _fill(d: ActDef, given: Mapping[str, Any], span: Span, what: str) -> Activation:
    params = []
    for k, default in d.params.items():
        v = given.get(k, default)
        params.append((k, number(v, span, f"{what} {d.name} {k}")))
    for k in given:
        if k not in d.params:
            raise UnknownOptionError(
                f"activation `{d.name}` has no parameter `{k}`",
                span,
                hint=did_you_mean(k, d.params)
                or f"its parameters are: {', '.join(d.params) or 'none'}",
            )
    return Activation(fn=d.name, params=tuple(params))


def activation(v: Any, span: Span, what: str) -> Activation | None:
    """`none`, an activation name (`relu`) or an activation record (`leaky_relu(slope=0.2)`)."""
    if v is None:
        return None
    name = v.name if isinstance(v, Symbol) else v.kind if isinstance(v, Record) else None
    d = ACTIVATION_DEFS.get(name) if name is not None else None
    if d is None:
        raise TypeMismatchError(
            f"{what} must be an activation ({', '.join(ACTIVATIONS)}) or none, "
            f"got {format_value(v)}",
            span,
        )
    return _fill(d, dict(v.fields) if isinstance(v, Record) else {}, span, what)


def _layer(d: ActDef) -> LayerDef:
    def build(v: Mapping[str, Any], ctx: BuildCtx) -> Attrs:
        return ActAttrs(fn=_fill(d, v, ctx.span, "activation"))

    return LayerDef(
        d.name,
        (),
        dict(d.params),
        {k: number for k in d.params},
        build,
        f"activation: {d.formula}",
    )


register(
    OpDef(
        Op.ACT,
        ActAttrs,
        1,
        lambda a, ins, ctx: ins[0],
        lambda a, ins, out: (0, 0, 0),
        "an activation function, elementwise",
        layers=tuple(_layer(d) for d in ACTIVATION_DEFS.values()),
    )
)
