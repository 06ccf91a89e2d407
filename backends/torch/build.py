"""IR graph -> torch.nn.Module in memory, by executing the source that emit.py writes.

Building and emitting share one code path (torch.fx's idea: the readable code is the module),
so the model `build()` returns and the file `emit()` writes cannot drift apart. The source is
safe to execute because every spec-supplied name and number in it was validated by names.py and
ops.num(); it is compiled once per distinct text, registered as a module (so its classes pickle
within the process) and in linecache (so tracebacks and inspect show the generated lines).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import networkx as nx
import torch
from torch import nn

from inceptdsl.errors import UsageError
from inceptdsl.ir import aux_of, info, nodes

from ..common.loaded import load_source
from ..common.transfer import Transfer, mismatch, report
from .emit import emit


def _state_dict(weights_from: Any) -> Mapping[str, torch.Tensor]:
    if isinstance(weights_from, nn.Module):
        return weights_from.state_dict()
    if isinstance(weights_from, Mapping) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights_from.items()
    ):
        return weights_from
    raise UsageError(
        f"weights_from must be a torch state_dict, an nn.Module or a keras.Model, not "
        f"{type(weights_from).__name__}",
    )


def _node_of(g: nx.DiGraph, key: str) -> str | None:
    parts = key.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in g:
            return ".".join(parts[:i])
    return None


def _aux_nodes(g: nx.DiGraph) -> set[str]:
    return {d.name for d in nodes(g) if d.aux is not None}


def load_weights(
    g: nx.DiGraph, model: nn.Module, weights_from: Any, strict: bool = True
) -> Transfer:
    """Load `weights_from` into `model`: strictly (same keys, same shapes, else an error that
    lists what does not fit by spec layer), or with `strict=False` what fits, reporting the
    rest (a warning, and the returned Transfer)."""
    state = _state_dict(weights_from)
    own = model.state_dict()
    t = Transfer(
        missing=tuple(k for k in own if k not in state),
        unexpected=tuple(k for k in state if k not in own),
        shape=tuple(
            f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
            for k, v in own.items()
            if k in state and state[k].shape != v.shape
        ),
    )
    if t and strict:
        owners = [_node_of(g, k) for k in t.missing]
        aux = (aux_of(g, n) for n in owners if n in _aux_nodes(g))
        heads = sorted({h for h in aux if h is not None})
        only_aux = bool(heads) and all(n in _aux_nodes(g) for n in owners)
        hint = (
            f"the weights have no aux heads {', '.join(heads)}: pass strict=False to keep "
            "their initial values, or build the network without them"
            if only_aux and not t.unexpected and not t.shape
            else None
        )
        raise mismatch(g, t, hint)
    fits = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(fits, strict=not t)
    report(g, t)
    return t


def build(g: nx.DiGraph, weights_from: Any = None, strict: bool = True) -> nn.Module:
    """The network as an nn.Module (freshly initialised, or with `weights_from` loaded: a torch
    nn.Module or state_dict, or a Keras model built from the same spec)."""
    model = load_source(emit(g), info(g).name, "torch").build()
    if weights_from is not None:
        keras = sys.modules.get("keras")  # only a Keras model if Keras is already imported
        if keras is not None and isinstance(weights_from, keras.Model):
            from inceptdsl.backends.keras.transfer import keras_to_torch_state_dict

            weights_from = keras_to_torch_state_dict(
                g, weights_from, base=model.state_dict(), aux_from_base=False, partial=not strict
            )
        model.not_transferred = load_weights(g, model, weights_from, strict)
    return model
