"""shapes.py against torch itself: output sizes of conv2d, max_pool2d and avg_pool2d on a
deterministic sample of configurations (meta tensors: shapes only, no arithmetic).

Kept apart from tests/test_shapes.py so that the core's own tests never need torch.
"""

from __future__ import annotations

import random

import pytest
from support.lazy import F, torch

from inceptdsl.front.source import Span
from inceptdsl.ir import ops as O
from inceptdsl.middle import shapes

SPAN = Span("t.incept", 1, 1, 1, 2)
N_CASES = 400


def _meta(c: int, h: int, w: int):  # type: ignore[no-untyped-def]
    return torch.empty(1, c, h, w, device="meta")


def _conv_cases() -> list[tuple[int, ...]]:
    rng = random.Random(1234)
    out = []
    while len(out) < N_CASES:
        h, w = rng.randint(1, 40), rng.randint(1, 40)
        kh, kw = rng.randint(1, 7), rng.randint(1, 7)
        sh, sw = rng.randint(1, 4), rng.randint(1, 4)
        dh, dw = rng.randint(1, 3), rng.randint(1, 3)
        t, b, left, r = (rng.randint(0, 4) for _ in range(4))
        if dh * (kh - 1) + 1 > h + t + b or dw * (kw - 1) + 1 > w + left + r:
            continue
        out.append((h, w, kh, kw, sh, sw, dh, dw, t, b, left, r))
    return out


def test_conv2d_vs_torch() -> None:
    mismatches = [c for c in _conv_cases() if not _conv_agrees(c)]
    assert mismatches == []


def _conv_agrees(case: tuple[int, ...]) -> bool:
    h, w, kh, kw, sh, sw, dh, dw, t, b, left, r = case
    groups = 2
    a = O.ConvAttrs(
        out_channels=6,
        kernel=(kh, kw),
        stride=(sh, sw),
        pads=(t, b, left, r),
        dilation=(dh, dw),
        groups=groups,
    )
    ours = shapes.infer(O.Op.CONV2D, a, [(4, h, w)], SPAN)
    x = F.pad(_meta(4, h, w), (left, r, t, b))  # torch pads (left, right, top, bottom)
    weight = torch.empty(6, 4 // groups, kh, kw, device="meta")
    y = F.conv2d(x, weight, stride=(sh, sw), dilation=(dh, dw), groups=groups)
    return ours == tuple(y.shape[1:])


def _pool_cases() -> list[tuple[int, ...]]:
    rng = random.Random(99)
    out = []
    while len(out) < N_CASES:
        h, w = rng.randint(1, 40), rng.randint(1, 40)
        kh, kw = rng.randint(1, 6), rng.randint(1, 6)
        sh, sw = rng.randint(1, 4), rng.randint(1, 4)
        # torch: symmetric pads, at most half the kernel.
        ph, pw = rng.randint(0, kh // 2), rng.randint(0, kw // 2)
        ceil = rng.random() < 0.5
        if kh > h + 2 * ph or kw > w + 2 * pw:
            continue
        out.append((h, w, kh, kw, sh, sw, ph, pw, int(ceil)))
    return out


def test_pools_vs_torch() -> None:
    cases = _pool_cases()
    assert sum(c[-1] for c in cases) > N_CASES // 3  # ceil mode well represented
    mismatches = [c for c in cases if not _pools_agree(c)]
    assert mismatches == []


def _pools_agree(case: tuple[int, ...]) -> bool:
    h, w, kh, kw, sh, sw, ph, pw, ceil = case
    a = O.PoolAttrs(kernel=(kh, kw), stride=(sh, sw), pads=(ph, ph, pw, pw), ceil_mode=bool(ceil))
    ours = shapes.infer(O.Op.MAXPOOL2D, a, [(3, h, w)], SPAN)
    kwargs = {"stride": (sh, sw), "padding": (ph, pw), "ceil_mode": bool(ceil)}
    y_max = F.max_pool2d(_meta(3, h, w), (kh, kw), **kwargs)
    y_avg = F.avg_pool2d(_meta(3, h, w), (kh, kw), **kwargs)
    return ours == tuple(y_max.shape[1:]) == tuple(y_avg.shape[1:])


def test_dilated_max_pool_vs_torch() -> None:
    """window_out with dilation and ceil mode against torch's dilated max pooling."""
    rng = random.Random(7)
    checked = 0
    while checked < 200:
        size, k, s, d = rng.randint(1, 30), rng.randint(1, 5), rng.randint(1, 4), rng.randint(1, 3)
        extent = d * (k - 1) + 1
        p = rng.randint(0, k // 2)
        if extent > size + 2 * p:
            continue
        ceil = rng.random() < 0.5
        y = F.max_pool2d(
            _meta(1, size, 1),
            (k, 1),
            stride=(s, 1),
            padding=(p, 0),
            dilation=(d, 1),
            ceil_mode=ceil,
        )
        assert shapes.window_out(size, k, s, p, p, d, ceil) == y.shape[2], (size, k, s, p, d, ceil)
        checked += 1


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("k,d", [(1, 1), (2, 1), (3, 1), (4, 1), (5, 2), (2, 3), (7, 1)])
def test_same_padding_stride_1_vs_torch(k: int, d: int) -> None:
    """torch's padding='same' (stride 1 only) puts the odd pixel after, as TF does."""
    for size in range(1, 20):
        before, after = shapes.same_pads(size, k, 1, d)
        x = _meta(1, size, size)
        weight = torch.empty(1, 1, k, k, device="meta")
        y = F.conv2d(x, weight, padding="same", dilation=d)
        assert y.shape[2] == size
        assert before + after == d * (k - 1)
        ours = shapes.window_out(size, k, 1, before, after, d)
        assert ours == size
