"""Shape inference (shapes.py over the ops' shape functions): sliding-window sizes, TF `same`
padding and each op's shape function.

Expected sizes come from brute force (enumerating window start positions), never from the
formula under test. tests/test_properties_shapes.py runs the same oracles under hypothesis;
tests/test_shapes_vs_torch.py checks a sample against torch itself.
"""

from __future__ import annotations

import math

import pytest
from support.windows import SPAN, brute_window_out

from inceptdsl import errors as E
from inceptdsl.ir import ops as O
from inceptdsl.middle import shapes


def test_brute_force_oracle_itself() -> None:
    # Hand-counted: 5 positions, 3-wide window, stride 2: starts 0, 2 (floor); ceil adds 4,
    # whose window [4, 7) hangs 2 past the end but starts inside the input.
    assert brute_window_out(5, 3, 2, 0, 0) == 2
    assert brute_window_out(6, 3, 2, 0, 0) == 2
    assert brute_window_out(6, 3, 2, 0, 0, ceil_mode=True) == 3
    assert brute_window_out(7, 3, 2, 0, 0, ceil_mode=True) == 3


# (size, kernel, stride, before, after, dilation, ceil_mode, expected)
CASES = [
    # Inception-v3's stem: 299 -3x3/2-> 149 -3x3-> 147 -3x3 pad 1-> 147 -pool 3x3/2-> 73.
    (299, 3, 2, 0, 0, 1, False, 149),
    (149, 3, 1, 0, 0, 1, False, 147),
    (147, 3, 1, 1, 1, 1, False, 147),
    (147, 3, 2, 0, 0, 1, False, 73),
    # GoogLeNet's ceil-mode pools: 112 -> 56 (floor gives 55), 14 -2x2/2 ceil-> 7.
    (112, 3, 2, 0, 0, 1, True, 56),
    (112, 3, 2, 0, 0, 1, False, 55),
    (14, 2, 2, 0, 0, 1, True, 7),
    # Kernel equal to the padded input: exactly one window.
    (7, 7, 1, 0, 0, 1, False, 1),
    (5, 7, 1, 1, 1, 1, False, 1),
    (5, 7, 3, 1, 1, 1, True, 1),
    # Ceil mode whose extra window would start in the right padding: dropped.
    # size 5, pad 1+1, kernel 2, stride 2: padded 7, floor starts 0, 2, 4; ceil would add 6,
    # which starts at padded position 6 >= size + before = 6.
    (5, 2, 2, 1, 1, 1, False, 3),
    (5, 2, 2, 1, 1, 1, True, 3),
    # ... and one that starts inside the input: kept (size 7, pad 1+0, kernel 3, stride 2:
    # padded 8, floor starts 0, 2, 4; ceil adds 6 < size + before = 8).
    (7, 3, 2, 1, 0, 1, True, 4),
    (7, 3, 2, 1, 0, 1, False, 3),
    # Ceil mode changes nothing when the windows tile exactly.
    (7, 3, 2, 0, 0, 1, True, 3),
    # Dilation: extent d*(k-1)+1.
    (10, 3, 1, 0, 0, 2, False, 6),
    (10, 3, 1, 2, 2, 2, False, 10),
    (10, 3, 2, 0, 0, 3, False, 2),
    (10, 3, 3, 0, 0, 2, True, 3),
    # Asymmetric padding (TF `same`'s odd pixel after).
    (8, 3, 2, 0, 1, 1, False, 4),
    (8, 4, 1, 1, 2, 1, False, 8),
    # Stride larger than the kernel.
    (10, 1, 3, 0, 0, 1, False, 4),
    (10, 2, 5, 0, 0, 1, False, 2),
    (10, 2, 4, 0, 0, 1, True, 3),
]


@pytest.mark.parametrize("size,kernel,stride,before,after,dilation,ceil_mode,expected", CASES)
def test_window_out_cases(
    size: int,
    kernel: int,
    stride: int,
    before: int,
    after: int,
    dilation: int,
    ceil_mode: bool,
    expected: int,
) -> None:
    assert brute_window_out(size, kernel, stride, before, after, dilation, ceil_mode) == expected
    assert shapes.window_out(size, kernel, stride, before, after, dilation, ceil_mode) == expected


def test_window_out_exhaustive_small() -> None:
    """Every small configuration against the brute force (about 40k cases)."""
    checked = 0
    for size in range(1, 12):
        for kernel in range(1, 6):
            for dilation in (1, 2, 3):
                extent = dilation * (kernel - 1) + 1
                for stride in range(1, 5):
                    for before in range(0, 4):
                        for after in range(0, 4):
                            if extent > size + before + after:
                                continue
                            for ceil_mode in (False, True):
                                got = shapes.window_out(
                                    size, kernel, stride, before, after, dilation, ceil_mode
                                )
                                want = brute_window_out(
                                    size, kernel, stride, before, after, dilation, ceil_mode
                                )
                                assert got == want, (
                                    size,
                                    kernel,
                                    stride,
                                    before,
                                    after,
                                    dilation,
                                    ceil_mode,
                                )
                                checked += 1
    assert checked > 10_000


