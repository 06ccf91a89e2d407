"""int8 ONNX models: ONNX Runtime's static quantization (QDQ, per-channel weights) of the
optimized model, calibrated on the user's inputs.

The optimized graph comes first (batch norm folded into the convolutions, activations fused in
the graph ORT then quantizes), so the quantized weights are the folded ones. `keep_fp32` names
block paths (`conv1`, `fc`) whose nodes stay in float: ONNX node names start with the torch
module path of their IR node (docs/onnx.md), so a path selects the node and everything under it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import onnx

from inceptdsl.errors import UsageError


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
    """`model` (float32) quantized to int8: QDQ, per-channel weights, S8S8, calibrated on
    `samples` by MinMax."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    exclude = excluded_nodes(model, keep_fp32)
    with tempfile.TemporaryDirectory(prefix="inceptdsl-int8-") as tmp:
        src, dst = os.path.join(tmp, "fp32.onnx"), os.path.join(tmp, "int8.onnx")
        onnx.save(model, src)
        options: dict[str, Any] = {}
        quantize_static(
            src,
            dst,
            _Reader(samples),  # type: ignore[arg-type]
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=exclude,
            extra_options=options,
        )
        out = onnx.load(dst)
    onnx.helper.set_model_props(
        out,
        {**{p.key: p.value for p in model.metadata_props}, "inceptdsl.int8": "qdq-per-channel"},
    )
    return out
