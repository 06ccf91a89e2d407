"""The PyTorch backend: IR graph -> torch.nn.Module (`build`) or standalone source (`emit`).

Imported only when the backend registry loads it (never by the core). `BACKEND` is registered
as `torch` in the `inceptdsl.backends` entry-point group (ONNX is backends/onnx, built from
the IR without torch).

What a built model looks like:

- Modules sit at the IR node paths (`Mixed_5b.branch1x1`, `features.3.branch1.0`): a conv with
  batch norm is a unit with children `conv` and `bn`, a separable conv has `conv1` (depthwise)
  and `pointwise`, so torchvision and timm state_dicts load with `strict=True`.
- Batch norm without gamma or beta (keras `scale=False`) has that parameter set to None: it
  counts as 1 (or 0) and is neither a parameter nor a state_dict entry.
- In eval mode `forward` returns the output tensor. In training mode, if the network has aux
  heads, it returns a NamedTuple `<Class>Outputs(logits, <aux heads, last declared first>)`,
  torchvision's order (GoogLeNetOutputs(logits, aux_logits2, aux_logits1)); `model.aux_weights`
  maps each aux head to its loss weight, in spec order.
- `build(graph, weights_from=...)` loads a torch state_dict or nn.Module (or a Keras model
  built from the same spec) strictly: anything that does not fit is an error naming the spec
  layers, unless `strict=False` (backends/common/transfer.py).
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from inceptdsl.backend import Backend

from .emit import emit as _emit
from .ops import ACTIVATIONS, OP_TABLE


class _LazyImporter:
    """`inceptdsl import torch` (importer.py), imported on first use."""

    def __getattr__(self, name: str) -> Any:
        from .importer import IMPORTER

        return getattr(IMPORTER, name)


class TorchBackend(Backend):
    """`build` returns an nn.Module; `emit` returns Python source that imports only torch (and
    imports no torch itself: only `build` does)."""

    name = "torch"
    suffix = ".py"
    ops = OP_TABLE
    activations = ACTIVATIONS
    optimize_layout = "nchw"  # eager's default layout (channels_last: nhwc); decides fusion
    optimizer = ".optimized"
    saves_weights = True
    importer = _LazyImporter()  # the import capability (inceptdsl.backend.Importer)
    runtime = "torch"  # `measure`: eager torch, the optimized model (timing.py)
    timer = ".timing"

    def build(  # type: ignore[override]
        self, graph: nx.DiGraph, weights_from: Any = None, strict: bool = True
    ) -> Any:
        """The model; `weights_from` (a torch module or state_dict, or a Keras model) must fit
        it exactly unless `strict=False`, which loads what fits and reports the rest
        (`model.not_transferred`)."""
        from .build import build

        return build(graph, weights_from, strict)

    def emit(self, graph: nx.DiGraph) -> str:  # type: ignore[override]
        return _emit(graph)

    def read_weights(self, path: str, graph: nx.DiGraph | None = None) -> Any:
        """A state_dict from a .pt/.pth (weights only), .npz or .safetensors file (checked
        against `graph`'s tensor shapes before an .npz's or .safetensors' data is read)."""
        from .optimized import read_weights

        return read_weights(path, graph)

    def saved_weights(self, graph: nx.DiGraph, weights_from: Any = None, **options: Any) -> bytes:
        """The optimized state_dict from `weights_from`, as torch.save bytes."""
        from .optimized import saved_weights

        return saved_weights(graph, weights_from, **options)


BACKEND = TorchBackend()

__all__ = ["BACKEND", "TorchBackend"]
