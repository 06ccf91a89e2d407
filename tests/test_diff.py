"""`inceptdsl diff` goldens: what a structural diff shows for each kind of change.

The variants are tests/fixtures/diff/*.incept, each an edit of base.incept: a pool swap (max ->
avg in every pool branch) and an activation swap (every ReLU -> GELU) change no count, so only
a structural comparison shows them (the per-block numbers diff printed "(no block differs)");
an insertion, a removal (a layer, a branch, the aux head) and replacements (a block, a layer by
a group), and a block call replaced by another block's (the diff says the type changed and
shows the new layers with shapes and params). Regenerate with `pytest --update-golden` and
review the diff.
"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from support.golden import assert_golden

from inceptdsl.cli import main

FIXTURES = ROOT / "tests" / "fixtures" / "diff"
BASE = "tests/fixtures/diff/base.incept"
VARIANTS = ["pool_swap", "gelu", "insert", "remove", "replace_block", "retype_block"]


def _diff(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["diff", *args]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


@pytest.mark.parametrize("variant", VARIANTS)
def test_table(
    variant: str, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    out = _diff(capsys, BASE, f"tests/fixtures/diff/{variant}.incept")
    assert "(no block differs)" not in out
    assert_golden(request, f"diff/{variant}.txt", out)


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_other_formats(
    fmt: str, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    out = _diff(capsys, BASE, "tests/fixtures/diff/remove.incept", "--format", fmt)
    assert_golden(request, f"diff/remove.{'json' if fmt == 'json' else 'md'}", out)


def test_a_changed_block_type_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    out = _diff(capsys, BASE, "tests/fixtures/diff/retype_block.incept")
    assert "~ block Mod(c=16) -> Wide(c=16) (another block type)" in out
    assert "+ m2.b2: conv2d 32x16x16, 6,976 params (new)" in out
    doc = json.loads(
        _diff(capsys, BASE, "tests/fixtures/diff/retype_block.incept", "--format", "json")
    )
    assert doc["blocks"][0]["call"] == {"a": "Mod(c=16)", "b": "Wide(c=16)"}
    same = _diff(capsys, BASE, "tests/fixtures/diff/replace_block.incept")
    assert "~ block Mod(c=16) -> Mod(c=24)\n" in same and "another block type" not in same


def test_swaps_that_keep_every_count_are_shown(capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(
        _diff(capsys, BASE, "tests/fixtures/diff/pool_swap.incept", "--format", "json")
    )
    layers = [la for b in doc["blocks"] for la in b["layers"]]
    assert [(la["name"], la["op"]) for la in layers] == [
        ("m1.pool.0", {"a": "maxpool2d", "b": "avgpool2d"}),
        ("m2.pool.0", {"a": "maxpool2d", "b": "avgpool2d"}),
    ]
    assert doc["totals"]["params"]["delta"] == doc["totals"]["macs"]["delta"] == 0
    doc = json.loads(_diff(capsys, BASE, "tests/fixtures/diff/gelu.incept", "--format", "json"))
    changes = {
        c["field"]: (c["a"], c["b"])
        for b in doc["blocks"]
        for la in b["layers"]
        for c in la["changes"]
    }
    assert changes == {"act": ("relu", "gelu")}
    assert sum(len(b["layers"]) for b in doc["blocks"]) == 9  # every conv


def test_a_spec_against_itself(capsys: pytest.CaptureFixture[str]) -> None:
    out = _diff(capsys, BASE, BASE)
    assert "(no block differs)" in out
    assert out.splitlines()[-1] == "0 of 9 blocks differ (depth 1)"


def test_rename_matches_moved_layers(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    # Without --rename, a relabelled block is one block removed and one added; with it, the
    # layers match and show as renamed (same op, attrs, shape and costs).
    moved = FIXTURES / "renamed.incept"
    out = _diff(capsys, BASE, str(moved.relative_to(ROOT)))
    assert "- m2 " in out and "+ mixed " in out
    out = _diff(capsys, BASE, str(moved.relative_to(ROOT)), "--rename", "m2=mixed")
    rows = [ln.split()[:2] for ln in out.splitlines() if ln.startswith("    ")]
    assert rows and all(r[0] == "=" for r in rows), out
    assert "renamed from m2.b1" in out


def test_bad_rename_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", BASE, BASE, "--rename", "m2"]) == 2
    assert "error[E004]: --rename expects OLD=NEW" in capsys.readouterr().err
