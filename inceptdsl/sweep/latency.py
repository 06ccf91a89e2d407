"""Measured latency as a sweep metric (`--measure latency`): the eval-only optimized model of
a point (docs/optimize.md: the fastest path of the runtime) timed with warm-up and repeats in
a separate worker process, reported as the median with its spread (the interquartile range).

Results are cached by the canonical content of the network (its IR without source
locations), the runtime, the batch and the threads: the same network is never timed twice,
whichever parameters produced it. The cache is a JSON file (default
$XDG_CACHE_HOME/inceptdsl/latency.json), written atomically through output.py.

The worker is `python -m inceptdsl.sweep.latency_worker`: it loads the spec and asks the
runtime's backend to time its optimized model (`Backend.measure`, a capability the backend
declares with its `runtime`); the sweep's process never imports a framework.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from ..errors import UsageError
from ..ir import info
from ..output import write_output

RUNTIMES = {"onnxruntime": "onnx", "torch": "torch"}
"""`--runtime` -> the backend that times with it (its declared `runtime`)."""


@dataclass(frozen=True)
class Timing:
    median_ms: float
    spread_ms: float
    """Interquartile range of the repeats."""
    cached: bool = False


def canonical_key(g: nx.DiGraph, runtime: str, batch: int, threads: int) -> str:
    """A digest of the network's content (every node's op, attributes, shape and inputs; not
    where the spec wrote them) with what the timing depends on."""
    from ..ir.printer import print_graph

    text = "\n".join(line.split("  # ")[0] for line in print_graph(g).splitlines())
    text = text.replace(f"network {info(g).name} ", "network _ ", 1)
    return hashlib.sha256(f"{runtime}|{batch}|{threads}\n{text}".encode()).hexdigest()


def default_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "inceptdsl", "latency.json")


def load_cache(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def measure_latency(
    spec: str,
    points: Sequence[dict[str, Any]],
    graphs: Sequence[nx.DiGraph],
    runtime: str,
    batch: int,
    threads: int = 1,
    repeats: int = 20,
    warmup: int = 3,
    cache: str | None = None,
    run_worker: Callable[[list[dict[str, Any]]], list[dict[str, float]]] | None = None,
) -> list[Timing]:
    """The timing of each point (`points[i]` built `graphs[i]`), from the cache or measured by
    one worker process."""
    backend_of(runtime)
    path = cache or default_cache()
    store = load_cache(path)
    keys = [canonical_key(g, runtime, batch, threads) for g in graphs]
    todo: dict[str, dict[str, Any]] = {}
    for k, p in zip(keys, points, strict=True):
        if k not in store and k not in todo:
            todo[k] = p
    if todo:
        jobs = [
            {
                "spec": spec,
                "params": _jsonable(p),
                "runtime": runtime,
                "batch": batch,
                "threads": threads,
                "repeats": repeats,
                "warmup": warmup,
            }
            for p in todo.values()
        ]
        results = (run_worker or _worker)(jobs)
        for k, r in zip(todo, results, strict=True):
            store[k] = {"median_ms": r["median_ms"], "spread_ms": r["spread_ms"]}
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # the command's own cache: it may replace it (no --force needed for an earlier run's)
        write_output(path, json.dumps(store, indent=1, sort_keys=True) + "\n", may_replace=path)
    return [
        Timing(store[k]["median_ms"], store[k]["spread_ms"], cached=k not in todo) for k in keys
    ]


def backend_of(runtime: str) -> str:
    """The name of the backend whose `measure` times with `runtime` (UsageError if none)."""
    if runtime not in RUNTIMES:
        raise UsageError(f"--runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
    return RUNTIMES[runtime]


def _jsonable(p: dict[str, Any]) -> dict[str, Any]:
    from .space import shown

    return {k: v if isinstance(v, (bool, int, float, str)) else shown(v) for k, v in p.items()}


def _worker(jobs: list[dict[str, Any]]) -> list[dict[str, float]]:
    proc = subprocess.run(
        [sys.executable, "-m", "inceptdsl.sweep.latency_worker"],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise UsageError(
            f"the latency worker failed (exit {proc.returncode}): {tail[0]}",
            hint="is the runtime installed? (pip install onnxruntime, or torch)",
        )
    out: list[dict[str, float]] = json.loads(proc.stdout)
    return out
