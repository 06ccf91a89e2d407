"""The few helper classes and functions that emitted torch code needs, kept here as real code.

Emitted files must import nothing but torch, so each one carries a copy of the helpers it uses.
Keeping the originals in this module means they are linted, type-checked and unit-tested like
any other code; `emit.py` copies their source text verbatim (`inspect.getsource`) into each file,
in the order of `HELPERS`. Nothing here knows about inceptdsl.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Indexed(nn.Module):
    """A module whose numbered members are reached by index, like nn.Sequential's: `self[0]`,
    `self.features[3]`, and members whose names are not identifiers by key:
    `self.block1["block1-0"]`. Without a forward of its own, it only holds layers for its parent.
    """

    def __getitem__(self, key: int | str) -> nn.Module:
        if str(key) in self._parameters:
            return self._parameters[str(key)]  # type: ignore[return-value]
        return self._modules[str(key)]  # type: ignore[return-value]

    def __setitem__(self, key: int | str, value: nn.Module | nn.Parameter) -> None:
        """A numbered or quoted member (`features[3]`, `block1["block1-0"]`): a module, or
        a parameter that sits at the path itself (a layer scale's `gamma`)."""
        if isinstance(value, nn.Parameter):
            self.register_parameter(str(key), value)
        else:
            self.add_module(str(key), value)


def batch_norm(
    num_features: int,
    eps: float = 1e-5,
    momentum: float = 0.1,
    scale: bool = True,
    center: bool = True,
) -> nn.BatchNorm2d:
    """nn.BatchNorm2d in which gamma (`scale`) or beta (`center`) may be absent, as keras allows.

    An absent gamma acts as 1 and an absent beta as 0; neither is a parameter nor a state_dict
    entry (keras.applications' Inception BN has `scale=False`).
    """
    bn = nn.BatchNorm2d(num_features, eps, momentum, affine=scale or center)
    if not scale:
        bn.register_parameter("weight", None)
    if not center:
        bn.register_parameter("bias", None)
    return bn


class ConvBN(nn.Module):
    """A convolution then batch norm, children `conv` and `bn` (torchvision's BasicConv2d).

    The activation, if any, is applied by the model's forward, where it can be seen.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        eps: float = 1e-5,
        momentum: float = 0.1,
        scale: bool = True,
        center: bool = True,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias
        )
        self.bn = batch_norm(out_channels, eps, momentum, scale, center)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class SeparableConv2d(nn.Module):
    """Depthwise then pointwise convolution, children `conv1` and `pointwise` (timm's naming).

    `conv1` has groups=in_channels and in_channels * depth_multiplier outputs; the bias, if
    any, belongs to `pointwise`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        depth_multiplier: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__()
        mid = in_channels * depth_multiplier
        self.conv1 = nn.Conv2d(
            in_channels, mid, kernel_size, stride, padding, dilation, in_channels, bias=False
        )
        self.pointwise = nn.Conv2d(mid, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.conv1(x))


class SepConvBN(nn.Module):
    """A separable convolution then batch norm: children `conv` (SeparableConv2d) and `bn`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        depth_multiplier: int = 1,
        bias: bool = False,
        eps: float = 1e-5,
        momentum: float = 0.1,
        scale: bool = True,
        center: bool = True,
    ) -> None:
        super().__init__()
        self.conv = SeparableConv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            depth_multiplier,
            bias,
        )
        self.bn = batch_norm(out_channels, eps, momentum, scale, center)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


def avg_pool2d_padded(
    x: torch.Tensor,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    pads: tuple[int, int, int, int],
    counted: tuple[int, int, int, int],
) -> torch.Tensor:
    """Average pooling with any zero padding, dividing by the positions that count.

    `pads` (left, right, top, bottom, as F.pad takes them) may be asymmetric (TF 'same' with
    stride 2) or hold the extra rows a ceil-mode output needs; `counted` is the part of that
    padding that counts in the divisor, around the input: all of the spec's padding when
    count_include_pad, none when not. This is what torch's avg_pool2d computes for the pads it
    supports (symmetric, at most half the kernel).
    """
    left, right, top, bottom = counted
    mask = x.new_ones((1, 1, x.shape[2] + top + bottom, x.shape[3] + left + right))
    rest = tuple(p - c for p, c in zip(pads, counted, strict=True))
    total = F.avg_pool2d(F.pad(x, pads), kernel_size, stride)
    return total / F.avg_pool2d(F.pad(mask, rest), kernel_size, stride)


def drop_path(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Stochastic depth: in training, zero each sample with probability p and divide the rest
    by 1 - p (timm's drop_path, torchvision's StochasticDepth "row"); identity otherwise."""
    if not training or p == 0.0:
        return x
    keep = 1.0 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's channel shuffle (torchvision's): (groups, C / groups) -> transposed."""
    n, c, h, w = x.shape
    x = x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous()
    return x.view(n, c, h, w)


def check_params(given: dict[str, object], built: dict[str, object]) -> None:
    """Refuse network parameters other than those the model was generated with.

    The code is the network for exactly the values in `built`: another value may change its
    structure (an aux head, a layer's size), so it needs the code generated again.
    """
    for key, value in given.items():
        if key not in built:
            known = ", ".join(built) or "none"
            raise TypeError(f"unknown network parameter {key!r} (the parameters: {known})")
        want = built[key]
        if type(value) is not type(want) and not (type(want) is float and type(value) is int):
            kind = type(want).__name__
            raise TypeError(f"network parameter {key} is {kind}, not {type(value).__name__}")
        if value != want:
            raise ValueError(
                f"this model was generated with {key}={want!r}, not {value!r}: generate it "
                f"again with that value (inceptdsl compile SPEC --set {key}=...)"
            )


def weights(module: nn.Module) -> list[torch.Tensor]:
    """The weights of the convolutions and linear layers in `module` (the ones `init=` sets)."""
    return [m.weight for m in module.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def trunc_normal(
    module: nn.Module, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0
) -> nn.Module:
    """`module` with its weights drawn from normal(mean, std) truncated to [a, b] (absolute
    bounds, as torch's trunc_normal_; torchvision's GoogLeNet and Inception-v3 init)."""
    for w in weights(module):
        nn.init.trunc_normal_(w, mean, std, a, b)
    return module


def normal(module: nn.Module, mean: float = 0.0, std: float = 1.0) -> nn.Module:
    """`module` with its weights drawn from normal(mean, std)."""
    for w in weights(module):
        nn.init.normal_(w, mean, std)
    return module


def xavier_uniform(module: nn.Module) -> nn.Module:
    """`module` with Glorot-uniform weights (Keras' default kernel initializer)."""
    for w in weights(module):
        nn.init.xavier_uniform_(w)
    return module


HELPERS: tuple[object, ...] = (
    Indexed,
    check_params,
    batch_norm,
    ConvBN,
    SeparableConv2d,
    SepConvBN,
    avg_pool2d_padded,
    drop_path,
    channel_shuffle,
    weights,
    trunc_normal,
    normal,
    xavier_uniform,
)
"""Every helper, in the order emitted files define them (a helper may use earlier ones)."""

USES: dict[object, tuple[object, ...]] = {
    trunc_normal: (weights,),
    normal: (weights,),
    xavier_uniform: (weights,),
    ConvBN: (batch_norm,),
    SepConvBN: (batch_norm, SeparableConv2d),
}
"""The helpers each helper calls, which an emitted file must then define too."""
