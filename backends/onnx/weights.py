"""The tensors of an exported model: their torch state_dict keys and shapes, a seeded
initialisation, and a strict loader for trained weights.

Weights are keyed exactly as the torch backend's state_dict (backends/common/weightmap.py
derives the keys from the graph), so a state_dict saved from the compiled torch model exports
as it is. Loading is strict like `load_state_dict`: a tensor the inference graph needs that is
missing, a key the network does not have, or a wrong shape is an error naming them. Aux-head
tensors and BN's `num_batches_tracked` belong to the network but not to the inference graph:
they may be given (a trained model's state_dict has them) or left out.

Without weights, the model gets torch's default initialisation (kaiming-uniform: U(-b, b),
b = 1/sqrt(fan_in), for conv and linear weights and biases; norms 1 and 0, BN statistics 0 and
1, layer scales their `init`), drawn from a NumPy generator with a fixed seed in state_dict
order, so the same graph always gives the same bytes. Files are read by
common/weights_file.py (torch files weights-only, .npz without pickles, .safetensors).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from inceptdsl.errors import UsageError
from inceptdsl.ir import info

from ..common.weightmap import Entry, weight_map
from ..common.weights_file import read_state

SEED = 0


@dataclass(frozen=True)
class Tensor:
    """One tensor of the network: its state_dict key, shape, whether the inference graph reads
    it, and how it is initialised (`fan_in` > 0: uniform +-1/sqrt(fan_in); else `fill`)."""

    key: str
    shape: tuple[int, ...]
    inference: bool
    fan_in: int = 0
    fill: float = 0.0


def _tensor(e: Entry, inference: bool) -> Tensor:
    return Tensor(e.torch_key, e.shape, inference, e.fan_in, e.fill)


def tensors(g: nx.DiGraph) -> list[Tensor]:
    """Every float tensor of the network, in the torch backend's state_dict order."""
    out = info(g).output
    needed = nx.ancestors(g, out) | {out}
    by_key = {
        e.torch_key: _tensor(e, e.node in needed and e.aux is None) for e in weight_map(g).entries
    }
    return [by_key[k] for k in weight_map(g).torch_order if k in by_key]


def initial(g: nx.DiGraph, seed: int = SEED) -> dict[str, np.ndarray]:
    """Seeded torch-style initial values of the inference graph's tensors."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for t in tensors(g):
        if not t.inference:
            continue
        if t.fan_in:
            bound = 1.0 / np.sqrt(t.fan_in)
            out[t.key] = rng.uniform(-bound, bound, t.shape).astype(np.float32)
        else:
            out[t.key] = np.full(t.shape, t.fill, np.float32)
    return out


def _array(key: str, value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, converted without importing torch here
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise UsageError(f"weight {key!r} is a {type(value).__name__}, not an array or tensor")
    return value


def _listing(label: str, keys: list[str]) -> str:
    more = f" (+{len(keys) - 5} more)" if len(keys) > 5 else ""
    return f"{label}: {', '.join(keys[:5])}{more}"


def load(g: nx.DiGraph, weights: Any = None) -> dict[str, np.ndarray]:
    """The inference graph's tensors: `weights` (a state_dict or .pt/.npz path, a dict of
    arrays or tensors, or an object with `state_dict()`) checked strictly, or `initial(g)`."""
    if weights is None:
        return initial(g)
    if isinstance(weights, str | os.PathLike):
        shapes = {t.key: t.shape for t in tensors(g)}
        shapes.update((k, ()) for k, _ in weight_map(g).torch_only)
        weights = read_state(os.fspath(weights), shapes)
    elif not isinstance(weights, Mapping) and callable(getattr(weights, "state_dict", None)):
        weights = weights.state_dict()
    if not isinstance(weights, Mapping) or not all(isinstance(k, str) for k in weights):
        raise UsageError(
            f"weights must be a state_dict (a dict of arrays by key) or a file, not "
            f"{type(weights).__name__}"
        )
    wanted = {t.key: t for t in tensors(g)}
    optional = {k for k, _ in weight_map(g).torch_only}
    missing = [k for k, t in wanted.items() if t.inference and k not in weights]
    unexpected = [k for k in weights if k not in wanted and k not in optional]
    arrays = {k: _array(k, v) for k, v in weights.items() if k in wanted}
    wrong = [
        f"{k} {tuple(v.shape)} vs {wanted[k].shape}"
        for k, v in arrays.items()
        if tuple(v.shape) != wanted[k].shape
    ]
    if missing or unexpected or wrong:
        parts = [
            _listing(label, keys)
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape", wrong))
            if keys
        ]
        raise UsageError(
            f"the weights do not fit network {info(g).name}: " + "; ".join(parts),
            hint="the weights must come from the same spec and parameter values (the torch "
            "backend's state_dict keys)",
        )
    return {k: arrays[k].astype(np.float32) for k, t in wanted.items() if t.inference}
