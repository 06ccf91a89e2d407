"""Convolutions: `conv` (any groups), `dwconv` (depthwise: a conv with groups = input
channels) and `sepconv` (depthwise then pointwise), each optionally followed by batch norm and
an activation as one unit (torchvision's BasicConv2d)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import GroupsError, InvalidValueError, TypeMismatchError, UnknownOptionError
from ...front.source import Span
from ...middle.values import Record, format_value
from ..geometry import positive_channels, resolve_pads, spatial, windowed
from ..options import boolean, channels, padding, pair, pos_int, positive
from ..registry import (
    REQUIRED,
    Attrs,
    BuildCtx,
    Check,
    Cost,
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
from ..state import TensorDef, batch_norm, bias, kernel
from .activation import Activation, activation
from .norm import BatchNormAttrs, _bn_cost, bn_checked, bn_option


class Init(Attrs):
    """How a layer's weight is initialised (its bias and BN keep the framework's defaults).

    `trunc_normal`: normal(mean, std) truncated to [a, b] (absolute bounds, torch's
    `trunc_normal_`; torchvision's GoogLeNet and Inception-v3 init); `normal`: normal(mean,
    std); `xavier_uniform`: Glorot uniform (Keras' default).
    """

    kind: str
    mean: float = 0.0
    std: float = 1.0
    a: float = -2.0
    b: float = 2.0

    def __str__(self) -> str:
        """As a spec writes it, options at their defaults left out: `trunc_normal(std=0.01)`."""
        given = [
            f"{k}={getattr(self, k):g}"
            for k in INITS[self.kind]
            if getattr(self, k) != type(self).model_fields[k].default
        ]
        return f"{self.kind}({', '.join(given)})" if given else self.kind


INITS: dict[str, tuple[str, ...]] = {
    "trunc_normal": ("mean", "std", "a", "b"),
    "normal": ("mean", "std"),
    "xavier_uniform": (),
}
"""The `init=` records (`init=trunc_normal(std=0.01)`) and the options each one takes."""


def init_option(v: Any, span: Span, what: str) -> Init | None:
    """`init=none` (the framework's default) or one of INITS' records."""
    if v is None:
        return None
    if not isinstance(v, Record) or v.kind not in INITS:
        raise TypeMismatchError(
            f"{what} must be none or one of {', '.join(f'{k}(...)' for k in INITS)}, got "
            f"{format_value(v)}",
            span,
            hint="for example init=trunc_normal(std=0.01)",
        )
    fields = dict(v.fields)
    for key, value in fields.items():
        if key not in INITS[v.kind]:
            allowed = ", ".join(INITS[v.kind]) or "none"
            raise UnknownOptionError(
                f"`{v.kind}` has no option `{key}`", span, hint=f"its options: {allowed}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeMismatchError(f"{v.kind} {key} must be a number", span)
    init = Init(kind=v.kind, **{k: float(x) for k, x in fields.items()})
    if init.std <= 0 or init.a >= init.b:
        raise InvalidValueError(
            f"{what}: std must be positive and a < b, got {format_value(v)}", span
        )
    return init


class ConvAttrs(Attrs):
    """A 2-D convolution, optionally followed by batch norm and an activation (one unit).

    When `bn` is set, backends build it as a unit with children `conv` and `bn` (torchvision's
    BasicConv2d, timm's ConvNormAct); without `bn` it is a bare convolution.
    `same` records that the pads came from TF-style `same` padding (a backend may use its
    native `same` mode when it gives exactly `pads`).
    """

    out_channels: int
    kernel: Pair
    stride: Pair = (1, 1)
    pads: Pads = (0, 0, 0, 0)
    same: bool = False
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool = True
    bn: BatchNormAttrs | None = None
    act: Activation | None = None
    init: Init | None = None


class SepConvAttrs(Attrs):
    """Depthwise-separable conv: depthwise (kernel, `depth_multiplier`) then pointwise 1x1.

    Weights: depthwise in*mult*kh*kw, pointwise in*mult*out, bias out (if `bias`).
    torch builds it as children `conv1` (depthwise, groups=in) and `pointwise` (timm's
    SeparableConv2d); keras as one SeparableConv2D. With `bn`: children `conv`, `bn` as above
    where `conv` is the separable pair.
    """

    out_channels: int
    kernel: Pair
    stride: Pair = (1, 1)
    pads: Pads = (0, 0, 0, 0)
    same: bool = False
    dilation: Pair = (1, 1)
    depth_multiplier: int = 1
    bias: bool = False
    bn: BatchNormAttrs | None = None
    act: Activation | None = None
    init: Init | None = None


# ---- shapes and costs -------------------------------------------------------------------------


def _conv_shape(a: ConvAttrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    c, _, _ = spatial(ins[0], "conv", ctx.span)
    positive_channels(a.out_channels, ctx.span)
    if c % a.groups or a.out_channels % a.groups:
        raise GroupsError(
            f"conv groups={a.groups} must divide both input channels ({c}) and output "
            f"channels ({a.out_channels})",
            ctx.span,
        )
    h, w = windowed("conv", ins[0], a.kernel, a.stride, a.pads, a.dilation, False, ctx.span)
    return (a.out_channels, h, w)


def _sepconv_shape(a: SepConvAttrs, ins: list[Shape], ctx: ShapeCtx) -> Shape:
    spatial(ins[0], "sepconv", ctx.span)
    positive_channels(a.out_channels, ctx.span)
    h, w = windowed("sepconv", ins[0], a.kernel, a.stride, a.pads, a.dilation, False, ctx.span)
    return (a.out_channels, h, w)


def _conv_cost(a: ConvAttrs, ins: list[Shape], out: Shape) -> Cost:
    cin = ins[0][0]
    kh, kw = a.kernel
    weights = a.out_channels * (cin // a.groups) * kh * kw
    bias = a.out_channels if a.bias else 0
    bn_p, bn_b = _bn_cost(a.bn, a.out_channels)
    return weights + bias + bn_p, bn_b, weights * out[1] * out[2]


def _sepconv_cost(a: SepConvAttrs, ins: list[Shape], out: Shape) -> Cost:
    mid = ins[0][0] * a.depth_multiplier
    depthwise = mid * a.kernel[0] * a.kernel[1]
    pointwise = mid * a.out_channels
    bias = a.out_channels if a.bias else 0
    bn_p, bn_b = _bn_cost(a.bn, a.out_channels)
    macs = (depthwise + pointwise) * out[1] * out[2]
    return depthwise + pointwise + bias + bn_p, bn_b, macs


# ---- the language surface ---------------------------------------------------------------------


def _width(v: Mapping[str, Any]) -> int:
    """Output channels after the width multiplier: slim's `max(int(d * depth_multiplier),
    min_depth)` (nets/inception_v3.py); a multiplier of 1 leaves the count untouched."""
    if v["width"] == 1.0:
        return int(v["channels"])
    return max(int(v["channels"] * v["width"]), v["min_channels"])


def _conv_fields(v: Mapping[str, Any], ctx: BuildCtx, what: str) -> dict[str, Any]:
    """The attributes conv, dwconv and sepconv share (channels after `width`, resolved pads,
    bn)."""
    pads, same = resolve_pads(v["pad"], ctx.in_shape, v["kernel"], v["stride"], v["dilation"])
    return {
        "out_channels": _width(v) if "channels" in v else 0,
        "kernel": v["kernel"],
        "stride": v["stride"],
        "pads": pads,
        "same": same,
        "dilation": v["dilation"],
        "bias": v["bias"],
        "bn": bn_option(v["bn"], ctx.span, f"{what} bn", ctx.defaults.get("bn", {})),
        "act": v["act"],
        "init": v["init"],
    }


CONV_CHECKS: dict[str, Check] = {
    "channels": channels,
    "kernel": pair,
    "stride": pair,
    "pad": padding,
    "dilation": pair,
    "groups": pos_int,
    "bias": boolean,
    "bn": bn_checked,
    "act": activation,
    "multiplier": pos_int,
    "width": positive,
    "min_channels": pos_int,
    "init": init_option,
}

_COMMON: dict[str, Any] = {
    "channels": REQUIRED,
    "kernel": REQUIRED,
    "stride": 1,
    "pad": 0,
    "dilation": 1,
}
_TAIL: dict[str, Any] = {
    "bias": True,
    "bn": None,
    "act": None,
    "width": 1.0,
    "min_channels": 16,
    "init": None,
}
_NO_DW = {"channels", "width", "min_channels"}  # a depthwise conv's channels are its input's


def _dwconv(v: Mapping[str, Any], ctx: BuildCtx) -> Attrs:
    """Depthwise: one group per input channel, `multiplier` outputs each (Keras'
    DepthwiseConv2D, output channel c * multiplier + m)."""
    fields = _conv_fields(v, ctx, "dwconv")
    cin = spatial(ctx.in_shape, "dwconv", ctx.span)[0]
    return ConvAttrs(**{**fields, "out_channels": cin * v["multiplier"]}, groups=cin)


def _bn_of(a: ConvAttrs | SepConvAttrs, cout: int) -> tuple[TensorDef, ...]:
    return batch_norm("bn", cout, a.bn.scale, a.bn.center) if a.bn is not None else ()


def _conv_tensors(a: ConvAttrs, cin: int, cout: int) -> tuple[TensorDef, ...]:
    """A conv (its `conv` child with bn): Keras' DepthwiseConv2D layout when groups = in."""
    at = "conv" if a.bn is not None else ""
    w = f"{at}.weight" if at else "weight"
    shape = (a.out_channels, cin // a.groups, *a.kernel) if cin else ()
    if a.groups > 1 and a.groups == cin:  # Keras' DepthwiseConv2D (ops.is_depthwise)
        k = kernel(w, at, "kernel", "depthwise", shape, a.out_channels // cin)
    else:
        k = kernel(w, at, "kernel", "conv", shape)
    b = (bias(f"{at}.bias" if at else "bias", at, cout, k.fan_in),) if a.bias else ()
    return (k, *b, *_bn_of(a, cout))


def _sepconv_tensors(a: SepConvAttrs, cin: int, cout: int) -> tuple[TensorDef, ...]:
    """`conv1` (depthwise) and `pointwise` (in a `conv` child with bn): one SeparableConv2D."""
    at = "conv" if a.bn is not None else ""
    pre = f"{at}." if at else ""
    kh, kw = a.kernel
    mid = cin * a.depth_multiplier
    dw_shape = (mid, 1, kh, kw) if cin else ()
    pw_shape = (a.out_channels, mid, 1, 1) if cin else ()
    return (
        kernel(f"{pre}conv1.weight", at, "depthwise_kernel", "depthwise", dw_shape,
               a.depth_multiplier),
        kernel(f"{pre}pointwise.weight", at, "pointwise_kernel", "conv", pw_shape),
        *((bias(f"{pre}pointwise.bias", at, cout, mid),) if a.bias else ()),
        *_bn_of(a, cout),
    )  # fmt: skip


register(
    OpDef(
        Op.CONV2D,
        ConvAttrs,
        1,
        _conv_shape,
        _conv_cost,
        "2-D convolution, optionally with batch norm and an activation",
        output="`(out, H', W')`",
        state="without `bn`: a conv (`weight`, `bias`); with `bn`: children `conv` and `bn`",
        layers=(
            LayerDef(
                "conv",
                ("channels", "kernel"),
                {**_COMMON, "groups": 1, **_TAIL},
                CONV_CHECKS,
                lambda v, ctx: ConvAttrs(**_conv_fields(v, ctx, "conv"), groups=v["groups"]),
                "2-D convolution, optionally with batch norm and an activation",
            ),
            LayerDef(
                "dwconv",
                ("kernel",),
                {k: d for k, d in {**_COMMON, "multiplier": 1, **_TAIL}.items() if k not in _NO_DW},
                CONV_CHECKS,
                _dwconv,
                "depthwise convolution: groups = input channels, `multiplier` outputs each",
                notes="depthwise: groups = input channels, `multiplier` outputs per channel "
                "(Keras' `DepthwiseConv2D`); like sepconv it does not take `defaults "
                "conv(...)` (W001 warns)",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
        tensors=_conv_tensors,
    )
)

register(
    OpDef(
        Op.SEPCONV2D,
        SepConvAttrs,
        1,
        _sepconv_shape,
        _sepconv_cost,
        "depthwise-separable convolution (depthwise, then pointwise 1x1)",
        output="`(out, H', W')`",
        state="children `conv1` (depthwise, groups=in) and `pointwise`; with `bn`: "
        "`conv.{conv1,pointwise}`, `bn`",
        layers=(
            LayerDef(
                "sepconv",
                ("channels", "kernel"),
                {**_COMMON, "multiplier": 1, **_TAIL},
                CONV_CHECKS,
                lambda v, ctx: SepConvAttrs(
                    **_conv_fields(v, ctx, "sepconv"), depth_multiplier=v["multiplier"]
                ),
                "depthwise-separable convolution (depthwise then 1x1)",
                notes="depthwise (kernel, multiplier) then pointwise 1x1. `defaults conv(...)` "
                "does **not** apply to it (set `defaults sepconv(...)`); where a sepconv "
                "falls back to a default that differs from what the conv defaults set, "
                "`check` warns (W001)",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
        tensors=_sepconv_tensors,
    )
)
