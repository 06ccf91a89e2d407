"""How an IR window op's explicit pads become Keras padding: `valid`, `same` or explicit pixels.

The IR records every pad per side, (top, bottom, left, right), with TF `same` already resolved
and torch's ceil mode folded into the output size. Keras has two native modes. `valid` pads
nothing; `same` pads `total = max((ceil(n / s) - 1) * s + k_eff - n, 0)` pixels, the odd one
bottom/right, and its pooling ignores the padded positions (max over the input, average divided
by the input positions only). A node uses a native mode exactly when the pixels its windows
actually read equal that mode's: this reproduces keras.applications' layers one for one (so its
weights line up) and keeps the fast native kernels; anything else is padded explicitly.

`effective()` is the first step for every window op: the pads after which a floor-mode `valid`
window gives the IR's output size. The bottom/right pads grow by the rows a ceil-mode output
needs, and shrink to what the last window reads (rows no window reads change nothing).
"""

from __future__ import annotations

from inceptdsl.ir.geometry import same_pads

Pads = tuple[int, int, int, int]
Pair = tuple[int, int]


def effective(
    pads: Pads,
    in_hw: Pair,
    out_hw: Pair,
    kernel: Pair,
    stride: Pair,
    dilation: Pair = (1, 1),
) -> Pads:
    """Pads (top, bottom, left, right) after which a `valid` window op gives `out_hw`."""
    top, _, left, _ = pads
    need_h = (out_hw[0] - 1) * stride[0] + (kernel[0] - 1) * dilation[0] + 1
    need_w = (out_hw[1] - 1) * stride[1] + (kernel[1] - 1) * dilation[1] + 1
    return top, max(need_h - in_hw[0] - top, 0), left, max(need_w - in_hw[1] - left, 0)


def is_same(
    eff: Pads, in_hw: Pair, out_hw: Pair, kernel: Pair, stride: Pair, dilation: Pair = (1, 1)
) -> bool:
    """Whether Keras `same` pads exactly `eff` (pads from `effective`) and gives `out_hw`."""
    if out_hw != (-(-in_hw[0] // stride[0]), -(-in_hw[1] // stride[1])):
        return False
    rows = same_pads(in_hw[0], kernel[0], stride[0], dilation[0])
    cols = same_pads(in_hw[1], kernel[1], stride[1], dilation[1])
    return eff == (*rows, *cols)


def counted(spec: Pads, eff: Pads) -> Pads:
    """The part of the spec's padding inside `eff`: what a count_include_pad average counts.

    Ceil-mode rows beyond the spec's padding never count (torch's rule); spec rows that no
    window reads do not matter and are dropped with them.
    """
    return tuple(min(s, e) for s, e in zip(spec, eff, strict=True))  # type: ignore[return-value]


def keras_pixels(pads: Pads) -> tuple[Pair, Pair]:
    """IR pads as Keras' ((top, bottom), (left, right))."""
    top, bottom, left, right = pads
    return (top, bottom), (left, right)
