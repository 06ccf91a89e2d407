"""The IR's operations: one enum and one frozen attribute model per op.

This module is the vocabulary shared by the core (lowering, shapes, cost, reports) and the
backends. Every attribute is fully resolved: no expressions, no defaults left to a backend, no
framework conventions (padding is explicit per side even when the spec said `same`; BN momentum
is in torch's convention). docs/ir.md documents the same contract in prose.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Op(StrEnum):
    """Every IR op kind. Shape, cost and every backend table are keyed by this enum."""

    INPUT = "input"
    CONV2D = "conv2d"
    SEPCONV2D = "sepconv2d"
    BATCHNORM = "batchnorm"
    ACT = "act"
    MAXPOOL2D = "maxpool2d"
    AVGPOOL2D = "avgpool2d"
    GLOBAL_AVGPOOL = "global_avgpool"
    GLOBAL_MAXPOOL = "global_maxpool"
    ADAPTIVE_AVGPOOL2D = "adaptive_avgpool2d"
    LRN = "lrn"
    DROPOUT = "dropout"
    FLATTEN = "flatten"
    LINEAR = "linear"
    CONCAT = "concat"
    ADD = "add"
    SCALE = "scale"
    IDENTITY = "identity"


Activation = Literal["relu", "relu6", "sigmoid", "tanh", "gelu", "silu"]
ACTIVATIONS: tuple[Activation, ...] = ("relu", "relu6", "sigmoid", "tanh", "gelu", "silu")

Pair = tuple[int, int]
# (top, bottom, left, right): the zero (or, for max pooling, -inf) rows/columns added on each
# side. TF `same` padding is resolved to this form, putting the odd extra pixel bottom/right.
Pads = tuple[int, int, int, int]


class Attrs(BaseModel):
    """Base of every op's attributes: immutable and closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class InputAttrs(Attrs):
    shape: tuple[int, ...]


class BatchNormAttrs(Attrs):
    """Batch norm over channels. `momentum` uses torch's convention (keras = 1 - momentum).

    `scale` = learnable gamma present, `center` = learnable beta present. torch `affine=True`
    is scale and center; keras.applications' Inception BN is center only (no gamma).
    """

    eps: float = 1e-5
    momentum: float = 0.1
    scale: bool = True
    center: bool = True


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


class ActAttrs(Attrs):
    fn: Activation


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


class LRNAttrs(Attrs):
    """torch LocalResponseNorm: x / (k + alpha/size * sum_{size channels} x^2) ** beta."""

    size: int
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0


class DropoutAttrs(Attrs):
    p: float


class FlattenAttrs(Attrs):
    """Flatten (C, H, W) to C*H*W in channel-major (NCHW) order, as torch does."""


class LinearAttrs(Attrs):
    out_features: int
    bias: bool = True


class ConcatAttrs(Attrs):
    """Concatenate along channels, inputs in edge-index order."""


class AddAttrs(Attrs):
    """Elementwise sum of inputs of identical shape, in edge-index order."""


class ScaleAttrs(Attrs):
    """Multiply by a constant (the residual scaling of Inception-ResNet)."""

    factor: float


class IdentityAttrs(Attrs):
    pass


ATTRS: dict[Op, type[Attrs]] = {
    Op.INPUT: InputAttrs,
    Op.CONV2D: ConvAttrs,
    Op.SEPCONV2D: SepConvAttrs,
    Op.BATCHNORM: BatchNormAttrs,
    Op.ACT: ActAttrs,
    Op.MAXPOOL2D: PoolAttrs,
    Op.AVGPOOL2D: PoolAttrs,
    Op.GLOBAL_AVGPOOL: GlobalPoolAttrs,
    Op.GLOBAL_MAXPOOL: GlobalPoolAttrs,
    Op.ADAPTIVE_AVGPOOL2D: AdaptivePoolAttrs,
    Op.LRN: LRNAttrs,
    Op.DROPOUT: DropoutAttrs,
    Op.FLATTEN: FlattenAttrs,
    Op.LINEAR: LinearAttrs,
    Op.CONCAT: ConcatAttrs,
    Op.ADD: AddAttrs,
    Op.SCALE: ScaleAttrs,
    Op.IDENTITY: IdentityAttrs,
}
"""The attribute model of each op (a test checks that every Op has one)."""

# Ops that take any number (>= 1) of inputs; every other op except INPUT takes exactly one.
VARIADIC: frozenset[Op] = frozenset({Op.CONCAT, Op.ADD})