# ---- TF `same` padding -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size,kernel,stride,dilation,expected",
    [
        (299, 3, 2, 1, (1, 1)),  # out 150: total 149*2 + 3 - 299 = 2
        (35, 3, 1, 1, (1, 1)),
        (35, 5, 1, 1, (2, 2)),
        (35, 1, 1, 1, (0, 0)),
        (17, 7, 1, 1, (3, 3)),
        (8, 3, 2, 1, (0, 1)),
        (7, 3, 2, 1, (1, 1)),
        (10, 1, 3, 1, (0, 0)),  # out 4: (3*3 + 1 - 10) = 0
        (10, 2, 2, 1, (0, 0)),
        (9, 2, 2, 1, (0, 1)),
        (10, 3, 1, 2, (2, 2)),  # dilated extent 5
        (4, 4, 1, 1, (1, 2)),
    ],
)
def test_same_pads_cases(
    size: int, kernel: int, stride: int, dilation: int, expected: tuple[int, int]
) -> None:
    assert shapes.same_pads(size, kernel, stride, dilation) == expected
    before, after = expected
    assert shapes.window_out(size, kernel, stride, before, after, dilation) == math.ceil(
        size / stride
    )


def test_same_pads_exhaustive_small() -> None:
    for size in range(1, 20):
        for kernel in range(1, 8):
            for stride in range(1, 5):
                for dilation in (1, 2):
                    before, after = shapes.same_pads(size, kernel, stride, dilation)
                    assert 0 <= before <= after <= before + 1
                    out = brute_window_out(size, kernel, stride, before, after, dilation)
                    assert out == -(-size // stride), (size, kernel, stride, dilation)
                    # Minimal: one pixel less of padding loses the last output.
                    if after > 0:
                        fewer = brute_window_out(size, kernel, stride, before, after - 1, dilation)
                        assert fewer == out - 1


# ---- op shape functions --------------------------------------------------------------------------


def conv_attrs(**kw: object) -> O.ConvAttrs:
    base: dict[str, object] = {"out_channels": 8, "kernel": (3, 3)}
    base.update(kw)
    return O.ConvAttrs(**base)  # type: ignore[arg-type]


def test_conv2d_shape() -> None:
    a = conv_attrs(stride=(2, 1), pads=(1, 0, 2, 2))
    # height: 11 + 1 + 0, kernel 3, stride 2 -> (12 - 3)//2 + 1 = 5; width 9+4-3+1 = 11
    assert shapes.infer(O.Op.CONV2D, a, [(4, 11, 9)], SPAN) == (8, 5, 11)
    assert shapes.infer(O.Op.CONV2D, a, [(4, 11, 9)], SPAN) == (8, 5, 11)


def test_conv2d_rectangular_kernel_and_dilation() -> None:
    a = conv_attrs(kernel=(1, 7), pads=(0, 0, 3, 3))
    assert shapes.infer(O.Op.CONV2D, a, [(128, 17, 17)], SPAN) == (8, 17, 17)
    a = conv_attrs(kernel=(3, 3), dilation=(2, 3))
    assert shapes.infer(O.Op.CONV2D, a, [(1, 20, 20)], SPAN) == (8, 16, 14)


def test_conv2d_groups_must_divide() -> None:
    assert shapes.infer(O.Op.CONV2D, conv_attrs(groups=4, out_channels=8), [(12, 5, 5)], SPAN) == (
        8,
        3,
        3,
    )
    with pytest.raises(E.GroupsError) as exc:
        shapes.infer(O.Op.CONV2D, conv_attrs(groups=4, out_channels=8), [(10, 5, 5)], SPAN)
    assert exc.value.code == "E406"
    assert "groups=4" in exc.value.message and "(10)" in exc.value.message
    with pytest.raises(E.GroupsError):
        shapes.infer(O.Op.CONV2D, conv_attrs(groups=4, out_channels=6), [(12, 5, 5)], SPAN)


def test_kernel_larger_than_padded_input() -> None:
    with pytest.raises(E.KernelTooLargeError) as exc:
        shapes.infer(O.Op.CONV2D, conv_attrs(kernel=(5, 5), pads=(0, 0, 1, 1)), [(3, 4, 4)], SPAN)
    assert exc.value.code == "E403"
    assert exc.value.span == SPAN
    assert exc.value.message == (
        "conv kernel 5x5 is larger than its padded input: height 4 + padding 0 = 4 < 5"
    )
    # Exactly the padded size is fine.
    assert shapes.infer(
        O.Op.CONV2D, conv_attrs(kernel=(5, 5), pads=(0, 1, 0, 1)), [(3, 4, 4)], SPAN
    ) == (
        8,
        1,
        1,
    )
    with pytest.raises(E.KernelTooLargeError) as exc:
        shapes.infer(O.Op.CONV2D, conv_attrs(kernel=(3, 3), dilation=(3, 3)), [(3, 6, 6)], SPAN)
    assert "(dilated to 7)" in exc.value.message


def test_rank_errors() -> None:
    with pytest.raises(E.RankError):
        shapes.infer(O.Op.CONV2D, conv_attrs(), [(100,)], SPAN)
    with pytest.raises(E.RankError):
        shapes.infer(O.Op.LINEAR, O.LinearAttrs(out_features=3), [(3, 4, 4)], SPAN)
    with pytest.raises(E.RankError):
        shapes.infer(O.Op.MAXPOOL2D, O.PoolAttrs(kernel=(2, 2), stride=(2, 2)), [(10,)], SPAN)
    with pytest.raises(E.RankError):
        shapes.infer(O.Op.BATCHNORM, O.BatchNormAttrs(), [(10,)], SPAN)


def test_sepconv2d_shape() -> None:
    a = O.SepConvAttrs(out_channels=16, kernel=(3, 3), stride=(2, 2), pads=(0, 1, 0, 1))
    assert shapes.infer(O.Op.SEPCONV2D, a, [(7, 10, 10)], SPAN) == (16, 5, 5)


def test_pool_shapes() -> None:
    a = O.PoolAttrs(kernel=(3, 3), stride=(2, 2), ceil_mode=True)
    assert shapes.infer(O.Op.MAXPOOL2D, a, [(64, 112, 112)], SPAN) == (64, 56, 56)
    a = O.PoolAttrs(kernel=(3, 3), stride=(2, 2))
    assert shapes.infer(O.Op.MAXPOOL2D, a, [(64, 112, 112)], SPAN) == (64, 55, 55)
    a = O.PoolAttrs(kernel=(3, 3), stride=(1, 1), pads=(1, 1, 1, 1))
    assert shapes.infer(O.Op.MAXPOOL2D, a, [(5, 9, 7)], SPAN) == (5, 9, 7)


def test_global_adaptive_flatten_linear() -> None:
    assert shapes.infer(O.Op.GLOBAL_AVGPOOL, O.GlobalPoolAttrs(), [(7, 3, 5)], SPAN) == (7, 1, 1)
    assert shapes.infer(O.Op.GLOBAL_MAXPOOL, O.GlobalPoolAttrs(), [(7, 3, 5)], SPAN) == (7, 1, 1)
    a = O.AdaptivePoolAttrs(output_size=(4, 2))
    assert shapes.infer(O.Op.ADAPTIVE_AVGPOOL2D, a, [(128, 14, 14)], SPAN) == (128, 4, 2)
    assert shapes.infer(O.Op.FLATTEN, O.FlattenAttrs(), [(128, 4, 4)], SPAN) == (2048,)
    assert shapes.infer(O.Op.LINEAR, O.LinearAttrs(out_features=10), [(2048,)], SPAN) == (10,)


def test_concat_and_add() -> None:
    assert shapes.infer(O.Op.CONCAT, O.ConcatAttrs(), [(3, 5, 5), (4, 5, 5), (1, 5, 5)], SPAN) == (
        8,
        5,
        5,
    )
    assert shapes.infer(O.Op.CONCAT, O.ConcatAttrs(), [(3,), (4,)], SPAN) == (7,)
    with pytest.raises(E.ConcatShapeError) as exc:
        shapes.infer(O.Op.CONCAT, O.ConcatAttrs(), [(3, 5, 5), (4, 5, 5), (1, 4, 5)], SPAN)
    assert exc.value.message == "concat inputs differ: branch 3 is 4x5, branch 1 is 5x5"
    assert shapes.infer(O.Op.ADD, O.AddAttrs(), [(3, 5, 5), (3, 5, 5)], SPAN) == (3, 5, 5)
    with pytest.raises(E.AddShapeError) as exc2:
        shapes.infer(O.Op.ADD, O.AddAttrs(), [(3, 5, 5), (4, 5, 5)], SPAN)
    assert exc2.value.message == "add inputs do not match: input 2 is 4x5x5, input 1 is 3x5x5"


def test_empty_output_and_bad_channels() -> None:
    with pytest.raises(E.ChannelError):
        shapes.infer(O.Op.CONV2D, conv_attrs(out_channels=0), [(3, 5, 5)], SPAN)
    with pytest.raises(E.ChannelError):
        shapes.infer(O.Op.LINEAR, O.LinearAttrs(out_features=0), [(3,)], SPAN)
