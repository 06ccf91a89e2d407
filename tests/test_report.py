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
from support.golden import assert_golden

import inceptdsl
from inceptdsl.front import loader
from inceptdsl.ir.printer import print_graph
from inceptdsl.report import DEFAULT_COLUMNS, SCHEMA, Row

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
    assert stem == Row(
        *("stem", "conv2d", (4, 8, 8), 116, 8, 6_912, 13_824, 256, None, 1),
        input_shapes=((3, 8, 8),),
        inputs=("input",),
        details="4 3x3 p1 bn",
        brief="4 3x3 p1 bn",
    )
    assert rep.rows[6] == Row(
        *("side.fc", "linear", (3,), 15, 0, 12, 24, 3, "side", 1),
        input_shapes=((4,),),
        inputs=("side.flatten",),
        details="3",
        brief="3",
    )


def test_blocks_depth_1(rep) -> None:  # type: ignore[no-untyped-def]
    blocks = rep.blocks(1)
    assert [(b.name, b.op, b.shape, b.params, b.macs, b.layers) for b in blocks] == [
        ("stem", "conv2d", (4, 8, 8), 116, 6_912, 1),
        ("m", "merge", (4, 8, 8), 84, 5_120, 3),
        ("side", "aux", (3,), 15, 12, 3),
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


def test_block_rows_name_the_block() -> None:
    """A block row says what made it: the block's name, an aux head's block, else `block`."""
    rep = inceptdsl.load("specs/inception_v3.incept").report()
    ops = {b.name: b.op for b in rep.blocks(1)}
    assert (ops["Mixed_5b"], ops["Mixed_6a"], ops["Mixed_7c"]) == (
        *("InceptionA", "InceptionB", "InceptionE"),
    )
    assert ops["AuxLogits"] == "InceptionAux"


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
    assert list(doc) == [
        "schema",
        "network",
        "input_shape",
        "parameters",
        "conventions",
        "totals",
        "subtotals",
        "aux_heads",
        "depth",
        "memory",
        "columns",
        "rows",
    ]
    assert doc["network"] == "r" and doc["input_shape"] == [3, 8, 8]
    assert doc["parameters"] == {}
    assert set(doc["conventions"]) == {
        *("params", "buffers", "macs", "flops", "activations", "percentages", "memory"),
    }
    assert doc["totals"] == rep.totals()
    assert (
        doc["subtotals"]["inference"]["params"] + doc["subtotals"]["aux heads"]["params"]
        == (doc["subtotals"]["total"]["params"])
    )
    assert doc["subtotals"]["total"]["macs"] == rep.macs + rep.aux_macs
    assert doc["aux_heads"] == ["side"]
    assert doc["depth"] is None
    assert doc["columns"] == list(DEFAULT_COLUMNS)
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
        "input_shapes": [[3, 8, 8]],
        "inputs": ["input"],
        "details": "4 3x3 p1 bn",
        "params_pct": 100 * 116 / 240,
        "macs_pct": 100 * 6_912 / (12_052 + 12),
        "activation_bytes": 256 * 4,
    }
    assert doc["memory"]["batch"] == 1 and doc["memory"]["dtype"] == "float32"
    at1 = json.loads(rep.to_json(depth=1))
    assert at1["depth"] == 1
    assert [r["name"] for r in at1["rows"]] == ["stem", "m", "side", "pool", "flat", "fc"]
    m = at1["rows"][1]
    assert (m["input_shapes"], m["inputs"], m["details"]) == ([[4, 8, 8]], ["stem"], "")


def test_json_parameters_are_json_values() -> None:
    net = inceptdsl.load("specs/inception_v3.incept", num_classes=10)
    doc = json.loads(net.report().to_json())
    assert doc["parameters"] == {
        "num_classes": 10,
        "aux_logits": True,
        "image_size": 299,
        "dropout": 0.5,
    }


HEADERS = [
    "name",
    "op",
    "input",
    "output",
    "details",
    "params",
    "% params",
    "buffers",
    "MACs",
    "% MACs",
    "activations",
    "act. bytes",
]


def test_csv(rep) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.reader(io.StringIO(rep.to_csv())))
    assert rows[0] == HEADERS
    assert all(len(r) == len(HEADERS) for r in rows)
    # 9 inference rows, inference subtotal, 3 aux rows... in spec order minus the aux head.
    names = [r[0] for r in rows[1:]]
    assert names == [
        *("stem", "m.a", "m.b", "m.concat", "pool", "flat", "fc", "inference"),
        *("side.global_avgpool (aux)", "side.flatten (aux)", "side.fc (aux)", "aux heads"),
        "total",
    ]
    assert rows[1] == [
        *("stem", "conv2d", "3x8x8", "4x8x8", "4 3x3 p1 bn", "116", "48.33", "8", "6912"),
        *("57.29", "256", "1024"),
    ]
    assert rows[4][2] == "2x8x8 + 2x8x8"  # the concat's inputs
    assert rows[-1] == ["total", "", "", "", "", "240", "100.00", "8", "12064", "100.00"] + [
        "792",
        "3168",
    ]


