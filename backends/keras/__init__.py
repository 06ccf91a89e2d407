"""The Keras backend: IR graph -> functional keras.Model (`build`) or standalone source (`emit`).

Imported only when the backend registry loads it (never by the core). `BACKEND` is registered
as `keras` in the `inceptdsl.backends` entry-point group. Importing this package registers the
backend's custom layers with Keras (`inceptdsl>Scale`, ...), so a saved `.keras` model loads
with plain `keras.models.load_model`. Weights cross frameworks by IR node (transfer.py):
`build(graph, weights_from=torch_model)`, and `keras_to_torch_state_dict` for the other way.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from .build import build as _build
from .emit import emit as _emit
from .runtime import CUSTOM_OBJECTS
from .transfer import keras_to_torch_state_dict, torch_to_keras


class KerasBackend:
    """`build` returns a keras.Model; `emit` returns Python source that imports only keras."""

    name = "keras"
    suffix = ".py"

    def build(self, graph: nx.DiGraph, weights_from: Any = None, training: bool = False) -> Any:
        """The inference model; with `training`, the model that also outputs the aux heads."""
        return _build(graph, weights_from, training)

    def emit(self, graph: nx.DiGraph) -> str:
        return _emit(graph)


BACKEND = KerasBackend()

__all__ = [
    "BACKEND",
    "CUSTOM_OBJECTS",
    "KerasBackend",
    "keras_to_torch_state_dict",
    "torch_to_keras",
]
