"""`inceptdsl sweep`: the design space, the static metrics of every point (against the report
of the same network loaded on its own), failing points, constraints, the Pareto front (against
a brute-force dominance check), seeded sampling, interrupts and the table/CSV/JSON/pandas
views (the page's browser checks are in test_sweep_browser.py)."""

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
from inceptdsl.errors import ConstraintError, SweepSpaceError, TypeMismatchError
from inceptdsl.sweep import sweep
from inceptdsl.sweep.measure import Point
from inceptdsl.sweep.pareto import Objective, mark_front
from inceptdsl.sweep.result import human

FAMILY = str(ROOT / "tests" / "fixtures" / "sweep" / "family.incept")
GRID = {"width": "0.5:1.5:0.5", "variant": "plain,bottleneck", "image_size": "4,16", "k": "3,5"}


@pytest.fixture(scope="module")
def res():  # type: ignore[no-untyped-def]
    return sweep(FAMILY, GRID, where="macs < 200K and params >= 500")


def test_grid_enumerates_every_combination(res) -> None:  # type: ignore[no-untyped-def]
    assert len(res.points) == res.planned == 3 * 2 * 2 * 2
    combos = {tuple(sorted(p.params.items())) for p in res.points}
    assert len(combos) == 24
    assert {p.params["width"] for p in res.points} == {0.5, 1.0, 1.5}


def test_metrics_equal_the_report_of_each_network(res) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for p in res.ok:
        net = inceptdsl.load(FAMILY, **p.params)
        rep = net.report()
        mem = rep.memory
        assert p.metrics["params"] == rep.params
        assert p.metrics["buffers"] == rep.buffers
        assert p.metrics["macs"] == rep.macs
        assert p.metrics["flops"] == 2 * rep.macs
        assert p.metrics["memory"] == mem.peak_bytes
        assert p.metrics["nodes"] == len(net.graph)
        checked += 1
    assert checked == 18
    # a control: points that differ in one parameter differ in their metrics
    a = next(
        p
        for p in res.ok
        if p.params == {"width": 0.5, "variant": "plain", "image_size": 16, "k": 3}
    )
    b = next(
        p
        for p in res.ok
        if p.params == {"width": 1.0, "variant": "plain", "image_size": 16, "k": 3}
    )
    assert a.metrics["params"] != b.metrics["params"] and a.metrics["macs"] != b.metrics["macs"]


def test_layers_counts_weight_layers_on_the_longest_path(res) -> None:  # type: ignore[no-untyped-def]
    by = {(p.params["variant"]): p.metrics["layers"] for p in res.ok}
    assert by == {"plain": 3, "bottleneck": 4}  # stem + body conv + linear (+ the 1x1)
    deep = sweep(FAMILY, {"depth": "1:3"})
    assert [p.metrics["layers"] for p in deep.points] == [3, 4, 5]


def test_failing_points_are_listed_with_their_located_error(res) -> None:  # type: ignore[no-untyped-def]
    failed = res.failed
    assert len(failed) == 6 and all(
        p.params["image_size"] == 4 and p.params["k"] == 5 for p in failed
    )
    for p in failed:
        assert p.code == "E403" and not p.front and p.metrics == {}
        assert "family.incept:13:24: error[E403]" in (p.error or "")
        assert "^^^" in (p.error or "")
    table = res.to_table(width=200)
    assert table.count("error E403") == 6 and table.count("error[E403]") == 1  # diagnostic once
    assert "6 points failed (#1, #5, #9, #13, #17, #21), e.g." in table
    assert "--set width=0.5 --set variant=plain --set image_size=4 --set k=5" in table


def test_constraint_marks_feasible_points(res) -> None:  # type: ignore[no-untyped-def]
    for p in res.ok:
        assert p.feasible == (p.metrics["macs"] < 200_000 and p.metrics["params"] >= 500)
    assert any(p.feasible for p in res.ok) and any(not p.feasible for p in res.ok)


