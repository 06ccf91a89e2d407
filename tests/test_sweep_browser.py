"""The sweep page in headless Chromium (fails, never skips, without it): it draws every built
point and the front in red, the axes switch, hovering shows a point's parameters, clicking
copies its `--set` line, nothing is logged, and parameter values full of markup run no
script."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from PIL import Image
from support.browser import Browser

from inceptdsl.sweep import sweep

FAMILY = ROOT / "tests" / "fixtures" / "sweep" / "family.incept"


def _hover(page, selector: str) -> str:  # type: ignore[no-untyped-def]
    """Move the mouse over the element at `selector`; the tooltip's text."""
    page.eval(
        f"(() => {{ const c = document.querySelector({json.dumps(selector)});"
        " const r = c.getBoundingClientRect(); c.dispatchEvent(new MouseEvent('mousemove',"
        " {bubbles: true, clientX: r.x + 3, clientY: r.y + 3})); return 1; })()"
    )
    return str(page.eval("document.getElementById('tip').textContent"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(1000, 800) as b:
        yield b


def test_page_plots_hovers_and_copies(browser: Browser, tmp_path: Path) -> None:
    res = sweep(
        str(FAMILY),
        {"width": "0.5:2:0.5", "variant": "plain,bottleneck", "image_size": "4,16", "k": "3,5"},
        where="macs < 200K",
        objectives=["macs", "max:width"],
    )
    page_path = tmp_path / "sweep.html"
    page_path.write_text(res.to_html(), encoding="utf-8")
    page = browser.open(page_path)
    circles = page.eval("document.querySelectorAll('circle').length")
    front = page.eval(
        "Array.from(document.querySelectorAll('circle.front')).map(c => +c.dataset.index)"
    )
    assert circles == len(res.ok) == 24
    assert sorted(front) == sorted(p.index for p in res.front) and front
    assert (
        page.eval("getComputedStyle(document.querySelector('circle.front')).fill")
        == "rgb(214, 39, 40)"
    )
    # axes: the x axis label follows the select
    assert "macs" in page.eval(
        "Array.from(document.querySelectorAll('svg text')).map(t => t.textContent)"
    )
    page.eval(
        "const s = document.getElementById('x'); s.value = 'memory';"
        " s.dispatchEvent(new Event('change')); 1"
    )
    assert "memory (bytes)" in page.eval(
        "Array.from(document.querySelectorAll('svg text')).map(t => t.textContent)"
    )
    # hover: the tooltip shows the point's parameters
    idx = front[0]
    point = next(p for p in res.points if p.index == idx)
    tip = _hover(page, f'circle[data-index="{idx}"]')
    assert page.eval("document.getElementById('tip').style.display") == "block"
    for k, v in point.params.items():
        assert f"{k} = {v}" in tip
    png = page.screenshot(tmp_path / "sweep.png", full=False)
    colours = Image.open(tmp_path / "sweep.png").convert("RGB").getcolors(1 << 16)
    assert png and (colours is None or len(colours) > 20)
    page.click(f'circle[data-index="{idx}"]')
    from inceptdsl.sweep import set_line

    assert page.eval("document.getElementById('copied').textContent") == "copied: " + set_line(
        point.params
    )
    assert page.eval("document.querySelectorAll('#failed li').length") == len(res.failed) == 8
    assert page.messages() == []


def test_markup_in_values_runs_no_script(browser: Browser, tmp_path: Path) -> None:
    spec = tmp_path / "h.incept"
    spec.write_text(
        FAMILY.read_text().replace('"plain"', '"</script><img src=x onerror=alert(1)>"')
    )
    res = sweep(str(spec), ["variant=</script><img src=x onerror=alert(1)>,<b>bold</b>"])
    page_path = tmp_path / "h.html"
    page_path.write_text(res.to_html(), encoding="utf-8")
    page = browser.open(page_path)
    assert page.eval("document.querySelectorAll('img, b').length") == 0
    assert page.eval("document.querySelectorAll('circle').length") == 2
    tips = _hover(page, "circle[data-index='0']") + _hover(page, "circle[data-index='1']")
    assert "<img src=x onerror=alert(1)>" in tips and "<b>bold</b>" in tips
    assert page.messages() == []
