"""Normalisations: batch norm (also the `bn=` option of conv-like layers), layer norm and
group norm over channels, and local response normalisation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import GroupsError, TypeMismatchError, UnknownOptionError
from ...front.source import Span
from ...middle.values import Record, format_value
from ...names import did_you_mean
from ..geometry import spatial
from ..options import boolean, number, optional, pos_int, positive, probability
from ..registry import REQUIRED, Attrs, BuildCtx, Check, LayerDef, Op, OpDef, Trait, register
from ..state import TensorDef, affine, batch_norm


class BatchNormAttrs(Attrs):
    """Batch norm over channels. `momentum` uses torch's convention (keras = 1 - momentum).

    `scale` = learnable gamma present, `center` = learnable beta present. torch `affine=True`
    is scale and center; keras.applications' Inception BN is center only (no gamma).
    """

    eps: float = 1e-5
    momentum: float = 0.1
    scale: bool = True
    center: bool = True


class LRNAttrs(Attrs):
    """torch LocalResponseNorm: x / (k + alpha/size * sum_{size channels} x^2) ** beta."""

    size: int
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0


class LayerNormAttrs(Attrs):
    """Layer norm over the channels: of a vector (torch nn.LayerNorm), or of a feature map at
    every position (timm's LayerNorm2d, Keras LayerNormalization(axis=-1)). Biased variance."""

    eps: float = 1e-5
    affine: bool = True


class GroupNormAttrs(Attrs):
    """Group norm (torch nn.GroupNorm): channels in `groups` consecutive groups, each normalised
    over its channels and all positions."""

    groups: int
    eps: float = 1e-5
    affine: bool = True


BN_DEFAULTS: dict[str, Any] = {"eps": 1e-5, "momentum": 0.1, "scale": True, "center": True}
BN_CHECKS: dict[str, Check] = {
    "eps": positive,
    "momentum": probability,
    "scale": boolean,
    "center": boolean,
    "affine": boolean,
}


def batchnorm_attrs(fields: Mapping[str, Any], span: Span) -> BatchNormAttrs:
    vals = dict(BN_DEFAULTS)
    for k, v in fields.items():
        if k not in BN_CHECKS:
            raise UnknownOptionError(
                f"bn has no option `{k}`", span, hint=did_you_mean(k, BN_CHECKS)
            )
        checked = BN_CHECKS[k](v, span, f"bn {k}")
        if k == "affine":
            vals["scale"] = vals["center"] = checked
        else:
            vals[k] = checked
    return BatchNormAttrs(**vals)


def bn_option(
    v: Any, span: Span, what: str, bn_defaults: Mapping[str, Any]
) -> BatchNormAttrs | None:
    """`bn=none|false` (no BN), `bn=true` (defaults) or `bn=bn(eps=...)`."""
    if v is None or v is False:
        return None
    if v is True:
        return batchnorm_attrs(bn_defaults, span)
    if isinstance(v, Record) and v.kind == "bn":
        return batchnorm_attrs({**bn_defaults, **dict(v.fields)}, span)
    raise TypeMismatchError(f"{what} must be none, true or bn(...), got {format_value(v)}", span)


def bn_checked(v: Any, span: Span, what: str) -> Any:
    """Validate a `bn=` value where it is written; it is built later, with `defaults bn(...)`."""
    bn_option(v, span, what, {})
    return v


def _spatial_same(what: str) -> Any:
    def shape(a: Attrs, ins: list[tuple[int, ...]], ctx: Any) -> tuple[int, ...]:
        spatial(ins[0], what, ctx.span)
        return ins[0]

    return shape


def _bn_cost(a: BatchNormAttrs | None, channels: int) -> tuple[int, int]:
    """(params, buffers) of a batch norm over `channels`: gamma/beta where present, and the
    running mean and variance (not torch's num_batches_tracked)."""
    if a is None:
        return 0, 0
    return channels * (int(a.scale) + int(a.center)), 2 * channels


def _bn_build(v: Mapping[str, Any], ctx: BuildCtx) -> Attrs:
    given = {k: x for k, x in v.items() if x is not None}
    return batchnorm_attrs({**ctx.defaults.get("bn", {}), **given}, ctx.span)


def _bn_tensors(a: BatchNormAttrs, cin: int, cout: int) -> tuple[TensorDef, ...]:
    return batch_norm("", cout, a.scale, a.center)


def _affine_tensors(
    a: LayerNormAttrs | GroupNormAttrs, cin: int, cout: int
) -> tuple[TensorDef, ...]:
    return affine("", cout) if a.affine else ()


register(
    OpDef(
        Op.BATCHNORM,
        BatchNormAttrs,
        1,
        _spatial_same("batch norm"),
        lambda a, ins, out: (*_bn_cost(a, ins[0][0]), 0),
        "batch normalisation over channels",
        state="a BN over channels",
        layers=(
            LayerDef(
                "bn",
                (),
                {k: None for k in BN_CHECKS},
                {k: optional(c) for k, c in BN_CHECKS.items()},
                _bn_build,
                "batch normalisation (eps, momentum in torch's convention, scale, center, affine)",
                notes="defaults: `eps` 1e-5, `momentum` 0.1 (torch's convention: Keras momentum "
                "= 1 − this), `scale` true (learnable gamma), `center` true (learnable "
                "beta); `affine` sets both; `defaults bn(...)` changes them",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
        tensors=_bn_tensors,
    )
)

register(
    OpDef(
        Op.LRN,
        LRNAttrs,
        1,
        _spatial_same("local response norm"),
        lambda a, ins, out: (0, 0, 0),
        "local response normalisation across channels (torch LocalResponseNorm)",
        layers=(
            LayerDef(
                "lrn",
                ("size",),
                {"size": REQUIRED, "alpha": 1e-4, "beta": 0.75, "k": 1.0},
                {"size": pos_int, "alpha": number, "beta": number, "k": number},
                lambda v, ctx: LRNAttrs(size=v["size"], alpha=v["alpha"], beta=v["beta"], k=v["k"]),
                "local response normalisation across channels (torch LocalResponseNorm)",
                notes="torch `LocalResponseNorm`",
            ),
        ),
    )
)


def _groupnorm_shape(a: GroupNormAttrs, ins: list[tuple[int, ...]], ctx: Any) -> tuple[int, ...]:
    c, _, _ = spatial(ins[0], "group norm", ctx.span)
    if c % a.groups:
        raise GroupsError(
            f"group norm groups={a.groups} must divide the input's channels ({c})", ctx.span
        )
    return ins[0]


def _affine_cost(a: LayerNormAttrs | GroupNormAttrs, ins: list[tuple[int, ...]], out: Any) -> Any:
    return (2 * ins[0][0] if a.affine else 0), 0, 0


register(
    OpDef(
        Op.LAYERNORM,
        LayerNormAttrs,
        1,
        lambda a, ins, ctx: ins[0],
        _affine_cost,
        "layer norm over channels (a vector's features, or each position's channels)",
        state="a LayerNorm over channels (`weight`, `bias` if affine); on a map, each"
        " position's channels",
        layers=(
            LayerDef(
                "layernorm",
                (),
                {"eps": 1e-5, "affine": True},
                {"eps": positive, "affine": boolean},
                lambda v, ctx: LayerNormAttrs(eps=v["eps"], affine=v["affine"]),
                "layer norm over channels (vectors, or each position of a feature map)",
                notes="over channels: a vector's features, or each position's channels of a map "
                "(timm's LayerNorm2d)",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
        tensors=_affine_tensors,
    )
)
register(
    OpDef(
        Op.GROUPNORM,
        GroupNormAttrs,
        1,
        _groupnorm_shape,
        _affine_cost,
        "group norm (torch nn.GroupNorm)",
        state="a GroupNorm (`weight`, `bias` if affine)",
        layers=(
            LayerDef(
                "groupnorm",
                ("groups",),
                {"groups": REQUIRED, "eps": 1e-5, "affine": True},
                {"groups": pos_int, "eps": positive, "affine": boolean},
                lambda v, ctx: GroupNormAttrs(groups=v["groups"], eps=v["eps"], affine=v["affine"]),
                "group norm: channels in `groups` groups (torch GroupNorm)",
                notes="torch `GroupNorm`",
            ),
        ),
        traits=frozenset({Trait.FRESH}),
        tensors=_affine_tensors,
    )
)
