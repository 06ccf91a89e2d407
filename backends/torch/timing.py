"""One forward of the eval-only optimized torch model, as a call for `Backend.measure` (the
latency a sweep reports with `--runtime torch`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx
import torch

from inceptdsl.ir import info


def runner(backend: Any, graph: nx.DiGraph, batch: int, threads: int) -> Callable[[], Any]:
    """The optimized model (its seeded initial weights, no gradients) called on a fixed
    random batch of its parameters' dtype, with `threads` intra-op threads."""
    model = backend.build_optimized(graph).eval().requires_grad_(False)
    torch.set_num_threads(threads)
    dtype = next(iter(model.state_dict().values())).dtype
    shape = (batch, *info(graph).input_shape)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(dtype)
    return lambda: model(x)
