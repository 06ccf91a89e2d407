"""IR graph -> torch.nn.Module in memory, by executing the source that emit.py writes.

Building and emitting share one code path (torch.fx's idea: the readable code is the module),
so the model `build()` returns and the file `emit()` writes cannot drift apart. The source is
safe to execute because every spec-supplied name and number in it was validated by names.py and
ops.num(); it is compiled once per distinct text, registered as a module (so its classes pickle
within the process) and in linecache (so tracebacks and inspect show the generated lines).
"""

from __future__ import annotations

import hashlib
import linecache
import sys
import types
from collections.abc import Mapping
from typing import Any

import networkx as nx
import torch
from torch import nn

from inceptdsl.errors import UsageError

from .emit import emit

_MODULES: dict[str, types.ModuleType] = {}
_KEEP = 64  # distinct sources kept compiled; older ones are dropped (their models still work)


def load_source(source: str, network: str) -> types.ModuleType:
    """The module defined by emitted `source`, executed once per distinct text."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    name = f"_inceptdsl_torch_{network}_{digest}"
    if name in _MODULES:
        return _MODULES[name]
    filename = f"<inceptdsl torch: {network} {digest}>"
    module = types.ModuleType(name)
    module.__file__ = filename
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    sys.modules[name] = module
    exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - validated source
    _MODULES[name] = module
    while len(_MODULES) > _KEEP:
        old = _MODULES.pop(next(iter(_MODULES)))
        sys.modules.pop(old.__name__, None)
        linecache.cache.pop(old.__file__ or "", None)
    return module


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


def load_weights(model: nn.Module, weights_from: Any) -> None:
    """Load `weights_from` into `model` strictly: same keys, same shapes."""
    state = _state_dict(weights_from)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or wrong:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape", wrong)):
            if keys:
                more = f" (+{len(keys) - 5} more)" if len(keys) > 5 else ""
                parts.append(f"{label}: {', '.join(keys[:5])}{more}")
        raise UsageError(
            "the weights do not fit the network: " + "; ".join(parts),
            hint="weights_from must come from the same architecture and parameter values",
        )
    model.load_state_dict(state, strict=True)


def build(g: nx.DiGraph, weights_from: Any = None) -> nn.Module:
    """The network as an nn.Module (freshly initialised, or with `weights_from` loaded)."""
    model = load_source(emit(g), g.graph["name"]).build()
    if weights_from is not None:
        keras = sys.modules.get("keras")  # only a Keras model if Keras is already imported
        if keras is not None and isinstance(weights_from, keras.Model):
            from inceptdsl.backends.keras.transfer import keras_to_torch_state_dict

            weights_from = keras_to_torch_state_dict(g, weights_from, base=model.state_dict())
        load_weights(model, weights_from)
    return model
