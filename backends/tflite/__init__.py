"""The TFLite backend: IR graph -> the bytes of a .tflite file (`build`, `emit`, `write`),
optionally full-integer int8, calibrated on the user's inputs.

The model is the Keras backend's inference model (channels last: the .tflite input is
(N, H, W, C)) converted by TensorFlow's TFLite converter; the weights are the torch backend's
state_dict keys, read as the ONNX backend reads them (no torch needed for an .npz or
.safetensors file). docs/deploy.md says what is supported. Registered as `tflite` in the
`inceptdsl.backends` entry-point group.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

# as the Keras backend does: triton crashes when loaded after TensorFlow (docs/frameworks.md)
sys.modules.setdefault("triton", None)  # type: ignore[arg-type]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import networkx as nx  # noqa: E402

from inceptdsl.backend import Backend  # noqa: E402
from inceptdsl.ir import info  # noqa: E402
from inceptdsl.output import write_output  # noqa: E402

from ..common.calibration import calibration_batches  # noqa: E402
from ..common.quant_report import QuantReport  # noqa: E402
from ..keras.ops import ACTIVATIONS, OP_TABLE  # noqa: E402


class TfliteBackend(Backend):
    """`build` and `emit` return the .tflite bytes; `write` writes them. `weights`: a
    state_dict (torch tensors or NumPy arrays), a weights file, or a torch model."""

    name = "tflite"
    suffix = ".tflite"
    ops = OP_TABLE
    activations = ACTIVATIONS
    optimize_layout = "nhwc"  # it computes in the Keras backend's layout
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
    ) -> bytes:
        """The .tflite bytes; with `int8`, `report` (if given) gets the sizes of the int8 and
        fp32 files and each layer's error against fp32 on the calibration set (report.py)."""
        from .quiet import tensorflow

        tensorflow()  # first, and without its load-time log lines (quiet.py)
        from .convert import to_tflite

        if tuple(keep_fp32):
            self.unsupported(
                "keeping layers in fp32 (--keep-fp32)",
                hint="TFLite's full-integer model is int8 throughout: use --backend onnx or "
                "openvino to keep layers in fp32",
            )
        samples = None
        if int8:
            samples = calibration_batches(calibration, info(graph).input_shape)
        data = to_tflite(graph, weights_from, int8, samples)
        if int8 and report is not None:
            from .report import report as layer_errors

            fp32 = to_tflite(graph, weights_from, False, None)
            report(layer_errors(graph, fp32, data, samples or []))
        return data

    def emit(self, graph: nx.DiGraph, weights: Any = None, **options: Any) -> bytes:  # type: ignore[override]
        return self.build(graph, weights, **options)

    def write(  # type: ignore[override]
        self,
        graph: nx.DiGraph,
        path: str,
        weights: Any = None,
        inputs: Iterable[str] = (),
        **options: Any,
    ) -> list[str]:
        data = self.build(graph, weights, **options)
        write_output(path, data, inputs=inputs)
        return [path]


BACKEND = TfliteBackend()

__all__ = ["BACKEND", "TfliteBackend"]
