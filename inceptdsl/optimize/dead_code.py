"""Dead code in eval: aux heads, dropout, drop path, identity, and whatever the output no
longer reads.

In eval mode aux heads do not run, dropout and drop path are the identity, and an identity is
another name for its input. Removing them changes no eval output; the aux heads' state leaves
the weight map (an optimized network is eval-only).
"""

from __future__ import annotations

import networkx as nx

from ..ir import Op
from ..ir.ops import EVAL_IDENTITY
from .base import Note, Result, Target
from .edit import Editor
from .weights import WeightMap, node_keys

NAME = "dead_code"
_PASS_THROUGH = EVAL_IDENTITY  # declared by each op: Trait.EVAL_IDENTITY


def run(g: nx.DiGraph, weights: WeightMap, target: Target) -> Result:
    ed = Editor(g)
    notes: list[Note] = []
    for head in ed.meta["aux_heads"]:
        notes.append(Note(NAME, head.name, "aux head removed (training only)"))
    ed.meta["aux_heads"] = ()
    for rec in ed.fresh():
        if rec.op in _PASS_THROUGH:
            ed.bypass(rec.name)
            notes.append(Note(NAME, rec.name, f"{rec.op.value} removed (identity in eval)"))
    live = {ed.meta["output"]}
    for rec in reversed(ed.nodes()):
        if rec.name in live:
            live.update(rec.inputs)
    dead = [r for r in reversed(ed.nodes()) if r.name not in live and r.op is not Op.INPUT]
    for rec in dead:
        ed.remove(rec.name)
    gone = {k for r in dead for k in node_keys(r.name, r.op, r.attrs)}
    if dead:
        notes.append(Note(NAME, "*", f"{len(dead)} nodes the output does not read removed"))
    out = ed.build()
    return Result(out, {k: v for k, v in weights.items() if k not in gone}, tuple(notes))
