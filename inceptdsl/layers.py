"""The layer vocabulary of the language: each layer's arguments, options, defaults and checks,
and how its evaluated values become an IR op with resolved attributes.

A layer call `conv 64 3x3 stride=2` is resolved as: built-in defaults < `defaults conv(...)`
in scope < the call's own options. Values are validated here (types and ranges), so lowering
only sees well-formed attributes. Adding a layer = one LayerDef in LAYERS (plus its Op, shape
and cost function, and a backend entry: see docs/ir.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ArithmeticSpecError, ChannelError, InvalidValueError, TypeMismatchError
from .evaluate import Record, Symbol, format_value, type_name
from .ir import ops as O
from .shapes import same_pads
from .source import Span

Values = dict[str, Any]


# ---- value checkers: (value, span, what) -> normalised value -----------------------------------


def _int(v: Any, span: Span, what: str, minimum: int = 1) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, float):
        raise ArithmeticSpecError(
            f"{what} must be a whole number, got {format_value(v)}",
            span,
            hint="`/` gives a fraction: divide with `//` to round down, or use round(...)",
        )
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeMismatchError(
            f"{what} must be an integer, got {type_name(v)} {format_value(v)}", span
        )
    if v < minimum:
        raise InvalidValueError(f"{what} must be at least {minimum}, got {v}", span)
    return v


def pos_int(v: Any, span: Span, what: str) -> int:
    return _int(v, span, what, 1)


def nonneg_int(v: Any, span: Span, what: str) -> int:
    return _int(v, span, what, 0)


def channels(v: Any, span: Span, what: str) -> int:
    """A channel or feature count: a whole number (E305), and positive (E405)."""
    n = _int(v, span, what, minimum=-(2**63))
    if n < 1:
        raise ChannelError(f"{what} must be a positive integer, got {n}", span)
    return n


def number(v: Any, span: Span, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeMismatchError(f"{what} must be a number, got {type_name(v)}", span)
    return float(v)


def positive(v: Any, span: Span, what: str) -> float:
    x = number(v, span, what)
    if x <= 0:
        raise InvalidValueError(f"{what} must be positive, got {format_value(v)}", span)
    return x


def probability(v: Any, span: Span, what: str) -> float:
    x = number(v, span, what)
    if not 0 <= x < 1:
        raise InvalidValueError(f"{what} must be in [0, 1), got {format_value(v)}", span)
    return x


def boolean(v: Any, span: Span, what: str) -> bool:
    if not isinstance(v, bool):
        raise TypeMismatchError(f"{what} must be true or false, got {type_name(v)}", span)
    return v


def pair(v: Any, span: Span, what: str) -> tuple[int, int]:
    """An int `k` (k x k) or a size/pair `kh x kw` / `(kh, kw)`."""
    if isinstance(v, tuple):
        if len(v) != 2:
            raise InvalidValueError(
                f"{what} must be one or two numbers (h x w), got {format_value(v)}", span
            )
        return pos_int(v[0], span, what), pos_int(v[1], span, what)
    k = pos_int(v, span, what)
    return k, k


def activation(v: Any, span: Span, what: str) -> O.Activation | None:
    if v is None:
        return None
    for fn in O.ACTIVATIONS:
        if isinstance(v, Symbol) and v.name == fn:
            return fn
    raise TypeMismatchError(
        f"{what} must be an activation ({', '.join(O.ACTIVATIONS)}) or none, got {format_value(v)}",
        span,
    )


def padding(v: Any, span: Span, what: str) -> O.Pads | str:
    """`same`, `valid`, p, (ph, pw) or ((top, bottom), (left, right)) -> 'same' or pads."""
    if isinstance(v, Symbol) and v.name in ("same", "valid"):
        return "same" if v.name == "same" else (0, 0, 0, 0)
    if isinstance(v, tuple):
        if len(v) == 2 and all(isinstance(x, tuple) for x in v):
            (t, b), (lft, r) = (_two(x, span, what) for x in v)
            return (t, b, lft, r)
        if len(v) == 2:
            ph, pw = (nonneg_int(x, span, what) for x in v)
            return (ph, ph, pw, pw)
        raise InvalidValueError(
            f"{what} must be same, valid, p, (ph, pw) or ((top, bottom), (left, right)); "
            f"got {format_value(v)}",
            span,
        )
    p = nonneg_int(v, span, what)
    return (p, p, p, p)


def _two(v: Any, span: Span, what: str) -> tuple[int, int]:
    if not isinstance(v, tuple) or len(v) != 2:
        raise InvalidValueError(
            f"{what}: expected a pair (before, after), got {format_value(v)}", span
        )
    return nonneg_int(v[0], span, what), nonneg_int(v[1], span, what)


BN_DEFAULTS: Values = {"eps": 1e-5, "momentum": 0.1, "scale": True, "center": True}
BN_CHECKS: dict[str, Callable[[Any, Span, str], Any]] = {
    "eps": positive,
    "momentum": probability,
    "scale": boolean,
    "center": boolean,
    "affine": boolean,
}


def batchnorm_attrs(fields: Mapping[str, Any], span: Span) -> O.BatchNormAttrs:
    vals = dict(BN_DEFAULTS)
    for k, v in fields.items():
        if k not in BN_CHECKS:
            from .errors import UnknownOptionError
            from .names import did_you_mean

            raise UnknownOptionError(
                f"bn has no option `{k}`", span, hint=did_you_mean(k, BN_CHECKS)
            )
        checked = BN_CHECKS[k](v, span, f"bn {k}")
        if k == "affine":
            vals["scale"] = vals["center"] = checked
        else:
            vals[k] = checked
    return O.BatchNormAttrs(**vals)


def bn_option(
    v: Any, span: Span, what: str, bn_defaults: Mapping[str, Any]
) -> O.BatchNormAttrs | None:
    """`bn=none|false` (no BN), `bn=true` (defaults) or `bn=bn(eps=...)`."""
    if v is None or v is False:
        return None
    if v is True:
        return batchnorm_attrs(bn_defaults, span)
    if isinstance(v, Record) and v.kind == "bn":
        return batchnorm_attrs({**bn_defaults, **dict(v.fields)}, span)
    raise TypeMismatchError(f"{what} must be none, true or bn(...), got {format_value(v)}", span)


# ---- layer definitions ------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerDef:
    """One layer keyword: positional arguments (in order), options with defaults, and a builder.

    An option whose default is REQUIRED must be given (positionally or by name).
    `build(values, in_shape, bn_defaults, span)` returns the IR op and its attributes.
    """

    name: str
    op: O.Op
    positional: tuple[str, ...]
    options: Mapping[str, Any]
    checks: Mapping[str, Callable[[Any, Span, str], Any]]
    build: Callable[[Values, tuple[int, ...], Mapping[str, Any], Span], O.Attrs]
    doc: str = ""
    aliases: Mapping[str, str] = field(default_factory=dict)


REQUIRED = object()


def _resolve_pads(
    pad: O.Pads | str,
    in_shape: tuple[int, ...],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple[O.Pads, bool]:
    if pad != "same":
        return pad, False  # type: ignore[return-value]
    if len(in_shape) != 3:
        return (0, 0, 0, 0), True  # shape inference reports the rank error
    t, b = same_pads(in_shape[1], kernel[0], stride[0], dilation[0])
    lft, r = same_pads(in_shape[2], kernel[1], stride[1], dilation[1])
    return (t, b, lft, r), True


def _width(v: Values) -> int:
    """Output channels after the width multiplier: slim's `max(int(d * depth_multiplier),
    min_depth)` (nets/inception_v3.py); a multiplier of 1 leaves the count untouched."""
    if v["width"] == 1.0:
        return int(v["channels"])
    return max(int(v["channels"] * v["width"]), v["min_channels"])


def _conv_fields(
    v: Values, shp: tuple[int, ...], bnd: Mapping[str, Any], span: Span, what: str
) -> dict[str, Any]:
    """The attributes conv and sepconv share (channels after `width`, resolved pads, bn)."""
    pads, same = _resolve_pads(v["pad"], shp, v["kernel"], v["stride"], v["dilation"])
    return {
        "out_channels": _width(v),
        "kernel": v["kernel"],
        "stride": v["stride"],
        "pads": pads,
        "same": same,
        "dilation": v["dilation"],
        "bias": v["bias"],
        "bn": bn_option(v["bn"], span, f"{what} bn", bnd),
        "act": v["act"],
    }


def _conv(v: Values, shp: tuple[int, ...], bnd: Mapping[str, Any], span: Span) -> O.Attrs:
    return O.ConvAttrs(**_conv_fields(v, shp, bnd, span, "conv"), groups=v["groups"])


def _sepconv(v: Values, shp: tuple[int, ...], bnd: Mapping[str, Any], span: Span) -> O.Attrs:
    return O.SepConvAttrs(
        **_conv_fields(v, shp, bnd, span, "sepconv"), depth_multiplier=v["multiplier"]
    )


def _pool(avg: bool) -> Callable[[Values, tuple[int, ...], Mapping[str, Any], Span], O.Attrs]:
    def build(v: Values, shp: tuple[int, ...], bnd: Mapping[str, Any], span: Span) -> O.Attrs:
        stride = v["stride"] if v["stride"] is not None else v["kernel"]
        pads, same = _resolve_pads(v["pad"], shp, v["kernel"], stride, (1, 1))
        kh, kw = v["kernel"]
        if max(pads[:2]) >= kh or max(pads[2:]) >= kw:
            raise InvalidValueError(
                f"pooling padding {pads} (top, bottom, left, right) is not smaller than the "
                f"kernel {kh}x{kw}: some windows would hold only padding",
                span,
                hint="pad at most kernel - 1 on each side (kernel // 2 keeps the size)",
            )
        return O.PoolAttrs(
            kernel=v["kernel"],
            stride=stride,
            pads=pads,
            same=same,
            ceil_mode=v["ceil"],
            count_include_pad=v["count_pad"] if avg else True,
        )

    return build


def _bn_checked(v: Any, span: Span, what: str) -> Any:
    """Validate a `bn=` value where it is written; it is built later, with `defaults bn(...)`."""
    bn_option(v, span, what, {})
    return v


def _optional_pair(v: Any, span: Span, what: str) -> tuple[int, int] | None:
    return None if v is None else pair(v, span, what)


_CONV_CHECKS = {
    "channels": channels,
    "kernel": pair,
    "stride": pair,
    "pad": padding,
    "dilation": pair,
    "groups": pos_int,
    "bias": boolean,
    "bn": lambda v, s, w: _bn_checked(v, s, w),
    "act": activation,
    "multiplier": pos_int,
    "width": positive,
    "min_channels": pos_int,
}
_POOL_CHECKS = {
    "kernel": pair,
    "stride": _optional_pair,
    "pad": padding,
    "ceil": boolean,
    "count_pad": boolean,
}


def _optional(check: Callable[[Any, Span, str], Any]) -> Callable[[Any, Span, str], Any]:
    return lambda v, s, w: None if v is None else check(v, s, w)


def _act(fn: O.Activation) -> LayerDef:
    return LayerDef(
        fn, O.Op.ACT, (), {}, {}, lambda v, s, b, sp: O.ActAttrs(fn=fn), f"{fn} activation"
    )


_LAYER_LIST: list[LayerDef] = [
    LayerDef(
        "conv",
        O.Op.CONV2D,
        ("channels", "kernel"),
        {
            "channels": REQUIRED,
            "kernel": REQUIRED,
            "stride": 1,
            "pad": 0,
            "dilation": 1,
            "groups": 1,
            "bias": True,
            "bn": None,
            "act": None,
            "width": 1.0,
            "min_channels": 16,
        },
        _CONV_CHECKS,
        _conv,
        "2-D convolution, optionally with batch norm and an activation",
    ),
    LayerDef(
        "sepconv",
        O.Op.SEPCONV2D,
        ("channels", "kernel"),
        {
            "channels": REQUIRED,
            "kernel": REQUIRED,
            "stride": 1,
            "pad": 0,
            "dilation": 1,
            "multiplier": 1,
            "bias": True,
            "bn": None,
            "act": None,
            "width": 1.0,
            "min_channels": 16,
        },
        _CONV_CHECKS,
        _sepconv,
        "depthwise-separable convolution (depthwise then 1x1)",
    ),
    LayerDef(
        "maxpool",
        O.Op.MAXPOOL2D,
        ("kernel",),
        {"kernel": REQUIRED, "stride": None, "pad": 0, "ceil": False, "count_pad": True},
        _POOL_CHECKS,
        _pool(False),
        "max pooling (stride defaults to the kernel size)",
    ),
    LayerDef(
        "avgpool",
        O.Op.AVGPOOL2D,
        ("kernel",),
        {"kernel": REQUIRED, "stride": None, "pad": 0, "ceil": False, "count_pad": True},
        _POOL_CHECKS,
        _pool(True),
        "average pooling; count_pad: padding counts in the average",
    ),
    LayerDef(
        "global_avgpool",
        O.Op.GLOBAL_AVGPOOL,
        (),
        {},
        {},
        lambda v, s, b, sp: O.GlobalPoolAttrs(),
        "global average pooling to C x 1 x 1",
    ),
    LayerDef(
        "global_maxpool",
        O.Op.GLOBAL_MAXPOOL,
        (),
        {},
        {},
        lambda v, s, b, sp: O.GlobalPoolAttrs(),
        "global max pooling to C x 1 x 1",
    ),
    LayerDef(
        "adaptive_avgpool",
        O.Op.ADAPTIVE_AVGPOOL2D,
        ("size",),
        {"size": REQUIRED},
        {"size": pair},
        lambda v, s, b, sp: O.AdaptivePoolAttrs(output_size=v["size"]),
        "adaptive average pooling to a fixed output size (torch semantics)",
    ),
    LayerDef(
        "lrn",
        O.Op.LRN,
        ("size",),
        {"size": REQUIRED, "alpha": 1e-4, "beta": 0.75, "k": 1.0},
        {"size": pos_int, "alpha": number, "beta": number, "k": number},
        lambda v, s, b, sp: O.LRNAttrs(size=v["size"], alpha=v["alpha"], beta=v["beta"], k=v["k"]),
        "local response normalisation across channels (torch LocalResponseNorm)",
    ),
    LayerDef(
        "bn",
        O.Op.BATCHNORM,
        (),
        {k: None for k in BN_CHECKS},
        {k: _optional(c) for k, c in BN_CHECKS.items()},
        lambda v, s, b, sp: batchnorm_attrs(
            {**b, **{k: x for k, x in v.items() if x is not None}}, sp
        ),
        "batch normalisation (eps, momentum in torch's convention, scale, center, affine)",
    ),
    LayerDef(
        "dropout",
        O.Op.DROPOUT,
        ("p",),
        {"p": REQUIRED},
        {"p": probability},
        lambda v, s, b, sp: O.DropoutAttrs(p=v["p"]),
        "dropout (identity at inference)",
    ),
    LayerDef(
        "flatten",
        O.Op.FLATTEN,
        (),
        {},
        {},
        lambda v, s, b, sp: O.FlattenAttrs(),
        "flatten to C*H*W features, channel-major",
    ),
    LayerDef(
        "linear",
        O.Op.LINEAR,
        ("features",),
        {"features": REQUIRED, "bias": True},
        {"features": channels, "bias": boolean},
        lambda v, s, b, sp: O.LinearAttrs(out_features=v["features"], bias=v["bias"]),
        "fully connected layer",
    ),
    LayerDef(
        "scale",
        O.Op.SCALE,
        ("factor",),
        {"factor": REQUIRED},
        {"factor": number},
        lambda v, s, b, sp: O.ScaleAttrs(factor=v["factor"]),
        "multiply by a constant",
    ),
    LayerDef(
        "identity",
        O.Op.IDENTITY,
        (),
        {},
        {},
        lambda v, s, b, sp: O.IdentityAttrs(),
        "pass the input through",
    ),
    *[_act(fn) for fn in O.ACTIVATIONS],
]

LAYERS: dict[str, LayerDef] = {d.name: d for d in _LAYER_LIST}
"""Every layer keyword of the language."""

BN_OPTION_NAMES = tuple(BN_CHECKS)
