"""The diagram and the HTML report in headless Chromium (fails, never skips, without it):
pages render (non-blank screenshot), no boxes overlap (DOM bounding boxes), no console output,
the JS layout equals layout.py's, clicking a block expands it, sorting works, and a spec full
of markup runs no script."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SPECS
from PIL import Image
from support.browser import Browser, boxes_overlap
from support.draw_specs import REFERENCE, hostile_spec

import inceptdsl
from inceptdsl.draw import render
from inceptdsl.draw.layout import expanded_at, layout
from inceptdsl.draw.model import build_model


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(1200, 900) as b:
        yield b


def _dom_boxes(page) -> list[tuple[str, float, float, float, float]]:  # type: ignore[no-untyped-def]
    rects = page.eval(
        "Array.from(document.querySelectorAll('g.node rect')).map(r => {"
        " const b = r.getBoundingClientRect();"
        " return [r.parentNode.dataset.key, b.x, b.y, b.width, b.height]; })"
    )
    return [tuple(r) for r in rects]


def _not_blank(png: bytes) -> None:
    img = Image.open(io.BytesIO(png)).convert("L")
    colours = img.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20, "the screenshot is (nearly) blank"


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_diagrams_render(browser: Browser, tmp_path: Path, name: str) -> None:
    net = inceptdsl.load(str(SPECS / f"{name}.incept"))
    path = tmp_path / f"{name}.html"
    path.write_text(render(net.graph, "html", 1))
    page = browser.open(path)
    boxes = _dom_boxes(page)
    assert len(boxes) > 3
    assert boxes_overlap(boxes) == []
    _not_blank(page.screenshot(tmp_path / f"{name}.png", full=False))
    m = build_model(net.graph)

    def same_as_python(expanded: set[str]) -> None:
        """The page's layout is layout.py's, box for box."""
        js = json.loads(page.eval("document.querySelector('.inceptdsl-graph').dataset.layout"))
        py = [[b.key, b.x, b.y, b.w, b.h] for b in layout(m, expanded).boxes]
        assert [[k, *(round(v, 6) for v in r)] for k, *r in js["boxes"]] == [
            [k, *(round(v, 6) for v in r)] for k, *r in py
        ]

    same_as_python(expanded_at(m, 1))
    # Click collapsed blocks: each expands (more boxes, still no overlap, same as Python).
    expanded: set[str] = set()
    for _ in range(2):
        key = page.eval("document.querySelector('g.node.block').dataset.key")
        page.click(f'g.node[data-key="{key}"]')
        expanded.add(key)
        after = _dom_boxes(page)
        assert len(after) > len(boxes) and key not in [b[0] for b in after]
        assert boxes_overlap(after) == []
        same_as_python(expanded)
        boxes = after
    assert page.messages() == []


def test_svg_renders(browser: Browser, tmp_path: Path) -> None:
    net = inceptdsl.load(str(SPECS / "googlenet.incept"))
    path = tmp_path / "g.svg"
    path.write_text(render(net.graph, "svg", 2))
    page = browser.open(path)
    boxes = _dom_boxes(page)
    assert len(boxes) > 40 and boxes_overlap(boxes) == []
    _not_blank(page.screenshot(tmp_path / "g.png", full=False))
    assert page.messages() == []


def test_report_page(browser: Browser, tmp_path: Path) -> None:
    net = inceptdsl.load(str(SPECS / "inception_v3.incept"))
    from inceptdsl.present.html import report_page
    from inceptdsl.report import DEFAULT_COLUMNS

    path = tmp_path / "r.html"
    path.write_text(report_page(net.report(), net.verify(), net.graph, None, DEFAULT_COLUMNS))
    page = browser.open(path)
    assert page.eval("document.querySelectorAll('table.rep tbody tr').length") > 100
    assert page.eval("document.querySelectorAll('.bars .bar').length") > 20
    assert page.eval("document.querySelectorAll('.ok').length") == len(net.verify())
    assert len(_dom_boxes(page)) > 10
    # Sort by params (column 6), descending after two clicks.
    page.click("table.rep th:nth-child(6)")
    page.click("table.rep th:nth-child(6)")
    first = page.eval("document.querySelector('table.rep tbody tr td:nth-child(6)').dataset.v")
    assert int(first) == max(r.params for r in net.report().rows)
    _not_blank(page.screenshot(tmp_path / "r.png", full=False))
    assert page.messages() == []


def test_hostile_spec_runs_no_script(browser: Browser, tmp_path: Path) -> None:
    from inceptdsl.present.html import report_page

    spec = tmp_path / '"><img src=x onerror=alert(9)>.incept'
    spec.write_text(hostile_spec())
    net = inceptdsl.load(str(spec))
    pages = {
        "graph.html": render(net.graph, "html", 1),
        "graph.svg": render(net.graph, "svg", 1),
        "report.html": report_page(
            net.report(), net.verify(), net.graph, None, ("name", "details")
        ),
    }
    for name, text in pages.items():
        path = tmp_path / name
        path.write_text(text)
        page = browser.open(path)
        page.settle()
        assert page.messages() == [], name
        assert page.eval("document.querySelectorAll('img').length") == 0, name
        # The hostile strings are there, as text (the file name in hover titles, the
        # citations in the report's verification table).
        marker = "alert(1)" if name == "report.html" else "onerror=alert(9)"
        assert marker in page.eval("document.documentElement.textContent"), name


def test_control_a_script_in_the_page_is_seen(browser: Browser, tmp_path: Path) -> None:
    """The harness sees what the hostile test must not: console output and an alert."""
    path = tmp_path / "bad.html"
    path.write_text("<html><body><script>console.log('x'); alert('y')</script></body></html>")
    page = browser.open(path)
    msgs = page.messages()
    assert any(m.startswith("console.log") for m in msgs)
    assert any(m.startswith("dialog: alert") for m in msgs)


_FITS = (
    "[document.documentElement.scrollWidth, window.innerWidth,"
    " Math.max(...Array.from(document.querySelectorAll('table.rep'))"
    ".map(t => t.getBoundingClientRect().right)),"
    " Math.max(...Array.from(document.querySelectorAll('div.rep-wrap'))"
    ".map(d => d.scrollWidth - d.clientWidth))]"
)


def test_report_table_fits_1400_px(tmp_path: Path) -> None:
    """The per-layer table (concat inputs, details) fits a 1400 px window: no sideways scroll
    of the page or of the table's box; the initialiser is the details cell's hover text."""
    from inceptdsl.present.html import report_page
    from inceptdsl.report import DEFAULT_COLUMNS

    net = inceptdsl.load(str(SPECS / "inception_v3.incept"))
    page_path = tmp_path / "r.html"
    page_path.write_text(report_page(net.report(), None, None, None, DEFAULT_COLUMNS))
    cell = tmp_path / "cell.html"
    cell.write_text(f"<html><body>{net.report(depth=None)._repr_html_()}</body></html>")
    with Browser(1400, 1000) as b:
        for path in (page_path, cell):
            page = b.open(path)
            page_width, window, right, overflow = page.eval(_FITS)
            assert page_width <= window and right <= window and overflow <= 0, path
            _not_blank(page.screenshot(tmp_path / f"{path.stem}.png", full=False))
            title = page.eval("document.querySelector('td.det[title]').title")
            assert title == "32 3x3 s2 bn relu trunc_normal(std=0.1)"
            assert page.messages() == []


def test_fit_shows_a_tall_network_whole_and_frames_name_their_block(
    browser: Browser, tmp_path: Path
) -> None:
    """ "fit" scales a network taller than the window to its height (not only its width), and
    an expanded block's frame says its type beside its name (`Mixed_5b · InceptionA`)."""
    net = inceptdsl.load(str(SPECS / "inception_v3.incept"))
    path = tmp_path / "tall.html"
    path.write_text(render(net.graph, "html", 1))
    page = browser.open(path)
    page.click('g.node[data-key="Mixed_5b"]')
    frame = page.eval("document.querySelector('g.frame[data-key=\"Mixed_5b\"] text').textContent")
    assert frame == "Mixed_5b · InceptionA"
    layout_height = json.loads(
        page.eval("document.querySelector('.inceptdsl-graph').dataset.layout")
    )["height"]
    view = "document.querySelector('#view').getBoundingClientRect()"
    drawing = "document.querySelector('svg.inceptdsl-diagram > g').getBoundingClientRect()"
    assert layout_height > page.eval(f"{view}.height")  # taller than the window: a real case
    page.click('button[data-act="fit"]')
    v_top, v_bottom, v_right = page.eval(f"[{view}.top, {view}.bottom, {view}.right]")
    d_top, d_bottom, d_right = page.eval(f"[{drawing}.top, {drawing}.bottom, {drawing}.right]")
    assert v_top <= d_top and d_bottom <= v_bottom + 0.5 and d_right <= v_right + 0.5
    _not_blank(page.screenshot(tmp_path / "tall.png", full=False))
    assert page.messages() == []
