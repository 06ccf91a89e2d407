"""Calibration files are hostile input: shapes, dtypes, sizes and pickles are refused from the
headers, with an error that names the file and says what to give instead."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from inceptdsl.backends.common import calibration as C
from inceptdsl.errors import UsageError

SHAPE = (1, 32, 32)


def test_npy_and_npz_read_as_samples(tmp_path: Path) -> None:
    x = np.random.default_rng(0).standard_normal((5, *SHAPE)).astype(np.float64)
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "one.npz", x)
    np.savez(tmp_path / "named.npz", input=x, labels=np.arange(5))
    for name in ("x.npy", "one.npz", "named.npz"):
        got = C.read_calibration(str(tmp_path / name), SHAPE)
        assert got.dtype == np.float32 and got.shape == (5, *SHAPE)
        np.testing.assert_array_equal(got, x.astype(np.float32))
    batches = C.calibration_batches(str(tmp_path / "x.npy"), SHAPE)
    assert len(batches) == 5 and batches[0].shape == (1, *SHAPE)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros((3, 32, 32, 1), np.float32), "transpose them to"),
        (np.zeros((3, 3, 32, 32), np.float32), "the network's input is (1, 32, 32)"),
        (np.zeros((0, 1, 32, 32), np.float32), "holds no samples"),
        (np.array(["a", "b"]), "not numbers"),
    ],
)
def test_bad_arrays_are_refused(tmp_path: Path, data: np.ndarray, message: str) -> None:
    np.save(tmp_path / "x.npy", data)
    with pytest.raises(UsageError, match="x.npy") as err:
        C.read_calibration(str(tmp_path / "x.npy"), SHAPE)
    assert message in str(err.value) + str(err.value.hint)


def test_pickles_are_never_loaded(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(UsageError, match="not numbers"):
        C.read_calibration(str(tmp_path / "x.npy"), SHAPE)


def test_a_huge_declared_size_is_refused_before_reading(tmp_path: Path) -> None:
    # a header declaring 40 GB of samples over a few bytes of data
    path = tmp_path / "x.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (10_000, 1, 1000, 1000)}
        )
    with pytest.raises(UsageError, match="network's input"):
        C.read_calibration(str(path), SHAPE)
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (9_000, 1, 32, 32)}
        )
        f.write(b"\0" * 64)
    with pytest.raises(UsageError, match="truncated"):
        C.read_calibration(str(path), SHAPE)
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (20_000, 1, 32, 32)}
        )
    with pytest.raises(UsageError, match="at most 10,000"):
        C.read_calibration(str(path), SHAPE)


def test_an_npz_of_several_unnamed_arrays_is_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "x.npz", a=np.zeros((2, *SHAPE)), b=np.zeros((2, *SHAPE)))
    with pytest.raises(UsageError, match="none is called `input`"):
        C.read_calibration(str(tmp_path / "x.npz"), SHAPE)
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(UsageError, match="not a readable .npz"):
        C.read_calibration(str(tmp_path / "bad.npz"), SHAPE)
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as z:
        z.writestr("input.npy", b"garbage")
    with pytest.raises(UsageError, match="z.npz"):
        C.read_calibration(str(tmp_path / "z.npz"), SHAPE)


def test_missing_file_and_python_iterables(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        C.read_calibration(str(tmp_path / "nope.npy"), SHAPE)
    got = C.calibration_batches((np.zeros(SHAPE) for _ in range(3)), SHAPE)
    assert len(got) == 3
    with pytest.raises(UsageError, match="holds no samples"):
        C.calibration_batches(iter(()), SHAPE)
    with pytest.raises(UsageError, match="needs calibration data"):
        C.calibration_batches(None, SHAPE)
