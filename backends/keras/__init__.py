"""The Keras backend: IR graph -> functional keras.Model (`build`) or standalone source (`emit`).

Imported only when the backend registry loads it (never by the core). `BACKEND` is registered
as `keras` in the `inceptdsl.backends` entry-point group. Importing this package imports no
TensorFlow: `emit` writes source text without it, and only `build` (or `CUSTOM_OBJECTS`,
`keras_to_torch_state_dict`, `torch_to_keras`) imports it and registers the backend's custom
layers with Keras (`inceptdsl>Scale`, ...), so a saved `.keras` model then loads with plain
`keras.models.load_model`. Weights cross frameworks by IR node (transfer.py):
`build(graph, weights_from=torch_model)`, and `keras_to_torch_state_dict` for the other way.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Building imports TensorFlow. triton (which torch's compiler stack, torchvision and timm
# load) crashes when loaded after it, so it is made unimportable first: torch then runs
# without it, as it does on CPU (docs/frameworks.md, "torch and TensorFlow in one process").
sys.modules.setdefault("triton", None)  # type: ignore[arg-type]
# TensorFlow's C++ start-up chatter (oneDNN, CPU features) is not for inceptdsl's users; an
# explicit TF_CPP_MIN_LOG_LEVEL in the environment still wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import networkx as nx  # noqa: E402

from inceptdsl.backend import Backend  # noqa: E402

from .emit import emit as _emit  # noqa: E402
from .ops import ACTIVATIONS, OP_TABLE  # noqa: E402

_LAZY = {
    "CUSTOM_OBJECTS": "runtime",
    "keras_to_torch_state_dict": "transfer",
    "torch_to_keras": "transfer",
}


def __getattr__(name: str) -> Any:
    """The names that need TensorFlow, imported on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{_LAZY[name]}", __name__), name)


class KerasBackend(Backend):
    """`build` returns a keras.Model; `emit` returns Python source that imports only keras
    (and imports no keras itself: only `build` does)."""

    name = "keras"
    suffix = ".py"
    ops = OP_TABLE
    activations = ACTIVATIONS
    optimize_layout = "nhwc"  # the layout it computes in, which decides horizontal fusion
    optimizer = ".optimized"

    def build(  # type: ignore[override]
        self,
        graph: nx.DiGraph,
        weights_from: Any = None,
        training: bool = False,
        strict: bool = True,
    ) -> Any:
        """The inference model; with `training`, the model that also outputs the aux heads."""
        from .build import build

        return build(graph, weights_from, training, strict)

    def emit(self, graph: nx.DiGraph) -> str:  # type: ignore[override]
        return _emit(graph)


BACKEND = KerasBackend()

__all__ = [
    "BACKEND",
    "CUSTOM_OBJECTS",
    "KerasBackend",
    "keras_to_torch_state_dict",
    "torch_to_keras",
]
