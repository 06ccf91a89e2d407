"""The static metrics of one point of a sweep, from the IR alone (no framework).

The program is parsed, imported and checked once per sweep; each point only lowers it with its
parameters and sums the node fields cost.py filled. Block calls repeat across points (and in
`repeat`s), so the lowerings of one process share a BlockMemo (lower/memo.py): a call already
lowered with the same arguments and input shape is copied, not lowered again. Worker processes
inherit the checked program (fork) and keep their own memo.
"""

from __future__ import annotations

import gc
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..errors import SpecError
from ..ir import Op
from ..loader import Program
from ..lower import BlockMemo, lower
from ..memory import all_inputs, estimate

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
    ins = all_inputs(g)
    mem = estimate(g, batch, dtype, ins)
    params = buffers = macs = 0
    for _, d in g.nodes(data=True):
        params += d["params"]
        buffers += d["buffers"]
        if d["aux"] is None:
            macs += d["macs"]
    return {
        "params": params,
        "buffers": buffers,
        "macs": macs,
        "flops": 2 * macs,
        "memory": mem.peak_bytes,
        "activations": mem.peak_activations_bytes,
        "layers": weight_depth(g, ins),
        "nodes": len(g),
    }


def weight_depth(g: nx.DiGraph, ins: Mapping[str, tuple[str, ...]] | None = None) -> int:
    """Weight layers on the longest inference path (nodes are in spec order, a topological
    order, as memory.py relies on too); `ins`: memory.all_inputs(g), if made already."""
    if ins is None:
        ins = all_inputs(g)
    best: dict[str, int] = {}
    for n, d in g.nodes(data=True):
        if d["aux"] is not None:
            continue
        here = 1 if d["op"] in WEIGHT_OPS else 0
        best[n] = here + max((best.get(s, 0) for s in ins[n]), default=0)  # any order
    return best.get(g.graph["output"], max(best.values(), default=0))


def measure(
    program: Program,
    index: int,
    params: Mapping[str, Any],
    batch: int,
    dtype: str,
    memo: BlockMemo | None = None,
) -> Point:
    """The point `params` of `program`; a SpecError becomes the point's error, never raised."""
    point = Point(index, dict(params))
    try:
        with paused_gc():
            point.metrics = metrics(graph_of(program, params, memo), batch, dtype)
    except SpecError as err:
        point.error = err.render()
        point.code = err.code
    return point


def graph_of(
    program: Program, params: Mapping[str, Any], memo: BlockMemo | None = None
) -> nx.DiGraph:
    """The IR graph of `program` at `params`, lowered with `memo` where given. A point that
    fails is lowered again without it, so that its error is the plain lowering's (a replay
    that would pass a limit stops at the call, where the plain lowering may stop earlier)."""
    from ..network import build

    if memo is not None:
        try:
            return lower(program, params, None, memo).graph
        except SpecError:
            pass
    return build(program, params).graph


# -- worker processes -----------------------------------------------------------------------

_STATE: dict[str, Any] = {}


def init_worker(program: Program, batch: int, dtype: str) -> None:
    _STATE.update(program=program, batch=batch, dtype=dtype, memo=BlockMemo(program))


def measure_chunk(chunk: Sequence[tuple[int, dict[str, Any]]]) -> list[Point]:
    s = _STATE
    with paused_gc():
        return [measure(s["program"], i, p, s["batch"], s["dtype"], s["memo"]) for i, p in chunk]


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic GC off meanwhile: lowering's objects and the memo's records all stay alive,
    and a collection between points would rescan the records (3% of a sweep)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def chunks(
    points: Sequence[dict[str, Any]], first: int, most: int
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """Runs of consecutive points, `first` long, doubling up to `most`: the first results come
    back soon (progress, an early Ctrl-C), later runs are long so that neighbouring points,
    whose block calls repeat, meet in one worker's memo."""
    start, size = 0, max(1, first)
    while start < len(points):
        yield [(start + k, p) for k, p in enumerate(points[start : start + size])]
        start += size
        size = max(size, min(most, size * 2))


def default_workers(n_points: int) -> int:
    """Local cores (the affinity mask where there is one), never more than the points."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, math.ceil(n_points / 4)))
