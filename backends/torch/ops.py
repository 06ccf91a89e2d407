"""OP_TABLE: for every IR op, the module it owns (if any) and the forward expression it emits.

Each entry is one `Rule`: `module(node, ctx)` gives the constructor expression of the node's
state (None for stateless ops: pooling, activations, concat ... are plain functions in the
forward) and `call(node, args, ctx)` the forward expression, given the locals holding its
inputs. A test checks that every `Op` has a rule; an attribute value this backend cannot
express raises a coded error instead of being dropped. Every number is written by `num()`, so
nothing but a checked int or finite float reaches the generated code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from inceptdsl.errors import InvalidValueError
from inceptdsl.ir import Node, Op
from inceptdsl.ir.ops import FRESH as OP_FRESH
from inceptdsl.ir.ops import (
    ActAttrs,
    Activation,
    AdaptivePoolAttrs,
    BatchNormAttrs,
    ChannelShuffleAttrs,
    ChannelSliceAttrs,
    ConvAttrs,
    DropoutAttrs,
    DropPathAttrs,
    GroupNormAttrs,
    LayerNormAttrs,
    LayerScaleAttrs,
    LinearAttrs,
    LRNAttrs,
    PoolAttrs,
    ScaleAttrs,
    SepConvAttrs,
    ZeroPadAttrs,
)

from ..common.literals import num as literal
from .names import attr_path
from .source import RUNTIME as runtime


@dataclass
class Ctx:
    """What a rule may ask about the graph while emitting one node."""

    in_shape: Callable[[Node, int], tuple[int, ...]]  # shape of input i of a node
    can_inplace: Callable[[Node], bool]  # may an activation overwrite this node's input?
    helpers: set[str] = field(default_factory=set)  # runtime helpers the file must define


@dataclass(frozen=True)
class Rule:
    call: Callable[[Node, tuple[str, ...], Ctx], str]
    module: Callable[[Node, Ctx], str] | None = None


def num(value: object) -> str:
    """A Python literal for an IR number (common/literals.py)."""
    return literal(value, "torch")


def _pair(p: tuple[int, int]) -> str:
    return num(p[0]) if p[0] == p[1] else f"({num(p[0])}, {num(p[1])})"


def _kwargs(pairs: list[tuple[str, str, str]]) -> str:
    """`, k=v` for each (key, value, default) whose value differs from the default."""
    return "".join(f", {k}={v}" for k, v, default in pairs if v != default)


def _symmetric(pads: tuple[int, int, int, int]) -> bool:
    top, bottom, left, right = pads
    return top == bottom and left == right


def _torch_pads(pads: tuple[int, int, int, int]) -> str:
    """IR pads (top, bottom, left, right) in F.pad's order (left, right, top, bottom)."""
    top, bottom, left, right = pads
    return f"({num(left)}, {num(right)}, {num(top)}, {num(bottom)})"


# -- convolutions -------------------------------------------------------------------------------


def _bn_kwargs(bn: BatchNormAttrs) -> list[tuple[str, str, str]]:
    return [
        ("eps", num(bn.eps), num(1e-5)),
        ("momentum", num(bn.momentum), num(0.1)),
        ("scale", num(bn.scale), "True"),
        ("center", num(bn.center), "True"),
    ]


def _conv_module(node: Node, ctx: Ctx) -> str:
    a = cast(ConvAttrs | SepConvAttrs, node.attrs)
    in_ch = ctx.in_shape(node, 0)[0]
    padding = (a.pads[0], a.pads[2]) if _symmetric(a.pads) else (0, 0)
    args = f"{num(in_ch)}, {num(a.out_channels)}, {_pair(a.kernel)}"
    common = [
        ("stride", _pair(a.stride), "1"),
        ("padding", _pair(padding), "0"),
        ("dilation", _pair(a.dilation), "1"),
    ]
    if isinstance(a, SepConvAttrs):
        kw = common + [
            ("depth_multiplier", num(a.depth_multiplier), "1"),
            ("bias", num(a.bias), "False"),
        ]
        if a.bn is None:
            ctx.helpers.add(runtime.SeparableConv2d)
            return f"SeparableConv2d({args}{_kwargs(kw)})"
        ctx.helpers.add(runtime.SepConvBN)
        return f"SepConvBN({args}{_kwargs(kw + _bn_kwargs(a.bn))})"
    kw = common + [("groups", num(a.groups), "1"), ("bias", num(a.bias), "True")]
    if a.bn is None:
        return f"nn.Conv2d({args}{_kwargs(kw)})"
    ctx.helpers.add(runtime.ConvBN)
    return f"ConvBN({args}{_kwargs(kw + _bn_kwargs(a.bn))})"


