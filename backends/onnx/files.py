"""Serialising a model: one .onnx file, or an .onnx file with its tensors in external data.

Protobuf cannot serialise a message over 2 GB, so a model whose tensors take more than
`threshold` bytes (EXTERNAL_THRESHOLD by default; a parameter so that tests can use a small
model) keeps every initialiser over 1 KiB in `<output>.data` beside the file, at 64-byte
aligned offsets, as ONNX's external data format says (`onnx.load(path)` and onnxruntime read
it from the model's directory). Both files are written atomically by inceptdsl.output, the data
first, so a model file never points at data that is not there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import onnx
from onnx import TensorProto
from onnx.external_data_helper import set_external_data

from inceptdsl.errors import UsageError
from inceptdsl.output import claim, is_regular_target, write_output

EXTERNAL_THRESHOLD = 2_000_000_000
"""Tensor bytes above which the data goes to a separate file (protobuf's limit is 2 GiB)."""
INLINE = 1024  # initialisers up to this size stay in the model file
ALIGN = 64


def tensor_bytes(model: onnx.ModelProto) -> int:
    return sum(len(t.raw_data) for t in model.graph.initializer)


def serialize(
    model: onnx.ModelProto, location: str, threshold: int = EXTERNAL_THRESHOLD
) -> tuple[bytes, bytes | None]:
    """(model file bytes, external data bytes or None when the model fits in one file)."""
    if tensor_bytes(model) <= threshold:
        return model.SerializeToString(deterministic=True), None
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    data = bytearray()
    for t in copy.graph.initializer:
        if len(t.raw_data) <= INLINE:
            continue
        data += b"\0" * (-len(data) % ALIGN)
        offset = len(data)
        data += t.raw_data
        set_external_data(t, location, offset, len(t.raw_data))
        t.data_location = TensorProto.EXTERNAL
        t.ClearField("raw_data")
    return copy.SerializeToString(deterministic=True), bytes(data)


def to_bytes(model: onnx.ModelProto, threshold: int = EXTERNAL_THRESHOLD) -> bytes:
    """The .onnx file of a model that fits in one file (UsageError if it does not)."""
    if tensor_bytes(model) > threshold:
        raise UsageError(
            f"the model's tensors take {tensor_bytes(model):,} bytes, over the "
            f"{threshold:,}-byte limit of one ONNX file",
            hint="write it to a file (-o FILE.onnx): the tensors then go to FILE.onnx.data",
        )
    return serialize(model, "", threshold)[0]


def write(
    model: onnx.ModelProto,
    path: str,
    inputs: Iterable[str] = (),
    threshold: int = EXTERNAL_THRESHOLD,
) -> list[str]:
    """Write `model` to `path` (and `path`.data when needed); the paths written."""
    location = os.path.basename(path) + ".data"
    raw, data = serialize(model, location, threshold)
    written = []
    if data is not None:
        data_path = os.path.join(os.path.dirname(path), location)
        if not is_regular_target(path):  # -o /dev/null must not create /dev/null.data
            raise UsageError(
                f"the model's tensors go to a file beside the model, and {path} is not a "
                "regular file",
                hint="give -o FILE.onnx: the tensors go to FILE.onnx.data",
            )
        claim([data_path, path])  # both refused or both written
        write_output(data_path, data, inputs=inputs)
        written.append(data_path)
    write_output(path, raw, inputs=inputs)
    return [path, *written]
