"""The PyTorch backend: IR graph -> torch.nn.Module (`build`) or standalone source (`emit`).

Imported only when the backend registry loads it (never by the core). `BACKEND` is registered
as `torch` in the `inceptdsl.backends` entry-point group; `ONNX_BACKEND` exports the same model
to ONNX (`emit` returns the bytes of a .onnx file).
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from .build import build as _build
from .emit import emit as _emit
from .export_onnx import OnnxBackend


class TorchBackend:
    """`build` returns an nn.Module; `emit` returns Python source that imports only torch."""

    name = "torch"
    suffix = ".py"

    def build(self, graph: nx.DiGraph, weights_from: Any = None) -> Any:
        return _build(graph, weights_from)

    def emit(self, graph: nx.DiGraph) -> str:
        return _emit(graph)


BACKEND = TorchBackend()
ONNX_BACKEND = OnnxBackend()

__all__ = ["BACKEND", "ONNX_BACKEND", "OnnxBackend", "TorchBackend"]
