"""The IR graph: a networkx.DiGraph with a fixed set of node, edge and graph attributes.

Nodes are keyed by their hierarchical name (the module path a backend builds, e.g.
`Mixed_5b.branch5x5_2`), inserted in topological order (the order of the spec), and carry:
`op` (Op), `attrs` (the op's frozen attribute model), `shape` (output shape of one sample,
(C, H, W) or (F,)), `params`, `buffers`, `macs` (ints, see cost.py), `span` (source
location) and `aux` (the aux head the node belongs to, or None). Each edge carries `index`,
the position of the source among the target's inputs. Graph attributes: `name`, `input_shape`,
`output` (the main output node), `aux_heads` (tuple of AuxHead), `params` (the network
parameter values it was built with), `scopes` (what made each scope: {path: ScopeInfo}),
`residual_adds` (the add nodes a `residual` made: its input 1, the main path, is written first).
docs/ir.md is the prose version of this contract.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx

from ..front.source import Span
from .registry import Attrs, Op

Shape = tuple[int, ...]


@dataclass(frozen=True)
class AuxHead:
    """A training-only side head: taps `tap`, ends at `output`, weighted `weight` in the loss."""

    name: str
    tap: str
    output: str
    weight: float


@dataclass(frozen=True)
class ScopeInfo:
    """What made the scope `path` (a prefix of node names): a block call (`kind` "block", with
    the block's name and bound arguments), a group, repeat, merge or residual (`kind` is its
    syntax: "group", "repeat", ...), a `repeat ... as` iteration ("iteration") or an aux head
    ("aux"). `calls` are the block calls made directly in it without a scope of their own."""

    path: str
    kind: str
    span: Span | None
    block: str | None = None
    args: tuple[tuple[str, Any], ...] = ()
    calls: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()


@dataclass(frozen=True)
class Node:
    """A read-only view of one IR node (what backends and reports iterate over)."""

    name: str
    op: Op
    attrs: Attrs
    shape: Shape
    params: int
    buffers: int
    macs: int
    span: Span | None
    aux: str | None
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class GraphInfo:
    """A read-only view of the graph attributes (docs/ir.md, "Graph")."""

    name: str
    input_shape: tuple[int, int, int]  # (C, H, W)
    output: str
    aux_heads: tuple[AuxHead, ...]
    params: dict[str, Any]
    scopes: dict[str, ScopeInfo]
    residual_adds: frozenset[str]
    span: Span | None


def info(g: nx.DiGraph) -> GraphInfo:
    """The graph attributes of `g`, typed (code outside inceptdsl/ir never reads `g.graph[...]`;
    tests/test_typed_access.py checks it)."""
    m = g.graph
    return GraphInfo(
        m["name"],
        m["input_shape"],
        m.get("output"),
        tuple(m.get("aux_heads", ())),
        m.get("params", {}),
        m.get("scopes", {}),
        m.get("residual_adds", frozenset()),
        m.get("span"),
    )


def finish(
    g: nx.DiGraph,
    *,
    output: str,
    aux_heads: tuple[AuxHead, ...],
    scopes: dict[str, ScopeInfo],
    residual_adds: frozenset[str],
    span: Span | None = None,
) -> None:
    """Set what lowering knows only at the end: the output, the aux heads, the scopes, the
    residual adds and (when the network's declaration is known) its span."""
    g.graph.update(output=output, aux_heads=aux_heads, scopes=scopes, residual_adds=residual_adds)
    if span is not None:
        g.graph["span"] = span


def shape_of(g: nx.DiGraph, name: str) -> Shape:
    """The output shape of node `name` (one sample)."""
    return g.nodes[name]["shape"]  # type: ignore[no-any-return]


def op_of(g: nx.DiGraph, name: str) -> Op:
    return g.nodes[name]["op"]  # type: ignore[no-any-return]


def attrs_of(g: nx.DiGraph, name: str) -> Attrs:
    """The layer attributes of node `name`, without the rest of `node()` (its sorted inputs):
    memory.estimate reads them for every node of every sweep point."""
    return g.nodes[name]["attrs"]  # type: ignore[no-any-return]


def aux_of(g: nx.DiGraph, name: str) -> str | None:
    """The aux head node `name` belongs to, or None (the trunk)."""
    return g.nodes[name]["aux"]  # type: ignore[no-any-return]


def totals(g: nx.DiGraph) -> tuple[int, int, int]:
    """(params, buffers, MACs) of `g`: params and buffers of every node, MACs of the inference
    path only (aux heads run only in training; docs/ir.md, "Aux heads")."""
    params = buffers = macs = 0
    for _, d in g.nodes(data=True):
        params += d["params"]
        buffers += d["buffers"]
        if d["aux"] is None:
            macs += d["macs"]
    return params, buffers, macs


def inputs(g: nx.DiGraph, name: str) -> tuple[str, ...]:
    """The inputs of node `name`, in edge-index order."""
    preds = g.pred[name]
    return tuple(sorted(preds, key=lambda p: preds[p]["index"]))


def node(g: nx.DiGraph, name: str) -> Node:
    d = g.nodes[name]
    return Node(
        name,
        d["op"],
        d["attrs"],
        d["shape"],
        d["params"],
        d["buffers"],
        d["macs"],
        d["span"],
        d["aux"],
        inputs(g, name),
    )


def costs(g: nx.DiGraph) -> Iterator[tuple[str, Shape, int, int, int]]:
    """(name, shape, params, buffers, MACs) of every node in spec order: what per-scope sums
    need, without a Node (its sorted inputs) per node, a third of `verify`'s figures at 100,000
    nodes."""
    for name, d in g.nodes(data=True):
        yield name, d["shape"], d["params"], d["buffers"], d["macs"]


def nodes(g: nx.DiGraph) -> Iterator[Node]:
    """Every node in topological (spec) order."""
    for name in g.nodes:
        yield node(g, name)


def new_graph(
    name: str, input_shape: Shape, params: dict[str, Any], span: Span | None = None
) -> nx.DiGraph:
    """An empty graph: its attributes but the output and what `finish` sets; `span` (the
    network's declaration) only where one is known."""
    g = nx.DiGraph()
    g.graph.update(
        name=name,
        input_shape=input_shape,
        output=None,
        aux_heads=(),
        params=params,
        scopes={},
        residual_adds=frozenset(),
    )
    if span is not None:
        g.graph["span"] = span
    return g


def add_node(
    g: nx.DiGraph,
    name: str,
    op: Op,
    attrs: Attrs,
    srcs: tuple[str, ...],
    *,
    shape: Shape,
    params: int,
    buffers: int,
    macs: int,
    span: Span | None,
    aux: str | None,
) -> None:
    """Add a node after its inputs (the caller guarantees names are unique and inputs exist)."""
    g.add_node(
        name,
        op=op,
        attrs=attrs,
        shape=shape,
        params=params,
        buffers=buffers,
        macs=macs,
        span=span,
        aux=aux,
    )
    for i, src in enumerate(srcs):
        g.add_edge(src, name, index=i)


def add_chain(g: nx.DiGraph, names: list[str], srcs: list[str], rows: list[Row]) -> None:
    """Add nodes `names` in order, node i fed by `srcs[i]` alone, with the attributes `rows[i %
    len(rows)]` (the copies of a repeated chain of layers): the same graph as one `add_node`
    each, in two networkx calls rather than two per node, which cost more than the node."""
    if len(rows) == 1:
        g.add_nodes_from(names, **_attributes(rows[0]))
    else:
        attributes = [_attributes(r) for r in rows]
        g.add_nodes_from(zip(names, itertools.cycle(attributes)))  # networkx copies each
    g.add_edges_from(zip(srcs, names, strict=True), index=0)


Row = tuple[Op, Attrs, Shape, int, int, int, Span | None, str | None]
"""A node's op, attrs, shape, params, buffers, MACs, span and aux head (add_chain)."""

ROW_KEYS = ("op", "attrs", "shape", "params", "buffers", "macs", "span", "aux")
"""The attribute names of a Row's items, in add_node's order."""


def _attributes(row: Row) -> dict[str, Any]:
    return dict(zip(ROW_KEYS, row, strict=True))
