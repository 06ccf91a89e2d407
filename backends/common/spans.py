"""Where IR parts that are not nodes come from in the spec, for backend errors about their names.

A backend refuses names it cannot use (`class` as a network name, `b.h` as an aux head name);
the error must point at the spec like every other diagnostic.
"""

from __future__ import annotations

import networkx as nx

from inceptdsl.front.source import Span
from inceptdsl.ir import info
from inceptdsl.ir.graph import AuxHead


def network_span(g: nx.DiGraph) -> Span | None:
    """The network's name in its declaration (lowering records it as the graph's `span`)."""
    return info(g).span


def aux_span(g: nx.DiGraph, head: AuxHead) -> Span | None:
    """Aux head `head`: its first layer, or the layer it taps when it has none."""
    for _, d in g.nodes(data=True):
        if d.get("aux") == head.name:
            return d.get("span")
    return g.nodes[head.tap].get("span") if head.tap in g else None
