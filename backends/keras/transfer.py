"""Weights across frameworks: copy every weight by IR node between torch and Keras models.

`build(graph, weights_from=...)` accepts a torch nn.Module or state_dict (`torch_to_keras`) or a
Keras model (`keras_to_keras`: by layer name when the source was built from the same graph,
else by position, as `set_weights(get_weights())` would, so keras.applications models load).
The torch backend gets the other direction from `keras_to_torch_state_dict`. The pairing and
the layout conversions are common/weightmap.py's; this module checks that the two sides fit (every
key, every shape, nothing left over) and moves the arrays.

torch is imported only when a torch tensor must be made (Keras -> torch), with triton made
unimportable first: triton crashes when loaded after TensorFlow (docs/frameworks.md).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import keras
import networkx as nx
import numpy as np

from inceptdsl.errors import UsageError

from ..common.transfer import Transfer, mismatch, report
from ..common.weightmap import to_keras, to_torch, weight_map

_HINT = "weights_from must come from the same architecture and parameter values"


def _variables(model: keras.Model) -> dict[str, Any]:
    return {v.path: v for v in model.weights}


def _torch_module() -> Any:
    sys.modules.setdefault("triton", None)  # type: ignore[arg-type]
    import torch

    return torch


def is_torch_weights(obj: object) -> bool:
    """Whether `obj` is a torch nn.Module or state_dict (without importing torch)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    if isinstance(obj, torch.nn.Module):
        return True
    return (
        isinstance(obj, Mapping)
        and bool(obj)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())
    )


def is_keras_model(obj: object) -> bool:
    """Whether `obj` is a Keras model (the torch backend's hook asks this)."""
    return isinstance(obj, keras.Model)


def is_array_state(obj: object) -> bool:
    """Whether `obj` is a state_dict of NumPy arrays (read from an .npz or .safetensors file,
    or the ONNX backend's weights: the TFLite backend builds its Keras model from these)."""
    return (
        isinstance(obj, Mapping)
        and bool(obj)
        and all(isinstance(k, str) and isinstance(v, np.ndarray) for k, v in obj.items())
    )


def _arrays(weights: Any) -> dict[str, np.ndarray]:
    state = weights.state_dict() if hasattr(weights, "state_dict") else weights
    return {
        k: v if isinstance(v, np.ndarray) else v.detach().cpu().numpy() for k, v in state.items()
    }


def torch_to_keras(
    g: nx.DiGraph, weights: Any, model: keras.Model, strict: bool = True
) -> Transfer:
    """Copy a torch model's (or state_dict's) weights into `model`, both built from `g`.

    Aux-head weights are skipped when `model` is the inference model (it has no aux layers:
    `build(..., training=True)` makes the model that takes them). Anything else that does not
    fit is an error, or with `strict=False` left out and reported.
    """
    wmap = weight_map(g)
    state = _arrays(weights)
    variables = _variables(model)
    present = [e for e in wmap.entries if e.path in variables]
    absent = [e for e in wmap.entries if e.path not in variables]
    known = set(wmap.torch_order)
    wrong = [
        e
        for e in present
        if e.torch_key in state
        and to_keras(e, state[e.torch_key]).shape != tuple(variables[e.path].shape)
    ]
    t = Transfer(
        missing=tuple(e.torch_key for e in present if e.torch_key not in state),
        unexpected=tuple(k for k in state if k not in known),
        shape=tuple(
            f"{e.torch_key} {state[e.torch_key].shape} vs Keras {tuple(variables[e.path].shape)}"
            for e in wrong
        ),
    )
    other = [e.path for e in absent if e.aux is None]
    extra = sorted(set(variables) - {e.path for e in wmap.entries})
    if other or extra:  # a Keras model of another graph: never a partial fit
        notes = [f"Keras variables the network has and the model lacks: {', '.join(other[:6])}"]
        notes = (notes if other else []) + (
            [f"Keras variables of another network: {', '.join(extra[:6])}"] if extra else []
        )
        raise mismatch(g, replace(t, notes=tuple(notes)), _HINT)
    if t and strict:
        raise mismatch(g, t)
    skip = {e.torch_key for e in wrong}
    for e in present:
        if e.torch_key in state and e.torch_key not in skip:
            variables[e.path].assign(to_keras(e, state[e.torch_key]))
    report(g, t)
    return t


