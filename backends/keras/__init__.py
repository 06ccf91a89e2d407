"""The Keras backend: IR graph -> functional keras.Model (`build`) or standalone source (`emit`).

Imported only when the backend registry loads it (never by the core). `BACKEND` is registered
as `keras` in the `inceptdsl.backends` entry-point group. Importing this package registers the
backend's custom layers with Keras (`inceptdsl>Scale`, ...), so a saved `.keras` model loads
with plain `keras.models.load_model`. Weights cross frameworks by IR node (transfer.py):
`build(graph, weights_from=torch_model)`, and `keras_to_torch_state_dict` for the other way.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# This package imports TensorFlow. triton (which torch's compiler stack, torchvision and timm
# load) crashes when loaded after it, so it is made unimportable first: torch then runs
# without it, as it does on CPU (docs/frameworks.md, "torch and TensorFlow in one process").
sys.modules.setdefault("triton", None)  # type: ignore[arg-type]
# TensorFlow's C++ start-up chatter (oneDNN, CPU features) is not for inceptdsl's users; an
# explicit TF_CPP_MIN_LOG_LEVEL in the environment still wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import networkx as nx  # noqa: E402

from .build import build as _build  # noqa: E402
from .emit import emit as _emit  # noqa: E402
from .runtime import CUSTOM_OBJECTS  # noqa: E402
from .transfer import keras_to_torch_state_dict, torch_to_keras  # noqa: E402


class KerasBackend:
    """`build` returns a keras.Model; `emit` returns Python source that imports only keras."""

    name = "keras"
    suffix = ".py"
    optimize_layout = "nhwc"  # the layout it computes in, which decides horizontal fusion

    def build(
        self,
        graph: nx.DiGraph,
        weights_from: Any = None,
        training: bool = False,
        strict: bool = True,
    ) -> Any:
        """The inference model; with `training`, the model that also outputs the aux heads."""
        return _build(graph, weights_from, training, strict)

    def emit(self, graph: nx.DiGraph) -> str:
        return _emit(graph)

    def build_optimized(self, graph: nx.DiGraph, weights_from: Any = None, **options: Any) -> Any:
        """The optimized inference model (optimized.py; docs/optimize.md)."""
        from .optimized import build_optimized

        return build_optimized(graph, weights_from, **options)


BACKEND = KerasBackend()

__all__ = [
    "BACKEND",
    "CUSTOM_OBJECTS",
    "KerasBackend",
    "keras_to_torch_state_dict",
    "torch_to_keras",
]
