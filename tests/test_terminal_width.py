"""`report` and `diff` on a terminal fit its width (fit.py); a pipe or a file keeps every column.

The CLI runs in a pseudo-terminal with a fixed `COLUMNS` (80, 120), as a researcher's
terminal would be; the same command through a pipe must print what the goldens hold.
"""

from __future__ import annotations

import pytest
from conftest import ROOT
from support.terminal import _pipe, _tty

import inceptdsl
from inceptdsl.fit import Col, compact, cut_middle, fit

V3 = "specs/inception_v3.incept"
BASE = "tests/fixtures/diff/base.incept"


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("depth", [[], ["--depth", "1"]])
def test_report_fits_the_terminal(columns: int, depth: list[str]) -> None:
    lines = _tty(columns, "report", V3, *depth)
    assert max(len(ln) for ln in lines) <= columns
    header = lines[1].split()
    # What a reader needs stays; the note says what was left out and how to see it.
    assert header[0] == "name" and "params" in header and "MACs" in header
    note = " ".join(lines)
    assert f"not shown at {columns} columns:" in note and "`--wide`" in note
    assert "trunc_normal" not in note  # initialisers belong to --wide / csv, not every row
    assert "params 27,161,264" in note  # the exact totals are in the summary
    if depth:
        row = next(ln for ln in lines if ln.startswith("Mixed_5b "))
        assert "InceptionA" in row


def test_report_at_80_columns_keeps_the_deltas_that_matter() -> None:
    lines = _tty(80, "report", V3, "--depth", "1")
    assert lines[1].split() == ["name", "op", "output", "params", "MACs", "%", "MACs"]
    assert "Conv2d_4a_3x3    conv2d          192x71x71      138,624   697M   12.19%" in lines


def test_wide_and_columns_keep_everything_on_a_terminal() -> None:
    wide = _tty(80, "report", V3, "--depth", "1", "--wide")
    assert wide == _pipe("report", V3, "--depth", "1").splitlines()
    assert max(len(ln) for ln in wide) > 120
    cols = _tty(80, "report", V3, "--columns", "name,details")
    assert "Conv2d_1a_3x3 32 3x3 s2 bn relu trunc_normal(std=0.1)" in [
        " ".join(ln.split()) for ln in cols
    ]


def test_a_pipe_keeps_every_column() -> None:
    """Through a pipe (COLUMNS=80 set) the table is the golden one, initialisers included."""
    golden = (ROOT / "tests/golden/report/inception_v3.txt").read_text()
    assert _pipe("report", V3, "--depth", "1") == golden
    assert "trunc_normal(std=0.1)" in _pipe("report", V3)


@pytest.mark.parametrize("columns", [80, 120])
def test_diff_fits_the_terminal(columns: int) -> None:
    lines = _tty(columns, "diff", BASE, "tests/fixtures/diff/replace_block.incept")
    assert max(len(ln) for ln in lines) <= columns
    assert lines[2].split()[:1] == ["block"] and "Δ params" in lines[2]
    text = "\n".join(lines)
    assert "block Mod(c=16) -> Mod(c=24)" in text
    assert "not shown at" in text and "`--wide`" in text
    wide = _tty(columns, "diff", BASE, "tests/fixtures/diff/replace_block.incept", "--wide")
    assert wide == _pipe("diff", BASE, "tests/fixtures/diff/replace_block.incept").splitlines()


def test_report_table_api_width() -> None:
    """`Report.to_table(width=)` fits a bundled network of long names, cutting them last."""
    rep = inceptdsl.load("specs/inception_resnet_v2.incept").report()
    for width in (60, 80, 100, 120, 160):
        text = rep.to_table(None, width=width)
        assert max(len(ln) for ln in text.splitlines()) <= width, width
    assert rep.to_table(None, width=1000).count("trunc_normal") == 0
    assert rep.to_table(None) == rep.to_table(None, width=None)


def test_fit_ladder_and_cut() -> None:
    cols = [
        Col("name", "name", False, ["a_very_long_layer_name.inside"]),
        Col("x", "x", True, ["1,234,567"], ["1.23M"]),
        Col("y", "y", True, ["7"]),
    ]
    f = fit(cols, 43, [("short", "x"), ("drop", "y")])
    assert (f.shortened, f.dropped, f.cut) == ([], [], False)  # it fits: nothing taken
    f = fit(cols, 40, [("short", "x"), ("drop", "y")])
    assert (f.shortened, f.dropped) == (["x"], [])
    f = fit(cols, 20, [("short", "x"), ("drop", "y")])
    assert (f.shortened, f.dropped, f.cut) == (["x"], ["y"], True)
    assert f.cols[0].cells == ["a_very_…e.inside"]  # cut to MIN_FIRST, not below
    f = fit(cols, 20, [("short", "x"), ("drop", "x")])
    assert (f.shortened, f.dropped) == ([], ["x"])  # shortened, then dropped: said once
    assert cut_middle("abcdef", 6) == "abcdef" and cut_middle("abcdefgh", 5) == "ab…gh"
    assert [compact(n) for n in (928, 9_280, 19_181_664, 999_500, 1_234_567_890)] == [
        *("928", "9.28K", "19.2M", "1.00M", "1.23G"),
    ]
    assert compact(-196_608, signed=True) == "-197K" and compact(240, signed=True) == "+240"


def test_report_table_to_a_file_is_written_in_full(tmp_path: object) -> None:
    """`report -o FILE` (table) writes the file, every column in full, and prints nothing."""
    from pathlib import Path

    out = Path(str(tmp_path)) / "v3.txt"
    assert _tty(80, "report", V3, "--depth", "1", "-o", str(out)) == []
    golden = (ROOT / "tests/golden/report/inception_v3.txt").read_text()
    assert out.read_text() == golden
