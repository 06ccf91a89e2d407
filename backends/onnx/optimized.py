"""Optimized ONNX models: the optimized IR built by the ordinary ONNX rules, with the weights of
the unoptimized network carried over by the weight map (no torch needed).

`build_optimized(graph, weights)` reads `weights` as `build` does (a torch state_dict or a
.pt / .npz file of one, a dict of arrays, a torch model; strict), or takes the seeded initial
values, computes the optimized state with the weight map (NumPy, float64) and builds the
optimized graph with it. The default target is ONNX Runtime's CPU layout, NCHWc, which decides
horizontal fusion (inceptdsl/optimize/cost_model.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx
import onnx

from inceptdsl.optimize import Optimized, Target, optimize

from ..common.optimized_weights import apply
from . import weights as W
from .model import to_onnx


def optimized(
    graph: nx.DiGraph, target: Target | None = None, skip: Iterable[str] = ()
) -> Optimized:
    """The optimized graph for ONNX Runtime (NCHWc unless `target` says otherwise)."""
    from . import OnnxBackend

    return optimize(graph, target or Target(layout=OnnxBackend.optimize_layout), tuple(skip))


def build_optimized(
    graph: nx.DiGraph,
    weights: Any = None,
    *,
    target: Target | None = None,
    skip: Iterable[str] = (),
) -> onnx.ModelProto:
    """The optimized model of `graph` with the weights `weights` of the unoptimized network."""
    opt = optimized(graph, target, skip)
    state = apply(opt.weights, W.load(graph, weights))
    model = to_onnx(opt.graph, state)
    onnx.helper.set_model_props(
        model,
        {**{p.key: p.value for p in model.metadata_props}, "inceptdsl.optimized": "eval"},
    )
    return model
