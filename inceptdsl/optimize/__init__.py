"""Optimization passes over the IR: an eval-only graph that computes what the original does.

`optimize(graph)` runs the passes in order (PASSES): each is a pure function from one checked
graph to another plus a weight map (weights.py) saying how every new state tensor is computed
from the previous graph's, composed here so that the result's map reads only the original
state. Backends build the optimized graph like any other and compute its weights from the
original network's with that map (docs/optimize.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from . import concat, dead_code, fold_bn, fold_scale, hfuse
from .base import LAYOUTS, Layout, Note, Pass, Result, Target
from .weights import Expr, WeightMap, graph_keys, identity

PASSES: dict[str, Pass] = {
    dead_code.NAME: dead_code.run,
    fold_bn.NAME: fold_bn.run,
    fold_scale.NAME: fold_scale.run,
    hfuse.NAME: hfuse.run,
    concat.NAME: concat.run,
}
"""Every pass, in the order they run (a later pass sees what an earlier one made)."""


@dataclass(frozen=True)
class Optimized:
    """The optimized graph, its weight map (state key -> expression over the original
    state) and every pass's notes."""

    graph: nx.DiGraph
    weights: dict[str, Expr]
    notes: tuple[Note, ...]
    passes: tuple[str, ...]


def optimize(
    g: nx.DiGraph,
    target: Target | None = None,
    skip: Iterable[str] = (),
) -> Optimized:
    """`g` optimized for `target` (default NCHW, batch 1), the passes in `skip` left out."""
    skipped = set(skip)
    unknown = skipped - set(PASSES)
    if unknown:
        raise ValueError(f"no optimization pass {sorted(unknown)}; passes: {', '.join(PASSES)}")
    target = target or Target()
    weights: WeightMap = identity(g)
    notes: list[Note] = []
    ran = []
    for name, run in PASSES.items():
        if name in skipped:
            continue
        result = run(g, weights, target)
        g, weights = result.graph, result.weights
        notes += result.notes
        ran.append(name)
    missing = set(graph_keys(g)) ^ set(weights)
    if missing:  # every state tensor of the result has a recipe, and nothing else does
        raise ValueError(f"IR error: the weight map does not cover the graph: {sorted(missing)}")
    return Optimized(g, {k: weights[k] for k in graph_keys(g)}, tuple(notes), tuple(ran))


__all__ = ["LAYOUTS", "PASSES", "Layout", "Note", "Optimized", "Result", "Target", "optimize"]
