"""Concat elimination: fewer copies where a concat's inputs are already one tensor.

- A concat whose input is another concat that nobody else reads takes that concat's inputs
  directly (Inception-v3's last modules nest `cat([1x3, 3x1])` in the module's concat): the
  inner copy disappears.
- Adjacent concat inputs that are consecutive channel slices of one tensor (what horizontal
  fusion leaves when fused convs feed a concat side by side) become one slice, or the tensor
  itself when they cover all of it.
- A concat of one input, and a slice of all channels, are their input.
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx

from ..ir import Op
from ..ir.ops import ChannelSliceAttrs
from .base import Note, Result, Target
from .edit import Editor, Rec
from .weights import WeightMap

NAME = "concat"


def _flatten(ed: Editor, rec: Rec, notes: list[Note]) -> Rec:
    ins: list[str] = []
    for s in rec.inputs:
        inner = ed[s]
        inline = (
            inner.op is Op.CONCAT
            and inner.aux == rec.aux
            and ed.users(s) == [rec.name]
            and rec.inputs.count(s) == 1
            and not ed.anchored(s)
        )
        if inline:
            ins += inner.inputs
            notes.append(Note(NAME, s, f"inlined into {rec.name}"))
        else:
            ins.append(s)
    return replace(rec, inputs=tuple(ins))


def _slice_of(ed: Editor, name: str) -> tuple[str, int, int] | None:
    rec = ed[name]
    a = rec.attrs
    if rec.op is Op.CHANNEL_SLICE and isinstance(a, ChannelSliceAttrs):
        return rec.inputs[0], a.start, a.size
    return None


def _merge_slices(ed: Editor, rec: Rec, notes: list[Note]) -> Rec:
    """Runs of adjacent inputs that are consecutive slices of one tensor, as one input."""
    ins: list[str] = []
    runs: list[list[str]] = []
    for s in rec.inputs:
        cur, prev = _slice_of(ed, s), _slice_of(ed, runs[-1][-1]) if runs else None
        if cur and prev and cur[0] == prev[0] and cur[1] == prev[1] + prev[2]:
            runs[-1].append(s)
        else:
            runs.append([s])
    for run in runs:
        if len(run) == 1:
            ins.append(run[0])
            continue
        src, start, _ = _slice_of(ed, run[0])  # type: ignore[misc]
        size = sum(ed[s].attrs.size for s in run)  # type: ignore[attr-defined]
        if start == 0 and size == ed.shape(src)[0]:
            ins.append(src)
            notes.append(Note(NAME, rec.name, f"reads {src} whole, not {', '.join(run)}"))
            continue
        name = _free_name(ed, f"{run[0]}_to_{run[-1].rsplit('.', 1)[-1]}")
        ed.insert(
            Rec(name, Op.CHANNEL_SLICE, ChannelSliceAttrs(start=start, size=size), (src,),
                rec.span, rec.aux),
            before=rec.name,
        )  # fmt: skip
        ins.append(name)
        notes.append(Note(NAME, rec.name, f"reads one slice {name}, not {', '.join(run)}"))
    return replace(rec, inputs=tuple(ins))


def _free_name(ed: Editor, base: str) -> str:
    name, i = base, 2
    while ed.taken(name):
        name, i = f"{base}_{i}", i + 1
    return name


def run(g: nx.DiGraph, weights: WeightMap, target: Target) -> Result:
    ed = Editor(g)
    notes: list[Note] = []
    for rec in ed.fresh():
        if rec.op is Op.CONCAT:
            new = _merge_slices(ed, _flatten(ed, rec, notes), notes)
            ed.set(new)
            if len(new.inputs) == 1:
                ed.bypass(new.name)
                notes.append(Note(NAME, new.name, "one input: removed"))
        elif (sl := _slice_of(ed, rec.name)) and sl[1] == 0 and sl[2] == ed.shape(sl[0])[0]:
            ed.bypass(rec.name)
            notes.append(Note(NAME, rec.name, "a slice of every channel: removed"))
    live = {ed.meta["output"]} | {h.output for h in ed.meta["aux_heads"]}
    for rec in reversed(ed.nodes()):
        if rec.name in live:
            live.update(rec.inputs)
        elif rec.op in (Op.CONCAT, Op.CHANNEL_SLICE):
            ed.remove(rec.name)  # an inlined concat, a merged slice: nobody reads it now
    return Result(ed.build(), dict(weights), tuple(notes))