@pytest.mark.parametrize(
    "where, expected",
    [
        ("macs <= 200K", lambda m: m["macs"] <= 200_000),
        (
            "not (macs > 100K) or params == 898",
            lambda m: m["macs"] <= 100_000 or m["params"] == 898,
        ),
        (
            "10K < macs <= 1M and width != 1",
            lambda m: 10_000 < m["macs"] <= 10**6 and m["width"] != 1,
        ),
        ("memory < 20KiB", lambda m: m["memory"] < 20 * 1024),
    ],
)
def test_constraint_language(where: str, expected: Any) -> None:
    r = sweep(FAMILY, {"width": "0.5:1.5:0.5", "image_size": "8,16"}, where=where)
    got = [p.feasible for p in r.points]
    assert got == [bool(expected({**p.metrics, **p.params})) for p in r.points]
    assert True in got and False in got


@pytest.mark.parametrize(
    "where, message",
    [
        ("macs <= 2G and parms < 1M", "unknown metric `parms`"),
        ("macs <=", "ends too early"),
        ("macs <= 2G)", "expected `and`, `or` or the end"),
        ("macs ~ 3", "unexpected character '~'"),
        ("__import__('os')", "unexpected character"),
        ("__import__ < 1", "unknown metric `__import__`"),
        ("", "--where is empty"),
        ("k < 3", "unknown metric `k`"),  # only swept numeric parameters are names
        ("(" * 600 + "macs < 1" + ")" * 600, "nests deeper than 50 levels"),  # not a RecursionError
        ("not " * 60 + "macs < 1", "nests deeper than 50 levels"),
        ("macs < 1" * 300, "the limit is 2000"),
    ],
)
def test_bad_constraints_are_located_errors(where: str, message: str) -> None:
    with pytest.raises(ConstraintError) as e:
        sweep(FAMILY, {"width": "0.5,1"}, where=where)
    assert message in e.value.message and e.value.code == "E702"


def test_unknown_objective() -> None:
    with pytest.raises(ConstraintError, match="did you mean `macs`"):
        sweep(FAMILY, {"width": "0.5,1"}, objectives=["mac"])


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b


@pytest.mark.parametrize(
    "objectives",
    [["macs", "max:depth"], ["memory", "max:width"], ["macs", "layers", "max:image_size"]],
)
def test_front_is_exactly_the_non_dominated_feasible_points(objectives: list[str]) -> None:
    r = sweep(
        FAMILY,
        {"width": "0.25:2:0.25", "image_size": "8,12,16", "depth": "1,2"},
        objectives=objectives,
        where="macs < 2M",
    )
    objs = r.objectives

    def key(p: Point) -> tuple[float, ...]:
        return tuple(
            (-1 if o.maximize else 1) * float({**p.metrics, **p.params}[o.name]) for o in objs
        )

    cands = [p for p in r.ok if p.feasible]
    brute = {p.index for p in cands if not any(_dominates(key(q), key(p)) for q in cands)}
    assert {p.index for p in r.front} == brute
    assert 1 < len(brute) < len(cands)


def test_front_with_ties_keeps_all_equal_points() -> None:
    pts = [
        Point(i, {"w": 1}, {"macs": m, "params": q})
        for i, (m, q) in enumerate([(1, 2), (1, 2), (2, 1), (2, 2)])
    ]
    mark_front(pts, [Objective("macs"), Objective("params")])
    assert [p.front for p in pts] == [True, True, True, False]


def test_random_samples_are_seeded_and_in_range() -> None:
    space = {"width": "0.25:4:log", "depth": "1:4", "image_size": "8:32", "wide_stem": "true,false"}
    a = sweep(FAMILY, space, samples=20, seed=7)
    b = sweep(FAMILY, space, samples=20, seed=7)
    c = sweep(FAMILY, space, samples=20, seed=8)
    assert [p.params for p in a.points] == [p.params for p in b.points]
    assert [p.params for p in a.points] != [p.params for p in c.points]
    for p in a.points:
        assert 0.25 <= p.params["width"] <= 4 and isinstance(p.params["width"], float)
        assert 1 <= p.params["depth"] <= 4 and isinstance(p.params["depth"], int)
        assert p.params["wide_stem"] in (True, False)
    widths = sorted(p.params["width"] for p in a.points)
    assert widths[0] < 1 < widths[-1]  # log-uniform: both sides of the geometric middle
    # the --set line of a sampled point rebuilds that point exactly
    p = a.ok[0]
    assert inceptdsl.load(FAMILY, **p.params).report().macs == p.metrics["macs"]


