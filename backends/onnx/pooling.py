"""Pooling rules: max and average pooling with any padding, ceil mode and count_pad, adaptive.

ONNX pooling is used in floor mode only. Where the IR's output size (torch's ceil mode: round
up, but drop a window that would start in the bottom/right padding) is larger than floor mode
gives with the spec's pads, the bottom/right pad of that axis grows by the rows the last window
needs; ONNX's own ceil_mode is not used (runtimes disagree on its edge cases). Pads that ONNX
pooling refuses (not smaller than the kernel) become an explicit `Pad` node (-inf for max, 0
for average). Average pooling whose windows then reach into padding that must not count (the
grown pads, or all of it without count_pad) divides by a constant map of how many positions of
each window count: exactly what torch's avg_pool2d (and the torch backend's
avg_pool2d_padded) divides by.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from inceptdsl.ir import Node
from inceptdsl.ir.ops import AdaptivePoolAttrs, PoolAttrs

from .emitter import Emitter

Pads = tuple[int, int, int, int]


def onnx_pads(pads: Pads) -> list[int]:
    """IR pads (top, bottom, left, right) in ONNX's order (begins, then ends)."""
    top, bottom, left, right = pads
    return [top, left, bottom, right]


def _floor_pads(node: Node, e: Emitter) -> Pads:
    """The pads with which a floor-mode pool gives the IR's output size."""
    a = cast(PoolAttrs, node.attrs)
    _, h, w = e.in_shape(node)
    _, oh, ow = node.shape
    out = []
    for size, o, k, s, lo, hi in (
        (h, oh, a.kernel[0], a.stride[0], a.pads[0], a.pads[1]),
        (w, ow, a.kernel[1], a.stride[1], a.pads[2], a.pads[3]),
    ):
        if (size + lo + hi - k) // s + 1 != o:  # ceil mode added a window: pad for it
            hi = (o - 1) * s + k - size - lo
        out += [lo, hi]
    return out[0], out[1], out[2], out[3]


def _pool(node: Node, x: str, e: Emitter, op_type: str, pads: Pads, fill: float) -> str:
    a = cast(PoolAttrs, node.attrs)
    kernel = list(a.kernel)
    if any(p >= kernel[i // 2] for i, p in enumerate(pads)):  # beyond what ONNX pools accept
        top, bottom, left, right = pads
        pad_list = e.ints(node.name, "pads", [0, 0, top, left, 0, 0, bottom, right])
        x = e.op(node.name, "Pad", [x, pad_list, e.const(node.name, "fill", fill)])
        pads = (0, 0, 0, 0)
    attrs: dict[str, object] = {"kernel_shape": kernel, "strides": list(a.stride)}
    if any(pads):
        attrs["pads"] = onnx_pads(pads)
    if op_type == "AveragePool":
        attrs["count_include_pad"] = 1
    return e.op(node.name, op_type, [x], **attrs)


def maxpool(node: Node, xs: list[str], e: Emitter) -> str:
    return _pool(node, xs[0], e, "MaxPool", _floor_pads(node, e), float("-inf"))


def _counts(size: int, o: int, k: int, s: int, lo: int, c_lo: int, c_hi: int) -> np.ndarray:
    """How many positions of each window (along one axis) lie in [-c_lo, size + c_hi)."""
    starts = np.arange(o) * s - lo
    return np.minimum(starts + k, size + c_hi) - np.maximum(starts, -c_lo)


def avgpool(node: Node, xs: list[str], e: Emitter) -> str:
    a = cast(PoolAttrs, node.attrs)
    pads = _floor_pads(node, e)
    native = pads == a.pads and all(p < a.kernel[i // 2] for i, p in enumerate(pads))
    if native:  # ONNX's AveragePool divides exactly as torch does
        attrs: dict[str, object] = {"kernel_shape": list(a.kernel), "strides": list(a.stride)}
        if any(pads):
            attrs["pads"] = onnx_pads(pads)
            attrs["count_include_pad"] = int(a.count_include_pad)
        return e.op(node.name, "AveragePool", [xs[0]], **attrs)
    mean = _pool(node, xs[0], e, "AveragePool", pads, 0.0)  # sum / (kh * kw)
    _, h, w = e.in_shape(node)
    _, oh, ow = node.shape
    top, bottom, left, right = a.pads if a.count_include_pad else (0, 0, 0, 0)
    rows = _counts(h, oh, a.kernel[0], a.stride[0], pads[0], top, bottom)
    cols = _counts(w, ow, a.kernel[1], a.stride[1], pads[2], left, right)
    factor = a.kernel[0] * a.kernel[1] / np.outer(rows, cols).astype(np.float64)
    return e.op(node.name, "Mul", [mean, e.const(node.name, "divisor", factor[None, None])])


def _adaptive_matrix(size: int, out: int) -> np.ndarray:
    """(out, size): row i averages input positions floor(i*size/out) .. ceil((i+1)*size/out)."""
    m = np.zeros((out, size), np.float64)
    for i in range(out):
        lo, hi = (i * size) // out, -((-(i + 1) * size) // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def adaptive_avgpool(node: Node, xs: list[str], e: Emitter) -> str:
    oh, ow = cast(AdaptivePoolAttrs, node.attrs).output_size
    _, h, w = e.in_shape(node)
    if h % oh == 0 and w % ow == 0:  # equal windows: a plain average pool
        k = [h // oh, w // ow]
        return e.op(node.name, "AveragePool", [xs[0]], kernel_shape=k, strides=k)
    # overlapping windows of varying size: rows then columns, as two constant matrix products
    cols = e.op(node.name, "MatMul", [xs[0], e.const(node.name, "cols", _adaptive_matrix(w, ow).T)])
    return e.op(node.name, "MatMul", [e.const(node.name, "rows", _adaptive_matrix(h, oh)), cols])
