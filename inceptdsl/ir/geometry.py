"""The formulas that several ops' shape functions share: sliding windows and TF `same` padding.

Shapes are per sample: (C, H, W) for feature maps, (F,) for flat tensors. The formulas are
torch's (torch.nn.Conv2d / MaxPool2d docs), including ceil mode's rule that the last window
must start inside the input or the left/top padding; TF `same` padding follows TensorFlow's
`get_pad` (out = ceil(in / stride), the odd pixel of padding bottom/right), as timm's
`padding.py` does. Errors are static and located: callers pass the span of the layer.
"""

from __future__ import annotations

from ..errors import ChannelError, EmptyOutputError, KernelTooLargeError, RankError
from ..front.source import Span
from .registry import Pads, Shape


def fmt_shape(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF 'SAME' padding for one dimension: (before, after), the extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_pads(
    pad: Pads | str,
    in_shape: Shape,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> tuple[Pads, bool]:
    """A checked `pad=` value (pads, or 'same') as explicit pads, and whether it was `same`."""
    if pad != "same":
        return pad, False  # type: ignore[return-value]
    if len(in_shape) != 3:
        return (0, 0, 0, 0), True  # shape inference reports the rank error
    t, b = same_pads(in_shape[1], kernel[0], stride[0], dilation[0])
    lft, r = same_pads(in_shape[2], kernel[1], stride[1], dilation[1])
    return (t, b, lft, r), True


def window_out(
    size: int,
    kernel: int,
    stride: int,
    before: int,
    after: int,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of a sliding window (torch semantics, incl. ceil mode's last-window rule)."""
    span = size + before + after - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + before:
            out -= 1
    else:
        out = span // stride + 1
    return out


def spatial(shape: Shape, what: str, span: Span | None) -> tuple[int, int, int]:
    """(C, H, W) of a feature map, or a located error if the tensor is flat."""
    if len(shape) != 3:
        raise RankError(
            f"{what} needs a feature map (channels x height x width), "
            f"but its input is flat ({shape[0]} features)",
            span,
            hint="spatial layers must come before `flatten`",
        )
    return shape[0], shape[1], shape[2]


def windowed(
    what: str,
    shape: Shape,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pads: Pads,
    dilation: tuple[int, int],
    ceil_mode: bool,
    span: Span | None,
) -> tuple[int, int]:
    """Output (H, W) of a sliding window over a feature map, with located errors."""
    _, h, w = spatial(shape, what, span)
    outs = []
    for size, k, s, before, after, d, axis in (
        (h, kernel[0], stride[0], pads[0], pads[1], dilation[0], "height"),
        (w, kernel[1], stride[1], pads[2], pads[3], dilation[1], "width"),
    ):
        eff = d * (k - 1) + 1
        padded = size + before + after
        if eff > padded:
            dil = f" (dilated to {eff})" if d > 1 else ""
            raise KernelTooLargeError(
                f"{what} kernel {kernel[0]}x{kernel[1]}{dil} is larger than its padded input: "
                f"{axis} {size} + padding {before + after} = {padded} < {eff}",
                span,
                hint="pad the input, use a smaller kernel, or move this layer before the "
                "layers that shrink the input",
            )
        out = window_out(size, k, s, before, after, d, ceil_mode)
        if out <= 0:
            raise EmptyOutputError(
                f"{what} output {axis} would be {out} (input {axis} {size})", span
            )
        outs.append(out)
    return outs[0], outs[1]


def positive_channels(n: int, span: Span | None, what: str = "output channels") -> None:
    if n <= 0:
        raise ChannelError(f"{what} must be a positive integer, got {n}", span)
