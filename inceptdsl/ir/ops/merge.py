"""Merges of branches: `concat { }` along channels, elementwise `add { }` and `multiply { }`.

Each merge keyword takes one branch per statement. Elementwise merges broadcast like NumPy over
(C, H, W): where two inputs differ, one of them must be 1 (a `C x 1 x 1` gate times a
`C x H x W` map: squeeze-excitation). Shape errors point at the offending branch, with a note
at the first one.

Every merge takes `split=`: the input's channels are split into parts, one per branch, instead
of every branch seeing the whole input — `split=2` halves them (ShuffleNet v2), `split=(c - 3 *
g, g, g, g)` gives explicit sizes (InceptionNeXt). Lowering makes one `channel_slice` node per
branch (inceptdsl/ir/ops/tensor.py).
"""

from __future__ import annotations

from typing import Any

from ...errors import AddShapeError, ConcatShapeError, InvalidValueError, Note
from ...front.source import Span
from ..geometry import fmt_shape
from ..options import pos_int
from ..registry import Attrs, MergeDef, Op, OpDef, Shape, ShapeCtx, Trait, register


class ConcatAttrs(Attrs):
    """Concatenate along channels, inputs in edge-index order."""


class AddAttrs(Attrs):
    """Elementwise sum of inputs (broadcast where a dimension is 1), in edge-index order."""


class MultiplyAttrs(Attrs):
    """Elementwise product of inputs (broadcast where a dimension is 1), in edge-index order."""


def split_option(v: Any, span: Span, what: str) -> int | tuple[int, ...]:
    """`split=N` (N equal parts) or `split=(a, b, ...)` (parts of these sizes)."""
    if isinstance(v, tuple):
        if len(v) < 2:
            raise InvalidValueError(f"{what} needs at least two sizes", span)
        return tuple(pos_int(x, span, what) for x in v)
    n = pos_int(v, span, what)
    if n < 2:
        raise InvalidValueError(f"{what} must split into at least 2 parts, got {n}", span)
    return n


_MERGE_OPTIONS = {"split": split_option}


def _concat_shape(a: Attrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    """Channels summed; every input must have the same spatial size as the first."""
    first = ins[0]
    for i, s in enumerate(ins[1:], start=1):
        if len(s) != len(first) or s[1:] != first[1:]:
            raise ConcatShapeError(
                f"concat inputs differ: branch {i + 1} is {fmt_shape(s[1:]) or 'flat'}, "
                f"branch 1 is {fmt_shape(first[1:]) or 'flat'}",
                ctx.input_span(i),
                notes=_first_note(ctx, "branch 1 is here"),
                hint="make every branch reduce the input by the same factor "
                "(same strides, and padding that keeps the size)",
            )
    return (sum(s[0] for s in ins), *first[1:])


def _first_note(ctx: ShapeCtx, message: str) -> list[Note]:
    return [Note(message, ctx.input_spans[0])] if ctx.input_spans and ctx.input_spans[0] else []


def broadcast(what: str, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    """The shape of an elementwise op's output: NumPy broadcasting over (C, H, W) or (F,)."""
    out = ins[0]
    for i, s in enumerate(ins[1:], start=1):
        if len(s) != len(out) or any(
            x != y and 1 not in (x, y) for x, y in zip(s, out, strict=True)
        ):
            raise AddShapeError(
                f"{what} inputs do not match: input {i + 1} is {fmt_shape(s)}, "
                f"input 1 is {fmt_shape(ins[0])}",
                ctx.input_span(i),
                notes=_first_note(ctx, "input 1 is here"),
                hint=f"`{what}` needs inputs of the same shape, or of size 1 where they differ "
                "(a C x 1 x 1 gate broadcasts over H x W)",
            )
        out = tuple(max(x, y) for x, y in zip(s, out, strict=True))
    return out


def _free(a: Attrs, ins: list[Shape], out: Shape) -> tuple[int, int, int]:
    return 0, 0, 0


register(
    OpDef(
        Op.CONCAT,
        ConcatAttrs,
        None,
        _concat_shape,
        _free,
        "concatenate along channels",
        output="channels summed",
        merge=MergeDef("concat", "concatenate the branches along channels", _MERGE_OPTIONS),
        traits=frozenset({Trait.FRESH}),
    )
)
register(
    OpDef(
        Op.ADD,
        AddAttrs,
        None,
        lambda a, ins, ctx: broadcast("add", ins, ctx),
        _free,
        "elementwise sum (broadcast where a dimension is 1)",
        output="the inputs broadcast (NumPy rules over C, H, W)",
        merge=MergeDef("add", "add the branches elementwise", _MERGE_OPTIONS),
        traits=frozenset({Trait.FRESH}),
    )
)
register(
    OpDef(
        Op.MULTIPLY,
        MultiplyAttrs,
        None,
        lambda a, ins, ctx: broadcast("multiply", ins, ctx),
        _free,
        "elementwise product (broadcast where a dimension is 1): gates",
        output="the inputs broadcast (a `C x 1 x 1` gate times a map)",
        merge=MergeDef("multiply", "multiply the branches elementwise", _MERGE_OPTIONS),
        traits=frozenset({Trait.FRESH}),
    )
)
