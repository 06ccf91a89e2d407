"""OP_TABLE: for every IR op, the Keras layer calls that compute it in the emitted `build()`.

Each entry's `call(node, args, target, ctx)` returns the expressions of the node's statements,
`target = <expr>` each: the first reads the node's inputs (`args`, the locals holding them),
the next ones read `target`. Most nodes are one layer; a conv unit is one `conv_bn(...)` helper
call; explicit padding, a bare conv's activation and a channel-major flatten add a statement.
Every layer is named after its node (children `.conv`, `.bn`, `.act`, `.pad`, `.nchw`), which
is what the cross-framework weight copy keys on. A test checks that every `Op` has a rule; an
attribute value Keras cannot express raises a coded error instead of being dropped. Every
number is written by `num()`, so nothing but a checked int or finite float reaches the code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from inceptdsl.errors import InvalidValueError
from inceptdsl.ir import Node, Op
from inceptdsl.ir.ops import (
    ActAttrs,
    Activation,
    BatchNormAttrs,
    ConvAttrs,
    PoolAttrs,
    SepConvAttrs,
)

from ..common.literals import num as literal
from . import padding
from .source import RUNTIME as runtime

ZERO = (0, 0, 0, 0)


@dataclass
class Ctx:
    """What a rule may ask about the graph while emitting one node."""

    in_shape: Callable[[Node, int], tuple[int, ...]]  # (C, H, W) or (F,) of input i of a node
    helpers: set[str] = field(default_factory=set)  # runtime helpers the file must define
    residual_adds: frozenset[str] = frozenset()  # add nodes a `residual` made (main path first)


@dataclass(frozen=True)
class Rule:
    call: Callable[[Node, tuple[str, ...], str, Ctx], list[str]]


def num(value: object) -> str:
    """A Python literal for an IR number (common/literals.py)."""
    return literal(value, "keras")


def keras_momentum(torch_momentum: float) -> float:
    """IR (torch) momentum -> Keras momentum, 1 - m, rounded to 12 significant digits so that
    0.01 gives 0.99 rather than 0.9899999999999999."""
    return float(f"{1.0 - torch_momentum:.12g}")


def _pair(p: tuple[int, int]) -> str:
    return num(p[0]) if p[0] == p[1] else f"({num(p[0])}, {num(p[1])})"


def _tuple(p: tuple[int, ...]) -> str:
    return f"({', '.join(num(v) for v in p)})"


def _pixels(pads: tuple[int, int, int, int]) -> str:
    (top, bottom), (left, right) = padding.keras_pixels(pads)
    return f"(({num(top)}, {num(bottom)}), ({num(left)}, {num(right)}))"


def _kwargs(pairs: Sequence[tuple[str, object, object]]) -> str:
    """`, k=v` for each (key, value, default) whose value differs from the default."""
    return "".join(f", {k}={v}" for k, v, default in pairs if v != default)


def _name(name: str) -> str:
    return f'name="{name}"'  # names are checked by names.check_node_names: no quote, no escape


def _spatial(node: Node, ctx: Ctx) -> tuple[tuple[int, int], tuple[int, int]]:
    _, h, w = ctx.in_shape(node, 0)
    _, oh, ow = node.shape
    return (h, w), (oh, ow)


def _fail(node: Node, message: str, hint: str) -> InvalidValueError:
    return InvalidValueError(f"{node.name}: {message}", node.span, hint=hint)


# -- activations --------------------------------------------------------------------------------

_NAMED = {
    "relu": "relu",
    "relu6": "relu6",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "gelu": "gelu",  # keras.activations.gelu(approximate=False): the exact erf form, as torch
    "silu": "silu",
    "hardswish": "hard_silu",  # x * relu6(x + 3) / 6
    "hardsigmoid": "hard_sigmoid",  # relu6(x + 3) / 6 in Keras 3 (Keras 2 had 0.2 x + 0.5)
    "mish": "mish",
    "softplus": "softplus",
}
_LAYERS: dict[str, Callable[[Activation], str]] = {
    # Keras' leaky_relu string means negative_slope=0.2; torch's default is 0.01: always explicit
    "leaky_relu": lambda a: f"layers.LeakyReLU(negative_slope={num(a.param('slope'))}, ",
    "elu": lambda a: f"layers.ELU(alpha={num(a.param('alpha'))}, ",
}
ACTIVATIONS = frozenset(_NAMED) | frozenset(_LAYERS)
"""Every activation this backend computes (a test checks it covers the registry's)."""


def activation_name(a: Activation) -> str | None:
    """The Keras activation string for `a`, or None if it needs a layer with parameters."""
    return _NAMED.get(a.fn)


def activation_layer(a: Activation) -> str:
    """The start of the Keras layer call computing `a` (`layers.Activation("relu", `), to be
    completed with the layer's name."""
    if a.fn in _NAMED:
        return f'layers.Activation("{_NAMED[a.fn]}", '
    if a.fn in _LAYERS:
        return _LAYERS[a.fn](a)
    raise InvalidValueError(f"the keras backend has no activation {a.fn!r}")


# -- convolutions -------------------------------------------------------------------------------


def _conv_padding(node: Node, ctx: Ctx) -> tuple[str, tuple[int, int, int, int] | None]:
    """(Keras padding mode, explicit pads or None) for a conv node."""
    a = node.attrs
    assert isinstance(a, ConvAttrs | SepConvAttrs)
    in_hw, out_hw = _spatial(node, ctx)
    eff = padding.effective(a.pads, in_hw, out_hw, a.kernel, a.stride, a.dilation)
    if eff == ZERO:
        return '"valid"', None
    if padding.is_same(eff, in_hw, out_hw, a.kernel, a.stride, a.dilation):
        return '"same"', None
    return '"valid"', eff


def _bn_kwargs(bn: BatchNormAttrs) -> list[tuple[str, object, object]]:
    """Keras BatchNormalization arguments (defaults epsilon 1e-3, momentum 0.99)."""
    return [
        ("epsilon", num(bn.eps), num(1e-3)),
        ("momentum", num(keras_momentum(bn.momentum)), num(0.99)),
        ("scale", num(bn.scale), "True"),
        ("center", num(bn.center), "True"),
    ]


def _conv_call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
    a = node.attrs
    assert isinstance(a, ConvAttrs | SepConvAttrs)
    if max(a.stride) > 1 and max(a.dilation) > 1:
        raise _fail(
            node,
            "Keras convolutions cannot combine a stride and a dilation above 1",
            "use stride 1 with the dilation, then a pooling or strided 1x1 conv",
        )
    mode, pads = _conv_padding(node, ctx)
    sep = isinstance(a, SepConvAttrs)
    dw = is_depthwise(node, ctx.in_shape(node, 0)[0])
    common: list[tuple[str, object, object]] = [
        ("strides", _pair(a.stride), "1"),
        ("padding", mode, '"valid"'),
        ("dilation_rate", _pair(a.dilation), "1"),
    ]
    if sep:
        common.append(("depth_multiplier", num(a.depth_multiplier), "1"))  # type: ignore[union-attr]
    elif not dw:
        common.append(("groups", num(a.groups), "1"))  # type: ignore[union-attr]
    lead = f"{num(a.out_channels)}, {_pair(a.kernel)}"
    if a.bn is not None:
        helper = runtime.sepconv_bn if sep else runtime.conv_bn
        ctx.helpers.add(helper)
        if pads is not None:
            common[1] = ("padding", _pixels(pads), '"valid"')
        kw = common + [("use_bias", num(a.bias), "False" if sep else "True")]
        named = activation_name(a.act) if a.act else None
        kw += _bn_kwargs(a.bn) + [("activation", f'"{named}"' if named else "None", "None")]
        kw += [("depthwise", num(dw), "False")]
        out = [f"{helper.__name__}({args[0]}, {lead}{_kwargs(kw)}, {_name(node.name)})"]
        if a.act and named is None:  # an activation with parameters: its own layer
            out.append(f'{activation_layer(a.act)}name="{node.name}.act")({target})')
        return out
    exprs = []
    x = args[0]
    if pads is not None:
        exprs.append(f'layers.ZeroPadding2D({_pixels(pads)}, name="{node.name}.pad")({x})')
        x = target
    layer = "SeparableConv2D" if sep else "DepthwiseConv2D" if dw else "Conv2D"
    kw = common + [("use_bias", num(a.bias), "True")]
    if dw:  # DepthwiseConv2D(kernel, ..., depth_multiplier): no filter count
        mult = a.out_channels // ctx.in_shape(node, 0)[0]
        lead = _pair(a.kernel)
        kw.append(("depth_multiplier", num(mult), "1"))
    exprs.append(f"layers.{layer}({lead}{_kwargs(kw)}, {_name(node.name)})({x})")
    if a.act:
        exprs.append(f'{activation_layer(a.act)}name="{node.name}.act")({target})')
    return exprs


def is_depthwise(node: Node, in_channels: int) -> bool:
    """A conv with one group per input channel: built as Keras' DepthwiseConv2D (kernel
    (kh, kw, C, mult)), so Keras models with depthwise layers load positionally."""
    a = node.attrs
    return isinstance(a, ConvAttrs) and a.groups > 1 and a.groups == in_channels


# -- pooling ------------------------------------------------------------------------------------


def _pool_call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
    a = node.attrs
    assert isinstance(a, PoolAttrs)
    in_hw, out_hw = _spatial(node, ctx)
    eff = padding.effective(a.pads, in_hw, out_hw, a.kernel, a.stride)
    same = padding.is_same(eff, in_hw, out_hw, a.kernel, a.stride)
    k, s = _pair(a.kernel), _pair(a.stride)
    is_max = node.op is Op.MAXPOOL2D
    native = "MaxPooling2D" if is_max else "AveragePooling2D"
    counted = padding.counted(a.pads, eff) if a.count_include_pad and not is_max else ZERO
    if eff == ZERO:
        return [f"layers.{native}({k}, {s}, {_name(node.name)})({args[0]})"]
    if same and counted == ZERO:  # Keras' same pooling ignores the padded positions
        return [f'layers.{native}({k}, {s}, padding="same", {_name(node.name)})({args[0]})']
    if is_max:
        ctx.helpers.add(runtime.PaddedMaxPooling2D)
        layer = f"PaddedMaxPooling2D({_tuple(a.kernel)}, {_tuple(a.stride)}, {_pixels(eff)}"
        return [f"{layer}, {_name(node.name)})({args[0]})"]
    if counted == eff:  # every padded position counts: zero padding, then a plain average
        return [
            f'layers.ZeroPadding2D({_pixels(eff)}, name="{node.name}.pad")({args[0]})',
            f"layers.{native}({k}, {s}, {_name(node.name)})({target})",
        ]
    ctx.helpers.add(runtime.PaddedAveragePooling2D)
    layer = f"PaddedAveragePooling2D({_tuple(a.kernel)}, {_tuple(a.stride)}, {_pixels(eff)}"
    return [f"{layer}, {_pixels(counted)}, {_name(node.name)})({args[0]})"]


def _adaptive_call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
    (h, w), (oh, ow) = _spatial(node, ctx)
    if (oh, ow) == (1, 1):
        return [f"layers.GlobalAveragePooling2D(keepdims=True, {_name(node.name)})({args[0]})"]
    if h % oh == 0 and w % ow == 0:  # equal windows that tile the input: a plain average pool
        k = _pair((h // oh, w // ow))
        return [f"layers.AveragePooling2D({k}, {k}, {_name(node.name)})({args[0]})"]
    ctx.helpers.add(runtime.AdaptiveAveragePooling2D)
    size = _tuple((oh, ow))
    return [f"AdaptiveAveragePooling2D({size}, {_name(node.name)})({args[0]})"]


# -- the rest -----------------------------------------------------------------------------------


def _batchnorm_call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
    a = node.attrs
    assert isinstance(a, BatchNormAttrs)
    kw = _kwargs(_bn_kwargs(a)).lstrip(", ")
    kw = f"{kw}, " if kw else ""
    return [f"layers.BatchNormalization({kw}{_name(node.name)})({args[0]})"]


def _lrn_call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
    a = node.attrs
    ctx.helpers.add(runtime.LocalResponseNorm)
    kw = _kwargs(
        [
            ("alpha", num(a.alpha), num(1e-4)),  # type: ignore[attr-defined]
            ("beta", num(a.beta), num(0.75)),  # type: ignore[attr-defined]
            ("k", num(a.k), num(1.0)),  # type: ignore[attr-defined]
        ]
    )
    size = num(a.size)  # type: ignore[attr-defined]
    return [f"LocalResponseNorm({size}{kw}, {_name(node.name)})({args[0]})"]


def _flatten_call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
    c, h, w = ctx.in_shape(node, 0)
    flat = f"layers.Flatten({_name(node.name)})"
    if h * w == 1 or c == 1:  # NHWC and NCHW orders agree
        return [f"{flat}({args[0]})"]
    # the IR flattens channel-major (torch's order): move channels first, then flatten
    return [f'layers.Permute((3, 1, 2), name="{node.name}.nchw")({args[0]})', f"{flat}({target})"]


def _linear_call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
    a = node.attrs
    kw = _kwargs([("use_bias", num(a.bias), "True")])  # type: ignore[attr-defined]
    return [f"layers.Dense({num(a.out_features)}{kw}, {_name(node.name)})({args[0]})"]  # type: ignore[attr-defined]


def _merge(layer: str) -> Callable[[Node, tuple[str, ...], str, Ctx], list[str]]:
    def call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
        if len(args) == 1:  # Keras merge layers want two inputs or more
            return [f"layers.Identity({_name(node.name)})({args[0]})"]
        if layer == "Add" and node.name in ctx.residual_adds:
            # Inputs in the spec's written order, which the order of `model.weights` follows:
            # a residual writes its main path first (input 1 in the IR, after the shortcut),
            # as keras.applications' Xception does (`layers.add([x, residual])`).
            args = args[::-1]
        return [f"layers.{layer}({_name(node.name)})([{', '.join(args)}])"]

    return call


def _simple(make: Callable[[Node], str]) -> Callable[[Node, tuple[str, ...], str, Ctx], list[str]]:
    """A rule for a one-layer node: `make(node)` gives the layer's arguments before its name."""

    def call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
        return [f"{make(node)}{_name(node.name)})({args[0]})"]

    return call


def _scale_call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
    ctx.helpers.add(runtime.Scale)
    return [f"Scale({num(node.attrs.factor)}, {_name(node.name)})({args[0]})"]  # type: ignore[attr-defined]


def _helper_layer(
    helper: str, make: Callable[[Node], str]
) -> Callable[[Node, tuple[str, ...], str, Ctx], list[str]]:
    """A rule for a node computed by one of runtime.py's layers: `make(node)` gives its
    arguments before the name."""

    def call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
        ctx.helpers.add(helper)
        return [f"{helper}({make(node)}{_name(node.name)})({args[0]})"]

    return call


def _norm_kwargs(eps: float, affine: bool) -> str:
    return f"epsilon={num(eps)}" + ("" if affine else ", center=False, scale=False") + ", "


def _norm_of(node: Node) -> str:
    """A LayerNorm's or GroupNorm's epsilon and affine options as keyword arguments."""
    return _norm_kwargs(node.attrs.eps, node.attrs.affine)  # type: ignore[attr-defined]


def _input_call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
    c, h, w = node.shape
    return [f'inputs = keras.Input(({num(h)}, {num(w)}, {num(c)}), name="input")']


def _identity_call(node: Node, args: tuple[str, ...], target: str, ctx: Ctx) -> list[str]:
    raise ValueError("identity nodes alias their input and emit no statement")


OP_TABLE: dict[Op, Rule] = {
    Op.INPUT: Rule(_input_call),
    Op.CONV2D: Rule(_conv_call),
    Op.SEPCONV2D: Rule(_conv_call),
    Op.BATCHNORM: Rule(_batchnorm_call),
    Op.ACT: Rule(_simple(lambda n: activation_layer(cast(ActAttrs, n.attrs).fn))),
    Op.MAXPOOL2D: Rule(_pool_call),
    Op.AVGPOOL2D: Rule(_pool_call),
    Op.GLOBAL_AVGPOOL: Rule(_simple(lambda n: "layers.GlobalAveragePooling2D(keepdims=True, ")),
    Op.GLOBAL_MAXPOOL: Rule(_simple(lambda n: "layers.GlobalMaxPooling2D(keepdims=True, ")),
    Op.ADAPTIVE_AVGPOOL2D: Rule(_adaptive_call),
    Op.LRN: Rule(_lrn_call),
    Op.DROPOUT: Rule(_simple(lambda n: f"layers.Dropout({num(n.attrs.p)}, ")),  # type: ignore[attr-defined]
    Op.FLATTEN: Rule(_flatten_call),
    Op.LINEAR: Rule(_linear_call),
    Op.CONCAT: Rule(_merge("Concatenate")),
    Op.ADD: Rule(_merge("Add")),
    Op.SCALE: Rule(_scale_call),
    Op.MULTIPLY: Rule(_merge("Multiply")),
    Op.CHANNEL_SLICE: Rule(
        _helper_layer(
            runtime.ChannelSlice,
            lambda n: f"{num(n.attrs.start)}, {num(n.attrs.size)}, ",  # type: ignore[attr-defined]
        )
    ),
    Op.CHANNEL_SHUFFLE: Rule(
        _helper_layer(runtime.ChannelShuffle, lambda n: f"{num(n.attrs.groups)}, ")  # type: ignore[attr-defined]
    ),
    Op.ZEROPAD2D: Rule(_simple(lambda n: f"layers.ZeroPadding2D({_pixels(n.attrs.pads)}, ")),  # type: ignore[attr-defined]
    Op.LAYERNORM: Rule(_simple(lambda n: "layers.LayerNormalization(axis=-1, " + _norm_of(n))),
    Op.GROUPNORM: Rule(
        _simple(
            lambda n: (
                f"layers.GroupNormalization({num(n.attrs.groups)}, axis=-1, "  # type: ignore[attr-defined]
                + _norm_of(n)
            )
        )
    ),
    Op.LAYER_SCALE: Rule(
        _helper_layer(runtime.LayerScale, lambda n: f"{num(float(n.attrs.init))}, ")  # type: ignore[attr-defined]
    ),
    Op.DROP_PATH: Rule(_helper_layer(runtime.DropPath, lambda n: f"{num(n.attrs.p)}, ")),  # type: ignore[attr-defined]
    Op.IDENTITY: Rule(_identity_call),
}
"""How each op is emitted; a test iterates over `Op` to check that none is missing."""
