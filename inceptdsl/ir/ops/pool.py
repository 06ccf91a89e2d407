"""Pooling: windowed max and average pooling, global pooling, adaptive average pooling."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...errors import InvalidValueError
from ..geometry import resolve_pads, spatial, windowed
from ..options import boolean, optional, optional_pair, padding, pair
from ..registry import (
    REQUIRED,
    Attrs,
    BuildCtx,
    LayerDef,
    Op,
    OpDef,
    Pads,
    Pair,
    Shape,
    ShapeCtx,
    Trait,
    register,
)


class PoolAttrs(Attrs):
    """Max or average pooling. `count_include_pad` only matters for average pooling.

    `ceil_mode` follows torch: the output size is rounded up, but a window may not start in
    the bottom/right padding.
    """

    kernel: Pair
    stride: Pair
    pads: Pads = (0, 0, 0, 0)
    same: bool = False
    ceil_mode: bool = False
    count_include_pad: bool = True


class GlobalPoolAttrs(Attrs):
    pass


class AdaptivePoolAttrs(Attrs):
    """torch AdaptiveAvgPool2d: window i spans [floor(i*in/out), ceil((i+1)*in/out))."""

    output_size: Pair


def _pool_shape(a: PoolAttrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    c, _, _ = spatial(ins[0], "pooling", ctx.span)
    h, w = windowed("pooling", ins[0], a.kernel, a.stride, a.pads, (1, 1), a.ceil_mode, ctx.span)
    return (c, h, w)


def _global_shape(a: Attrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    c, _, _ = spatial(ins[0], "global pooling", ctx.span)
    return (c, 1, 1)


def _adaptive_shape(a: AdaptivePoolAttrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    c, _, _ = spatial(ins[0], "adaptive pooling", ctx.span)
    return (c, *a.output_size)


def _free(a: Attrs, ins: list[Shape], out: Shape) -> tuple[int, int, int]:
    return 0, 0, 0


def _pool_build(avg: bool) -> Callable[[Mapping[str, Any], BuildCtx], Attrs]:
    def build(v: Mapping[str, Any], ctx: BuildCtx) -> Attrs:
        stride = v["stride"] if v["stride"] is not None else v["kernel"]
        pads, same = resolve_pads(v["pad"], ctx.in_shape, v["kernel"], stride)
        kh, kw = v["kernel"]
        if max(pads[:2]) >= kh or max(pads[2:]) >= kw:
            raise InvalidValueError(
                f"pooling padding {pads} (top, bottom, left, right) is not smaller than the "
                f"kernel {kh}x{kw}: some windows would hold only padding",
                ctx.span,
                hint="pad at most kernel - 1 on each side (kernel // 2 keeps the size)",
            )
        return PoolAttrs(
            kernel=v["kernel"],
            stride=stride,
            pads=pads,
            same=same,
            ceil_mode=v["ceil"],
            # `pad=same` follows TF and Keras (padding not counted) unless told otherwise
            count_include_pad=(not same if v["count_pad"] is None else v["count_pad"])
            if avg
            else True,
        )

    return build


_POOL_CHECKS = {
    "kernel": pair,
    "stride": optional_pair,
    "pad": padding,
    "ceil": boolean,
    "count_pad": optional(boolean),
}
_POOL_OPTIONS = {"kernel": REQUIRED, "stride": None, "pad": 0, "ceil": False, "count_pad": None}


def _pool_layer(name: str, doc: str, avg: bool, notes: str) -> LayerDef:
    """A windowed pooling keyword; only average pooling has `count_pad`."""
    options = (
        dict(_POOL_OPTIONS) if avg else {k: v for k, v in _POOL_OPTIONS.items() if k != "count_pad"}
    )
    return LayerDef(name, ("kernel",), options, _POOL_CHECKS, _pool_build(avg), doc, notes=notes)


def _bare(name: str, attrs: Attrs, doc: str) -> LayerDef:
    return LayerDef(name, (), {}, {}, lambda v, ctx: attrs, doc, notes="output C x 1 x 1")


register(
    OpDef(
        Op.MAXPOOL2D,
        PoolAttrs,
        1,
        _pool_shape,
        _free,
        "max pooling (padding is -inf)",
        output="`(C, H', W')`",
        layers=(
            _pool_layer(
                "maxpool",
                "max pooling (stride defaults to the kernel size)",
                False,
                "`stride` is the kernel unless given",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
    )
)
register(
    OpDef(
        Op.AVGPOOL2D,
        PoolAttrs,
        1,
        _pool_shape,
        _free,
        "average pooling (padding is zeros; `count_include_pad`: padded positions count)",
        output="`(C, H', W')`",
        layers=(
            _pool_layer(
                "avgpool",
                "average pooling; count_pad: padding counts in the average (default: true, "
                "false with pad=same as in TF)",
                True,
                "`stride` is the kernel unless given; `count_pad`: whether padding counts in the "
                "average (true, as in torch; false with `pad=same`, as in TF and Keras)",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
    )
)
register(
    OpDef(
        Op.GLOBAL_AVGPOOL,
        GlobalPoolAttrs,
        1,
        _global_shape,
        _free,
        "average over H x W",
        output="`(C, 1, 1)`",
        layers=(_bare("global_avgpool", GlobalPoolAttrs(), "global average pooling to C x 1 x 1"),),
        traits=frozenset({Trait.FRESH}),
    )
)
register(
    OpDef(
        Op.GLOBAL_MAXPOOL,
        GlobalPoolAttrs,
        1,
        _global_shape,
        _free,
        "maximum over H x W",
        output="`(C, 1, 1)`",
        layers=(_bare("global_maxpool", GlobalPoolAttrs(), "global max pooling to C x 1 x 1"),),
        traits=frozenset({Trait.FRESH}),
    )
)
register(
    OpDef(
        Op.ADAPTIVE_AVGPOOL2D,
        AdaptivePoolAttrs,
        1,
        _adaptive_shape,
        _free,
        "adaptive average pooling to a fixed output size (torch semantics)",
        output="`(C, oh, ow)`",
        layers=(
            LayerDef(
                "adaptive_avgpool",
                ("size",),
                {"size": REQUIRED},
                {"size": pair},
                lambda v, ctx: AdaptivePoolAttrs(output_size=v["size"]),
                "adaptive average pooling to a fixed output size (torch semantics)",
                notes="torch `AdaptiveAvgPool2d`",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
    )
)
