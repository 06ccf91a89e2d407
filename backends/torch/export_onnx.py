"""ONNX output: the torch model of an IR graph, exported with torch.onnx (backend `onnx`).

ONNX goes through torch rather than a second IR walker, so it inherits the torch backend's
semantics (asymmetric padding, partial batch norm, ceil-mode pooling) and its fidelity tests.
The exporter is torch's TorchScript-based one (`dynamo=False`): the newer exporter needs the
`onnxscript` package, which the project does not depend on. The model is exported in eval mode
(aux heads are training-only) with a dynamic batch dimension. `emit` initialises the weights
from a fixed seed, so the same graph always gives the same bytes.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import networkx as nx
import torch
from torch import nn

from .build import build

OPSET = 17


def export(model: nn.Module, graph: nx.DiGraph) -> bytes:
    """`model` (built from `graph`) as .onnx bytes: input `input`, output `output`."""
    model = model.eval()
    example = torch.zeros(1, *graph.graph["input_shape"])
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript-based exporter
        warnings.filterwarnings("ignore", "Constant folding", UserWarning)  # slices of F.pad
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # LRN's empty-input check
        torch.onnx.export(
            model,
            (example,),
            buffer,  # type: ignore[arg-type]  # the TorchScript exporter takes a file object
            dynamo=False,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
            opset_version=OPSET,
        )
    return buffer.getvalue()


class OnnxBackend:
    """`build` returns an onnx.ModelProto; `emit` the bytes of a .onnx file."""

    name = "onnx"
    suffix = ".onnx"

    def build(self, graph: nx.DiGraph, weights_from: Any = None) -> Any:
        import onnx

        return onnx.load_from_string(export(build(graph, weights_from), graph))

    def build_optimized(self, graph: nx.DiGraph, weights_from: Any = None, **options: Any) -> Any:
        """The optimized model as an onnx.ModelProto (docs/optimize.md)."""
        import onnx

        return onnx.load_from_string(self.emit_optimized(graph, weights_from, **options))

    def emit_optimized(self, graph: nx.DiGraph, weights_from: Any = None, **options: Any) -> bytes:
        """The optimized model, with the weights of `weights_from`, as .onnx bytes (by
        default optimized for ONNX Runtime's CPU layout, NCHWc)."""
        from inceptdsl.optimize import Target

        from .optimized import build_optimized

        options.setdefault("target", Target(layout="nchwc"))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # without weights_from: the same bytes every time
            model = build_optimized(graph, weights_from, **options)
        return export(model, graph)

    def emit(self, graph: nx.DiGraph) -> bytes:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = build(graph)
        return export(model, graph)
