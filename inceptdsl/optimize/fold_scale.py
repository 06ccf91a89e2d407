"""A constant scale, or a learned per-channel layer scale, folded into the convolution or
linear layer before it, where exact.

Inception-ResNet scales each residual branch (`conv 1x1 -> scale 0.17 -> add`). A conv with no
activation is linear, so `s * conv(x) = conv'(x)` with `W' = s W` and `b' = s b`; with a ReLU or
leaky ReLU and `s > 0` it still holds (`s relu(z) = relu(s z)`). ConvNeXt and InceptionNeXt
multiply each block's last linear layer (or 1x1 conv) by a layer scale `gamma`, one factor per
output channel: `W' = gamma W` row by row, `b' = gamma b`, exact for a layer with no
activation (gamma's signs are not known here, so an activation keeps it), whatever the
parameter's stored shape ((C,) or (C, 1, 1)). Any other activation, a conv unit that still has
its batch norm (fold_bn off), or a layer that another node also reads keeps its scale node.
"""

from __future__ import annotations

import networkx as nx

from ..ir import Op
from ..ir.ops import ConvAttrs, LinearAttrs, ScaleAttrs, SepConvAttrs
from .base import Note, Result, Target
from .edit import Editor, Rec
from .weights import Expr, Times, WeightMap, mul, node_keys

NAME = "fold_scale"
_HOMOGENEOUS = ("relu", "leaky_relu")  # f(s x) = s f(x) for s > 0


def _why_not(ed: Editor, src: Rec, node: Rec, factor: float | None) -> str | None:
    """Why the scale (a constant `factor`, or a layer scale: None) cannot be folded into
    `src`; None if it can."""
    a = src.attrs
    if src.op not in (Op.CONV2D, Op.SEPCONV2D, Op.LINEAR):
        return f"{src.name} is a {src.op.value}, not a conv or linear layer"
    if ed.users(src.name) != [node.name] or ed.anchored(src.name) or src.aux != node.aux:
        return f"{src.name} has other readers"
    if isinstance(a, ConvAttrs | SepConvAttrs):
        if a.bn is not None:
            return f"{src.name} still has its batch norm"
        if a.act is not None and not (
            factor is not None and a.act.fn in _HOMOGENEOUS and factor > 0
        ):
            return f"{src.name}'s {a.act} does not commute with the scale"
    return None


def run(g: nx.DiGraph, weights: WeightMap, target: Target) -> Result:
    ed = Editor(g)
    w: dict[str, Expr] = dict(weights)
    notes: list[Note] = []
    for rec in ed.fresh():
        if rec.op is Op.SCALE:
            assert isinstance(rec.attrs, ScaleAttrs)
            factor: float | None = float(rec.attrs.factor)
        elif rec.op is Op.LAYER_SCALE:
            factor = None
        else:
            continue
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
        if factor is None:  # a layer scale: its gamma, one factor per output channel
            gamma = w.pop(rec.name)
            for k in scaled:
                w[k] = mul(w[k], gamma)
            text = f"layer scale folded into {src.name}"
        else:
            for k in scaled:
                w[k] = Times(w[k], factor)
            text = f"x{factor:g} folded into {src.name}"
        ed.bypass(rec.name)
        notes.append(Note(NAME, rec.name, text))
    return Result(ed.build(), w, tuple(notes))
