"""The IR: the contract between the core and the backends (documented in docs/ir.md)."""

from .graph import AuxHead, Node, Shape, add_node, inputs, new_graph, node, nodes
from .ops import ATTRS, VARIADIC, Attrs, Op

__all__ = [
    "ATTRS",
    "VARIADIC",
    "Attrs",
    "AuxHead",
    "Node",
    "Op",
    "Shape",
    "add_node",
    "inputs",
    "new_graph",
    "node",
    "nodes",
]
