"""The ONNX backend: IR graph -> onnx.ModelProto (`build`) or the bytes of a .onnx file (`emit`).

The graph is built from the IR directly with the `onnx` package (no torch needed): one rule per
op (rules.py), nodes named by block path (emitter.py), value_info for every tensor, metadata
(model.py), weights keyed by the torch backend's state_dict keys (weights.py), external data for
models over 2 GB (files.py); `build_optimized` builds the optimized graph (optimized.py).
Registered as `onnx` in the `inceptdsl.backends` entry-point group;
docs/onnx.md describes what is exported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx
import onnx

from inceptdsl.backend import Backend

from . import files
from .activations import ACTIVATIONS
from .importer import IMPORTER
from .model import OPSET, to_onnx
from .rules import OP_TABLE


class OnnxBackend(Backend):
    """`build` returns an onnx.ModelProto, `emit` the bytes of a .onnx file and `write` writes
    one (with external data when the model is too large for one file). `weights` /
    `weights_from`: a torch state_dict (or a .pt / .npz file holding one), a dict of NumPy
    arrays, or a torch model; without them the weights are seeded torch-style initial values."""

    name = "onnx"
    suffix = ".onnx"
    ops = OP_TABLE
    activations = ACTIVATIONS
    optimize_layout = "nchwc"  # ONNX Runtime's CPU layout, which decides horizontal fusion
    optimizer = ".optimized"
    writes_files = True
    weights_in_file = True
    runtime = "onnxruntime"  # `measure`: the optimized file in ONNX Runtime (timing.py)
    timer = ".timing"

    quantizes = True
    importer = IMPORTER  # `inceptdsl import onnx` (importer.py)

    def build(  # type: ignore[override]
        self, graph: nx.DiGraph, weights_from: Any = None, **int8: Any
    ) -> onnx.ModelProto:
        """The model; with `int8=True, calibration=DATA[, keep_fp32=PATHS, report=FN]`, the
        optimized model quantized by ONNX Runtime (quantize.py); `report` is called with the
        QuantReport (sizes, per-layer error against fp32 on the calibration set)."""
        if not int8.pop("int8", False):
            if int8:
                raise TypeError(f"options {sorted(int8)} are for int8=True")
            return to_onnx(graph, weights_from)
        from inceptdsl.ir import info

        from ..common.calibration import calibration_batches
        from .quantize import quantize, report

        samples = calibration_batches(int8["calibration"], info(graph).input_shape)
        model = self.build_optimized(graph, weights_from)
        out = quantize(model, samples, int8.get("keep_fp32", ()))
        if int8.get("report") is not None:
            int8["report"](report(model, out, samples))
        return out

    def emit(self, graph: nx.DiGraph, weights: Any = None, **int8: Any) -> bytes:  # type: ignore[override]
        return files.to_bytes(self.build(graph, weights, **int8))

    def write(  # type: ignore[override]
        self,
        graph: nx.DiGraph,
        path: str,
        weights: Any = None,
        inputs: Iterable[str] = (),
        external_threshold: int = files.EXTERNAL_THRESHOLD,
        **int8: Any,
    ) -> list[str]:
        """Write the model to `path` atomically (never over one of `inputs`); the tensors go to
        `path`.data when they take more than `external_threshold` bytes. The paths written."""
        return files.write(self.build(graph, weights, **int8), path, inputs, external_threshold)

    def emit_optimized(self, graph: nx.DiGraph, weights: Any = None, **options: Any) -> bytes:
        return files.to_bytes(self.build_optimized(graph, weights, **options))

    def write_optimized(
        self,
        graph: nx.DiGraph,
        path: str,
        weights: Any = None,
        inputs: Iterable[str] = (),
        external_threshold: int = files.EXTERNAL_THRESHOLD,
        **options: Any,
    ) -> list[str]:
        model = self.build_optimized(graph, weights, **options)
        return files.write(model, path, inputs, external_threshold)


BACKEND = OnnxBackend()

__all__ = ["ACTIVATIONS", "BACKEND", "OPSET", "OP_TABLE", "OnnxBackend", "to_onnx"]
