"""Reading an .onnx file to import: hostile input, checked before anything trusts it.

The file must be a regular file of at most MAX_FILE_BYTES that decodes as a ModelProto with a
graph; a truncated file or other bytes is E601 naming the file. External tensor data is read
here, not by the `onnx` package: each location must be a relative path that resolves (symlinks
included) to a regular file inside the model's directory, and its offset and length must lie
within that file. The graph may have at most MAX_NODES nodes (E902). Shapes come from ONNX's
shape inference, with the input's dimensions fixed first (from `--input` where the file leaves
them symbolic).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, numpy_helper

from inceptdsl.errors import TooManyNodesError, UnsupportedModelError, UsageError

MAX_FILE_BYTES = 2 * 1024**3
"""Largest .onnx file read (protobuf's own limit; larger models keep tensors outside)."""

MAX_EXTERNAL_BYTES = 4 * 1024**3
"""Most external tensor data read for one model."""

MAX_NODES = 20_000
"""Most nodes one graph may have (inception_resnet_v2's export has 1,100)."""


@dataclass
class OnnxFile:
    """A checked model: its graph, the constant tensors by name, and each tensor's shape."""

    path: str
    model: onnx.ModelProto
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    input_name: str = ""
    input_shape: tuple[int, int, int] = (0, 0, 0)


def _bad(path: str, what: str, hint: str | None = None) -> UnsupportedModelError:
    return UnsupportedModelError(what, hint=hint, path=path)


def read_onnx(path: str, input_shape: tuple[int, int, int] | None) -> OnnxFile:
    """The checked model in `path`, with shapes inferred at `input_shape` (or the file's)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path} is not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        raise _bad(path, f"the file has {st.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
    with open(path, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError):
        raise _bad(
            path,
            "not an ONNX model: its bytes do not decode as one (a truncated or other file)",
        ) from None
    graph = model.graph
    if not graph.node or not graph.output or not model.ir_version:
        raise _bad(path, "not an ONNX model: it holds no graph (no nodes, or no output)")
    if len(graph.node) > MAX_NODES:
        raise TooManyNodesError(
            f"the graph has {len(graph.node):,} nodes; the limit is {MAX_NODES:,}", path=path
        )
    subgraphs = (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
    if any(a.type in subgraphs for n in graph.node for a in n.attribute):
        raise _bad(path, "a node holds a subgraph (If, Loop, Scan): control flow")
    out = OnnxFile(path, model)
    _external(out)
    for t in graph.initializer:
        out.consts[t.name] = _array(path, t)
    for n in graph.node:
        if n.op_type == "Constant" and len(n.output) == 1:
            value = next((a for a in n.attribute if a.name == "value"), None)
            if value is None:
                raise _bad(path, f"node {n.name or n.output[0]!r} (Constant): not a tensor value")
            out.consts[n.output[0]] = _array(path, value.t)
    _input(out, input_shape)
    _infer(out)
    return out


def _array(path: str, t: TensorProto) -> np.ndarray:
    if t.data_type not in (TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32,
                           TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BOOL):  # fmt: skip
        raise _bad(path, f"tensor {t.name!r} has data type {t.data_type}: not a real number")
    try:
        return numpy_helper.to_array(t)
    except (ValueError, TypeError) as exc:
        raise _bad(path, f"tensor {t.name!r} cannot be read: {exc}"[:300]) from None


def _external(f: OnnxFile) -> None:
    """Read external tensor data from files inside the model's directory only."""
    base = os.path.realpath(os.path.dirname(os.path.abspath(f.path)))
    total = 0
    for t in f.model.graph.initializer:
        if t.data_location != TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        loc = info.get("location", "")
        where = os.path.realpath(os.path.join(base, loc))
        if (
            not loc
            or os.path.isabs(loc)
            or "\0" in loc
            or os.path.commonpath([base, where]) != base
            or where == base
        ):
            raise _bad(
                f.path,
                f"tensor {t.name!r} reads its data from {loc!r}, outside the model's directory",
                hint="external data must be a file beside the model (or below its directory)",
            )
        try:
            offset = int(info.get("offset", "0"))
            length = int(info["length"]) if "length" in info else None
        except ValueError:
            raise _bad(
                f.path, f"tensor {t.name!r}: its external offset or length is not a number"
            ) from None
        try:
            st = os.stat(where)
        except OSError:
            raise _bad(f.path, f"tensor {t.name!r}: its data file {loc!r} cannot be read") from None
        if not stat.S_ISREG(st.st_mode):
            raise _bad(f.path, f"tensor {t.name!r}: its data file {loc!r} is not a regular file")
        if length is None:
            length = st.st_size - offset
        total += max(length, 0)
        if offset < 0 or length < 0 or offset + length > st.st_size or total > MAX_EXTERNAL_BYTES:
            raise _bad(
                f.path,
                f"tensor {t.name!r}: bytes {offset:,}..{offset + length:,} of {loc!r} "
                f"({st.st_size:,} bytes) are not in the file, or too many",
            )
        with open(where, "rb") as data:
            data.seek(offset)
            t.raw_data = data.read(length)
        del t.external_data[:]
        t.data_location = TensorProto.DEFAULT


def _input(f: OnnxFile, input_shape: tuple[int, int, int] | None) -> None:
    graph = f.model.graph
    inputs = [i for i in graph.input if i.name not in f.consts]
    if len(inputs) != 1:
        raise _bad(f.path, f"the graph has {len(inputs)} inputs; a network has one")
    (inp,) = inputs
    dims = inp.type.tensor_type.shape.dim
    if inp.type.tensor_type.elem_type != TensorProto.FLOAT or len(dims) != 4:
        raise _bad(
            f.path,
            f"the input {inp.name!r} is not a float32 batch of images (N, C, H, W)",
        )
    file_shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims[1:])
    if input_shape is None:
        if None in file_shape or 0 in file_shape:
            raise UsageError(
                f"{f.path}: the input's size is symbolic ({file_shape})",
                hint="give it with --input CxHxW",
            )
        input_shape = (int(file_shape[0]), int(file_shape[1]), int(file_shape[2]))  # type: ignore[arg-type]
    for d, v in zip(dims[1:], input_shape, strict=True):
        d.dim_value = v
    f.input_name = inp.name
    f.input_shape = input_shape


def _infer(f: OnnxFile) -> None:
    """Every tensor's shape, by ONNX's shape inference at batch 1 (the IR's shapes leave the
    batch out)."""
    model = onnx.ModelProto()
    model.CopyFrom(f.model)
    del model.graph.value_info[:]
    for i in model.graph.input:
        if i.name == f.input_name:
            i.type.tensor_type.shape.dim[0].dim_value = 1
    for o in model.graph.output:
        o.type.tensor_type.ClearField("shape")
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as exc:  # noqa: BLE001 - onnx's inference errors have no common base
        text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise _bad(f.path, f"the graph is not consistent: {text}"[:500]) from None
    for vi in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]:
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            f.shapes[vi.name] = tuple(int(d.dim_value) for d in dims)
    for name, a in f.consts.items():
        f.shapes[name] = tuple(a.shape)


def attrs(node: onnx.NodeProto) -> dict[str, Any]:
    """A node's attributes as Python values."""
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
