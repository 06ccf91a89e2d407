"""What optimization did, for people: the op counts before and after, and the passes' notes.

`inceptdsl report --optimize` prints `compare(...)`; `inceptdsl ir --optimize` prints
`header(...)` above the optimized graph.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx

from ..ir import nodes
from . import Optimized, Target


def _counts(g: nx.DiGraph) -> Counter[str]:
    return Counter(d.op.value for d in nodes(g))


def _totals(g: nx.DiGraph, aux: bool) -> tuple[int, int, int]:
    """(params, buffers, MACs), the inference path's only unless `aux` (the original's
    figures count aux heads' params and buffers, as the report does; MACs never do)."""
    keep = [d for d in nodes(g) if aux or d.aux is None]
    macs = sum(d.macs for d in keep if d.aux is None)
    return sum(d.params for d in keep), sum(d.buffers for d in keep), macs


def compare(original: nx.DiGraph, opt: Optimized) -> str:
    """A table: each op's node count in the original and the optimized graph, then the
    totals (nodes; params, buffers and MACs of the inference path)."""
    before, after = _counts(original), _counts(opt.graph)
    ops = sorted(set(before) | set(after), key=lambda op: (-before[op], op))
    width = max(len(op) for op in [*ops, "inference params"])
    lines = [f"{'op':<{width}}  {'original':>14}  {'optimized':>14}"]
    for op in ops:
        lines.append(f"{op:<{width}}  {before[op]:>14,}  {after[op]:>14,}")
    lines.append(f"{'nodes':<{width}}  {len(original):>14,}  {len(opt.graph):>14,}")
    p0, b0, m0 = _totals(original, aux=False)
    p1, b1, m1 = _totals(opt.graph, aux=False)
    lines.append(f"{'inference params':<{width}}  {p0:>14,}  {p1:>14,}")
    lines.append(f"{'buffers':<{width}}  {b0:>14,}  {b1:>14,}")
    lines.append(f"{'MACs':<{width}}  {m0:>14,}  {m1:>14,}")
    lines.append(f"passes: {', '.join(opt.passes)}")
    return "\n".join(lines) + "\n"


def header(opt: Optimized, target: Target) -> str:
    """The passes, the target and every note, as comment lines."""
    lines = [f"# optimized for {target.layout} batch {target.batch}: {', '.join(opt.passes)}"]
    lines += [f"# {note}" for note in opt.notes]
    return "\n".join(lines) + "\n"
