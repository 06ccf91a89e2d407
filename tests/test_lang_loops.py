"""`for` loops (docs/language.md section 2c): iteration, unpacking, nesting, naming of the
copies, loops in merges, the work limits, and the documented examples, built for real."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from conftest import ROOT

import inceptdsl
from inceptdsl import SpecError


def _net(body: str, params: str = "", blocks: str = "") -> inceptdsl.Network:
    return inceptdsl.loads(f"{blocks}\nnetwork t({params}) {{\n  input 3 x 16 x 16\n{body}\n}}\n")


def _convs(net: inceptdsl.Network) -> list[tuple[str, int]]:
    """(name, out channels) of every conv, in graph order."""
    return [(n, d["shape"][0]) for n, d in net.graph.nodes(data=True) if d["op"].value == "conv2d"]


def test_loop_over_a_table_unpacks_and_numbers_on_in_a_group() -> None:
    net = _net(
        """  features: {
    conv 8 1x1
    for i, (c, n) in enumerate(table) {
      { for j in range(n) { conv (c + i + j) 1x1 } }
    }
  }""",
        "table: list[tuple[int, int]] = [(16, 1), (32, 2)]",
    )
    assert _convs(net) == [
        ("features.0", 8),
        ("features.1.0", 16),
        ("features.2.0", 33),
        ("features.2.1", 34),
    ]


def test_loop_without_as_adds_no_level_and_with_as_names_each_copy() -> None:
    net = _net(
        '  for c in [4, 5] { conv c 1x1 }\n  for k in range(2) as "block1-{k}" { conv 6 1x1 }'
    )
    assert _convs(net) == [("conv", 4), ("conv_1", 5), ("block1-0.conv", 6), ("block1-1.conv", 6)]


def test_repeat_pattern_takes_label_characters_and_names() -> None:
    """`repeat 4 as "block1-{i}"` was E304 (RegNet's names are block1-0 ...)."""
    net = _net('  let s = 2\n  repeat 2 as "block{s}-{i}" { conv 4 1x1 }')
    assert [n for n, _ in _convs(net)] == ["block2-0.conv", "block2-1.conv"]


def test_loop_names_are_local_and_each_iteration_sees_its_own() -> None:
    net = _net("  for c in [4, 5] {\n    let d = c * 2\n    conv d 1x1\n  }\n  conv 3 1x1")
    assert [c for _, c in _convs(net)] == [8, 10, 3]
    with pytest.raises(SpecError) as info:
        _net("  for c in [4] { conv c 1x1 }\n  conv c 1x1")
    assert info.value.code == "E201"


def test_loop_in_a_merge_makes_one_branch_per_iteration() -> None:
    net = _net("  concat { for k in [1, 3, 5] { conv 4 k x k pad=k // 2 } }")
    concat = next(n for n, d in net.graph.nodes(data=True) if d["op"].value == "concat")
    assert net.graph.nodes[concat]["shape"] == (12, 16, 16)
    assert len(list(net.graph.predecessors(concat))) == 3


def test_nested_loops_and_a_running_counter() -> None:
    """A drop-path rate over all blocks of all stages: sum(depths[:i]) + j."""
    net = _net(
        """  for i, n in enumerate(depths) {
    for j in range(n) { drop_path (0.1 * (sum(depths[:i]) + j)) }
  }""",
        "depths: list[int] = [1, 3, 2]",
    )
    ps = [d["attrs"].p for _, d in net.graph.nodes(data=True) if d["op"].value == "drop_path"]
    assert ps == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ("  for i in 3 { relu }", "E309", "got int 3"),
        ("  for i, (a, b) in enumerate([(1, 2, 3)]) { relu }", "E310", "has 3 values"),
        ("  for a, b in [1, 2] { relu }", "E310", "is int 1"),
        ('  for c in [1, 2] as "x" { relu }', "E202", "used twice"),
        ('  for c in [1.5] as "x{c}" { relu }', "E304", "is float 1.5"),
        ('  for c in [1] as "x{i}" { relu }', "E201", "unknown name `i`"),
        ('  for c in [1] as "x.{c}" { relu }', "E304", "not a valid name"),
        ('  for c in [1] {\n    expect params == 1 source "x"\n  }', "E304", "`for` body"),
    ],
)
def test_loop_errors_are_located(body: str, code: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        _net(body)
    assert info.value.code == code, info.value.render()
    assert words in info.value.render()
    assert info.value.span is not None and info.value.span.line >= 3


def test_absurd_loops_stop_within_the_limits_quickly() -> None:
    """CPU time, not wall time: the machines are shared (about 3 s of CPU today)."""
    start = time.process_time()
    cases = [
        ("  for i in range(10 ** 12) { relu }", "E900"),
        ("  for i in range(100000) { for j in range(100000) { } }", "E905"),
        ("  for i in range(99999) {\n    let r = len(range(99999))\n  }", "E905"),
    ]
    for body, code in cases:
        with pytest.raises(SpecError) as info:
            _net(body)
        assert info.value.code == code, info.value.render()
    assert time.process_time() - start < 10.0


def _doc_example(heading: str) -> str:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    return re.search(r"```\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_the_documented_examples_build() -> None:
    loops = inceptdsl.loads(_doc_example("## 2c. Loops"))
    names = [n for n, _ in _convs(loops)]
    assert names[:4] == [
        "features.0",
        "features.1.0.block.0",
        "features.2.0.block.0",
        "features.2.1.block.0",
    ]
    assert names[-2:] == ["block1-0.conv", "block1-1.conv"]
    rates = [d["attrs"].p for _, d in loops.graph.nodes(data=True) if d["op"].value == "drop_path"]
    assert rates == pytest.approx([0.2 * k / 5 for k in range(5)])
    values = inceptdsl.loads(_doc_example("**Lists and tuples.**"))
    assert values.graph.nodes["linear"]["shape"] == (324,)


def test_a_variant_edits_units_inside_loop_copies(tmp_path: Path) -> None:
    """`extends` edits reach the units a loop made, by their IR paths."""
    (tmp_path / "base.incept").write_text(
        "network base {\n  input 3 x 8 x 8\n  features: {\n    conv 4 1x1\n"
        '    for c in [8, 16] { { conv c 1x1 -> relu } }\n  }\n  for k in range(2) as "b{k}" '
        "{ conv 4 1x1 }\n}\n"
    )
    (tmp_path / "v.incept").write_text(
        'import "base.incept" (base)\nnetwork v extends base {\n'
        '  replace features.2."0" with conv 32 3x3 pad=1\n  remove b1.conv\n}\n'
    )
    net = inceptdsl.load(str(tmp_path / "v.incept"))
    assert _convs(net) == [
        ("features.0", 4),
        ("features.1.0", 8),
        ("features.2.0", 32),
        ("b0.conv", 4),
    ]
