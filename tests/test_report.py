"""report.py: totals, per-block aggregation, the output formats, and golden files of the IR
and of the depth-1 report table for every bundled spec (regenerate with
`pytest tests/test_report.py --update-golden` and review the diff).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, bundled_specs, spec_id
from golden import assert_golden

import inceptdsl
from inceptdsl import loader
from inceptdsl.ir.printer import print_graph
from inceptdsl.report import SCHEMA, Row

# Hand counts (input 3x8x8):
#   stem   conv 4 3x3 pad=1 no bias + BN   params 108+8 = 116, buffers 8, MACs 108*64 = 6,912
#   m.a    conv 2 1x1 (bias)                params 8+2 = 10, MACs 8*64 = 512
#   m.b    conv 2 3x3 pad=1 (bias)          params 72+2 = 74, MACs 72*64 = 4,608
#   m.concat                                4x8x8
#   side   aux: global_avgpool, flatten, fc linear 3: params 4*3+3 = 15, MACs 12
#   pool, flat, fc linear 5                 params 4*5+5 = 25, MACs 20
SPEC = """
network r {
  input 3 x 8 x 8
  stem: conv 4 3x3 pad=1 bias=false bn=true
  m: concat {
    a: conv 2 1x1
    b: conv 2 3x3 pad=1
  }
  side: aux from m weight=0.3 {
    global_avgpool -> flatten
    fc: linear 3
  }
  pool: global_avgpool
  flat: flatten
  fc: linear 5
}
"""


@pytest.fixture(scope="module")
def rep():  # type: ignore[no-untyped-def]
    return inceptdsl.loads(SPEC, filename="t.incept").report()


def test_totals(rep) -> None:  # type: ignore[no-untyped-def]
    assert rep.network == "r"
    assert rep.input_shape == (3, 8, 8)
    assert rep.params == 116 + 10 + 74 + 15 + 25
    assert rep.buffers == 8
    assert rep.variables == rep.params + 8
    assert rep.macs == 6_912 + 512 + 4_608 + 20  # aux excluded
    assert rep.flops == 2 * rep.macs
    assert (rep.aux_params, rep.aux_buffers, rep.aux_macs) == (15, 0, 12)
    assert rep.aux_heads == ["side"]
    # activations: inference-path outputs only: 4*64 + 2*64 + 2*64 + 4*64 + 4 + 4 + 5.
    assert rep.activations == 256 + 128 + 128 + 256 + 13
    assert rep.totals() == {
        "params": 240,
        "buffers": 8,
        "variables": 248,
        "macs": 12_052,
        "flops": 24_104,
        "activations": 781,
        "aux_params": 15,
        "aux_buffers": 0,
        "aux_macs": 12,
    }


def test_rows(rep) -> None:  # type: ignore[no-untyped-def]
    assert [r.name for r in rep.rows] == [
        "stem",
        "m.a",
        "m.b",
        "m.concat",
        "side.global_avgpool",
        "side.flatten",
        "side.fc",
        "pool",
        "flat",
        "fc",
    ]
    stem = rep.rows[0]
    assert stem == Row("stem", "conv2d", (4, 8, 8), 116, 8, 6_912, 13_824, 256, None, 1)
    assert rep.rows[6] == Row("side.fc", "linear", (3,), 15, 0, 12, 24, 3, "side", 1)


def test_blocks_depth_1(rep) -> None:  # type: ignore[no-untyped-def]
    blocks = rep.blocks(1)
    assert [(b.name, b.op, b.shape, b.params, b.macs, b.layers) for b in blocks] == [
        ("stem", "conv2d", (4, 8, 8), 116, 6_912, 1),
        ("m", "block", (4, 8, 8), 84, 5_120, 3),
        ("side", "block", (3,), 15, 12, 3),
        ("pool", "global_avgpool", (4, 1, 1), 0, 0, 1),
        ("flat", "flatten", (4,), 0, 0, 1),
        ("fc", "linear", (5,), 25, 20, 1),
    ]
    m = blocks[1]
    assert (m.buffers, m.flops, m.activations, m.aux) == (0, 10_240, 512, None)
    assert blocks[2].aux == "side"
    # Aggregation preserves the totals.
    assert sum(b.params for b in blocks) == rep.params
    assert sum(b.buffers for b in blocks) == rep.buffers


def test_blocks_deeper_than_names_is_per_layer(rep) -> None:  # type: ignore[no-untyped-def]
    rows = rep.blocks(5)
    assert [r.name for r in rows] == [r.name for r in rep.rows]
    assert [r.op for r in rows] == [r.op for r in rep.rows]


def test_blocks_depth_2_on_a_bundled_spec() -> None:
    rep = inceptdsl.load("specs/inception_v3.incept").report()
    by_name = {b.name: b for b in rep.blocks(2)}
    b = by_name["Mixed_5b.branch5x5_2"]
    # conv 48 -> 64 5x5 at 35x35, no bias, BN with gamma and beta.
    assert (b.op, b.params, b.buffers, b.macs) == ("conv2d", 76_928, 128, 64 * 48 * 25 * 35 * 35)
    assert sum(r.params for r in rep.blocks(2)) == rep.params


def test_json_schema(rep) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(rep.to_json())
    assert SCHEMA == "inceptdsl.report/1"
    assert doc["schema"] == "inceptdsl.report/1"
    assert set(doc) == {
        "schema",
        "network",
        "input_shape",
        "parameters",
        "conventions",
        "totals",
        "aux_heads",
        "depth",
        "rows",
    }
    assert doc["network"] == "r" and doc["input_shape"] == [3, 8, 8]
    assert doc["parameters"] == {}
    assert set(doc["conventions"]) == {"params", "buffers", "macs", "flops", "activations"}
    assert doc["totals"] == rep.totals()
    assert doc["aux_heads"] == ["side"]
    assert doc["depth"] is None
    assert len(doc["rows"]) == 10
    assert doc["rows"][0] == {
        "name": "stem",
        "op": "conv2d",
        "shape": [4, 8, 8],
        "params": 116,
        "buffers": 8,
        "macs": 6_912,
        "flops": 13_824,
        "activations": 256,
        "aux": None,
        "layers": 1,
    }
    at1 = json.loads(rep.to_json(depth=1))
    assert at1["depth"] == 1
    assert [r["name"] for r in at1["rows"]] == ["stem", "m", "side", "pool", "flat", "fc"]


def test_json_parameters_are_json_values() -> None:
    net = inceptdsl.load("specs/inception_v3.incept", num_classes=10)
    doc = json.loads(net.report().to_json())
    assert doc["parameters"] == {
        "num_classes": 10,
        "aux_logits": True,
        "image_size": 299,
        "dropout": 0.5,
    }


def test_csv(rep) -> None:  # type: ignore[no-untyped-def]
    text = rep.to_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "name",
        "op",
        "shape",
        "params",
        "buffers",
        "macs",
        "flops",
        "activations",
        "aux",
    ]
    assert all(len(r) == 9 for r in rows)
    assert len(rows) == 1 + 10 + 1
    assert rows[1] == ["stem", "conv2d", "4x8x8", "116", "8", "6912", "13824", "256", ""]
    assert rows[7] == ["side.fc", "linear", "3", "15", "0", "12", "24", "3", "side"]
    assert rows[-1] == ["TOTAL", "", "", "240", "8", "12052", "24104", "781", ""]
    body = rows[1:-1]
    assert sum(int(r[3]) for r in body) == rep.params
    at1 = list(csv.reader(io.StringIO(rep.to_csv(depth=1))))
    assert [r[0] for r in at1[1:-1]] == ["stem", "m", "side", "pool", "flat", "fc"]


def test_markdown(rep) -> None:  # type: ignore[no-untyped-def]
    lines = rep.to_markdown(depth=1).splitlines()
    assert lines[0] == "# r"
    table = [ln for ln in lines if ln.startswith("|")]
    assert table[0] == "| name | op | output | params | buffers | MACs |"
    assert table[1] == "|---|---|---|---:|---:|---:|"
    assert all(ln.endswith("|") and ln.count("|") == 7 for ln in table)
    assert table[2] == "| stem | conv2d | 4x8x8 | 116 | 8 | 6,912 |"
    assert table[-1] == "| **total** | | | **240** | **8** | **12,052** |"
    assert len(table) == 2 + 6 + 1
    assert "aux heads side: 15 params, 0 buffers" in lines[2]


def test_table(rep) -> None:  # type: ignore[no-untyped-def]
    text = rep.to_table(depth=1)
    lines = text.splitlines()
    assert lines[0] == "r  (input 3x8x8)"
    assert lines[1].split() == ["name", "op", "output", "params", "buffers", "MACs"]
    assert lines[2].split() == ["stem", "conv2d", "4x8x8", "116", "8", "6,912"]
    assert lines[4].split() == ["side", "(aux)", "block", "3", "15", "0", "12"]
    assert lines[8].split() == ["total", "240", "8", "12,052"]
    # Columns align: left-aligned columns start where their header starts, right-aligned
    # numbers end where their header ends.
    header = lines[1]
    starts = [header.index(h) for h in ("op", "output")]
    ends = [header.index(h) + len(h) for h in ("params", "buffers", "MACs")]
    for ln in lines[2:8]:
        assert all(ln[i - 2 : i] == "  " and ln[i] != " " for i in starts), ln
        assert all(ln[e - 1] != " " and (e == len(ln) or ln[e] == " ") for e in ends), ln
    assert lines[8].endswith("12,052") and len(lines[8]) == ends[-1]
    assert all(ln == ln.rstrip() for ln in lines)
    assert text.endswith("FLOPs = 2 x MACs.\n")
    assert "params 240 (aux heads side: 15 params, 0 buffers); buffers 8; MACs 12,052" in text


def test_table_per_layer_marks_aux_head_rows(rep) -> None:  # type: ignore[no-untyped-def]
    lines = rep.to_table().splitlines()
    assert any(ln.split()[:3] == ["side.fc", "linear", "3"] for ln in lines)
    assert len(lines) == 1 + 1 + 10 + 1 + 1 + 2


# ---- golden files --------------------------------------------------------------------------


@pytest.mark.parametrize("path", bundled_specs(), ids=spec_id)
def test_golden_ir(request: pytest.FixtureRequest, path: Path) -> None:
    net = inceptdsl.load(str(path))
    text = print_graph(net.graph, os.path.dirname(net.path))
    assert_golden(request, f"ir/{spec_id(path)}.txt", text)


@pytest.mark.parametrize("path", bundled_specs(), ids=spec_id)
def test_golden_report(request: pytest.FixtureRequest, path: Path) -> None:
    net = inceptdsl.load(str(path))
    assert_golden(request, f"report/{spec_id(path)}.txt", net.report().to_table(depth=1))


def test_no_stale_goldens() -> None:
    """Every IR/report golden belongs to a bundled spec (a removed spec takes its goldens)."""
    golden = ROOT / "tests" / "golden"
    ids = {spec_id(p) for p in bundled_specs()}
    for kind in ("ir", "report"):
        found = {
            str(p.relative_to(golden / kind).with_suffix(""))
            for p in (golden / kind).rglob("*.txt")
        }
        assert found - ids == set(), kind


# ---- determinism ---------------------------------------------------------------------------


def _ir_texts() -> dict[str, str]:
    out = {}
    for p in bundled_specs():
        net = inceptdsl.load(str(p))
        out[spec_id(p)] = print_graph(net.graph, os.path.dirname(net.path))
    return out


def test_loading_twice_gives_identical_ir() -> None:
    first = _ir_texts()
    loader._PARSED.clear()  # parse again from scratch, not from the memo
    second = _ir_texts()
    assert first == second
    assert len(first) == len(bundled_specs())


def test_ir_independent_of_hash_seed() -> None:
    script = (
        "import json, os, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from conftest import bundled_specs, spec_id\n"
        "import inceptdsl\n"
        "from inceptdsl.ir.printer import print_graph\n"
        "out = {}\n"
        "for p in bundled_specs():\n"
        "    net = inceptdsl.load(str(p))\n"
        "    out[spec_id(p)] = print_graph(net.graph, os.path.dirname(net.path))\n"
        "print(json.dumps(out))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout) == _ir_texts()
