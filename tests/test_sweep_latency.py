"""`inceptdsl sweep --measure latency`: the front's optimized models timed in a worker process
(onnxruntime and torch), timings cached by the network's content (the same network is never
timed twice, whichever parameters or file produced it), and latency as an objective."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

import inceptdsl
from inceptdsl.cli import main
from inceptdsl.sweep import sweep
from inceptdsl.sweep.latency import canonical_key, measure_latency

FAMILY = ROOT / "tests" / "fixtures" / "sweep" / "family.incept"


def _graph(path: Path | str, **params: Any):  # type: ignore[no-untyped-def]
    return inceptdsl.load(str(path), **params).graph


def test_canonical_key_is_the_network_content(tmp_path: Path) -> None:
    base = canonical_key(_graph(FAMILY), "onnxruntime", 1, 1)
    # another file, with other comments and another network name: the same network
    other = tmp_path / "copy.incept"
    other.write_text("# a copy\n\n" + FAMILY.read_text().replace("network family", "network f2"))
    assert canonical_key(_graph(other), "onnxruntime", 1, 1) == base
    # a parameter that does not change the network (variant "x" takes the else branch, like
    # "bottleneck"): the same key
    a = canonical_key(_graph(FAMILY, variant="bottleneck"), "onnxruntime", 1, 1)
    assert canonical_key(_graph(FAMILY, variant="x"), "onnxruntime", 1, 1) == a != base
    # controls: one width, the runtime, the batch, the threads each change the key
    assert canonical_key(_graph(FAMILY, width=1.25), "onnxruntime", 1, 1) != base
    assert canonical_key(_graph(FAMILY), "torch", 1, 1) != base
    assert canonical_key(_graph(FAMILY), "onnxruntime", 8, 1) != base
    assert canonical_key(_graph(FAMILY), "onnxruntime", 1, 2) != base


def test_cache_measures_each_network_once(tmp_path: Path) -> None:
    calls: list[list[dict[str, Any]]] = []

    def worker(jobs: list[dict[str, Any]]) -> list[dict[str, float]]:
        calls.append(jobs)
        return [{"median_ms": 1.0 + i, "spread_ms": 0.1} for i in range(len(jobs))]

    pts = [{"width": 0.5}, {"width": 1.0}, {"width": 0.5, "variant": "plain"}]
    graphs = [_graph(FAMILY, **p) for p in pts]
    cache = str(tmp_path / "c.json")
    first = measure_latency(
        str(FAMILY), pts, graphs, "onnxruntime", 1, cache=cache, run_worker=worker
    )
    assert len(calls) == 1 and len(calls[0]) == 2  # the third point is the first's network
    assert [t.median_ms for t in first] == [1.0, 2.0, 1.0] and not any(t.cached for t in first)
    again = measure_latency(
        str(FAMILY), pts, graphs, "onnxruntime", 1, cache=cache, run_worker=worker
    )
    assert len(calls) == 1 and all(t.cached for t in again)
    assert [t.median_ms for t in again] == [1.0, 2.0, 1.0]
    other_batch = measure_latency(
        str(FAMILY), pts[:1], graphs[:1], "onnxruntime", 4, cache=cache, run_worker=worker
    )
    assert len(calls) == 2 and not other_batch[0].cached
    assert len(json.loads(Path(cache).read_text())) == 3


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_backends_time_their_optimized_models(backend: str) -> None:
    """Backend.measure, the capability the worker asks for: a median and a spread, and a
    network with 1,000x the MACs is slower (a control no load can hide)."""
    from inceptdsl.backend import get

    b = get(backend)
    small = b.measure(_graph(FAMILY, width=0.25, image_size=8), repeats=9, warmup=2)
    big = b.measure(_graph(FAMILY, width=8.0, image_size=64), repeats=9, warmup=2)
    assert set(small) == {"median_ms", "spread_ms"}
    assert 0 < small["median_ms"] < big["median_ms"] and small["spread_ms"] >= 0


@pytest.mark.parametrize("runtime", ["onnxruntime", "torch"])
def test_front_is_timed_in_a_worker(runtime: str, tmp_path: Path) -> None:
    cache = str(tmp_path / "lat.json")
    space = {"width": "0.25,8.0", "image_size": "8,64"}
    res = sweep(
        str(FAMILY),
        space,
        objectives=["macs", "max:width"],
        measure="latency",
        runtime=runtime,
        latency_cache=cache,
        repeats=15,
    )
    timed = [p for p in res.points if "latency" in p.metrics]
    assert {p.index for p in timed} == {p.index for p in res.front} and 0 < len(timed) < 4
    for p in timed:
        assert p.metrics["latency"] > 0 and p.metrics["latency_spread"] >= 0
    everything = sweep(
        str(FAMILY),
        space,
        measure="latency",
        runtime=runtime,
        latency_cache=cache,
        measure_all=True,
        repeats=15,
    )
    lat = {
        (p.params["width"], p.params["image_size"]): p.metrics["latency"] for p in everything.points
    }
    # a control that no load can hide: 1,000x the MACs is slower
    assert lat[(8.0, 64)] > lat[(0.25, 8)]
    # the points already timed came from the cache
    for p in timed:
        assert lat[(p.params["width"], p.params["image_size"])] == p.metrics["latency"]


def test_latency_as_an_objective_times_every_feasible_point(tmp_path: Path) -> None:
    res = sweep(
        str(FAMILY),
        {"width": "0.5:2:0.5", "depth": "1,2"},
        where="params < 15K",
        objectives=["macs", "latency"],
        measure="latency",
        latency_cache=str(tmp_path / "c.json"),
        repeats=5,
    )
    feasible = [p for p in res.ok if p.feasible]
    assert all("latency" in p.metrics for p in feasible) and len(feasible) < len(res.ok)
    assert not any("latency" in p.metrics for p in res.ok if not p.feasible)

    def key(p):  # type: ignore[no-untyped-def]
        return (p.metrics["macs"], p.metrics["latency"])

    brute = {
        p.index
        for p in feasible
        if not any(
            all(a <= b for a, b in zip(key(q), key(p), strict=True)) and key(q) != key(p)
            for q in feasible
        )
    }
    assert {p.index for p in res.front} == brute


def test_cli_latency_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.csv"
    rc = main(
        [
            "sweep",
            str(FAMILY),
            "--param",
            "width=0.5,1",
            "--measure",
            "latency",
            "--latency-cache",
            str(tmp_path / "c.json"),
            "--repeats",
            "5",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert "latency" in rows[0] and "latency_spread" in rows[0]
    assert [bool(r["latency"]) for r in rows] == [r["front"] == "true" for r in rows]
    assert "latency" in capsys.readouterr().out
    assert (
        main(
            [
                "sweep",
                str(FAMILY),
                "--param",
                "width=0.5,1",
                "--measure",
                "latency",
                "--repeats",
                "0",
            ]
        )
        == 2
    )
