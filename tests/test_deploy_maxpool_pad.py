"""A max pool padded as torch pads it (backends/keras/runtime.py's PaddedMaxPooling2D) pads with
copies of the border rows and columns, so TFLite's int8 calibration sees finite values. Copying
the edge is exact for max pooling; reflecting it is not (a ceil-mode window [n - 1, n + 1] would
see x[n - 2]), nor is zero padding on negative inputs: the cases below tell them apart."""

from __future__ import annotations

import numpy as np
import pytest
from support.oracles import pool_oracle

# (kernel, stride, pad, ceil, size): torch's rule pad <= kernel / 2; odd and even sizes
CASES = [
    (k, s, p, ceil, n)
    for k, s, p in ((3, 2, 1), (5, 3, 2), (3, 1, 1))
    for ceil in (True, False)
    for n in (7, 8, 9, 10)
]


def _out(n: int, k: int, s: int, p: int, ceil: bool) -> int:
    """torch's output size, with its rule that the last window starts inside the input."""
    span = n + 2 * p - k
    out = (-(-span // s) if ceil else span // s) + 1
    return out - 1 if ceil and (out - 1) * s >= n + p else out


def _negative(n: int) -> np.ndarray:
    """(2, 3, n, n) values in [-1.5, -0.5): zero padding would win every border window."""
    return -(np.random.default_rng(n).random((2, 3, n, n)) + 0.5).astype(np.float32)


def _case(k: int, s: int, p: int, ceil: bool, n: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The input, the oracle's output (windows clipped to the input) and the effective pads."""
    from inceptdsl.backends.keras import padding  # imports Keras

    x = _negative(n)
    out = (_out(n, k, s, p, ceil),) * 2
    want = pool_oracle(x, "max", (k, k), (s, s), (p, p, p, p), out, False)
    return x, want, padding.effective((p, p, p, p), (n, n), out, (k, k), (s, s))


def _numpy_pool(x: np.ndarray, k: int, s: int, eff: tuple, mode: str) -> np.ndarray:
    """Pad `x` (NCHW) with NumPy's `mode`, then a valid max pool."""
    top, bottom, left, right = eff
    extra = {"constant_values": 0.0} if mode == "constant" else {}
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode=mode, **extra)  # type: ignore[call-overload]
    oh, ow = (xp.shape[2] - k) // s + 1, (xp.shape[3] - k) // s + 1
    out = np.empty((*x.shape[:2], oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = xp[:, :, i * s : i * s + k, j * s : j * s + k].max(axis=(2, 3))
    return out


@pytest.mark.parametrize(("k", "s", "p", "ceil", "n"), CASES)
def test_edge_padding_is_exact(k: int, s: int, p: int, ceil: bool, n: int) -> None:
    from inceptdsl.backends.keras import padding
    from inceptdsl.backends.keras.runtime import PaddedMaxPooling2D

    x, want, eff = _case(k, s, p, ceil, n)
    layer = PaddedMaxPooling2D((k, k), (s, s), padding.keras_pixels(eff))
    got = np.asarray(layer(np.ascontiguousarray(x.transpose(0, 2, 3, 1)))).transpose(0, 3, 1, 2)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want.astype(np.float32))
    assert np.isfinite(got).all()


def test_the_cases_tell_edge_from_reflect_symmetric_and_zero() -> None:
    """The control: on these cases edge padding equals the oracle, and each other padding
    differs from it somewhere (reflect and symmetric at the ceil-mode rows of even sizes)."""
    wrong: dict[str, list[tuple]] = {"reflect": [], "symmetric": [], "constant": []}
    for case in CASES:
        k, s, _, _, _ = case
        x, want, eff = _case(*case)
        np.testing.assert_array_equal(_numpy_pool(x, k, s, eff, "edge"), want.astype(np.float32))
        for mode, cases in wrong.items():
            if not np.array_equal(_numpy_pool(x, k, s, eff, mode), want.astype(np.float32)):
                cases.append(case)
    assert all(wrong.values()), wrong
    assert (3, 2, 1, True, 8) in wrong["reflect"] and (3, 2, 1, True, 8) in wrong["symmetric"]
