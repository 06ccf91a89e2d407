"""An editable copy of an IR graph, rebuilt into a checked graph after a pass has changed it.

Passes rewrite the graph: they remove nodes (rewiring their readers), replace nodes and insert
new ones. Editing a networkx.DiGraph in place would break the IR's promise that nodes iterate
in topological order, and would leave shapes and costs stale. An `Editor` holds the nodes as an
ordered list of records; `build()` makes a new graph in that order and recomputes every shape
and cost with the op registry's own functions, so the result is checked exactly like a graph
that lowering built (a wrong rewrite fails there, not in a backend).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import networkx as nx

from ..front.source import Span
from ..ir import Attrs, AuxHead, Op, add_node, info, new_graph, node, nodes, shape_of
from ..ir.registry import REGISTRY, ShapeCtx


@dataclass(frozen=True)
class Rec:
    """One node as a pass sees it: what it computes and from what (shapes come later)."""

    name: str
    op: Op
    attrs: Attrs
    inputs: tuple[str, ...]
    span: Span | None
    aux: str | None


class Editor:
    """The nodes of a graph as an ordered, editable list (see the module docstring)."""

    def __init__(self, g: nx.DiGraph) -> None:
        self.meta = dict(g.graph)
        self.source = info(g)
        self.order: list[str] = list(g.nodes)
        self.recs: dict[str, Rec] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        for d in nodes(g):
            self.recs[d.name] = Rec(d.name, d.op, d.attrs, d.inputs, d.span, d.aux)
            self.shapes[d.name] = tuple(d.shape)

    # -- queries --------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Rec:
        return self.recs[name]

    def __contains__(self, name: str) -> bool:
        return name in self.recs

    def nodes(self) -> list[Rec]:
        return [self.recs[n] for n in self.order]

    def fresh(self) -> Iterator[Rec]:
        """Each node in order, as it is when reached: a loop may edit or drop nodes ahead."""
        for name in list(self.order):
            if name in self.recs:
                yield self.recs[name]

    def users(self, name: str) -> list[str]:
        """The nodes that read `name`, in order (a node reading it twice is listed once)."""
        return [n for n in self.order if name in self.recs[n].inputs]

    def anchored(self, name: str) -> bool:
        """Whether the graph's output or an aux head refers to `name` (so it cannot vanish)."""
        if self.meta["output"] == name:
            return True
        return any(name in (h.tap, h.output) for h in self.meta["aux_heads"])

    def shape(self, name: str) -> tuple[int, ...]:
        """The output shape the node had when the editor was made (new nodes: after build)."""
        return self.shapes[name]

    def taken(self, name: str) -> bool:
        """Whether `name` is a node or a scope (a prefix of a node's name) of this graph."""
        prefix = name + "."
        return name in self.recs or any(n.startswith(prefix) for n in self.recs)

    # -- edits ----------------------------------------------------------------------------------

    def set(self, rec: Rec) -> None:
        """Replace the record of an existing node (same name, same place)."""
        assert rec.name in self.recs
        self.recs[rec.name] = rec

    def insert(self, rec: Rec, before: str) -> None:
        """Add a new node right before the node `before`."""
        assert rec.name not in self.recs, rec.name
        self.recs[rec.name] = rec
        self.order.insert(self.order.index(before), rec.name)

    def redirect(self, old: str, new: str) -> None:
        """Every reader of `old` (and the graph's output and aux heads) reads `new` instead."""
        for n in self.order:
            rec = self.recs[n]
            if old in rec.inputs and n != new:
                self.recs[n] = replace(
                    rec, inputs=tuple(new if s == old else s for s in rec.inputs)
                )
        if self.meta["output"] == old:
            self.meta["output"] = new
        self.meta["aux_heads"] = tuple(
            AuxHead(
                h.name,
                new if h.tap == old else h.tap,
                new if h.output == old else h.output,
                h.weight,
            )
            for h in self.meta["aux_heads"]
        )

    def remove(self, name: str) -> None:
        """Drop a node nobody reads any more."""
        assert not self.users(name) and not self.anchored(name), name
        del self.recs[name]
        self.order.remove(name)

    def bypass(self, name: str) -> None:
        """Drop a one-input node, its readers reading its input instead."""
        self.redirect(name, self.recs[name].inputs[0])
        self.remove(name)

    # -- result ---------------------------------------------------------------------------------

    def build(self) -> nx.DiGraph:
        """The edited graph, in order, with every shape and cost recomputed by the registry."""
        g = new_graph(self.source.name, self.source.input_shape, self.source.params)
        for key, value in self.meta.items():
            g.graph[key] = value
        for name in self.order:
            r = self.recs[name]
            d = REGISTRY[r.op]
            ins = [shape_of(g, s) for s in r.inputs]
            spans = tuple(node(g, s).span for s in r.inputs)
            shape = d.shape(r.attrs, ins, ShapeCtx(r.span, spans))
            params, buffers, macs = d.cost(r.attrs, ins, shape)
            add_node(
                g, name, r.op, r.attrs, r.inputs, shape=shape, params=params, buffers=buffers,
                macs=macs, span=r.span, aux=r.aux,
            )  # fmt: skip
            self.shapes[name] = tuple(shape)
        _check_names(g)
        return g


def _check_names(g: nx.DiGraph) -> None:
    """A name is a node or a scope, never both (docs/ir.md); new names must keep that."""
    names = set(g.nodes)
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts)):
            if ".".join(parts[:i]) in names:
                raise ValueError(f"IR error: {'.'.join(parts[:i])!r} is a node and a scope")
