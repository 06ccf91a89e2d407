"""Reading a trained state_dict from a file, for every backend that takes `--weights`.

A .npz is read with `allow_pickle=False`, a .safetensors file with safetensors' NumPy loader,
anything else as a torch.save file with `torch.load(weights_only=True)`: tensors and
containers only, nothing is unpickled. A checkpoint that nests the state under "state_dict"
is unwrapped. Errors are UsageErrors (E004, exit 2) that name the file and the tensor.

A weights file is hostile input like a spec: before any array data of an .npz or a
.safetensors file is read, the declared dtype, shape and size of every member (zip and .npy
headers, the safetensors JSON header) are checked: against `shapes` (the network's tensors,
when the caller knows them), against the bytes the member really holds (a truncated file), and
against MAX_WEIGHTS_BYTES (an archive that inflates to gigabytes). Only real numbers load:
strings, structured records, objects, complex numbers and dates are refused, not truncated to
something else; bfloat16 and other low-precision floats become float32; sparse, quantized and
meta tensors (no data) are refused.
"""

from __future__ import annotations

import json
import os
import struct
import warnings
import zipfile
from collections.abc import Mapping
from typing import Any

from inceptdsl.errors import UsageError

from .listing import first_of

_SAVE_HINT = "save it with torch.save(model.state_dict(), PATH)"

MAX_WEIGHTS_BYTES = 2 * 1024**3
"""Most array data one weights file may declare (inception_v3's float32 state is 96 MB)."""

MAX_TENSORS = 100_000
"""Most arrays one .npz or .safetensors file may hold (inception_v3 has 580)."""

_REAL_KINDS = "biuf"
"""NumPy dtype kinds a weight may have: bool, signed and unsigned integers, floats."""

_KIND_NAMES = {
    "c": "complex numbers",
    "M": "dates",
    "m": "time deltas",
    "U": "strings",
    "S": "byte strings",
    "O": "Python objects",
    "V": "structured records",
}

Shapes = Mapping[str, tuple[int, ...]]


def read_state(path: str, shapes: Shapes | None = None) -> Mapping[str, Any]:
    """The state_dict in `path` (NumPy arrays, or torch tensors from a torch file).

    `shapes`, when given, are the tensors the network may have (key -> shape): in an .npz or
    .safetensors file, a key it lacks or a shape that differs is refused from the headers,
    before the data is read (the caller checks a torch file's once loaded)."""
    if not os.path.isfile(path):
        raise UsageError(f"weights file {path} does not exist or is not a file")
    if path.endswith(".npz"):
        state: Any = _npz(path, shapes)
    elif path.endswith(".safetensors"):
        state = _safetensors(path, shapes)
    else:
        state = _torch_file(path)
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(k, str) for k in state):
        raise UsageError(
            f"{path} holds a {type(state).__name__}, not a state_dict (a dict of tensors)",
            hint=_SAVE_HINT,
        )
    return {k: _checked(path, k, v) for k, v in state.items()}


def _misfit(key: str, shape: tuple[int, ...], shapes: Shapes | None) -> str | None:
    """What is wrong with a declared tensor for the network (None: it fits or no `shapes`)."""
    if shapes is None:
        return None
    if key not in shapes:
        return f"unexpected {key}"
    if shape != tuple(shapes[key]):
        return f"shape of {key} {shape} vs {tuple(shapes[key])}"
    return None


def _refuse_misfits(path: str, misfits: list[str]) -> None:
    """Refuse the tensors that do not fit, from the headers, before any data is read."""
    if misfits:
        raise UsageError(
            f"{path} does not fit the network: {first_of(misfits, 5, '; ')}",
            hint="the weights must come from the same spec and parameter values (the torch "
            "backend's state_dict keys)",
        )