def _conv_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    a = cast(ConvAttrs | SepConvAttrs, node.attrs)
    x = args[0]
    if not _symmetric(a.pads):  # TF 'same' with stride 2: the odd pixel goes bottom/right
        x = f"F.pad({x}, {_torch_pads(a.pads)})"
    out = f"{attr_path(node.name)}({x})"
    # the conv unit's output is a fresh tensor nobody else holds: the activation may overwrite it
    return _activation(a.act, out, inplace=True) if a.act else out


# -- activations --------------------------------------------------------------------------------


def _fn(func: str, inplace_ok: bool, *params: str) -> Callable[[Activation, str, bool], str]:
    """A rule calling `func(x, <params in order>)`, in place only where `inplace_ok`: the
    backward of relu-like functions needs only their output, others need their input."""

    def call(a: Activation, x: str, inplace: bool) -> str:
        args = "".join(f", {num(a.param(p))}" for p in params)
        tail = ", inplace=True" if inplace and inplace_ok else ""
        return f"{func}({x}{args}{tail})"

    return call


ACTIVATIONS: dict[str, Callable[[Activation, str, bool], str]] = {
    "relu": _fn("F.relu", True),
    "relu6": _fn("F.relu6", True),
    "sigmoid": _fn("torch.sigmoid", False),
    "tanh": _fn("torch.tanh", False),
    "gelu": _fn("F.gelu", False),
    "silu": _fn("F.silu", False),  # in place, its backward would lack its input
    "hardswish": _fn("F.hardswish", False),
    "hardsigmoid": _fn("F.hardsigmoid", False),
    "leaky_relu": _fn("F.leaky_relu", False, "slope"),
    "elu": _fn("F.elu", False, "alpha"),
    "mish": _fn("F.mish", False),
    "softplus": _fn("F.softplus", False),
}
"""The torch expression of every activation (a test checks it covers the registry's)."""


def _activation(a: Activation, x: str, inplace: bool) -> str:
    rule = ACTIVATIONS.get(a.fn)
    if rule is None:
        raise InvalidValueError(f"the torch backend has no activation {a.fn!r}")
    return rule(a, x, inplace)


def _act_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    return _activation(cast(ActAttrs, node.attrs).fn, args[0], ctx.can_inplace(node))


# -- pooling ------------------------------------------------------------------------------------


def _explicit_pads(node: Node, ctx: Ctx) -> tuple[int, int, int, int]:
    """Pads (top, bottom, left, right) after which a floor-mode pool gives the IR's output size.

    The bottom/right pads grow by the rows a ceil-mode output needs, or shrink (a negative pad
    crops) by rows no window reads, so the result does not depend on torch's ceil-mode rule.
    """
    a = cast(PoolAttrs, node.attrs)
    _, h, w = ctx.in_shape(node, 0)
    _, oh, ow = node.shape
    top, bottom, left, right = a.pads
    need_h = (oh - 1) * a.stride[0] + a.kernel[0]
    need_w = (ow - 1) * a.stride[1] + a.kernel[1]
    return top, need_h - h - top, left, need_w - w - left


def _native(a: PoolAttrs) -> bool:
    """Whether torch's own pooling does it: symmetric pads of at most half the kernel."""
    top, _, left, _ = a.pads
    return _symmetric(a.pads) and 2 * top <= a.kernel[0] and 2 * left <= a.kernel[1]


def _maxpool_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    a = cast(PoolAttrs, node.attrs)
    k, s = _pair(a.kernel), _pair(a.stride)
    if _native(a):
        pad = _pair((a.pads[0], a.pads[2]))
        kw = _kwargs([("padding", pad, "0"), ("ceil_mode", num(a.ceil_mode), "False")])
        return f"F.max_pool2d({args[0]}, {k}, {s}{kw})"
    pads = _torch_pads(_explicit_pads(node, ctx))
    return f'F.max_pool2d(F.pad({args[0]}, {pads}, value=float("-inf")), {k}, {s})'


