"""The sweep page in headless Chromium (fails, never skips, without it): it draws every built
point and the front in red, the axes switch, hovering shows a point's parameters (in the
window), clicking copies its `--set` line, nothing is logged, and parameter values full of
markup run no script. A search's page is titled after the search and shows its trials with
what they measured."""

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


def _tip_box(page):  # type: ignore[no-untyped-def]
    return page.eval(
        "(() => { const r = document.getElementById('tip').getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom, innerWidth, innerHeight]; })()"
    )


def test_search_page_is_the_search_and_shows_its_trials(browser: Browser, tmp_path: Path) -> None:
    import optuna

    from inceptdsl.search import Search

    s = Search(str(FAMILY), ["width=0.5:2.0:0.25", "depth=1:3"], where="macs <= 1M")
    study = optuna.create_study(
        study_name="wide",
        directions=["maximize", "minimize"],
        sampler=optuna.samplers.RandomSampler(seed=1),
    )

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        params, metrics = s.evaluate(trial)
        trial.set_user_attr("score", params["width"] / params["depth"])  # a stand-in accuracy
        return trial.user_attrs["score"], metrics["macs"]

    study.optimize(objective, n_trials=20)
    res = s.result(study, s.objectives(["max:score", "macs"], ("score",)), 20)
    done = [p for p in res.points if "score" in p.metrics]
    assert done and len(done) < len(res.points)  # some pruned by the constraint
    page_path = tmp_path / "search.html"
    page_path.write_text(res.to_html(), encoding="utf-8")
    page = browser.open(page_path)
    title = 'search of family, study "wide"'
    assert page.eval("document.title") == title
    assert page.eval("document.querySelector('h1').textContent") == title
    assert page.eval("document.getElementById('x').value") == "score"
    assert page.eval("document.querySelectorAll('circle').length") == len(done)
    front = page.eval(
        "Array.from(document.querySelectorAll('circle.front')).map(c => +c.dataset.index)"
    )
    assert sorted(front) == sorted(p.index for p in res.front) and front
    left = len(res.points) - len(res.failed) - len(done)
    assert page.eval("document.getElementById('note').textContent").startswith(
        f"{left} trials without score not drawn"
    )
    # hover the front's lowest point (bottom left): the trial, its score, inside the window
    low = min(res.front, key=lambda p: p.metrics["macs"])
    tip = _hover(page, f'circle[data-index="{low.index}"]')
    assert tip.startswith(f"trial {low.index} (front)\n")
    score = low.metrics["score"]
    assert f"score: {score:.4g}\n" in tip, tip
    x0, y0, x1, y1, w, h = _tip_box(page)
    assert 0 <= x0 and x1 <= w and 0 <= y0 and y1 <= h
    page.screenshot(tmp_path / "search.png", full=False)
    assert page.messages() == []
    # control: the sweep's page keeps its title and says points
    sw = sweep(str(FAMILY), ["width=0.5,1.0"])
    (tmp_path / "sweep.html").write_text(sw.to_html(), encoding="utf-8")
    page = browser.open(tmp_path / "sweep.html")
    assert page.eval("document.title") == "sweep of family"
    assert _hover(page, 'circle[data-index="0"]').startswith("point 0")


def _labels(page) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The tick labels of each axis (the x axis's share one baseline, below the y axis's)."""
    texts = page.eval(
        "Array.from(document.querySelectorAll('text.axis'))"
        ".map(t => [+t.getAttribute('y'), t.textContent])"
    )
    bottom = max(y for y, _ in texts)
    return {
        "x": [t for y, t in texts if y == bottom],
        "y": [t for y, t in texts if y != bottom],
    }


def test_axis_ticks_are_round_numbers(browser: Browser, tmp_path: Path) -> None:
    """Tick labels a reader can use: 1, 2 or 5 times a power of ten apart on a linear axis
    (not fifths of the data's range: 6.55G, 13.1G), 1-2-5 values on a log axis, and a count
    axis that starts near zero drawn from 0."""
    res = sweep(str(FAMILY), {"width": "0.5:2:0.25", "image_size": "4,8,16"})
    page_path = tmp_path / "sweep.html"
    page_path.write_text(res.to_html(), encoding="utf-8")
    page = browser.open(page_path)
    units = {"K": 1e3, "M": 1e6, "G": 1e9}

    def number(label: str) -> float:
        return float(label[:-1]) * units[label[-1]] if label[-1] in units else float(label)

    def round_125(v: float) -> bool:
        return f"{v:.6e}".split("e")[0].rstrip("0").rstrip(".") in {"1", "2", "5"}

    for log in (False, True):
        page.eval(
            "(() => { for (const id of ['logx', 'logy']) { const b = document.getElementById(id);"
            f" b.checked = {str(log).lower()}; b.dispatchEvent(new Event('change')); }}"
            " return 1; })()"
        )
        for axis, labels in _labels(page).items():
            values = [number(t) for t in labels]
            assert len(values) >= 3, (axis, labels)
            if log:
                assert all(round_125(v) for v in values), (axis, labels)
                continue
            assert values[0] == 0, (axis, labels)  # params and macs drawn from zero
            steps = {round(b - a, 9) for a, b in zip(values, values[1:], strict=False)}
            assert len(steps) == 1 and round_125(steps.pop()), (axis, labels)
