"""Diagrams: the series-parallel structure, the layout (no overlapping boxes), the four
formats, and escaping of every spec string (the hostile spec also runs in Chromium in
tests/test_draw_browser.py)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import SPECS
from support.browser import boxes_overlap
from support.draw_specs import REFERENCE, hostile_spec

import inceptdsl
from inceptdsl.draw import render
from inceptdsl.draw.layout import expanded_at, layout
from inceptdsl.draw.model import Par, build_model, default_depth


def _net(name: str) -> inceptdsl.Network:
    return inceptdsl.load(str(SPECS / f"{name}.incept"))


def test_concat_branches_are_parallel_in_concat_order() -> None:
    m = build_model(_net("googlenet").graph)
    tree = m.scopes["inception3a"].tree
    assert isinstance(tree.items[0], Par) and tree.items[1] == "inception3a.concat"
    firsts = [b.items[0] for b in tree.items[0].branches]
    assert firsts == [f"inception3a.branch{i}" for i in range(1, 5)]
    assert not tree.items[0].shortcut
    assert m.aux == [("aux1", "inception4a.concat"), ("aux2", "inception4d.concat")]


def test_residual_is_a_shortcut_around_the_branches() -> None:
    m = build_model(_net("inception_resnet_v2").graph)
    tree = m.scopes["repeat.3"].tree
    par = tree.items[0]
    assert isinstance(par, Par) and par.shortcut and len(par.branches) == 1
    assert tree.items[1:] == ("repeat.3.add", "repeat.3.relu")


def test_not_series_parallel_still_draws() -> None:
    """A diamond with a cross edge (a -> c, b -> d, a -> d): drawn as a chain + an extra edge."""
    spec = """
    network n {
      input 3 x 8 x 8
      a: conv 4 1x1
      m: add {
        conv 4 1x1
        identity
      }
    }
    """
    net = inceptdsl.loads(spec, filename="t.incept")
    svg = render(net.graph, "svg", 3)
    ET.fromstring(svg)


@pytest.mark.parametrize("name", REFERENCE)
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_no_overlapping_boxes(name: str, depth: int) -> None:
    m = build_model(_net(name).graph)
    d = layout(m, expanded_at(m, depth))
    rects = [(b.key, b.x, b.y, b.w, b.h) for b in d.boxes]
    assert boxes_overlap(rects) == []
    # Frames nest or are disjoint; boxes lie inside their frames.
    for f in d.frames:
        for b in d.boxes:
            if b.key.startswith(f.key + "."):
                assert f.x <= b.x and b.x + b.w <= f.x + f.w and f.y <= b.y <= f.y + f.h
    assert all(0 <= b.x and b.x + b.w <= d.width for b in d.boxes)


def test_default_depth_shows_enough_boxes() -> None:
    assert default_depth(build_model(_net("googlenet").graph)) == 1
    assert default_depth(build_model(_net("inception_v4").graph)) == 2  # all under `features`


def test_boxes_name_the_block_they_call() -> None:
    """A collapsed box says which block made it (timm's numbered `features.6` is an
    InceptionA), or its syntax where no block did (inception_resnet_v2's `repeat`)."""
    v4 = render(inceptdsl.load(str(SPECS / "inception_v4.incept")).graph, "dot", 2)
    for kind, n in [("Mixed3a", 1), ("InceptionA", 4), ("ReductionA", 1), ("InceptionB", 7),
                    ("ReductionB", 1), ("InceptionC", 3)]:  # fmt: skip
        assert v4.count(f"\\n{kind} · ") == n, kind
    irv2 = render(inceptdsl.load(str(SPECS / "inception_resnet_v2.incept")).graph, "dot", 1)
    assert "repeat_1\\nrepeat · 180 layers" in irv2 and "block8\\nBlock8 · 7 layers" in irv2


def test_output_is_deterministic_and_parses() -> None:
    g = _net("inception_v3").graph
    for fmt in ("svg", "html", "dot", "mermaid"):
        assert render(g, fmt, 2) == render(g, fmt, 2)
    ET.fromstring(render(g, "svg", 2))
    dot = render(g, "dot", 2)
    assert (
        dot.startswith('digraph "inception_v3" {') and dot.count("subgraph cluster_") == 12
    )  # 11 Mixed + AuxLogits
    mmd = render(g, "mermaid", 1)
    assert mmd.startswith("flowchart TB\n") and '-->|"64x147x147"|' in mmd


def test_escaping_in_every_format(tmp_path: Path) -> None:
    """Strings that reach an output are escaped; the output still parses."""
    name = '<b>"x"&y</b>.incept'
    net = inceptdsl.loads(hostile_spec(), filename=str(tmp_path / name))
    g = net.graph
    svg = render(g, "svg", 1)
    ET.fromstring(svg)  # well-formed XML
    assert "<script" not in svg and "<img" not in svg
    html = render(g, "html", 1)
    assert "<script>alert" not in html and "<img" not in html
    island = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S)
    assert island is not None and json.loads(island.group(1))["name"] == "hostile"
    dot = render(g, "dot", 1)
    assert all(line.count('"') % 2 == 0 for line in dot.splitlines() if "\\" not in line)
    from inceptdsl.present.html import report_page, verify_html

    page = report_page(net.report(), net.verify(), g, None, ("name", "details"))
    assert "<script>alert" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in verify_html(net.verify())
    md = net.report().to_markdown()
    assert "<" not in md.replace("\\<", "")
