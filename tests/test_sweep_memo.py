"""Memoised block calls (lower/memo.py), which the sweep lowers with: a lowering that replays
recorded calls must make exactly the graph of the plain lowering (nodes with every field, edges,
graph attributes, labels, warnings) over the bundled specs and over many sweep points, every
metric of a sweep must equal the plain computation, and a failing point must keep the plain
lowering's error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from inceptdsl.check import run_checks
from inceptdsl.errors import SpecError
from inceptdsl.front.loader import Program, load_program
from inceptdsl.lower import BlockMemo, Lowered, lower
from inceptdsl.lower import limits as lower_limits
from inceptdsl.lower.memo import Unkeyable, freeze
from inceptdsl.network import build
from inceptdsl.sweep import sweep
from inceptdsl.sweep.measure import chunks, measure, metrics, runs

WDR = str(ROOT / "bench" / "specs" / "inception_v3_wdr.incept")
SPECS = sorted(
    p
    for d in ("specs", "specs/cnn", "specs/keras", "specs/variants")
    for p in (ROOT / d).glob("*.incept")
)


def _program(path: str | Path, text: str | None = None) -> Program:
    program = load_program(str(path), text)
    run_checks(program)
    return program


def _dump(low: Lowered) -> dict[str, Any]:
    g = low.graph
    return {
        "nodes": list(g.nodes(data=True)),
        "edges": list(g.edges(data=True)),
        "graph": dict(g.graph),
        "labels": list(low.labels.items()),
        "expects": low.expects,
        "warnings": low.warnings,
    }


def _lowered(program: Program, params: dict[str, Any], memo: BlockMemo | None) -> Any:
    try:
        return _dump(lower(program, params, None, memo))
    except SpecError as err:
        return ("error", err.code, str(err))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_memoised_lowering_is_the_plain_lowering(path: Path) -> None:
    program = _program(path)
    memo = BlockMemo(program)
    plain = _lowered(program, {}, None)
    assert _lowered(program, {}, memo) == plain  # recording
    assert _lowered(program, {}, memo) == plain  # replaying what was recorded


def test_bundled_specs_replay_their_calls() -> None:
    """A control for the test above: the memo is really used (a second lowering of specs
    with block calls is mostly replays)."""
    hits = 0
    for path in SPECS:
        program = _program(path)
        memo = BlockMemo(program)
        lower(program, {}, None, memo)
        before = memo.hits
        lower(program, {}, None, memo)
        hits += memo.hits - before
    assert hits > 100


WDR_POINTS = [
    {"width": w, "depth": d, "image_size": s}
    for w in (0.25, 0.5, 1.0, 1.75)
    for d in (1, 2, 4)
    for s in (75, 160, 299, 64)
]
"""64 is below Inception-v3's smallest input: those points fail."""


def test_graphs_equal_over_many_sweep_points() -> None:
    program = _program(WDR)
    memo = BlockMemo(program)
    failed = 0
    for p in WDR_POINTS:
        plain = _lowered(program, p, None)
        failed += isinstance(plain, tuple)
        assert _lowered(program, p, memo) == plain, p
    assert failed == 12  # the control: failing points are compared too
    assert memo.hits > 3 * memo.misses


def test_a_changed_input_shape_is_a_new_record() -> None:
    """The key holds the input's shape: the same call at another resolution is lowered."""
    program = _program(WDR)
    memo = BlockMemo(program)
    lower(program, {"image_size": 299}, None, memo)
    misses = memo.misses
    lower(program, {"image_size": 299}, None, memo)
    assert memo.misses == misses
    lower(program, {"image_size": 331}, None, memo)
    assert memo.misses > misses


def test_every_metric_of_a_sweep_equals_the_plain_computation() -> None:
    space = {"width": "0.25:1.75:0.5", "depth": "1:3", "image_size": "64,96,299"}
    res = sweep(WDR, space, workers=1)
    program = _program(WDR)
    assert len(res.points) == 4 * 3 * 3
    assert len(res.failed) == 12 and len(res.ok) == 24
    for p in res.points:
        try:
            want = metrics(build(program, p.params).graph, 1, "float32")
        except SpecError as err:
            assert p.error == err.render() and p.code == err.code
            continue
        assert p.metrics == want, p.params
    ok = res.ok
    assert len({p.metrics["macs"] for p in ok}) == len(ok)  # every point is its own network


