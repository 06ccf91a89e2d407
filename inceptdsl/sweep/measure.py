"""The static metrics of one point of a sweep, from the IR alone (no framework).

The program is parsed, imported and checked once per sweep; each point only lowers it with its
parameters (network.build) and sums the node fields cost.py filled. Worker processes each load
the program once too (`init_worker`), then measure the points they are sent.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..errors import SpecError
from ..ir import Op, aux_of, info, op_of, totals
from ..loader import Program
from ..memory import estimate

WEIGHT_OPS = frozenset({Op.CONV2D, Op.SEPCONV2D, Op.LINEAR})


@dataclass
class Point:
    """One evaluated point: its parameters, and its metrics or the error that stopped it."""

    index: int
    params: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    """Static metrics (ints); `latency` and `latency_spread` (ms) where timed."""
    error: str | None = None
    """The rendered, located diagnostic (file:line:col, caret, hint) of a point that fails."""
    code: str | None = None
    feasible: bool = True
    front: bool = False


def metrics(g: nx.DiGraph, batch: int, dtype: str) -> dict[str, float]:
    """params, buffers, macs, flops, memory, activations, layers and nodes of graph `g`."""
    mem = estimate(g, batch, dtype)
    params, buffers, macs = totals(g)
    return {
        "params": params,
        "buffers": buffers,
        "macs": macs,
        "flops": 2 * macs,
        "memory": mem.peak_bytes,
        "activations": mem.peak_activations_bytes,
        "layers": weight_depth(g),
        "nodes": len(g),
    }


def weight_depth(g: nx.DiGraph) -> int:
    """Weight layers on the longest inference path (nodes are in spec order, a topological
    order, as memory.py relies on too)."""
    best: dict[str, int] = {}
    for n in g.nodes:
        if aux_of(g, n) is not None:
            continue
        here = 1 if op_of(g, n) in WEIGHT_OPS else 0
        best[n] = here + max((best.get(s, 0) for s in g.pred[n]), default=0)  # any order
    return best.get(info(g).output, max(best.values(), default=0))


def measure(
    program: Program, index: int, params: Mapping[str, Any], batch: int, dtype: str
) -> Point:
    """The point `params` of `program`; a SpecError becomes the point's error, never raised."""
    from ..network import build

    point = Point(index, dict(params))
    try:
        net = build(program, params)
        point.metrics = metrics(net.graph, batch, dtype)
    except SpecError as err:
        point.error = err.render()
        point.code = err.code
    return point


# -- worker processes -----------------------------------------------------------------------

_STATE: dict[str, Any] = {}


def init_worker(program: Program, batch: int, dtype: str) -> None:
    _STATE.update(program=program, batch=batch, dtype=dtype)


def measure_chunk(chunk: Sequence[tuple[int, dict[str, Any]]]) -> list[Point]:
    s = _STATE
    return [measure(s["program"], i, p, s["batch"], s["dtype"]) for i, p in chunk]


def chunks(
    points: Sequence[dict[str, Any]], size: int
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    for start in range(0, len(points), size):
        yield [(start + k, p) for k, p in enumerate(points[start : start + size])]


def default_workers(n_points: int) -> int:
    """Local cores (the affinity mask where there is one), never more than the points."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, math.ceil(n_points / 4)))
