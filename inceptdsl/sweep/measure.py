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
from ..front.loader import Program
from ..ir import Op, aux_of, info, op_of, totals
from ..lower import BlockMemo, lower
from ..middle.memory import all_inputs, estimate

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
    params, buffers, macs = totals(g)
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
    for n in g.nodes:
        if aux_of(g, n) is not None:
            continue
        here = 1 if op_of(g, n) in WEIGHT_OPS else 0
        best[n] = here + max((best.get(s, 0) for s in ins[n]), default=0)  # any order
    return best.get(info(g).output, max(best.values(), default=0))


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


def runs(n_points: int, workers: int, slab: int | None = None) -> list[int]:
    """The lengths of the runs of consecutive points the workers are handed. Points that share
    block calls should meet in one worker's memo: in a grid, the points of one value of the
    first dimension (a `slab`) are consecutive, so a slab of at most 256 points is one run
    (the first slab split in 4, 4 and 2 quarters so that results come back soon). Otherwise
    runs grow from 16 to a quarter of a worker's share (at most 128)."""
    if slab is not None and 4 <= slab <= 256 and n_points >= 2 * workers * slab:
        q = slab // 4
        sizes = [q, q, slab - 2 * q]
        while sum(sizes) < n_points:
            sizes.append(slab)
        return sizes
    most = max(1, min(128, -(-n_points // (workers * 4))))
    sizes, size = [], min(16, most)
    while sum(sizes) < n_points:
        sizes.append(size)
        size = min(most, size * 2)
    return sizes


def chunks(
    points: Sequence[dict[str, Any]], sizes: Sequence[int]
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """`points` with their indices, cut into runs of the given lengths."""
    start = 0
    for size in sizes:
        if start >= len(points):
            return
        yield [(start + k, p) for k, p in enumerate(points[start : start + size])]
        start += size


def default_workers(n_points: int) -> int:
    """Local cores (the affinity mask where there is one), never more than the points."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, math.ceil(n_points / 4)))
