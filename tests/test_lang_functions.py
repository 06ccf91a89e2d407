"""Declared functions (`fn`, docs/language.md section 4c): calls by position and name, typed
parameters and results, imports, the static rules (only parameters visible, top-down, no
recursion) and the work limits, through the real loader and lowerer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import ROOT

import inceptdsl
from inceptdsl import SpecError

MAKE_DIVISIBLE = """
fn round_up(v: float, d: int, n: int) -> int = n + d if n < 0.9 * v else n
fn make_divisible(v: float, d: int = 8) -> int = round_up(v, d, max(d, int(v + d / 2) // d * d))
"""


def _make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's _make_divisible, the reference the spec's function must equal."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _value(expr: str, fns: str = MAKE_DIVISIBLE, params: str = "") -> int:
    text = (
        f"{fns}\nnetwork t({params}) {{\n  input 3 x 8 x 8\n  global_avgpool -> flatten\n"
        f"  linear ({expr})\n}}\n"
    )
    return inceptdsl.loads(text).graph.nodes["linear"]["shape"][0]


@pytest.mark.parametrize("v", [3.2, 16.0, 17.6, 24 * 1.4, 35.2, 71.9, 100.0, 250.0, 1279.9])
def test_make_divisible_equals_torchvisions(v: float) -> None:
    assert _value(f"make_divisible({v})") == _make_divisible(v)
    assert _value(f"make_divisible(d=4, v={v})") == _make_divisible(v, 4)


def test_typed_parameters_defaults_and_results() -> None:
    fns = "fn f(a: int, b: list[float] = [1, 2]) -> int = int(a * sum(b))"
    assert _value("f(2)", fns) == 6
    assert _value("f(2, [0.5, 0.5])", fns) == 2
    with pytest.raises(SpecError) as info:
        _value("f(2, [1, true])", fns)
    assert info.value.code == "E308"
    assert "in function `f` called here" in info.value.render()
    with pytest.raises(SpecError) as info:
        _value("f(2)", "fn f(a: int) -> int = a / 3")
    assert info.value.code == "E301" and "`f`'s result" in info.value.message


@pytest.mark.parametrize(
    ("fns", "call", "code", "words"),
    [
        ("fn f(a: int) = a", "f(1, 2)", "E303", "takes 1 arguments, got 2"),
        ("fn f(a: int) = a", "f(b=1)", "E306", "has no parameter `b`"),
        ("fn f(a: int) = a", "f()", "E303", "needs argument `a`"),
        ("fn f(a: int) = a", "f(1, a=1)", "E303", "given twice"),
        ("fn f(a: int) = a + n", "f(1)", "E201", "unknown name `n` in function `f`"),
        ("fn f(a: int) = in.channels", "f(1)", "E201", "not available in function"),
        ("fn f(a: int) = g(a)\nfn g(a: int) = a", "f(1)", "E211", "used before it is declared"),
        ("fn f(a: int) -> int = f(a)", "f(1)", "E212", "f -> f"),
        ("fn f(a: int) = g(a)\nfn g(a: int) = f(a)", "f(1)", "E212", "f -> g -> f"),
        ("fn f(a: int) = nope(a)", "f(1)", "E201", "unknown function `nope`"),
        ("fn max(a: int) = a", "1", "E202", "name of a built-in function"),
        ("fn f(a: int) = a\nfn f(a: int) = a", "1", "E202", "declared twice"),
        ("fn f(a: int) -> lst = a", "1", "E201", "unknown type `lst`"),
    ],
)
def test_function_errors_are_located(fns: str, call: str, code: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        _value(call, fns)
    assert info.value.code == code, info.value.render()
    assert words in info.value.render()
    assert info.value.span is not None


def test_functions_are_imported_like_blocks(tmp_path: Path) -> None:
    (tmp_path / "lib.incept").write_text(MAKE_DIVISIBLE + "\nblock B { relu }\n")
    (tmp_path / "one.incept").write_text(
        'import "lib.incept" (make_divisible)\nnetwork n {\n  input 3 x 8 x 8\n'
        "  conv make_divisible(20) 1x1\n}\n"
    )
    (tmp_path / "all.incept").write_text(
        'import "lib.incept"\nnetwork n {\n  input 3 x 8 x 8\n  conv make_divisible(20) 1x1\n'
        "  B\n}\n"
    )
    for name in ("one", "all"):
        net = inceptdsl.load(str(tmp_path / f"{name}.incept"))
        assert net.graph.nodes["conv"]["shape"][0] == 24
    (tmp_path / "bad.incept").write_text(
        'import "lib.incept" (round_upp)\nnetwork n {\n  input 3 x 8 x 8\n}\n'
    )
    with pytest.raises(SpecError) as info:
        inceptdsl.load(str(tmp_path / "bad.incept"))
    assert info.value.code == "E201" and "did you mean `round_up`" in (info.value.hint or "")


def test_absurd_call_trees_stop_within_the_limits() -> None:
    doubling = "fn f0(v: int) -> int = v + 1\n" + "".join(
        f"fn f{i}(v: int) -> int = f{i - 1}(v) + f{i - 1}(v)\n" for i in range(1, 30)
    )
    chain = "fn f0(v: int) -> int = v + 1\n" + "".join(
        f"fn f{i}(v: int) -> int = f{i - 1}(v)\n" for i in range(1, 60)
    )
    start = time.perf_counter()
    for fns, call, code in ((doubling, "f29(1)", "E905"), (chain, "f59(1)", "E904")):
        with pytest.raises(SpecError) as info:
            _value(call, fns)
        assert info.value.code == code, info.value.render()
    assert time.perf_counter() - start < 10.0


def test_the_documented_example_builds() -> None:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = text[text.index("## 4c. Functions") :]
    start = section.index("```\n") + 4
    example = section[start : section.index("```\n", start)]
    net = inceptdsl.loads(example)
    assert net.graph.nodes["conv"]["shape"][0] == _make_divisible(32 * 1.4) == 48
    assert net.graph.nodes["conv_1"]["shape"][0] == _make_divisible(16 * 1.4, 4)


def test_go_to_definition_of_a_function(tmp_path: Path) -> None:
    """The language server's go-to-definition finds a function declared in an imported file."""
    from inceptdsl.lsp.analysis import analyze, definition

    (tmp_path / "lib.incept").write_text(MAKE_DIVISIBLE)
    text = 'import "lib.incept"\nnetwork n {\n  input 3 x 8 x 8\n  conv make_divisible(20) 1x1\n}\n'
    path = tmp_path / "net.incept"
    path.write_text(text)
    a = analyze(str(path), text)
    span = definition(a, 3, text.splitlines()[3].index("make_divisible") + 2)
    assert span is not None and span.path.endswith("lib.incept") and span.line == 3
