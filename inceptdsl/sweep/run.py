"""Evaluating the points of a sweep: in this process or over local cores, with progress, and
an interrupt (Ctrl-C) that keeps every point measured so far."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from typing import Any

from ..front.loader import Program
from ..lower import BlockMemo
from .measure import (
    Point,
    chunks,
    default_workers,
    init_worker,
    measure,
    measure_chunk,
    paused_gc,
    runs,
)

MAX_WORKERS = 256
"""More processes than this are never started, whatever --workers says."""

Progress = Callable[[int], None]
"""Called with the number of points just measured."""


def evaluate(
    program: Program,
    points: Sequence[dict[str, Any]],
    batch: int = 1,
    dtype: str = "float32",
    workers: int | None = None,
    progress: Progress | None = None,
    slab: int | None = None,
) -> tuple[list[Point], bool]:
    """Every point measured (in index order) and whether an interrupt cut the sweep short.
    `slab`: in a grid, the number of consecutive points with one value of the first dimension
    (measure.runs hands each to one worker)."""
    n = default_workers(len(points)) if workers is None else max(1, min(workers, MAX_WORKERS))
    n = min(n, max(1, len(points)))
    done: list[Point] = []
    try:
        if n == 1 or "fork" not in multiprocessing.get_all_start_methods():
            memo = BlockMemo(program)
            with paused_gc():
                for i, p in enumerate(points):
                    done.append(measure(program, i, p, batch, dtype, memo))
                    if progress:
                        progress(1)
        else:
            _parallel(program, points, batch, dtype, n, done, progress, slab)
    except KeyboardInterrupt:
        return sorted(done, key=lambda p: p.index), True
    return sorted(done, key=lambda p: p.index), False


def _parallel(
    program: Program,
    points: Sequence[dict[str, Any]],
    batch: int,
    dtype: str,
    n: int,
    done: list[Point],
    progress: Progress | None,
    slab: int | None,
) -> None:
    # fork: the workers inherit the parsed program instead of parsing it again; they ignore
    # SIGINT, so Ctrl-C reaches this process only, which keeps what came back and stops them.
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(n, _init, (program, batch, dtype))
    try:
        for got in pool.imap(measure_chunk, chunks(points, runs(len(points), n, slab))):
            done.extend(got)
            if progress:
                progress(len(got))
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _init(program: Program, batch: int, dtype: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_worker(program, batch, dtype)
