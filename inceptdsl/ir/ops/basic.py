"""The network's input, and the ops that pass, drop, scale or reshape values: identity,
dropout, drop path, scale, layer scale, flatten, linear."""

from __future__ import annotations

import math
from typing import Any

from ...errors import InvalidValueError, RankError
from ...front.source import Span
from ..geometry import fmt_shape, positive_channels
from ..options import boolean, channels, number, pos_int, probability
from ..registry import REQUIRED, Attrs, LayerDef, Op, OpDef, Shape, ShapeCtx, Trait, quiet, register
from ..state import TensorDef, bias, kernel
from .conv import Init, init_option


class InputAttrs(Attrs):
    shape: tuple[int, ...]


class IdentityAttrs(Attrs):
    pass


class DropoutAttrs(Attrs):
    p: float


class ScaleAttrs(Attrs):
    """Multiply by a constant (the residual scaling of Inception-ResNet)."""

    factor: float


class DropPathAttrs(Attrs):
    """Stochastic depth: in training, each sample is zeroed with probability p and the others
    divided by 1 - p (timm's drop_path, torchvision's StochasticDepth "row"); identity in eval."""

    p: float


class LayerScaleAttrs(Attrs):
    """A learnable per-channel multiplier (`gamma`, initialised to `init`): the parameter sits
    at the node's own path (timm's `stages.0.blocks.0.gamma`), not in a child module. `dims`
    is the rank it is stored with: 1 is `(C,)` (timm), 3 is `(C, 1, 1)` (torchvision's
    CNBlock `layer_scale`, on a map only); the values and the function are the same."""

    init: float
    dims: int = quiet(1)


class FlattenAttrs(Attrs):
    """Flatten (C, H, W) to C*H*W in channel-major (NCHW) order, as torch does."""


class LinearAttrs(Attrs):
    """A fully connected layer, weight `(out, in)` as nn.Linear stores it. `per_position`: on a
    C x H x W map, the same layer applied to each position's channel vector (ConvNeXt's
    channels-last MLP; a 1x1 convolution with the weight laid out as a Linear's)."""

    out_features: int
    bias: bool = True
    init: Init | None = None
    per_position: bool = quiet(False)


