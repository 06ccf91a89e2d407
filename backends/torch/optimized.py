"""Optimized torch models: the optimized IR built by the ordinary backend, with the weights of
the unoptimized network carried over by the weight map.

`build_optimized(graph, weights_from)` optimizes `graph` (inceptdsl.optimize), loads
`weights_from` (an nn.Module, a state_dict or a Keras model, checked strictly) into the
unoptimized model, computes the optimized state with the weight map and loads it strictly into
the model built from the optimized graph. The result is eval-only: folded batch norms cannot
train, so calling it in training mode raises. With `channels_last`, the model and its input
are kept in torch's channels_last memory format (oneDNN's native layout on CPU), and with
`onednn` each convolution is additionally lowered to one oneDNN call with its activation
fused and its kernel packed once (onednn.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx
import numpy as np
import torch
from torch import nn

from inceptdsl.optimize import Optimized, Target, optimize

from ..common.optimized_weights import apply
from .build import build


def _eval_only(module: nn.Module, args: tuple[Any, ...]) -> None:
    if module.training:
        raise RuntimeError(
            "an optimized model is eval-only (its batch norms are folded): call .eval(), "
            "or train the unoptimized model and optimize it again"
        )


def _channels_last_input(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    x = args[0]
    if isinstance(x, torch.Tensor) and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return (x, *args[1:])


def optimized_state_dict(
    graph: nx.DiGraph, opt: Optimized, weights_from: Any = None
) -> dict[str, torch.Tensor]:
    """The optimized graph's state computed from `weights_from` (or from a freshly
    initialised unoptimized model), keys and layouts of the torch backend."""
    original = build(graph, weights_from)  # checks every key and shape of weights_from
    state: Mapping[str, np.ndarray] = {
        k: v.detach().cpu().numpy() for k, v in original.state_dict().items()
    }
    return {k: torch.from_numpy(v) for k, v in apply(opt.weights, state).items()}


def load_optimized(model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Load an optimized state strictly; batch norms that no pass could fold (none in the
    bundled specs) get `num_batches_tracked` = 0, which eval mode never reads."""
    own = model.state_dict()
    full = dict(state)
    for key, value in own.items():
        if key.endswith(".num_batches_tracked") and key not in full:
            full[key] = torch.zeros_like(value)
    model.load_state_dict(full, strict=True)


def build_optimized(
    graph: nx.DiGraph,
    weights_from: Any = None,
    *,
    target: Target | None = None,
    skip: Iterable[str] = (),
    channels_last: bool = False,
    onednn: bool = False,
) -> nn.Module:
    """The eval-only optimized model of `graph` with the weights of `weights_from`."""
    layout = "nhwc" if channels_last or onednn else "nchw"
    opt = optimize(graph, target or Target(layout=layout), skip)
    model = build(opt.graph)
    load_optimized(model, optimized_state_dict(graph, opt, weights_from))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if channels_last or onednn:
        model = model.to(memory_format=torch.channels_last)
        model.register_forward_pre_hook(_channels_last_input)
    if onednn:
        from .onednn import lower

        model = lower(model)
    model.register_forward_pre_hook(_eval_only)
    model.optimized = opt  # type: ignore[assignment]  # the graph, weight map and notes
    return model