def test_space_forms() -> None:
    r = sweep(FAMILY, {"width": "0.25:2:x2", "depth": "1:3"})
    assert sorted({p.params["width"] for p in r.points}) == [0.25, 0.5, 1.0, 2.0]
    assert sorted({p.params["depth"] for p in r.points}) == [1, 2, 3]
    r = sweep(FAMILY, ["image_size=8:16:4", "wide_stem=true,false"])
    assert sorted({p.params["image_size"] for p in r.points}) == [8, 12, 16]
    with pytest.raises(TypeMismatchError):
        sweep(FAMILY, {"depth": "1:3:0.5"})
    with pytest.raises(TypeMismatchError):
        sweep(FAMILY, {"variant": "a:b"})
    with pytest.raises(SweepSpaceError, match="empty"):
        sweep(FAMILY, {"depth": "3:1"})
    with pytest.raises(SweepSpaceError, match="never reaches"):
        sweep(FAMILY, {"width": "0.5:1:0"})
    with pytest.raises(SweepSpaceError, match="given twice"):
        sweep(FAMILY, ["depth=1,2", "depth=3"])
    with pytest.raises(SweepSpaceError, match="both swept"):
        sweep(FAMILY, {"depth": "1,2"}, fixed={"depth": 3})
    for huge in ("1:99999999999", "1:10**9"):  # refused before any list is built
        with pytest.raises((SweepSpaceError, TypeMismatchError)):
            sweep(FAMILY, {"depth": huge})
    for huge in ("0:1:1e-300", "0.1:1e300:x1.0000001"):
        with pytest.raises(SweepSpaceError, match="holds over 10,000 values"):
            sweep(FAMILY, {"width": huge})
    with pytest.raises(SweepSpaceError, match="over the limit of 1,000,000"):
        sweep(FAMILY, {"width": "0.001:10:0.001", "depth": "1:200"})
    with pytest.raises(SweepSpaceError, match="no dimension"):
        sweep(FAMILY, {})
    with pytest.raises(SweepSpaceError, match="--samples"):
        sweep(FAMILY, {"depth": "1,2"}, samples=0)


def test_family_member_as_a_choice() -> None:
    spec = str(ROOT / "specs" / "convnext.incept")
    r = sweep(spec, {"variant": "tiny,small"}, fixed={"image_size": 64})
    assert [p.params for p in r.points] == [{"variant": "tiny"}, {"variant": "small"}]
    for p in r.points:
        assert (
            p.metrics["params"] == inceptdsl.load(spec, variant=p.params["variant"]).report().params
        )
    assert r.points[0].metrics["params"] < r.points[1].metrics["params"]


def test_parallel_workers_give_the_same_points() -> None:
    one = sweep(FAMILY, GRID, workers=1)
    totals: list[int] = []
    steps: list[int] = []
    two = sweep(FAMILY, GRID, workers=2, on_total=totals.append, progress=steps.append)
    assert totals == [24] and sum(steps) == 24  # what the progress bar is told
    assert [(p.params, p.metrics, p.code) for p in one.points] == [
        (p.params, p.metrics, p.code) for p in two.points
    ]


def test_interrupt_keeps_what_was_measured() -> None:
    seen = []

    def progress(n: int) -> None:
        seen.append(n)
        if len(seen) == 5:
            raise KeyboardInterrupt

    r = sweep(FAMILY, GRID, progress=progress)
    assert r.interrupted and len(r.points) == 5 and r.planned == 24
    assert [p.index for p in r.points] == list(range(5))
    assert "interrupted" in r.summary()