def _avgpool_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    a = cast(PoolAttrs, node.attrs)
    k, s = _pair(a.kernel), _pair(a.stride)
    if _native(a):
        kw = _kwargs(
            [
                ("padding", _pair((a.pads[0], a.pads[2])), "0"),
                ("ceil_mode", num(a.ceil_mode), "False"),
                ("count_include_pad", num(a.count_include_pad), "True"),
            ]
        )
        return f"F.avg_pool2d({args[0]}, {k}, {s}{kw})"
    ctx.helpers.add(runtime.avg_pool2d_padded)
    counted = a.pads if a.count_include_pad else (0, 0, 0, 0)
    k2 = f"({num(a.kernel[0])}, {num(a.kernel[1])})"
    s2 = f"({num(a.stride[0])}, {num(a.stride[1])})"
    pads = _torch_pads(_explicit_pads(node, ctx))
    return f"avg_pool2d_padded({args[0]}, {k2}, {s2}, {pads}, {_torch_pads(counted)})"


def _adaptive_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    size = cast(AdaptivePoolAttrs, node.attrs).output_size
    return f"F.adaptive_avg_pool2d({args[0]}, {_pair(size)})"


# -- the rest -----------------------------------------------------------------------------------


def _batchnorm_module(node: Node, ctx: Ctx) -> str:
    a = cast(BatchNormAttrs, node.attrs)
    c = node.shape[0]
    kw = _bn_kwargs(a)
    if a.scale and a.center:
        return f"nn.BatchNorm2d({num(c)}{_kwargs(kw[:2])})"
    ctx.helpers.add(runtime.batch_norm)
    return f"batch_norm({num(c)}{_kwargs(kw)})"


def _lrn_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    a = cast(LRNAttrs, node.attrs)
    kw = _kwargs(
        [
            ("alpha", num(a.alpha), num(1e-4)),
            ("beta", num(a.beta), num(0.75)),
            ("k", num(a.k), num(1.0)),
        ]
    )
    return f"F.local_response_norm({args[0]}, {num(a.size)}{kw})"


def _linear_module(node: Node, ctx: Ctx) -> str:
    a = cast(LinearAttrs, node.attrs)
    kw = _kwargs([("bias", num(a.bias), "True")])
    return f"nn.Linear({num(ctx.in_shape(node, 0)[0])}, {num(a.out_features)}{kw})"


def _dropout_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    return f"F.dropout({args[0]}, {num(cast(DropoutAttrs, node.attrs).p)}, self.training)"


def _scale_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    return f"{args[0]} * {num(cast(ScaleAttrs, node.attrs).factor)}"


def _module_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    return f"{attr_path(node.name)}({args[0]})"


def _linear_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    if not cast(LinearAttrs, node.attrs).per_position:
        return _module_call(node, args, ctx)
    # of each position's channels, as ConvNeXt's block: channels last, the layer, back
    return f"{attr_path(node.name)}({args[0]}.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)"


def _layernorm_module(node: Node, ctx: Ctx) -> str:
    a = cast(LayerNormAttrs, node.attrs)
    kw = _kwargs([("eps", num(a.eps), num(1e-5)), ("elementwise_affine", num(a.affine), "True")])
    return f"nn.LayerNorm({num(node.shape[0])}{kw})"


def _layernorm_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    if len(node.shape) == 1:
        return f"{attr_path(node.name)}({args[0]})"
    # over each position's channels, as timm's LayerNorm2d: channels last, normalise, back
    return f"{attr_path(node.name)}({args[0]}.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)"


def _groupnorm_module(node: Node, ctx: Ctx) -> str:
    a = cast(GroupNormAttrs, node.attrs)
    kw = _kwargs([("eps", num(a.eps), num(1e-5)), ("affine", num(a.affine), "True")])
    return f"nn.GroupNorm({num(a.groups)}, {num(node.shape[0])}{kw})"