def _column_sums(lines: list[list[str]], col: int) -> int:
    return sum(int(r[col].replace(",", "")) for r in lines)


@pytest.mark.parametrize("depth", [None, 1])
def test_total_row_adds_up(rep, depth) -> None:  # type: ignore[no-untyped-def]
    """Subtotals are the sums of the rows above them, and total = inference + aux heads, in
    every numeric column of every format."""
    rows = list(csv.reader(io.StringIO(rep.to_csv(depth))))[1:]
    i_inf = next(i for i, r in enumerate(rows) if r[0] == "inference")
    i_aux = next(i for i, r in enumerate(rows) if r[0] == "aux heads")
    for col in (5, 7, 8, 10, 11):
        assert _column_sums(rows[:i_inf], col) == int(rows[i_inf][col])
        assert _column_sums(rows[i_inf + 1 : i_aux], col) == int(rows[i_aux][col])
        assert int(rows[i_inf][col]) + int(rows[i_aux][col]) == int(rows[-1][col])
    assert int(rows[-1][5]) == rep.params and int(rows[i_inf][8]) == rep.macs


def test_every_format_has_the_same_columns(rep) -> None:  # type: ignore[no-untyped-def]
    table = rep.to_table().splitlines()[1].split("  ")
    assert [h.strip() for h in table if h.strip()] == HEADERS
    md = next(ln for ln in rep.to_markdown().splitlines() if ln.startswith("| name"))
    assert [c.strip() for c in md.strip("|").split("|")] == HEADERS
    html = rep.to_html()
    assert all(f"<th>{h}</th>" in html for h in HEADERS)
    assert list(rep.to_pandas().columns) == HEADERS


def test_columns_choice(rep) -> None:  # type: ignore[no-untyped-def]
    text = rep.to_table(1, columns=["name", "params"])
    assert text.splitlines()[1].split() == ["name", "params"]
    assert text.splitlines()[2].split() == ["stem", "116"]
    with pytest.raises(ValueError, match="unknown column nope; columns are: name, op"):
        rep.to_csv(columns=["name", "nope"])


def test_markdown_escapes_spec_text() -> None:
    net = inceptdsl.loads("network n { input 3 x 8 x 8\n a_b: conv 4 1x1 }", filename="t.incept")
    md = net.report().to_markdown()
    assert "| a\\_b |" in md


def test_table(rep) -> None:  # type: ignore[no-untyped-def]
    text = rep.to_table(depth=1)
    lines = text.splitlines()
    assert lines[0] == "r  (input 3x8x8)"
    assert lines[1].split("  ")[0] == "name"
    assert lines[2].split()[:6] == ["stem", "conv2d", "3x8x8", "4x8x8", "4", "3x3"]
    assert [ln.split()[0] for ln in lines[2:11]] == [
        *("stem", "m", "pool", "flat", "fc", "inference", "side", "aux", "total"),
    ]
    assert lines[8].startswith("side (aux)") and lines[11] == ""
    # Columns align: numbers end where their header ends.
    header = lines[1]
    ends = [header.index(h) + len(h) for h in ("params", "buffers", "MACs")]
    for ln in lines[2:10]:
        assert all(ln[e - 1] != " " and (e == len(ln) or ln[e] == " ") for e in ends), ln
    assert all(ln == ln.rstrip() for ln in lines)
    assert "params 240 (aux heads side: 15 params, 0 buffers); buffers 8; MACs 12,052" in text
    assert "memory at batch 1, float32:" in text


def test_repr_is_one_line(rep) -> None:  # type: ignore[no-untyped-def]
    assert repr(rep) == "<Report r: input 3x8x8, 240 params, 12,052 MACs, 10 rows>"
    assert str(rep) == rep.to_table(1)
    assert rep._repr_html_().startswith('<div class="rep-wrap"><table class="rep">')


def test_batch_and_dtype_scale_memory_and_activation_bytes() -> None:
    net = inceptdsl.loads(SPEC, filename="t.incept")
    one, four = net.report(), net.report(batch=4, dtype="bfloat16")
    assert four.memory is not None and one.memory is not None
    assert four.memory.activations_bytes == one.memory.activations_bytes * 4 // 2
    assert four.memory.params_bytes == one.memory.params_bytes // 2
    row1 = list(csv.reader(io.StringIO(one.to_csv())))[1]
    row4 = list(csv.reader(io.StringIO(four.to_csv())))[1]
    assert (int(row4[10]), int(row4[11])) == (4 * int(row1[10]), 2 * int(row1[11]))
    with pytest.raises(ValueError, match="unknown dtype"):
        net.report(dtype="int8")


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


@pytest.mark.parametrize("path", bundled_specs(), ids=spec_id)
def test_golden_report_layers(request: pytest.FixtureRequest, path: Path) -> None:
    """Every column of every layer (input, output, details, %, activation bytes) as CSV."""
    net = inceptdsl.load(str(path))
    assert_golden(request, f"report/layers/{spec_id(path)}.csv", net.report().to_csv())


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
    layers = golden / "report" / "layers"
    found = {str(p.relative_to(layers).with_suffix("")) for p in layers.rglob("*.csv")}
    assert found - ids == set()


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
