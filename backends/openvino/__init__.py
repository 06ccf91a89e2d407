"""The OpenVINO backend: IR graph -> openvino.Model (`build`) or OpenVINO IR files (`write`:
FILE.xml and FILE.bin), optionally int8 (NNCF, calibrated on the user's inputs).

The model is the optimized ONNX model (backends/onnx/optimized.py: batch norm folded, the
weights of the unoptimized network carried over) read by OpenVINO's ONNX frontend, so every op
has the ONNX backend's rule and OpenVINO compiles the same graph ONNX Runtime runs.
docs/deploy.md says what is supported. Registered as `openvino` in `inceptdsl.backends`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import networkx as nx

from inceptdsl.backend import Backend
from inceptdsl.ir import info

from ..common.calibration import calibration_batches
from ..common.quant_report import QuantReport
from ..onnx.activations import ACTIVATIONS
from ..onnx.rules import OP_TABLE
from . import convert


class OpenVinoBackend(Backend):
    """`build` returns an openvino.Model; `write` writes FILE.xml + FILE.bin. `weights`: as the
    ONNX backend takes them (a state_dict, a .pt/.npz/.safetensors file, a torch model)."""

    name = "openvino"
    suffix = ".xml"
    ops = OP_TABLE
    activations = ACTIVATIONS
    optimize_layout = "nchwc"  # it compiles the ONNX backend's optimized graph
    writes_files = True
    quantizes = True

    def build(  # type: ignore[override]
        self,
        graph: nx.DiGraph,
        weights_from: Any = None,
        int8: bool = False,
        calibration: Any = None,
        keep_fp32: Iterable[str] = (),
        report: Callable[[QuantReport], None] | None = None,
    ) -> Any:
        """The openvino.Model; with `int8`, `report` (if given) gets the sizes of the int8 and
        fp32 IR (.xml + .bin) and each layer's error against fp32 on the calibration set
        (report.py)."""
        model = convert.to_openvino(graph, weights_from)
        if not int8:
            return model
        samples = calibration_batches(calibration, info(graph).input_shape)
        fp32_bytes = convert.ir_bytes(model) if report is not None else 0
        out = convert.quantize(model, samples, keep_fp32)
        if report is not None:
            from .report import report as layer_errors

            errors = layer_errors(model, out, graph, samples)
            int8_bytes = convert.ir_bytes(out)
            report(dataclasses.replace(errors, fp32_bytes=fp32_bytes, int8_bytes=int8_bytes))
        return out

    def emit(self, graph: nx.DiGraph, weights: Any = None, **options: Any) -> bytes:  # type: ignore[override]
        return self.unsupported(  # type: ignore[no-any-return]
            "writing to standard output",
            hint="OpenVINO IR is two files: give -o FILE.xml (the weights go to FILE.bin)",
        )

    def write(  # type: ignore[override]
        self,
        graph: nx.DiGraph,
        path: str,
        weights: Any = None,
        inputs: Iterable[str] = (),
        int8: bool = False,
        calibration: Any = None,
        keep_fp32: Iterable[str] = (),
        report: Callable[[QuantReport], None] | None = None,
    ) -> list[str]:
        model = self.build(graph, weights, int8, calibration, keep_fp32, report)
        return convert.write(model, path, inputs)


BACKEND = OpenVinoBackend()

__all__ = ["BACKEND", "OpenVinoBackend"]