def _layer_scale_module(node: Node, ctx: Ctx) -> str:
    a = cast(LayerScaleAttrs, node.attrs)
    shape = f"{num(node.shape[0])}, 1, 1" if a.dims == 3 else f"{num(node.shape[0])},"
    return f"nn.Parameter(torch.full(({shape}), {num(float(a.init))}))"


def _layer_scale_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    gamma = attr_path(node.name)
    if len(node.shape) == 1 or cast(LayerScaleAttrs, node.attrs).dims == 3:
        return f"{args[0]} * {gamma}"
    return f"{args[0]} * {gamma}.reshape(-1, 1, 1)"


def _drop_path_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    ctx.helpers.add(runtime.drop_path)
    return f"drop_path({args[0]}, {num(cast(DropPathAttrs, node.attrs).p)}, self.training)"


def _slice_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    """Channels [start, start + size) as a view (`narrow`, not `x[:, a:b]`: a block class turns
    the numbers into its parameters, and `narrow(1, self.a, self.b)` stays ruff-formatted)."""
    a = cast(ChannelSliceAttrs, node.attrs)
    return f"{args[0]}.narrow(1, {num(a.start)}, {num(a.size)})"


def _shuffle_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    ctx.helpers.add(runtime.channel_shuffle)
    return f"channel_shuffle({args[0]}, {num(cast(ChannelShuffleAttrs, node.attrs).groups)})"


def _zeropad_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    return f"F.pad({args[0]}, {_torch_pads(cast(ZeroPadAttrs, node.attrs).pads)})"


def _input_call(node: Node, args: tuple[str, ...], ctx: Ctx) -> str:
    raise ValueError("the input node is the forward's argument and emits no statement")


OP_TABLE: dict[Op, Rule] = {
    Op.INPUT: Rule(_input_call),
    Op.CONV2D: Rule(_conv_call, _conv_module),
    Op.SEPCONV2D: Rule(_conv_call, _conv_module),
    Op.BATCHNORM: Rule(_module_call, _batchnorm_module),
    Op.ACT: Rule(_act_call),
    Op.MAXPOOL2D: Rule(_maxpool_call),
    Op.AVGPOOL2D: Rule(_avgpool_call),
    Op.GLOBAL_AVGPOOL: Rule(lambda n, a, c: f"F.adaptive_avg_pool2d({a[0]}, 1)"),
    Op.GLOBAL_MAXPOOL: Rule(lambda n, a, c: f"F.adaptive_max_pool2d({a[0]}, 1)"),
    Op.ADAPTIVE_AVGPOOL2D: Rule(_adaptive_call),
    Op.LRN: Rule(_lrn_call),
    Op.DROPOUT: Rule(_dropout_call),
    Op.FLATTEN: Rule(lambda n, a, c: f"torch.flatten({a[0]}, 1)"),
    Op.LINEAR: Rule(_linear_call, _linear_module),
    Op.CONCAT: Rule(lambda n, a, c: f"torch.cat([{', '.join(a)}], 1)"),
    Op.ADD: Rule(lambda n, a, c: " + ".join(a)),
    Op.SCALE: Rule(_scale_call),
    Op.MULTIPLY: Rule(lambda n, a, c: " * ".join(a)),
    Op.CHANNEL_SLICE: Rule(_slice_call),
    Op.CHANNEL_SHUFFLE: Rule(_shuffle_call),
    Op.ZEROPAD2D: Rule(_zeropad_call),
    Op.LAYERNORM: Rule(_layernorm_call, _layernorm_module),
    Op.GROUPNORM: Rule(_module_call, _groupnorm_module),
    Op.LAYER_SCALE: Rule(_layer_scale_call, _layer_scale_module),
    Op.DROP_PATH: Rule(_drop_path_call),
    Op.IDENTITY: Rule(lambda n, a, c: a[0]),
}
"""How each op is emitted; a test iterates over `Op` to check that none is missing."""

# Ops whose output is a new tensor that only its readers hold, so that an activation reading it
# last may work in place: declared by each op (Trait.FRESH in its OpDef). Not `act` (relu's
# backward needs its output), `input`, or an alias (`dropout`, `flatten`, `identity`).
FRESH: frozenset[Op] = OP_FRESH
