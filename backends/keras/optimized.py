"""Optimized Keras models: the optimized IR built by the ordinary backend, with the weights of
the unoptimized network carried over by the weight map.

`build_optimized(graph, weights_from)` loads `weights_from` (a Keras model, by name or by
position, or a torch module or state_dict) into the unoptimized inference model, reads its
variables in the IR's layout (common/weightmap.py: HWIO -> OIHW, ...), computes the optimized state
with the weight map (NumPy) and writes it into the model built from the optimized graph. No
torch is needed unless the weights come from torch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import networkx as nx
import numpy as np

from inceptdsl.optimize import Target, optimize

from ..common.optimized_weights import apply
from ..common.weightmap import to_keras, to_torch, weight_map
from .build import build


def ir_state(g: nx.DiGraph, model: keras.Model) -> dict[str, np.ndarray]:
    """The variables of `model` (built from `g`) keyed and laid out as the IR's state."""
    variables = {v.path: v for v in model.weights}
    return {
        e.torch_key: to_torch(e, np.asarray(variables[e.path].numpy()))
        for e in weight_map(g).entries
        if e.path in variables  # an inference model has no aux-head variables
    }


def build_optimized(
    graph: nx.DiGraph,
    weights_from: Any = None,
    *,
    target: Target | None = None,
    skip: Iterable[str] = (),
) -> keras.Model:
    """The optimized Keras inference model of `graph` with the weights of `weights_from`
    (default target: NHWC, Keras' layout)."""
    from . import KerasBackend

    opt = optimize(graph, target or Target(layout=KerasBackend.optimize_layout), skip)
    state = apply(opt.weights, ir_state(graph, build(graph, weights_from)))
    model = build(opt.graph)
    variables = {v.path: v for v in model.weights}
    for e in weight_map(opt.graph).entries:
        variables[e.path].assign(to_keras(e, state[e.torch_key]))
    return model
