"""OP_TABLE: for every IR op, the ONNX nodes that compute it in inference (eval) mode.

A rule takes the IR node, the names of the tensors holding its inputs and the Emitter, adds its
nodes and returns the tensor holding the result: the last node's output (the builder renames it
to the IR node's path), or an input itself for ops that are the identity in inference
(`identity`, `dropout`, `drop_path`). A test checks that every `Op` has a rule. Weights are read
by their torch state_dict keys, at the paths the torch backend builds (docs/ir.md's state
column): a conv unit's `conv`/`bn` children, a separable conv's `conv1`/`pointwise`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from inceptdsl.ir import Node, Op
from inceptdsl.ir.ops import (
    ActAttrs,
    BatchNormAttrs,
    ChannelShuffleAttrs,
    ChannelSliceAttrs,
    ConvAttrs,
    GroupNormAttrs,
    LayerNormAttrs,
    LinearAttrs,
    LRNAttrs,
    ScaleAttrs,
    SepConvAttrs,
    ZeroPadAttrs,
)

from .activations import activation
from .emitter import Emitter
from .pooling import adaptive_avgpool, avgpool, maxpool, onnx_pads

Rule = Callable[[Node, list[str], Emitter], str]


def batch_norm(e: Emitter, scope: str, x: str, a: BatchNormAttrs, channels: int) -> str:
    """Inference batch norm at module path `scope`; an absent gamma is 1, an absent beta 0."""
    scale = e.weight(f"{scope}.weight") if a.scale else e.const(scope, "ones", [1.0] * channels)
    bias = e.weight(f"{scope}.bias") if a.center else e.const(scope, "zeros", [0.0] * channels)
    mean, var = e.weight(f"{scope}.running_mean"), e.weight(f"{scope}.running_var")
    return e.op(scope, "BatchNormalization", [x, scale, bias, mean, var], epsilon=a.eps)


def _conv(node: Node, xs: list[str], e: Emitter) -> str:
    a = cast(ConvAttrs | SepConvAttrs, node.attrs)
    unit = f"{node.name}.conv" if a.bn else node.name
    window = {
        "kernel_shape": list(a.kernel),
        "strides": list(a.stride),
        "dilations": list(a.dilation),
        "pads": onnx_pads(a.pads),  # per side: TF `same`'s odd pixel stays bottom/right
    }
    if isinstance(a, SepConvAttrs):
        depthwise = e.weight(f"{unit}.conv1.weight")
        x = e.op(f"{unit}.conv1", "Conv", [xs[0], depthwise], group=e.in_shape(node)[0], **window)
        ins = [x, e.weight(f"{unit}.pointwise.weight")]
        if a.bias:
            ins.append(e.weight(f"{unit}.pointwise.bias"))
        y = e.op(f"{unit}.pointwise", "Conv", ins, kernel_shape=[1, 1])
    else:
        ins = [xs[0], e.weight(f"{unit}.weight")]
        if a.bias:
            ins.append(e.weight(f"{unit}.bias"))
        y = e.op(unit, "Conv", ins, group=a.groups, **window)
    if a.bn:
        y = batch_norm(e, f"{node.name}.bn", y, a.bn, a.out_channels)
    return activation(e, node.name, a.act, y) if a.act else y


def _batchnorm(node: Node, xs: list[str], e: Emitter) -> str:
    return batch_norm(e, node.name, xs[0], cast(BatchNormAttrs, node.attrs), node.shape[0])


def _act(node: Node, xs: list[str], e: Emitter) -> str:
    return activation(e, node.name, cast(ActAttrs, node.attrs).fn, xs[0])


def _lrn(node: Node, xs: list[str], e: Emitter) -> str:
    a = cast(LRNAttrs, node.attrs)
    attrs = {"size": a.size, "alpha": a.alpha, "beta": a.beta, "bias": a.k}
    if a.size % 2 == 1:  # ONNX's window is torch's for odd sizes
        return e.op(node.name, "LRN", [xs[0]], **attrs)
    # even size: torch's window has size//2 channels before and size//2 - 1 after (ONNX's is
    # the other way round), so compute torch's definition: x / (k + alpha * avg(x^2))^beta
    s = node.name
    sq = e.op(s, "Unsqueeze", [e.op(s, "Mul", [xs[0], xs[0]]), e.ints(s, "axis", [1])])
    pads = e.ints(s, "pads", [0, 0, a.size // 2, 0, 0, 0, 0, (a.size - 1) // 2, 0, 0])
    avg = e.op(s, "AveragePool", [e.op(s, "Pad", [sq, pads])], kernel_shape=[a.size, 1, 1])
    avg = e.op(s, "Squeeze", [avg, e.ints(s, "axis", [1])])
    div = e.op(
        s, "Add", [e.op(s, "Mul", [avg, e.const(s, "alpha", a.alpha)]), e.const(s, "k", a.k)]
    )
    return e.op(s, "Div", [xs[0], e.op(s, "Pow", [div, e.const(s, "beta", a.beta)])])


def _linear(node: Node, xs: list[str], e: Emitter) -> str:
    a = cast(LinearAttrs, node.attrs)
    if a.per_position:  # of each position's channels: a 1x1 Conv with the (out, in) weight
        cin = e.in_shape(node)[0]
        ins = [xs[0], e.weight(f"{node.name}.weight", (a.out_features, cin, 1, 1))]
        if a.bias:
            ins.append(e.weight(f"{node.name}.bias"))
        return e.op(node.name, "Conv", ins, kernel_shape=[1, 1])
    ins = [xs[0], e.weight(f"{node.name}.weight")]
    if a.bias:
        ins.append(e.weight(f"{node.name}.bias"))
    return e.op(node.name, "Gemm", ins, transB=1)


def _chain(op_type: str) -> Rule:
    """A binary op folded over the inputs, in order (broadcasting as NumPy, like torch)."""

    def rule(node: Node, xs: list[str], e: Emitter) -> str:
        if len(xs) == 1:
            return e.op(node.name, "Identity", xs)
        y = xs[0]
        for x in xs[1:]:
            y = e.op(node.name, op_type, [y, x])
        return y

    return rule


def _scale(node: Node, xs: list[str], e: Emitter) -> str:
    factor = e.const(node.name, "factor", cast(ScaleAttrs, node.attrs).factor)
    return e.op(node.name, "Mul", [xs[0], factor])


def _slice(node: Node, xs: list[str], e: Emitter) -> str:
    a = cast(ChannelSliceAttrs, node.attrs)
    s = node.name
    bounds = [e.ints(s, "starts", [a.start]), e.ints(s, "ends", [a.start + a.size])]
    return e.op(s, "Slice", [xs[0], *bounds, e.ints(s, "axes", [1])])


def _shuffle(node: Node, xs: list[str], e: Emitter) -> str:
    """torchvision's channel_shuffle: (groups, C / groups) transposed; 0 keeps the batch."""
    g = cast(ChannelShuffleAttrs, node.attrs).groups
    c, h, w = node.shape
    s = node.name
    x = e.op(s, "Reshape", [xs[0], e.ints(s, "groups", [0, g, c // g, h, w])])
    x = e.op(s, "Transpose", [x], perm=[0, 2, 1, 3, 4])
    return e.op(s, "Reshape", [x, e.ints(s, "shape", [0, c, h, w])])


def _zeropad(node: Node, xs: list[str], e: Emitter) -> str:
    top, bottom, left, right = cast(ZeroPadAttrs, node.attrs).pads
    pads = e.ints(node.name, "pads", [0, 0, top, left, 0, 0, bottom, right])
    return e.op(node.name, "Pad", [xs[0], pads])


def _norm_params(e: Emitter, node: Node, affine: bool) -> list[str]:
    c = node.shape[0]
    if affine:
        return [e.weight(f"{node.name}.weight"), e.weight(f"{node.name}.bias")]
    return [e.const(node.name, "ones", [1.0] * c), e.const(node.name, "zeros", [0.0] * c)]


def _layernorm(node: Node, xs: list[str], e: Emitter) -> str:
    a = cast(LayerNormAttrs, node.attrs)
    params = _norm_params(e, node, a.affine)
    if len(node.shape) == 1:
        return e.op(node.name, "LayerNormalization", [xs[0], *params], axis=-1, epsilon=a.eps)
    # over each position's channels (timm's LayerNorm2d): channels last, normalise, back
    x = e.op(node.name, "Transpose", xs, perm=[0, 2, 3, 1])
    x = e.op(node.name, "LayerNormalization", [x, *params], axis=-1, epsilon=a.eps)
    return e.op(node.name, "Transpose", [x], perm=[0, 3, 1, 2])


def _groupnorm(node: Node, xs: list[str], e: Emitter) -> str:
    a = cast(GroupNormAttrs, node.attrs)
    params = _norm_params(e, node, a.affine)  # opset 21: one scale and bias per channel
    return e.op(
        node.name, "GroupNormalization", [xs[0], *params], num_groups=a.groups, epsilon=a.eps
    )


def _layer_scale(node: Node, xs: list[str], e: Emitter) -> str:
    shape = node.shape[:1] + (1,) * (len(node.shape) - 1)  # (C, 1, 1) on a map
    return e.op(node.name, "Mul", [xs[0], e.weight(node.name, shape)])


def _alias(node: Node, xs: list[str], e: Emitter) -> str:
    """Identity in inference: no node, the input tensor itself."""
    return xs[0]


def _input(node: Node, xs: list[str], e: Emitter) -> str:
    raise ValueError("the input node is the graph's input and has no rule to apply")


def _single(op_type: str, **attrs: object) -> Rule:
    def rule(node: Node, xs: list[str], e: Emitter) -> str:
        return e.op(node.name, op_type, xs, **attrs)

    return rule


OP_TABLE: dict[Op, Rule] = {
    Op.INPUT: _input,
    Op.CONV2D: _conv,
    Op.SEPCONV2D: _conv,
    Op.BATCHNORM: _batchnorm,
    Op.ACT: _act,
    Op.MAXPOOL2D: maxpool,
    Op.AVGPOOL2D: avgpool,
    Op.GLOBAL_AVGPOOL: _single("GlobalAveragePool"),
    Op.GLOBAL_MAXPOOL: _single("GlobalMaxPool"),
    Op.ADAPTIVE_AVGPOOL2D: adaptive_avgpool,
    Op.LRN: _lrn,
    Op.DROPOUT: _alias,
    Op.FLATTEN: _single("Flatten", axis=1),
    Op.LINEAR: _linear,
    Op.CONCAT: _single("Concat", axis=1),
    Op.ADD: _chain("Add"),
    Op.SCALE: _scale,
    Op.IDENTITY: _alias,
    Op.MULTIPLY: _chain("Mul"),
    Op.CHANNEL_SLICE: _slice,
    Op.CHANNEL_SHUFFLE: _shuffle,
    Op.ZEROPAD2D: _zeropad,
    Op.LAYERNORM: _layernorm,
    Op.GROUPNORM: _groupnorm,
    Op.LAYER_SCALE: _layer_scale,
    Op.DROP_PATH: _alias,
}
"""How each op is exported; a test iterates over `Op` to check that none is missing."""
