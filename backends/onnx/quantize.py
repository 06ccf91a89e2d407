"""int8 ONNX models: ONNX Runtime's static quantization (QDQ, per-channel weights) of the
optimized model, calibrated on the user's inputs.

The optimized graph comes first (batch norm folded into the convolutions, activations fused in
the graph ORT then quantizes), so the quantized weights are the folded ones. `keep_fp32` names
block paths (`conv1`, `fc`) whose nodes stay in float: ONNX node names start with the torch
module path of their IR node (docs/onnx.md), so a path selects the node and everything under it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import onnx

from inceptdsl.errors import UsageError

from ..common.quant_report import ErrorAccumulator, QuantReport

REPORT_BATCH = 32
"""Calibration samples per run when measuring the per-layer error."""


def _under(name: str, paths: Sequence[str]) -> bool:
    return any(name.startswith(p + "/") or name.startswith(p + ".") for p in paths)


def excluded_nodes(model: onnx.ModelProto, keep_fp32: Iterable[str]) -> list[str]:
    """The names of the nodes under the block paths `keep_fp32` (each must select one)."""
    paths = list(keep_fp32)
    names = [n.name for n in model.graph.node]
    for p in paths:
        if not any(_under(n, [p]) for n in names):
            raise UsageError(
                f"--keep-fp32 {p}: no layer of the exported model is at that path",
                hint="name a block or layer path as the report prints it (e.g. conv1, fc)",
            )
    return [n for n in names if _under(n, paths)]


class _Reader:
    """onnxruntime's CalibrationDataReader over a list of (1, C, H, W) samples."""

    def __init__(self, samples: list[np.ndarray]) -> None:
        self._it: Iterator[np.ndarray] = iter(samples)

    def get_next(self) -> dict[str, np.ndarray] | None:
        x = next(self._it, None)
        return None if x is None else {"input": x}


def quantize(
    model: onnx.ModelProto, samples: list[np.ndarray], keep_fp32: Iterable[str] = ()
) -> onnx.ModelProto:
    """`model` (float32) quantized to int8: QDQ, per-channel int8 weights, uint8 activations
    (U8S8: the operand order of VNNI's vpdpbusd; S8S8 ran at half its speed, bench/RESULTS.md),
    calibrated on `samples` by MinMax."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    exclude = excluded_nodes(model, keep_fp32)
    root = logging.getLogger()
    level = root.level  # ORT warns "consider pre-processing" on the root logger, into stderr
    with tempfile.TemporaryDirectory(prefix="inceptdsl-int8-") as tmp:
        src, dst = os.path.join(tmp, "fp32.onnx"), os.path.join(tmp, "int8.onnx")
        onnx.save(model, src)
        root.setLevel(logging.ERROR)
        try:
            quantize_static(
                src,
                dst,
                _Reader(samples),  # type: ignore[arg-type]
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                nodes_to_exclude=exclude,
            )
        finally:
            root.setLevel(level)
        out = onnx.load(dst)
    onnx.helper.set_model_props(
        out,
        {**{p.key: p.value for p in model.metadata_props}, "inceptdsl.int8": "qdq-per-channel"},
    )
    return out


def _layers(model: onnx.ModelProto) -> list[tuple[str, str]]:
    """(IR node path, tensor) for the float tensors named by an IR node's path (docs/onnx.md):
    node outputs without `:`; a graph output (`output`) is shown by its node's path."""
    types = {v.name: v.type.tensor_type.elem_type for v in model.graph.value_info}
    types.update({v.name: v.type.tensor_type.elem_type for v in model.graph.output})
    outputs = {o.name for o in model.graph.output}
    return [
        (n.name.split("/")[0] if o in outputs else o, o)
        for n in model.graph.node
        for o in n.output
        if o and ":" not in o and types.get(o, onnx.TensorProto.FLOAT) == onnx.TensorProto.FLOAT
    ]


def _session(model: onnx.ModelProto, outputs: Sequence[str]) -> Any:
    import onnxruntime as ort

    m = onnx.ModelProto()
    m.CopyFrom(model)
    present = {o.name for o in m.graph.output}
    for name in outputs:
        if name not in present:
            m.graph.output.append(
                onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
            )
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def report(fp32: onnx.ModelProto, int8: onnx.ModelProto, samples: list[np.ndarray]) -> QuantReport:
    """Sizes of the two models and the error of each IR node's tensor in `int8` against
    `fp32` on `samples`. In the QDQ model a layer's tensor is compared as the next layer reads
    it (its DequantizeLinear output), so the activation's rounding counts too."""
    produced = {o for n in int8.graph.node for o in n.output}
    layers = []  # (path, fp32 tensor, int8 tensor)
    for path, name in _layers(fp32):
        dq = name + "_DequantizeLinear_Output"
        if dq in produced or name in produced:
            layers.append((path, name, dq if dq in produced else name))
    paths = [p for p, _, _ in layers]
    ref = _session(fp32, [a for _, a, _ in layers])
    got = _session(int8, [b for _, _, b in layers])
    acc = ErrorAccumulator()
    x = np.concatenate(samples) if samples else np.zeros((0,), np.float32)
    for i in range(0, len(x), REPORT_BATCH):
        feed = {"input": x[i : i + REPORT_BATCH]}
        a = ref.run([a for _, a, _ in layers], feed)
        b = got.run([b for _, _, b in layers], feed)
        acc.add(dict(zip(paths, a, strict=True)), dict(zip(paths, b, strict=True)))
    return QuantReport(
        target="onnx",
        fp32_bytes=fp32.ByteSize(),
        int8_bytes=int8.ByteSize(),
        layers=acc.ranked(),
        samples=len(x),
    )
