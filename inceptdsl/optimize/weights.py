"""Weight maps: how every tensor of an optimized graph is computed from the original's state.

A pass that folds a batch norm into a conv, or fuses three convs into one, changes what state
the network holds. So that weights trained on the unoptimized network load into the optimized
one, each pass also says, for every state tensor of its output graph, how it is computed from
the state of its input graph; the pipeline composes these, so the final `WeightMap` reads only
the original state. Tensors are named as docs/ir.md's state column names them (the torch
state_dict keys: `Mixed_5b.branch1x1.conv.weight`, `...bn.running_var`), in the IR's layout
(conv kernels OIHW, linear weights out x in). Every operation acts along axis 0 (a conv's
output channels, a linear layer's outputs), which is all the folds and fusions need.

The expressions are data: a backend evaluates them with NumPy
(inceptdsl/backends/common/optimized_weights.py); `str()` gives the formula for humans.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import networkx as nx

from ..ir import REGISTRY, Op, nodes
from ..ir.ops import BatchNormAttrs
from ..ir.state import at, batch_norm


class Expr:
    """A tensor computed from the original state."""

    def sources(self) -> Iterator[str]:
        """The original state keys this tensor is computed from."""
        yield from ()


@dataclass(frozen=True)
class Source(Expr):
    """An original state tensor, unchanged."""

    key: str

    def sources(self) -> Iterator[str]:
        yield self.key

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class Fill(Expr):
    """A constant tensor (a bias of zeros where the conv had none, a gamma of ones)."""

    value: float
    shape: tuple[int, ...]

    def __str__(self) -> str:
        return f"full({self.value:g})"


@dataclass(frozen=True)
class Binary(Expr):
    """`a op b`, op one of + - *; `b` is either `a`'s shape or a vector along `a`'s axis 0."""

    op: str
    a: Expr
    b: Expr

    def sources(self) -> Iterator[str]:
        yield from self.a.sources()
        yield from self.b.sources()

    def __str__(self) -> str:
        return f"({self.a} {self.op} {self.b})"


@dataclass(frozen=True)
class Times(Expr):
    """`a * factor`, a constant factor (a residual's scale)."""

    a: Expr
    factor: float

    def sources(self) -> Iterator[str]:
        yield from self.a.sources()

    def __str__(self) -> str:
        return f"({self.a} * {self.factor:g})"


@dataclass(frozen=True)
class InvStd(Expr):
    """`1 / sqrt(var + eps)`: batch norm's divisor."""

    var: Expr
    eps: float

    def sources(self) -> Iterator[str]:
        yield from self.var.sources()

    def __str__(self) -> str:
        return f"rsqrt({self.var} + {self.eps:g})"


@dataclass(frozen=True)
class Concat(Expr):
    """The parts stacked along axis 0 (the outputs of fused convs)."""

    parts: tuple[Expr, ...]

    def sources(self) -> Iterator[str]:
        for p in self.parts:
            yield from p.sources()

    def __str__(self) -> str:
        return "cat(" + ", ".join(str(p) for p in self.parts) + ")"


def add(a: Expr, b: Expr) -> Expr:
    return Binary("+", a, b)


def sub(a: Expr, b: Expr) -> Expr:
    return Binary("-", a, b)


def mul(a: Expr, b: Expr) -> Expr:
    return Binary("*", a, b)


WeightMap = Mapping[str, Expr]
"""State key of the optimized graph -> how to compute it from the original state."""


# -- the state of a node (docs/ir.md's state column) --------------------------------------------


def bn_keys(prefix: str, a: BatchNormAttrs) -> list[str]:
    """The float state of a batch norm at `prefix` (gamma and beta only when learnable)."""
    return [at(prefix, t.key) for t in batch_norm("", 0, a.scale, a.center) if not t.counter]


def node_keys(name: str, op: Op, attrs: object) -> list[str]:
    """Every float state key the node holds, in the backends' order (its OpDef's tensors)."""
    make = REGISTRY[op].tensors
    if make is None:
        return []
    return [at(name, t.key) for t in make(attrs, 0, 0) if not t.counter]


def identity(g: nx.DiGraph) -> dict[str, Expr]:
    """The map of an unoptimized graph: every state tensor is itself."""
    out: dict[str, Expr] = {}
    for d in nodes(g):
        for key in node_keys(d.name, d.op, d.attrs):
            out[key] = Source(key)
    return out


def graph_keys(g: nx.DiGraph) -> list[str]:
    """Every state key of a graph, in node order."""
    return [k for d in nodes(g) for k in node_keys(d.name, d.op, d.attrs)]
