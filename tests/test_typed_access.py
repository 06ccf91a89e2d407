"""Code outside inceptdsl/ir reads the IR through its typed accessors (`inceptdsl.ir.node`,
`nodes`, `info`, `shape_of`, `op_of`, `aux_of`, `finish`), never by string key
(`g.nodes[n]["shape"]`, `d["op"]`, `g.graph["output"]`): a renamed or retyped attribute is then
one change in inceptdsl/ir/graph.py that mypy follows.

NOT_YET lists the files not converted yet with their count of string-key reads; the count may
only go down (a new string-key read anywhere fails, naming the file and line).
"""

from __future__ import annotations

import re

from conftest import ROOT

KEYS = "op|attrs|shape|params|buffers|macs|span|aux|name|input_shape|output|aux_heads|scopes"
STRING_KEY = re.compile(
    r"(\.nodes\[(?:[^\[\]]|\[[^\]]*\])*\]|\.graph|\b(?:d|node|last|ib|m)|\b\w+\[1\])"
    rf"\[[\"']({KEYS}|residual_adds)[\"']\]"
    rf"|\.graph\.get\([\"']({KEYS}|residual_adds)[\"']"
)
"""A string-key read of a node (`g.nodes[n]["shape"]`, `d["op"]` of `nodes(data=True)`) or of
the graph (`g.graph["output"]`)."""

NOT_YET: dict[str, int] = {}


def _reads() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for root in ("inceptdsl", "backends"):
        for p in sorted((ROOT / root).rglob("*.py")):
            rel = p.relative_to(ROOT).as_posix()
            if rel.startswith("inceptdsl/ir/"):
                continue
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
                if STRING_KEY.search(line.split("#", 1)[0]):
                    found.setdefault(rel, []).append(i)
    return found


def test_no_string_key_access_outside_the_ir() -> None:
    over = [
        f"{rel}:{lines[0]}: {len(lines)} string-key reads (allowed {NOT_YET.get(rel, 0)})"
        for rel, lines in _reads().items()
        if len(lines) > NOT_YET.get(rel, 0)
    ]
    assert not over, "use inceptdsl.ir's typed accessors:\n" + "\n".join(over)


def test_not_yet_is_exact() -> None:
    """A converted file leaves NOT_YET (or lowers its count), so the list shows what is left."""
    reads = {rel: len(lines) for rel, lines in _reads().items()}
    assert reads == NOT_YET


def test_the_pattern_sees_each_form() -> None:
    """Control: each way of reading by key is found; typed reads are not."""
    bad = [
        'g.nodes[n]["shape"]',
        'd["op"]',
        'g.graph["output"]',
        'self.g.graph["name"]',
        'ia[1]["shape"]',
        'last["params"]',
        "d['op'].value",
        'g.graph.get("scopes")',
    ]
    good = ["node(g, n).shape", "info(g).output", "shape_of(g, n)", 'entry["shape"]', "d.op"]
    assert all(STRING_KEY.search(b) for b in bad)
    assert not any(STRING_KEY.search(x) for x in good)
