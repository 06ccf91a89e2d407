"""Shape inference: one function per op, input shapes + attributes -> output shape.

Shapes are per sample: (C, H, W) for feature maps, (F,) for flat tensors. The formulas are
torch's (torch.nn.Conv2d / MaxPool2d docs), including ceil mode's rule that the last window
must start inside the input or the left/top padding; TF `same` padding follows TensorFlow's
`get_pad` (out = ceil(in / stride), the odd pixel of padding bottom/right), as timm's
`padding.py` does. Errors are static and located: the caller passes the span of the layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .errors import (
    AddShapeError,
    ChannelError,
    ConcatShapeError,
    EmptyOutputError,
    GroupsError,
    KernelTooLargeError,
    Note,
    RankError,
)
from .ir.ops import (
    AdaptivePoolAttrs,
    Attrs,
    ConvAttrs,
    LinearAttrs,
    Op,
    Pads,
    PoolAttrs,
    SepConvAttrs,
)
from .source import Span

Shape = tuple[int, ...]


def fmt_shape(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF 'SAME' padding for one dimension: (before, after), the extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def window_out(
    size: int,
    kernel: int,
    stride: int,
    before: int,
    after: int,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of a sliding window (torch semantics, incl. ceil mode's last-window rule)."""
    span = size + before + after - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + before:
            out -= 1
    else:
        out = span // stride + 1
    return out


def _spatial(shape: Shape, what: str, span: Span | None) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise RankError(
            f"{what} needs a feature map (channels x height x width), "
            f"but its input is flat ({shape[0]} features)",
            span,
            hint="spatial layers must come before `flatten`",
        )
    return shape[0], shape[1], shape[2]


def _windowed(
    what: str,
    shape: Shape,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pads: Pads,
    dilation: tuple[int, int],
    ceil_mode: bool,
    span: Span | None,
) -> tuple[int, int]:
    _, h, w = _spatial(shape, what, span)
    outs = []
    for size, k, s, before, after, d, axis in (
        (h, kernel[0], stride[0], pads[0], pads[1], dilation[0], "height"),
        (w, kernel[1], stride[1], pads[2], pads[3], dilation[1], "width"),
    ):
        eff = d * (k - 1) + 1
        padded = size + before + after
        if eff > padded:
            dil = f" (dilated to {eff})" if d > 1 else ""
            raise KernelTooLargeError(
                f"{what} kernel {kernel[0]}x{kernel[1]}{dil} is larger than its padded input: "
                f"{axis} {size} + padding {before + after} = {padded} < {eff}",
                span,
                hint="pad the input, use a smaller kernel, or move this layer before the "
                "layers that shrink the input",
            )
        out = window_out(size, k, s, before, after, d, ceil_mode)
        if out <= 0:
            raise EmptyOutputError(
                f"{what} output {axis} would be {out} (input {axis} {size})", span
            )
        outs.append(out)
    return outs[0], outs[1]


def conv2d(a: ConvAttrs, ins: list[Shape], span: Span | None) -> Shape:
    c, _, _ = _spatial(ins[0], "conv", span)
    _channels(a.out_channels, span)
    if c % a.groups or a.out_channels % a.groups:
        raise GroupsError(
            f"conv groups={a.groups} must divide both input channels ({c}) and output "
            f"channels ({a.out_channels})",
            span,
        )
    h, w = _windowed("conv", ins[0], a.kernel, a.stride, a.pads, a.dilation, False, span)
    return (a.out_channels, h, w)


def sepconv2d(a: SepConvAttrs, ins: list[Shape], span: Span | None) -> Shape:
    _spatial(ins[0], "sepconv", span)
    _channels(a.out_channels, span)
    h, w = _windowed("sepconv", ins[0], a.kernel, a.stride, a.pads, a.dilation, False, span)
    return (a.out_channels, h, w)


def pool2d(a: PoolAttrs, ins: list[Shape], span: Span | None) -> Shape:
    c, _, _ = _spatial(ins[0], "pooling", span)
    h, w = _windowed("pooling", ins[0], a.kernel, a.stride, a.pads, (1, 1), a.ceil_mode, span)
    return (c, h, w)


