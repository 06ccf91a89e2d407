"""Property tests (hypothesis) of shapes.py against brute-force oracles.

The oracle (tests/test_shapes.py's brute_window_out) slides a window along the padded input
and counts positions; it shares no formula with shapes.window_out.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support.windows import SPAN, brute_window_out

from inceptdsl.ir import ops as O
from inceptdsl.middle import shapes

SETTINGS = settings(max_examples=300, deadline=None)

sizes = st.integers(min_value=1, max_value=300)
kernels = st.integers(min_value=1, max_value=11)
strides = st.integers(min_value=1, max_value=6)
pads = st.integers(min_value=0, max_value=6)
dilations = st.integers(min_value=1, max_value=4)


@SETTINGS
@given(sizes, kernels, strides, pads, pads, dilations, st.booleans())
def test_window_out_matches_brute_force(
    size: int, kernel: int, stride: int, before: int, after: int, dilation: int, ceil: bool
) -> None:
    assume(dilation * (kernel - 1) + 1 <= size + before + after)
    want = brute_window_out(size, kernel, stride, before, after, dilation, ceil)
    assert shapes.window_out(size, kernel, stride, before, after, dilation, ceil) == want
    assert want >= 1


@SETTINGS
@given(sizes, kernels, strides, pads, pads, dilations)
def test_ceil_mode_adds_at_most_one_window_for_torch_legal_pads(
    size: int, kernel: int, stride: int, before: int, after: int, dilation: int
) -> None:
    # torch only allows pooling pads of at most half the (effective) kernel.
    extent = dilation * (kernel - 1) + 1
    assume(before <= extent // 2 and after <= extent // 2)
    assume(extent <= size + before + after)
    floor = shapes.window_out(size, kernel, stride, before, after, dilation, False)
    ceil = shapes.window_out(size, kernel, stride, before, after, dilation, True)
    assert ceil in (floor, floor + 1)
    # The extra window exists exactly when the floor windows leave the padded input's tail
    # uncovered and the next window would still start inside input + left padding.
    uncovered = (size + before + after - extent) % stride != 0
    assert (ceil == floor + 1) == (uncovered and floor * stride < size + before)


@SETTINGS
@given(sizes, kernels, strides, dilations)
def test_same_pads_gives_ceil_division(size: int, kernel: int, stride: int, dilation: int) -> None:
    before, after = shapes.same_pads(size, kernel, stride, dilation)
    assert 0 <= before <= after <= before + 1
    assert brute_window_out(size, kernel, stride, before, after, dilation) == -(-size // stride)
    # No padding larger than needed: removing the `after` pixel loses the last window.
    if after:
        assert brute_window_out(size, kernel, stride, before, after - 1, dilation) < -(
            -size // stride
        )


@SETTINGS
@given(
    st.integers(1, 64),
    st.integers(1, 64),
    st.integers(1, 40),
    st.integers(1, 40),
    st.tuples(kernels, kernels),
    st.tuples(strides, strides),
    st.tuples(pads, pads, pads, pads),
    st.tuples(dilations, dilations),
)
def test_conv2d_shape_matches_brute_force(
    cin: int,
    cout: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    p: tuple[int, int, int, int],
    dilation: tuple[int, int],
) -> None:
    assume(dilation[0] * (kernel[0] - 1) + 1 <= h + p[0] + p[1])
    assume(dilation[1] * (kernel[1] - 1) + 1 <= w + p[2] + p[3])
    a = O.ConvAttrs(out_channels=cout, kernel=kernel, stride=stride, pads=p, dilation=dilation)
    want = (
        cout,
        brute_window_out(h, kernel[0], stride[0], p[0], p[1], dilation[0]),
        brute_window_out(w, kernel[1], stride[1], p[2], p[3], dilation[1]),
    )
    assert shapes.infer(O.Op.CONV2D, a, [(cin, h, w)], SPAN) == want


@SETTINGS
@given(
    st.integers(1, 64),
    st.integers(1, 40),
    st.integers(1, 40),
    st.tuples(kernels, kernels),
    st.tuples(strides, strides),
    st.tuples(pads, pads, pads, pads),
    st.booleans(),
)
def test_pool2d_shape_matches_brute_force(
    c: int,
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    p: tuple[int, int, int, int],
    ceil: bool,
) -> None:
    assume(kernel[0] <= h + p[0] + p[1] and kernel[1] <= w + p[2] + p[3])
    a = O.PoolAttrs(kernel=kernel, stride=stride, pads=p, ceil_mode=ceil)
    want = (
        c,
        brute_window_out(h, kernel[0], stride[0], p[0], p[1], 1, ceil),
        brute_window_out(w, kernel[1], stride[1], p[2], p[3], 1, ceil),
    )
    assert shapes.infer(O.Op.MAXPOOL2D, a, [(c, h, w)], SPAN) == want


@SETTINGS
@given(st.lists(st.integers(1, 100), min_size=1, max_size=6), st.integers(1, 30))
def test_concat_sums_channels(channels: list[int], hw: int) -> None:
    ins = [(c, hw, hw + 1) for c in channels]
    assert shapes.infer(O.Op.CONCAT, O.ConcatAttrs(), ins, SPAN) == (sum(channels), hw, hw + 1)
