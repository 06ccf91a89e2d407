"""Ops that move values without computing new ones: a slice of the channels, a channel
shuffle, explicit zero padding."""

from __future__ import annotations

from ...errors import ChannelError, GroupsError
from ..geometry import spatial
from ..options import explicit_padding, nonneg_int, pos_int
from ..registry import REQUIRED, Attrs, LayerDef, Op, OpDef, Pads, Shape, ShapeCtx, Trait, register


class ChannelSliceAttrs(Attrs):
    """Channels [start, start + size) of the input (torch `x[:, start:start + size]`)."""

    start: int
    size: int


class ChannelShuffleAttrs(Attrs):
    """ShuffleNet's channel shuffle: view the channels as (groups, C / groups), transpose,
    flatten; channel g * (C / groups) + j moves to j * groups + g."""

    groups: int


class ZeroPadAttrs(Attrs):
    """Zero rows and columns added (top, bottom, left, right): Keras' ZeroPadding2D, torch's
    F.pad. Before a max pool this differs from the pool's own -inf padding."""

    pads: Pads


def _slice_shape(a: ChannelSliceAttrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    c = ins[0][0]
    if a.start + a.size > c:
        raise ChannelError(
            f"channels {a.start} to {a.start + a.size - 1} do not exist: the input has {c}",
            ctx.span,
            hint="the slice sizes must add up to at most the input's channels",
        )
    return (a.size, *ins[0][1:])


def _shuffle_shape(a: ChannelShuffleAttrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    c, _, _ = spatial(ins[0], "channel shuffle", ctx.span)
    if c % a.groups:
        raise GroupsError(
            f"channel shuffle groups={a.groups} must divide the input's channels ({c})", ctx.span
        )
    return ins[0]


def _zeropad_shape(a: ZeroPadAttrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    c, h, w = spatial(ins[0], "zeropad", ctx.span)
    t, b, lft, r = a.pads
    return (c, h + t + b, w + lft + r)


def _free(a: Attrs, ins: list[Shape], out: Shape) -> tuple[int, int, int]:
    return 0, 0, 0


register(
    OpDef(
        Op.CHANNEL_SLICE,
        ChannelSliceAttrs,
        1,
        _slice_shape,
        _free,
        "channels [start, start + size) of the input (a merge's `split=` makes one per branch)",
        output="`(size, H, W)`",
        state="none (made by `slice`, and one per branch of a merge with `split=`)",
        layers=(
            LayerDef(
                "slice",
                ("start", "size"),
                {"start": REQUIRED, "size": REQUIRED},
                {"start": nonneg_int, "size": pos_int},
                lambda v, ctx: ChannelSliceAttrs(start=v["start"], size=v["size"]),
                "channels [start, start + size) of the input",
                notes="channels [start, start + size)",
            ),
        ),
    )
)
register(
    OpDef(
        Op.CHANNEL_SHUFFLE,
        ChannelShuffleAttrs,
        1,
        _shuffle_shape,
        _free,
        "ShuffleNet channel shuffle in `groups`",
        layers=(
            LayerDef(
                "shuffle",
                ("groups",),
                {"groups": REQUIRED},
                {"groups": pos_int},
                lambda v, ctx: ChannelShuffleAttrs(groups=v["groups"]),
                "channel shuffle (ShuffleNet): groups of channels interleaved",
                notes="ShuffleNet's channel shuffle",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
    )
)
register(
    OpDef(
        Op.ZEROPAD2D,
        ZeroPadAttrs,
        1,
        _zeropad_shape,
        _free,
        "zero padding (top, bottom, left, right)",
        output="`(C, H + top + bottom, W + left + right)`",
        layers=(
            LayerDef(
                "zeropad",
                ("pad",),
                {"pad": REQUIRED},
                {"pad": explicit_padding},
                lambda v, ctx: ZeroPadAttrs(pads=v["pad"]),
                "zero padding: p, (ph, pw) or ((top, bottom), (left, right)); Keras' ZeroPadding2D",
                notes="zero padding (p, (ph, pw) or ((top, bottom), (left, right))), Keras' "
                "`ZeroPadding2D`",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
    )
)