def _same(a: Attrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    return ins[0]


def _free(a: Attrs, ins: list[Shape], out: Shape) -> tuple[int, int, int]:
    return 0, 0, 0


def _linear_shape(a: LinearAttrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    if a.per_position:
        if len(ins[0]) != 3:
            raise RankError(
                "linear per_position=true needs a feature map (channels x height x width), "
                f"but its input is flat ({fmt_shape(ins[0])} features)",
                ctx.span,
                hint="drop `per_position=true`: on a flat input `linear` is already one layer",
            )
        positive_channels(a.out_features, ctx.span, "output features")
        return (a.out_features, *ins[0][1:])
    if len(ins[0]) != 1:
        raise RankError(
            f"linear needs a flat input, but its input is {fmt_shape(ins[0])}",
            ctx.span,
            hint="add `flatten` (or a global pool and `flatten`) before `linear`, or"
            " `per_position=true` to apply it to each position's channels (ConvNeXt's MLP)",
        )
    positive_channels(a.out_features, ctx.span, "output features")
    return (a.out_features,)


def _linear_cost(a: LinearAttrs, ins: list[Shape], out: Shape) -> tuple[int, int, int]:
    weights = ins[0][0] * a.out_features
    positions = math.prod(out[1:])  # 1 for a flat input; H * W per position
    return weights + (a.out_features if a.bias else 0), 0, weights * positions


def _scale_dims(v: Any, span: Span, what: str) -> int:
    """1 (a `(C,)` parameter) or 3 (`(C, 1, 1)`)."""
    n = pos_int(v, span, what)
    if n not in (1, 3):
        raise InvalidValueError(f"{what} must be 1 (C) or 3 (C x 1 x 1), got {n}", span)
    return n


def _layer_scale_shape(a: LayerScaleAttrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    if a.dims == 3 and len(ins[0]) != 3:
        raise RankError(
            "layer_scale dims=3 (a C x 1 x 1 parameter) needs a feature map, "
            f"but its input is flat ({fmt_shape(ins[0])} features)",
            ctx.span,
            hint="use `dims=1` on a flat input",
        )
    return ins[0]


def _layer_scale_tensors(a: LayerScaleAttrs, cin: int, cout: int) -> tuple[TensorDef, ...]:
    """One parameter at the node's own path, filled with `init`."""
    column = a.dims == 3
    shape = (cout, 1, 1) if column else (cout,)
    return (TensorDef("", "", "gamma", "column" if column else "vector", shape, 0, a.init),)


def _linear_tensors(a: LinearAttrs, cin: int, cout: int) -> tuple[TensorDef, ...]:
    """A Dense kernel (out, in) in torch; per position, the same on each position's channels."""
    w = kernel("weight", "", "kernel", "dense", (a.out_features, cin))
    return (w, *((bias("bias", "", cout, cin),) if a.bias else ()))


register(
    OpDef(
        Op.INPUT,
        InputAttrs,
        0,
        lambda a, ins, ctx: a.shape,
        _free,
        "the network's input (exactly one, named `input`; made by the `input` statement)",
        output="`shape`",
        state="none (exactly one, named `input`)",
    )
)
register(
    OpDef(
        Op.IDENTITY,
        IdentityAttrs,
        1,
        _same,
        _free,
        "pass the input through",
        layers=(
            LayerDef(
                "identity", (), {}, {}, lambda v, c: IdentityAttrs(), "pass the input through"
            ),
        ),
        traits=frozenset({Trait.ALIAS, Trait.EVAL_IDENTITY}),
    )
)
register(
    OpDef(
        Op.DROPOUT,
        DropoutAttrs,
        1,
        _same,
        _free,
        "dropout (identity at inference)",
        state="none (identity in eval)",
        layers=(
            LayerDef(
                "dropout",
                ("p",),
                {"p": REQUIRED},
                {"p": probability},
                lambda v, ctx: DropoutAttrs(p=v["p"]),
                "dropout (identity at inference)",
            ),
        ),
        traits=frozenset({Trait.ALIAS, Trait.EVAL_IDENTITY}),
    )
)
register(
    OpDef(
        Op.SCALE,
        ScaleAttrs,
        1,
        _same,
        _free,
        "multiply by a constant",
        layers=(
            LayerDef(
                "scale",
                ("factor",),
                {"factor": REQUIRED},
                {"factor": number},
                lambda v, ctx: ScaleAttrs(factor=v["factor"]),
                "multiply by a constant",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
    )
)
register(
    OpDef(
        Op.DROP_PATH,
        DropPathAttrs,
        1,
        _same,
        _free,
        "stochastic depth: drops whole samples in training, identity in eval",
        state="none (per-sample drop in training, identity in eval)",
        layers=(
            LayerDef(
                "drop_path",
                ("p",),
                {"p": REQUIRED},
                {"p": probability},
                lambda v, ctx: DropPathAttrs(p=v["p"]),
                "stochastic depth (per-sample drop in training, identity in eval)",
                notes="stochastic depth: whole samples dropped in training, identity in eval",
            ),
        ),
        traits=frozenset({Trait.ALIAS, Trait.EVAL_IDENTITY}),
    )
)
register(
    OpDef(
        Op.LAYER_SCALE,
        LayerScaleAttrs,
        1,
        _layer_scale_shape,
        lambda a, ins, out: (ins[0][0], 0, 0),
        "multiply each channel by a learnable factor",
        state="one parameter of C values at the node's path itself (`stages.0.blocks.0.gamma`),"
        " shaped `(C,)`, or `(C, 1, 1)` with `dims=3` (torchvision's"
        " `features.1.0.layer_scale`)",
        layers=(
            LayerDef(
                "layer_scale",
                (),
                {"init": 1e-6, "dims": 1},
                {"init": number, "dims": _scale_dims},
                lambda v, ctx: LayerScaleAttrs(init=v["init"], dims=v["dims"]),
                "learnable per-channel multiplier, initialised to `init` (1e-6: timm's);"
                " stored as (C,) or, with dims=3, (C, 1, 1) (torchvision's)",
                notes="a learnable per-channel multiplier; its parameter sits at the node's path "
                "itself, shaped `(C,)` (timm's `gamma`) or, with `dims=3` on a map, `(C, "
                "1, 1)` (torchvision's ConvNeXt `layer_scale`)",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
        tensors=_layer_scale_tensors,
    )
)
register(
    OpDef(
        Op.FLATTEN,
        FlattenAttrs,
        1,
        lambda a, ins, ctx: (math.prod(ins[0]),),
        _free,
        "flatten to C*H*W features, channel-major (NCHW order)",
        output="`(C*H*W,)`, channel-major",
        layers=(
            LayerDef(
                "flatten",
                (),
                {},
                {},
                lambda v, ctx: FlattenAttrs(),
                "flatten to C*H*W features, channel-major",
                notes="channel-major (NCHW) order",
            ),
        ),
        traits=frozenset({Trait.ALIAS}),
    )
)
register(
    OpDef(
        Op.LINEAR,
        LinearAttrs,
        1,
        _linear_shape,
        _linear_cost,
        "fully connected layer (of a vector, or of each position's channels of a map)",
        output="`(out,)`; per position: `(out, H, W)`",
        state="a linear layer (`weight` out x in, `bias`); per position, the same layer on each"
        " position's channels (torchvision's ConvNeXt `block.3`)",
        layers=(
            LayerDef(
                "linear",
                ("features",),
                {"features": REQUIRED, "bias": True, "init": None, "per_position": False},
                {
                    "features": channels,
                    "bias": boolean,
                    "init": init_option,
                    "per_position": boolean,
                },
                lambda v, ctx: LinearAttrs(
                    out_features=v["features"],
                    bias=v["bias"],
                    init=v["init"],
                    per_position=v["per_position"],
                ),
                "fully connected layer; per_position=true: of each position's channels",
                notes="on a flat input, a fully connected layer; with `per_position=true`, on a "
                "C x H x W map, the same layer applied to each position's channels "
                "(ConvNeXt's channels-last MLP, weight `(out, in)` as `nn.Linear` stores "
                "it; MACs H·W·in·out)",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
        tensors=_linear_tensors,
    )
)