def _real(path: str, key: str, dtype: Any) -> None:
    kind = getattr(dtype, "kind", "?")
    if kind not in _REAL_KINDS:
        what = _KIND_NAMES.get(kind, f"dtype {dtype}")
        raise UsageError(
            f"{path}: tensor {key!r} holds {what} ({dtype}), not real numbers",
            hint="weights are real numbers: save float32 arrays",
        )


def _declared(path: str, key: str, dtype: Any, shape: tuple[int, ...], total: int) -> int:
    """`total` plus the bytes of one declared member, or an error for a dtype or a size the
    loader refuses."""
    _real(path, key, dtype)
    size = 1
    for n in shape:
        size *= n
    total += size * dtype.itemsize
    if total > MAX_WEIGHTS_BYTES:
        raise UsageError(
            f"{path}: tensor {key!r} declares {size:,} values of {dtype}; the file's arrays "
            f"would exceed the limit of {MAX_WEIGHTS_BYTES:,} bytes"
        )
    return total


def _npz(path: str, shapes: Shapes | None) -> dict[str, Any]:
    import numpy as np

    try:
        with zipfile.ZipFile(path) as zf:
            if len(zf.infolist()) > MAX_TENSORS:
                raise UsageError(
                    f"{path} holds {len(zf.infolist()):,} arrays; the limit is {MAX_TENSORS:,}"
                )
            total, misfits = 0, []
            for info in zf.infolist():
                total, misfit = _npz_member(path, zf, info, shapes, total)
                misfits += [misfit] if misfit else []
            _refuse_misfits(path, misfits)
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile, zlib and NumPy raise many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{path} is not a NumPy .npz file of arrays: {first}") from None


def _npz_member(
    path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, shapes: Shapes | None, total: int
) -> tuple[int, str | None]:
    """Check one member's .npy header (dtype, size) without reading its data: the bytes
    declared so far and whether it misfits the network."""
    import numpy as np
    from numpy.lib import format as npy

    key = info.filename.removesuffix(".npy")
    with zf.open(info) as f:
        try:
            version = npy.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = npy.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = npy.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, EOFError, SyntaxError, TypeError) as exc:
            raise UsageError(f"{path}: member {key!r} is not a NumPy array: {exc}") from None
        start = f.tell()
    dtype = np.dtype(dtype)
    total = _declared(path, key, dtype, tuple(shape), total)
    size = 1
    for n in shape:
        size *= n
    if info.file_size != start + size * dtype.itemsize:
        raise UsageError(
            f"{path}: tensor {key!r} declares {size:,} values of {dtype} but holds "
            f"{max(info.file_size - start, 0):,} bytes: the file is truncated or corrupt"
        )
    return total, _misfit(key, tuple(shape), shapes)


def _safetensors(path: str, shapes: Shapes | None) -> dict[str, Any]:
    import numpy as np

    _safetensors_header(path, shapes)
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise UsageError(
            f"reading {path} needs the safetensors package", hint="pip install safetensors"
        ) from None
    try:
        state = dict(load_file(path))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise UsageError(f"{path} is not a safetensors file: {exc}") from None
    return {k: np.asarray(v) for k, v in state.items()}


_ST_DTYPES = {
    "BOOL": "bool",
    "U8": "uint8",
    "I8": "int8",
    "U16": "uint16",
    "I16": "int16",
    "U32": "uint32",
    "I32": "int32",
    "U64": "uint64",
    "I64": "int64",
    "F16": "float16",
    "F32": "float32",
    "F64": "float64",
}


