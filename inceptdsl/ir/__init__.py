"""The IR: the contract between the core and the backends (documented in docs/ir.md).

`ops` defines every op (attributes, arity, shape, cost, language surface) in the registry of
`registry`; `graph` holds the networkx graph's node, edge and graph attributes."""

from .graph import (
    AuxHead,
    GraphInfo,
    Node,
    ScopeInfo,
    Shape,
    add_node,
    attrs_of,
    aux_of,
    costs,
    finish,
    info,
    inputs,
    new_graph,
    node,
    nodes,
    op_of,
    shape_of,
    totals,
)
from .ops import ATTRS, REGISTRY, VARIADIC, Attrs, Op

__all__ = [
    "ATTRS",
    "REGISTRY",
    "VARIADIC",
    "Attrs",
    "AuxHead",
    "GraphInfo",
    "Node",
    "Op",
    "ScopeInfo",
    "Shape",
    "add_node",
    "aux_of",
    "costs",
    "finish",
    "info",
    "inputs",
    "new_graph",
    "node",
    "nodes",
    "attrs_of",
    "op_of",
    "shape_of",
    "totals",
]
