"""Batch norm folded into the convolution before it (eval), and a lone activation into the conv.

In eval a batch norm is a per-channel affine map, `y = (x - mean) * gamma / sqrt(var + eps) +
beta`; after a convolution (or a separable conv's pointwise part) it folds exactly into the
kernel and the bias: `W' = W * f`, `b' = (b - mean) * f + beta` with `f = gamma / sqrt(var +
eps)`. That holds for a conv unit's own BN (`conv ... bn=bn(...)`) and for a `batchnorm` node
whose input is a conv nobody else reads. Then an `act` node reading such a conv alone becomes
the conv's `act`, which backends fuse (oneDNN post-ops, ONNX Runtime's Conv+Relu), so conv,
BN and activation end up as one op.
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx

from ..ir import Op
from ..ir.ops import ActAttrs, BatchNormAttrs, ConvAttrs, SepConvAttrs
from .base import Note, Result, Target
from .edit import Editor, Rec
from .weights import Expr, Fill, InvStd, WeightMap, add, bn_keys, mul, node_keys, sub

NAME = "fold_bn"


def bn_affine(
    weights: WeightMap, prefix: str, a: BatchNormAttrs, channels: int
) -> tuple[Expr, Expr, Expr]:
    """(f, mean, beta) of the batch norm at `prefix`: y = (x - mean) * f + beta."""
    gamma = weights[f"{prefix}.weight"] if a.scale else Fill(1.0, (channels,))
    beta = weights[f"{prefix}.bias"] if a.center else Fill(0.0, (channels,))
    f = mul(gamma, InvStd(weights[f"{prefix}.running_var"], a.eps))
    return f, weights[f"{prefix}.running_mean"], beta


def _kernel_keys(name: str, op: Op, a: ConvAttrs | SepConvAttrs) -> tuple[str, str | None]:
    """(the key of the kernel that BN scales, the key of the bias beside it) of a conv node."""
    keys = node_keys(name, op, a)
    if op is Op.SEPCONV2D:
        kernel = keys[1]  # the pointwise kernel: depthwise, then pointwise, then BN
        bias = keys[2] if a.bias else None
    else:
        kernel = keys[0]
        bias = keys[1] if a.bias else None
    return kernel, bias


def _folded(
    weights: dict[str, Expr],
    rec: Rec,
    bn_prefix: str,
    bn: BatchNormAttrs,
    channels: int,
) -> Rec:
    """The conv of `rec` with the BN at `bn_prefix` folded in (its state rewritten in place in
    `weights`), as a bare conv with a bias."""
    a = rec.attrs
    assert isinstance(a, ConvAttrs | SepConvAttrs)
    kernel, bias = _kernel_keys(rec.name, rec.op, a)
    f, mean, beta = bn_affine(weights, bn_prefix, bn, channels)
    b = weights[bias] if bias else Fill(0.0, (channels,))
    new = {
        "weight": mul(weights[kernel], f),
        "bias": add(mul(sub(b, mean), f), beta),
    }
    old_keys = node_keys(rec.name, rec.op, a)  # a unit's own BN keys included
    out = replace(rec, attrs=a.model_copy(update={"bn": None, "bias": True}))
    new_keys = node_keys(out.name, out.op, out.attrs)
    if rec.op is Op.SEPCONV2D:  # conv1 (depthwise) moves from `<n>.conv.conv1` to `<n>.conv1`
        depthwise = weights[old_keys[0]]
        values = [depthwise, new["weight"], new["bias"]]
    else:
        values = [new["weight"], new["bias"]]
    for k in old_keys:
        weights.pop(k, None)
    weights.update(zip(new_keys, values, strict=True))
    return out


def run(g: nx.DiGraph, weights: WeightMap, target: Target) -> Result:
    ed = Editor(g)
    w = dict(weights)
    notes: list[Note] = []
    for rec in ed.nodes():
        a = rec.attrs
        if rec.op in (Op.CONV2D, Op.SEPCONV2D) and isinstance(a, ConvAttrs | SepConvAttrs):
            if a.bn is not None:
                ed.set(_folded(w, rec, f"{rec.name}.bn", a.bn, a.out_channels))
                notes.append(Note(NAME, rec.name, "its batch norm folded into the conv"))
    for rec in ed.fresh():
        if rec.op is not Op.BATCHNORM:
            continue
        src = ed[rec.inputs[0]]
        sa = src.attrs
        if not _foldable_into(ed, src, rec):
            if src.op in (Op.CONV2D, Op.SEPCONV2D):
                notes.append(Note(NAME, rec.name, f"kept: {src.name} has other readers or an act"))
            else:
                notes.append(Note(NAME, rec.name, f"kept: after a {src.op.value}, not a conv"))
            continue
        assert isinstance(rec.attrs, BatchNormAttrs) and isinstance(sa, ConvAttrs | SepConvAttrs)
        ed.set(_folded(w, src, rec.name, rec.attrs, sa.out_channels))
        for k in bn_keys(rec.name, rec.attrs):
            del w[k]
        ed.bypass(rec.name)
        notes.append(Note(NAME, rec.name, f"folded into {src.name}"))
    for rec in ed.fresh():
        if rec.op is not Op.ACT:
            continue
        src = ed[rec.inputs[0]]
        if not _foldable_into(ed, src, rec):
            continue
        assert isinstance(rec.attrs, ActAttrs)
        ed.set(replace(src, attrs=src.attrs.model_copy(update={"act": rec.attrs.fn})))
        ed.bypass(rec.name)
        notes.append(Note(NAME, rec.name, f"{rec.attrs.fn} folded into {src.name}"))
    return Result(ed.build(), w, tuple(notes))


def _foldable_into(ed: Editor, src: Rec, rec: Rec) -> bool:
    """Whether `rec` (a BN or an activation) can become part of conv `src`: `src` is a conv
    with no activation and no BN of its own, `rec` is its only reader, and nothing else names
    `src` (the output, an aux tap)."""
    a = src.attrs
    return (
        src.op in (Op.CONV2D, Op.SEPCONV2D)
        and isinstance(a, ConvAttrs | SepConvAttrs)
        and a.act is None
        and a.bn is None
        and src.aux == rec.aux
        and ed.users(src.name) == [rec.name]
        and not ed.anchored(src.name)
    )
