"""Shape inference: input shapes + attributes -> output shape, for any op, via the registry.

Each op's shape function is part of its definition (inceptdsl/ir/ops/); this module is the one
entry point lowering and tests call, plus the window formulas they share (ir/geometry.py).
Shapes are per sample: (C, H, W) for feature maps, (F,) for flat tensors.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..front.source import Span
from ..ir.geometry import fmt_shape, same_pads, window_out
from ..ir.ops import REGISTRY, Attrs, Op
from ..ir.registry import Shape, ShapeCtx, ShapeFn

SHAPES: dict[Op, ShapeFn] = {op: d.shape for op, d in REGISTRY.items()}
"""The shape function of every op (derived from the registry)."""


def infer(
    op: Op,
    attrs: Attrs,
    ins: Sequence[Shape],
    span: Span | None = None,
    input_spans: Sequence[Span | None] = (),
) -> Shape:
    """The output shape of one node, or a located ShapeError (at the branch that is wrong)."""
    return SHAPES[op](attrs, list(ins), ShapeCtx(span, tuple(input_spans)))


__all__ = ["SHAPES", "Shape", "fmt_shape", "infer", "same_pads", "window_out"]