def global_pool(a: Attrs, ins: list[Shape], span: Span | None) -> Shape:
    c, _, _ = _spatial(ins[0], "global pooling", span)
    return (c, 1, 1)


def adaptive_pool(a: AdaptivePoolAttrs, ins: list[Shape], span: Span | None) -> Shape:
    c, _, _ = _spatial(ins[0], "adaptive pooling", span)
    return (c, *a.output_size)


def same_shape(_: Attrs, ins: list[Shape], span: Span | None) -> Shape:
    return ins[0]


def spatial_same(_: Attrs, ins: list[Shape], span: Span | None) -> Shape:
    _spatial(ins[0], "this layer", span)
    return ins[0]


def flatten(_: Attrs, ins: list[Shape], span: Span | None) -> Shape:
    return (math.prod(ins[0]),)


def linear(a: LinearAttrs, ins: list[Shape], span: Span | None) -> Shape:
    if len(ins[0]) != 1:
        raise RankError(
            f"linear needs a flat input, but its input is {fmt_shape(ins[0])}",
            span,
            hint="add `flatten` (or a global pool and `flatten`) before `linear`",
        )
    _channels(a.out_features, span, "output features")
    return (a.out_features,)


def _channels(n: int, span: Span | None, what: str = "output channels") -> None:
    if n <= 0:
        raise ChannelError(f"{what} must be a positive integer, got {n}", span)


def concat(ins: list[Shape], span: Span | None, spans: list[Span | None] | None = None) -> Shape:
    """Channels summed; every input must have the same spatial size as the first."""
    first = ins[0]
    for i, s in enumerate(ins[1:], start=2):
        if len(s) != len(first) or s[1:] != first[1:]:
            raise ConcatShapeError(
                f"concat inputs differ: branch {i} is {fmt_shape(s[1:]) or 'flat'}, "
                f"branch 1 is {fmt_shape(first[1:]) or 'flat'}",
                spans[i - 1] if spans else span,
                notes=[Note("branch 1 is here", spans[0])] if spans and spans[0] else [],
                hint="make every branch reduce the input by the same factor "
                "(same strides, and padding that keeps the size)",
            )
    if len(first) == 1:
        return (sum(s[0] for s in ins),)
    return (sum(s[0] for s in ins), *first[1:])


def add(ins: list[Shape], span: Span | None, spans: list[Span | None] | None = None) -> Shape:
    first = ins[0]
    for i, s in enumerate(ins[1:], start=2):
        if s != first:
            raise AddShapeError(
                f"add inputs differ: input {i} is {fmt_shape(s)}, input 1 is {fmt_shape(first)}",
                spans[i - 1] if spans else span,
                notes=[Note("input 1 is here", spans[0])] if spans and spans[0] else [],
                hint="a residual branch must give back its input's shape: project it with "
                "`conv in.channels 1x1`, or give the shortcut a matching projection",
            )
    return first


ShapeFn = Callable[[Attrs, list[Shape], Span | None], Shape]

SHAPES: dict[Op, ShapeFn] = {
    Op.INPUT: lambda a, ins, span: a.shape,  # type: ignore[attr-defined]
    Op.CONV2D: conv2d,  # type: ignore[dict-item]
    Op.SEPCONV2D: sepconv2d,  # type: ignore[dict-item]
    Op.BATCHNORM: spatial_same,
    Op.ACT: same_shape,
    Op.MAXPOOL2D: pool2d,  # type: ignore[dict-item]
    Op.AVGPOOL2D: pool2d,  # type: ignore[dict-item]
    Op.GLOBAL_AVGPOOL: global_pool,
    Op.GLOBAL_MAXPOOL: global_pool,
    Op.ADAPTIVE_AVGPOOL2D: adaptive_pool,  # type: ignore[dict-item]
    Op.LRN: spatial_same,
    Op.DROPOUT: same_shape,
    Op.FLATTEN: flatten,
    Op.LINEAR: linear,  # type: ignore[dict-item]
    Op.CONCAT: lambda a, ins, span: concat(ins, span),
    Op.ADD: lambda a, ins, span: add(ins, span),
    Op.SCALE: same_shape,
    Op.IDENTITY: same_shape,
}
"""The shape function of every op (a test checks every Op has one)."""