def test_parallel_sweep_equals_one_process() -> None:
    """Two workers, each with its own memo, handed one width's 8 points at a time (runs)."""
    space = {"width": "0.5,0.75,1.0,1.25", "depth": "1:4", "image_size": "75,299"}
    assert runs(32, 2, 8) == [2, 2, 4, 8, 8, 8]
    one = sweep(WDR, space, workers=1)
    two = sweep(WDR, space, workers=2)
    assert [(p.params, p.metrics, p.error) for p in one.points] == [
        (p.params, p.metrics, p.error) for p in two.points
    ]


@pytest.mark.parametrize(
    ("n", "workers", "slab"), [(1000, 2, 100), (17_848, 2, 388), (24, 2, 12), (7, 3, None)]
)
def test_runs_cover_the_points_in_order(n: int, workers: int, slab: int | None) -> None:
    sizes = runs(n, workers, slab)
    got = [i for chunk in chunks([{}] * n, sizes) for i, _ in chunk]
    assert got == list(range(n))
    if slab == 100:  # a grid's slab is one run, after the first slab's quarters
        assert sizes[:4] == [25, 25, 50, 100] and set(sizes[3:]) == {100}


@pytest.mark.parametrize("limit", ["MAX_NODES", "MAX_NESTING", "MAX_STEPS"])
def test_a_replay_past_a_limit_is_lowered_for_real(
    limit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded at the real limits, then lowered again under a limit the network passes: the
    replays that would pass it are refused, so the error is the plain lowering's, at the
    same place (a replay that went ahead would stop later, or not at all for the nesting)."""
    program = _program(WDR)
    memo = BlockMemo(program)
    size = len(lower(program, {}, None, memo).graph)
    value = {"MAX_NODES": size // 2, "MAX_NESTING": 3, "MAX_STEPS": size}[limit]
    monkeypatch.setattr(lower_limits, limit, value)
    with pytest.raises(SpecError) as want:
        lower(program, {})
    assert want.value.code.startswith("E9")
    with pytest.raises(SpecError) as got:
        lower(program, {}, None, memo)
    assert (got.value.code, str(got.value)) == (want.value.code, str(want.value))
    point = measure(program, 0, {}, 1, "float32", memo)
    assert (point.code, point.error) == (
        want.value.code,
        measure(program, 0, {}, 1, "float32").error,
    )


WARNS = """\
block B(c: int) {
  sepconv c 3x3 pad=1
}
network n(w: int = 8) {
  input 3 x 16 x 16
  defaults conv(bias=false)
  a: B(c=w)
  b: B(c=w)
  repeat 3 as "r{i}" { B(c=w) }
}
"""


def test_calls_with_a_warning_due_are_not_replayed() -> None:
    """The conv-defaults warning (W001) is given once per place: a call whose lowering has it
    due is lowered every time, so a fresh lowering warns as the plain one does."""
    program = _program("warns.incept", WARNS)
    memo = BlockMemo(program)
    plain = _lowered(program, {}, None)
    assert len(plain["warnings"]) == 1
    assert _lowered(program, {}, memo) == plain
    assert _lowered(program, {}, memo) == plain
    assert memo.hits == 0


def test_keys_compare_type_and_value() -> None:
    assert len({freeze(1), freeze(1.0), freeze(True)}) == 3
    assert freeze(0.0) != freeze(-0.0)
    assert freeze((1, 2)) == freeze((1, 2)) != freeze((1, 2.0))
    with pytest.raises(Unkeyable):
        freeze(object())


def test_all_inputs_are_each_nodes_inputs_in_order() -> None:
    """memory.all_inputs (one pass over the adjacency, used by the sweep's metrics) gives
    ir.inputs of every node: merges' inputs in their edge order."""
    from inceptdsl.ir import inputs
    from inceptdsl.middle.memory import all_inputs

    merged = 0
    for path in SPECS:
        g = lower(_program(path), {}).graph
        assert all_inputs(g) == {n: inputs(g, n) for n in g}
        merged += sum(len(inputs(g, n)) > 1 for n in g)
    assert merged > 100