def keras_to_torch_state_dict(
    g: nx.DiGraph,
    model: keras.Model,
    base: Mapping[str, Any] | None = None,
    aux_from_base: bool = True,
    partial: bool = False,
) -> dict[str, Any]:
    """The torch state_dict (keys and layouts of the torch backend) of Keras `model`.

    BN's num_batches_tracked, which Keras does not have, is taken from `base` (a torch
    state_dict, e.g. the fresh model's) or is 0. Aux-head weights missing from an inference
    model are taken from `base` too when `aux_from_base`; otherwise (or without `base`) they
    are an error that says to build the Keras model with `training=True`, or with `partial`
    left out of the result (for a non-strict load, which reports them).
    """
    torch = _torch_module()
    wmap = weight_map(g)
    variables = _variables(model)
    absent = [e for e in wmap.entries if e.path not in variables]
    no_base = [
        e
        for e in absent
        if e.aux is None or base is None or not aux_from_base or e.torch_key not in base
    ]
    extra = sorted(set(variables) - {e.path for e in wmap.entries})
    skipped = {e.torch_key for e in no_base if e.aux is not None} if partial else set()
    no_base = [e for e in no_base if e.torch_key not in skipped]
    if no_base or extra:
        heads = sorted({e.aux for e in no_base if e.aux is not None})
        hint = (
            f"the Keras model lacks the aux heads {', '.join(heads)}: build it with "
            "training=True, or pass strict=False to keep their initial values"
            if heads
            else _HINT
        )
        t = Transfer(
            missing=tuple(e.torch_key for e in no_base),
            unexpected=tuple(extra),
        )
        raise mismatch(g, t, hint)
    out: dict[str, Any] = {}
    for e in wmap.entries:
        if e.torch_key in skipped:
            continue
        if e.path in variables:
            array = np.ascontiguousarray(to_torch(e, variables[e.path].numpy()))
            out[e.torch_key] = torch.from_numpy(array)
        else:
            assert base is not None
            out[e.torch_key] = base[e.torch_key].detach().clone()
    for key, _ in wmap.torch_only:
        out[key] = (
            base[key].detach().clone()
            if base is not None and key in base
            else torch.tensor(0, dtype=torch.long)
        )
    return {k: out[k] for k in wmap.torch_order if k in out}


def keras_to_keras(g: nx.DiGraph, source: keras.Model, model: keras.Model) -> None:
    """Copy `source`'s weights into `model`: by variable path when `source` has every one
    (built from the same graph), else by position with the shapes checked."""
    mine, theirs = _variables(model), _variables(source)
    if set(mine) <= set(theirs) and all(v.shape == theirs[p].shape for p, v in mine.items()):
        for p, v in mine.items():
            v.assign(theirs[p])
        return
    ours, given = model.weights, source.weights
    wrong = [
        f"#{i} {a.path} {tuple(a.shape)} vs {b.path} {tuple(b.shape)}"
        for i, (a, b) in enumerate(zip(ours, given, strict=False))
        if a.shape != b.shape
    ]
    if len(ours) != len(given) or wrong:
        notes = [f"{len(ours)} weights here, {len(given)} in the source"]
        notes = notes if len(ours) != len(given) else []
        notes += [f"wrong shape (by position): {', '.join(wrong[:6])}"] if wrong else []
        raise mismatch(g, Transfer(notes=tuple(notes)), _HINT)
    model.set_weights(source.get_weights())


def load_weights(
    g: nx.DiGraph, model: keras.Model, weights_from: Any, strict: bool = True
) -> Transfer:
    """Fill `model` (built from `g`) from a Keras model, a torch nn.Module or a state_dict."""
    if is_keras_model(weights_from):
        keras_to_keras(g, weights_from, model)
        return Transfer()
    elif is_torch_weights(weights_from) or is_array_state(weights_from):
        return torch_to_keras(g, weights_from, model, strict)
    else:
        raise UsageError(
            "weights_from must be a Keras model, a torch nn.Module or a state_dict (of torch "
            "tensors or NumPy arrays), "
            f"not {type(weights_from).__name__}",
            hint="build the source model from the same spec with the same parameter values",
        )
