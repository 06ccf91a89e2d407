"""Horizontal fusion: sibling convolutions that read the same tensor become one convolution.

An Inception module starts with several 1x1 convs reading the module's input (three per
GoogLeNet and Inception-v3 module). Convs with the same input, kernel, stride, padding,
dilation, activation, bias and batch norm settings compute one conv whose output channels are
theirs stacked: `W = cat(W_1, ..., W_k)`, `b = cat(b_1, ..., b_k)`. Each original node becomes
a `channel_slice` of the fused output, under its own name, so every reader is unchanged (the
concat pass then merges slices that are adjacent concat inputs back into one tensor).

Whether it pays depends on the sizes and the runtime's layout (a channel slice is free in
NCHW at batch 1 but a copy in NHWC), so each site is decided by the cost model
(cost_model.py) and the decision, fused or not, is a note.
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx

from ..ir import Op
from ..ir.ops import ChannelSliceAttrs, ConvAttrs
from .base import Note, Result, Target
from .cost_model import Site, decide
from .edit import Editor, Rec
from .weights import Concat, WeightMap, node_keys

NAME = "hfuse"


def _key(rec: Rec) -> tuple[object, ...] | None:
    """What sibling convs must share to fuse (None: this node never fuses)."""
    a = rec.attrs
    if rec.op is not Op.CONV2D or not isinstance(a, ConvAttrs) or a.groups != 1:
        return None
    return (a.kernel, a.stride, a.pads, a.dilation, a.act, a.bias, a.bn, rec.aux)


def fused_name(ed: Editor, members: list[str]) -> str:
    """`<common scope>.<member names below it, joined by __>`, a name no node or scope has."""
    parts = [m.split(".") for m in members]
    common: list[str] = []
    for segs in zip(*parts, strict=False):
        if len(set(segs)) != 1 or len(common) + 1 >= min(len(p) for p in parts):
            break
        common.append(segs[0])
    leaf = "__".join("_".join(p[len(common) :]) for p in parts)
    base = ".".join([*common, leaf])
    name, i = base, 2
    while ed.taken(name):
        name, i = f"{base}_{i}", i + 1
    return name


def _groups(ed: Editor) -> list[tuple[str, list[Rec]]]:
    """(input, sibling convs) for each set of two or more fusable convs reading one tensor."""
    out = []
    for src in ed.nodes():
        by_key: dict[tuple[object, ...], list[Rec]] = {}
        for user in ed.users(src.name):
            rec = ed[user]
            key = _key(rec)
            if key is not None and rec.inputs == (src.name,):
                by_key.setdefault(key, []).append(rec)
        out += [(src.name, recs) for recs in by_key.values() if len(recs) > 1]
    return out


def _site(ed: Editor, src: str, members: list[Rec]) -> Site:
    a = members[0].attrs
    assert isinstance(a, ConvAttrs)
    c, h, w = ed.shape(src)
    _, oh, ow = ed.shape(members[0].name)
    sliced = sum(
        1 for m in members for u in ed.users(m.name) if ed[u].op is not Op.CONCAT
    )  # readers that get a slice (a copy in NHWC); concat inputs are copied anyway
    return Site(
        cin=c, h=h, w=w, out_h=oh, out_w=ow, kernel=a.kernel,
        couts=tuple(m.attrs.out_channels for m in members),  # type: ignore[attr-defined]
        sliced_readers=sliced,
    )  # fmt: skip


def run(g: nx.DiGraph, weights: WeightMap, target: Target) -> Result:
    ed = Editor(g)
    w = dict(weights)
    notes: list[Note] = []
    for src, members in _groups(ed):
        site = _site(ed, src, members)
        decision = decide(site, target)
        names = [m.name for m in members]
        listing = ", ".join(names)
        if not decision.fuse:
            notes.append(Note(NAME, src, f"not fused: {listing} ({decision.why})"))
            continue
        a = members[0].attrs
        assert isinstance(a, ConvAttrs)
        name = fused_name(ed, names)
        fused = Rec(
            name,
            Op.CONV2D,
            a.model_copy(update={"out_channels": sum(site.couts), "same": False}),
            (src,),
            members[0].span,
            members[0].aux,
        )
        member_keys = [node_keys(m.name, m.op, m.attrs) for m in members]
        for i, key in enumerate(node_keys(name, fused.op, fused.attrs)):
            w[key] = Concat(tuple(w.pop(keys[i]) for keys in member_keys))
        ed.insert(fused, before=members[0].name)
        start = 0
        for m, size in zip(members, site.couts, strict=True):
            ed.set(
                replace(
                    m, op=Op.CHANNEL_SLICE, attrs=ChannelSliceAttrs(start=start, size=size),
                    inputs=(name,),
                )
            )  # fmt: skip
            start += size
        notes.append(Note(NAME, name, f"fused {listing} ({decision.why})"))
    return Result(ed.build(), w, tuple(notes))