def test_csv_json_and_pandas_match_the_table(res) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(res.to_csv())))
    data = json.loads(res.to_json())
    df = res.to_pandas()
    assert (
        data["schema"] == "inceptdsl.sweep/1" and len(rows) == len(data["points"]) == len(df) == 24
    )
    table = res.to_table(width=300).splitlines()
    for p, row, jp in zip(res.points, rows, data["points"], strict=True):
        assert int(row["index"]) == jp["index"] == p.index
        line = table[1 + p.index].split()
        if p.error is None:
            for m in ("params", "macs", "buffers"):
                assert int(row[m]) == jp[m] == p.metrics[m] == df.loc[p.index, m]
                assert human(int(row[m]), m) in line
            assert (
                row["front"] == ("True" if p.front else "False")
                or row["front"] == str(p.front).lower()
            )
        else:
            assert row["params"] == "" and jp["params"] is None and jp["error"] == "E403"
            assert jp["message"].startswith(p.error.splitlines()[0])
        assert jp["set"] == row["set"]


def test_table_fits_the_width(res) -> None:  # type: ignore[no-untyped-def]
    wide = res.to_table(width=200, only_front=True)
    narrow = res.to_table(width=60, only_front=True)
    body = narrow.split("\n\n")[0].splitlines()
    assert max(map(len, body)) <= 60
    before_failures = narrow.split(" failed (#")[0].splitlines()[:-1]
    assert max(map(len, before_failures)) <= 60  # the summary and the note are wrapped too
    assert "columns left out to fit 60 characters" in narrow
    assert "columns left out" not in wide


def test_notebook_repr_escapes(tmp_path: Path) -> None:
    spec = tmp_path / "n.incept"
    spec.write_text(Path(FAMILY).read_text().replace('"plain"', '"<b>plain</b>"'))
    r = sweep(str(spec), ["variant=<b>plain</b>,x&y"])
    html_repr = r._repr_html_()
    assert "<b>plain" not in html_repr and "&lt;b&gt;plain&lt;/b&gt;" in html_repr
    page = r.to_html()
    assert "<b>plain" not in page and "x&y" not in page


def test_cli_writes_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outs = [tmp_path / f"s.{x}" for x in ("csv", "json", "html", "txt")]
    rc = main(
        [
            "sweep",
            FAMILY,
            "--param",
            "width=0.5,1",
            "--param",
            "k=3,5",
            "--set",
            "image_size=4",
            "--where",
            "macs < 1G",
            *[a for o in outs for a in ("-o", str(o))],
        ]
    )
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert all(o.is_file() for o in outs)
    assert "error[E403]" in out.out and "2 failed" in out.out
    # the --set line rebuilds the point: its swept values and the fixed ones
    assert (
        json.loads(outs[1].read_text())["points"][0]["set"]
        == "--set width=0.5 --set k=3 --set image_size=4"
    )
    assert "Traceback" not in out.err


def test_cli_refuses_an_unknown_suffix_and_a_symlink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", FAMILY, "--param", "width=0.5,1", "-o", str(tmp_path / "x.xlsx")]) == 2
    target = tmp_path / "t.csv"
    target.write_text("keep")
    (tmp_path / "l.csv").symlink_to(target)
    assert main(["sweep", FAMILY, "--param", "width=0.5,1", "-o", str(tmp_path / "l.csv")]) == 2
    assert target.read_text() == "keep"
    err = capsys.readouterr().err
    assert "error[E004]" in err and "Traceback" not in err


def test_cli_exits_1_when_no_point_builds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", FAMILY, "--param", "k=5,7", "--set", "image_size=4"]) == 1
    assert "0 built, 2 failed" in capsys.readouterr().out


def test_ctrl_c_on_the_cli_writes_what_was_measured(tmp_path: Path) -> None:
    """A real SIGINT to the command's process group (what a terminal's Ctrl-C sends) while
    two workers measure: exit 130, and the CSV holds the points measured before it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "part.csv"
    cmd = [
        sys.executable,
        "-m",
        "inceptdsl",
        "sweep",
        str(ROOT / "bench" / "specs" / "inception_v3_wdr.incept"),
        "--param",
        "width=0.25:2.5:0.05",
        "--param",
        "depth=1:4",
        "--param",
        "image_size=160:544:4",
        "--workers",
        "2",
        "-o",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    time.sleep(6)  # imports, parsing, then some points (17,848: a whole sweep takes far longer)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert 0 < len(rows) < 17_848
    assert [int(r["index"]) for r in rows] == list(range(len(rows)))  # the first, in order
    assert "interrupted" in stdout and f"{len(rows)} of 17848 points measured" in stdout