def _safetensors_header(path: str, shapes: Shapes | None) -> None:
    """Check the JSON header's dtypes and shapes before safetensors reads any data."""
    import numpy as np

    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if n > min(os.fstat(f.fileno()).st_size, 100 * 1024**2):
                raise ValueError(f"header length {n:,} exceeds the file")
            header = json.loads(f.read(n))
    except (OSError, ValueError, struct.error, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not a safetensors file: {exc}") from None
    if not isinstance(header, dict):
        raise UsageError(f"{path} is not a safetensors file: its header is not an object")
    if len(header) > MAX_TENSORS + 1:
        raise UsageError(f"{path} holds {len(header) - 1:,} tensors; the limit is {MAX_TENSORS:,}")
    total, misfits = 0, []
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("shape"), list):
            raise UsageError(f"{path} is not a safetensors file: bad entry for {key!r}")
        name = entry.get("dtype")
        if name not in _ST_DTYPES:
            raise UsageError(
                f"{path}: tensor {key!r} has dtype {name}, which this reader does not take",
                hint="save float32 tensors (bfloat16 loads from a torch .pt file)",
            )
        shape = tuple(int(n) for n in entry["shape"])
        total = _declared(path, key, np.dtype(_ST_DTYPES[name]), shape, total)
        misfit = _misfit(key, shape, shapes)
        misfits += [misfit] if misfit else []
    _refuse_misfits(path, misfits)


def _torch_file(path: str) -> Any:
    try:
        import torch
    except ImportError:
        raise UsageError(
            f"reading {path} needs torch (a torch state_dict file)",
            hint="pip install 'inceptdsl[torch]', or give the weights as an .npz file",
        ) from None
    _uncompressed(path)
    try:
        with warnings.catch_warnings():  # sparse tensors: torch warns that it validates them
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds (UnpicklingError, RuntimeError, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"{path} is not a torch state_dict that loads with weights_only=True: {first}",
            hint=_SAVE_HINT,
        ) from None


def _uncompressed(path: str) -> None:
    """torch.save stores its records uncompressed, so a torch file's data is at most its size;
    torch.load would inflate a compressed record (a small file, gigabytes of memory) before
    any shape is checked: refuse those, from the zip directory."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip (torch's legacy format, or junk): torch.load says what it is
    if len(infos) > MAX_TENSORS:
        raise UsageError(f"{path} holds {len(infos):,} records; the limit is {MAX_TENSORS:,}")
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            raise UsageError(
                f"{path}: record {info.filename!r} is compressed ({info.file_size:,} bytes "
                f"from {info.compress_size:,}); torch.save never compresses, so this file was "
                "not written by it",
                hint=_SAVE_HINT,
            )


def _checked(path: str, key: str, value: Any) -> Any:
    """`value` as a dense array or tensor of real numbers, or an error naming the tensor."""
    import numpy as np

    if isinstance(value, np.ndarray):
        _real(path, key, value.dtype)
        return value
    if type(value).__module__.startswith("torch"):
        return _torch_tensor(path, key, value)
    raise UsageError(f"{path}: {key!r} is a {type(value).__name__}, not a tensor", hint=_SAVE_HINT)


def _torch_tensor(path: str, key: str, value: Any) -> Any:
    import torch

    if not isinstance(value, torch.Tensor):
        raise UsageError(f"{path}: {key!r} is a {type(value).__name__}, not a tensor")
    if value.is_meta:
        raise UsageError(
            f"{path}: tensor {key!r} is a meta tensor: it has a shape but no data",
            hint="save the state_dict of a model whose weights are loaded or trained",
        )
    if value.layout != torch.strided:
        raise UsageError(
            f"{path}: tensor {key!r} is {value.layout} (sparse), not a dense tensor",
            hint="save value.to_dense() instead",
        )
    if value.is_quantized:
        raise UsageError(
            f"{path}: tensor {key!r} is quantized ({value.dtype})",
            hint="save the float model's state_dict",
        )
    if value.is_complex():
        raise UsageError(
            f"{path}: tensor {key!r} holds complex numbers ({value.dtype}), not real numbers",
            hint="weights are real numbers: save float32 tensors",
        )
    if value.is_floating_point() and value.dtype not in (
        torch.float16,
        torch.float32,
        torch.float64,
    ):
        return value.to(torch.float32)  # bfloat16, float8: training dtypes NumPy lacks
    return value
