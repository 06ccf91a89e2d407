"""Calibration inputs for int8 quantization (`compile --int8 --calibrate DATA`).

DATA is hostile input like a weights file: a .npy array, or an .npz holding one array (or an
`input` member), of float samples shaped like the network's input, (N, C, H, W) in the IR's
layout. Headers are read first: the dtype, the shape and the declared size are checked against
the network's input and MAX_CALIBRATION_BYTES before any data is read, nothing is unpickled.
In Python, any iterable of (C, H, W) or (N, C, H, W) arrays works too (`calibration_batches`).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from typing import IO, Any, Literal

import numpy as np
from numpy.lib import format as npy

from inceptdsl.errors import UsageError

MAX_CALIBRATION_BYTES = 1024**3
"""Most float data one calibration file may declare (1,000 inception_v3 inputs are 1.07 GB)."""

MAX_SAMPLES = 10_000
"""Most samples a calibration set may hold: quantizers need hundreds, not millions."""

_HINT = "save N inputs shaped like the network's, (N, C, H, W) float32: np.save(PATH, x)"


def read_calibration(path: str, input_shape: tuple[int, ...]) -> np.ndarray:
    """The (N, C, H, W) float32 samples in `path` (.npy, or .npz with one array or `input`)."""
    if not os.path.isfile(path):
        raise UsageError(f"calibration file {path} does not exist or is not a file")
    if path.endswith(".npz"):
        try:
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if n.endswith(".npy")]
                name = (
                    "input.npy" if "input.npy" in names else (names[0] if len(names) == 1 else "")
                )
                if not name:
                    raise UsageError(
                        f"{path} holds {len(names)} arrays and none is called `input`",
                        hint="save one array, or name it: np.savez(PATH, input=x)",
                    )
                info = z.getinfo(name)
                with z.open(name) as f:
                    return _read(f, path, input_shape, info.file_size)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise UsageError(f"{path} is not a readable .npz file: {exc}", hint=_HINT) from None
    try:
        with open(path, "rb") as f:
            return _read(f, path, input_shape, os.fstat(f.fileno()).st_size)
    except (OSError, EOFError) as exc:
        raise UsageError(f"{path} is not a readable .npy file: {exc}", hint=_HINT) from None


def _read(f: IO[bytes], path: str, input_shape: tuple[int, ...], size: int) -> np.ndarray:
    try:
        version = npy.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = npy.read_array_header_2_0(f)
    except ValueError as exc:
        raise UsageError(f"{path} is not a NumPy array file: {exc}", hint=_HINT) from None
    if dtype.kind not in "fiu":
        raise UsageError(f"{path} holds {dtype} values, not numbers", hint=_HINT)
    shape = tuple(shape)
    check_shape(path, shape, input_shape)
    declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if declared > MAX_CALIBRATION_BYTES:
        raise UsageError(
            f"{path} declares {declared:,} bytes of samples (at most {MAX_CALIBRATION_BYTES:,})",
            hint="a few hundred samples calibrate a quantizer",
        )
    if declared > size:
        raise UsageError(f"{path} is truncated: it declares {declared:,} bytes of data")
    raw = f.read(declared)
    if len(raw) < declared:
        raise UsageError(f"{path} is truncated: it declares {declared:,} bytes of data")
    order: Literal["C", "F"] = "F" if fortran else "C"
    data = np.frombuffer(raw, dtype=dtype).reshape(shape, order=order)
    if data.ndim == len(input_shape):
        data = data[None]
    return np.ascontiguousarray(data, dtype=np.float32)


def check_shape(what: str, shape: tuple[int, ...], input_shape: tuple[int, ...]) -> None:
    """Refuse samples that are not (N,) + input_shape (or one sample, input_shape)."""
    sample = shape[1:] if len(shape) == len(input_shape) + 1 else shape
    if sample != tuple(input_shape):
        nhwc = tuple(input_shape[1:]) + (input_shape[0],)
        hint = (
            "the samples are channels-last: transpose them to (N, C, H, W)"
            if sample == nhwc
            else _HINT
        )
        raise UsageError(
            f"{what} holds samples of shape {sample}, the network's input is {tuple(input_shape)}",
            hint=hint,
        )
    count = shape[0] if len(shape) == len(input_shape) + 1 else 1
    if count == 0:
        raise UsageError(f"{what} holds no samples", hint=_HINT)
    if count > MAX_SAMPLES:
        raise UsageError(
            f"{what} holds {count:,} samples (at most {MAX_SAMPLES:,})",
            hint="a few hundred samples calibrate a quantizer",
        )


def calibration_batches(data: Any, input_shape: tuple[int, ...]) -> list[np.ndarray]:
    """`data` (a .npy/.npz path, an array of samples, or an iterable of samples or batches) as a
    list of
    (1, C, H, W) float32 arrays, each checked against the network's input."""
    if isinstance(data, str | os.PathLike):
        return calibration_batches(read_calibration(os.fspath(data), input_shape), input_shape)
    if data is None:
        raise UsageError("int8 needs calibration data", hint=_HINT)
    items: Iterable[Any] = [data] if isinstance(data, np.ndarray) else data
    out: list[np.ndarray] = []
    for item in items:
        a = np.asarray(item, dtype=np.float32)
        check_shape("the calibration data", a.shape, input_shape)
        batch = a[None] if a.ndim == len(input_shape) else a
        out.extend(np.ascontiguousarray(s[None]) for s in batch)
        if len(out) > MAX_SAMPLES:
            check_shape("the calibration data", (len(out), *input_shape), input_shape)
    if not out:
        raise UsageError("the calibration data holds no samples", hint=_HINT)
    return out
