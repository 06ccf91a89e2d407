"""A constant scale folded into the convolution or linear layer before it, where exact.

Inception-ResNet scales each residual branch (`conv 1x1 -> scale 0.17 -> add`). A conv with no
activation is linear, so `s * conv(x) = conv'(x)` with `W' = s W` and `b' = s b`; with a ReLU or
leaky ReLU and `s > 0` it still holds (`s relu(z) = relu(s z)`). Any other activation, a conv
unit that still has its batch norm (fold_bn off), or a conv that another node also reads keeps
its scale node.
"""

from __future__ import annotations

import networkx as nx

from ..ir import Op
from ..ir.ops import ConvAttrs, LinearAttrs, ScaleAttrs, SepConvAttrs
from .base import Note, Result, Target
from .edit import Editor, Rec
from .weights import Times, WeightMap, node_keys

NAME = "fold_scale"
_HOMOGENEOUS = ("relu", "leaky_relu")  # f(s x) = s f(x) for s > 0


def _why_not(ed: Editor, src: Rec, node: Rec, factor: float) -> str | None:
    a = src.attrs
    if src.op not in (Op.CONV2D, Op.SEPCONV2D, Op.LINEAR):
        return f"{src.name} is a {src.op.value}, not a conv or linear layer"
    if ed.users(src.name) != [node.name] or ed.anchored(src.name) or src.aux != node.aux:
        return f"{src.name} has other readers"
    if isinstance(a, ConvAttrs | SepConvAttrs):
        if a.bn is not None:
            return f"{src.name} still has its batch norm"
        if a.act is not None and not (a.act.fn in _HOMOGENEOUS and factor > 0):
            return f"{src.name}'s {a.act} does not commute with the scale"
    return None


def run(g: nx.DiGraph, weights: WeightMap, target: Target) -> Result:
    ed = Editor(g)
    w = dict(weights)
    notes: list[Note] = []
    for rec in ed.fresh():
        if rec.op is not Op.SCALE:
            continue
        assert isinstance(rec.attrs, ScaleAttrs)
        factor = float(rec.attrs.factor)
        src = ed[rec.inputs[0]]
        why = _why_not(ed, src, rec, factor)
        if why:
            notes.append(Note(NAME, rec.name, f"kept: {why}"))
            continue
        a = src.attrs
        assert isinstance(a, ConvAttrs | SepConvAttrs | LinearAttrs)
        keys = node_keys(src.name, src.op, a)
        # the last linear part carries the scale: the kernel (pointwise for sepconv) and bias
        scaled = keys[1:] if src.op is Op.SEPCONV2D else keys
        for k in scaled:
            w[k] = Times(w[k], factor)
        ed.bypass(rec.name)
        notes.append(Note(NAME, rec.name, f"x{factor:g} folded into {src.name}"))
    return Result(ed.build(), w, tuple(notes))
