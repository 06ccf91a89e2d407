"""Lists, tuples, indexing, slicing, the conditional expression, `**` and the math functions
(docs/language.md section 4), through the real loader and lowerer: each case builds a network
whose layer sizes are the expression's value, so a wrong value is a wrong shape."""

from __future__ import annotations

import time

import pytest

import inceptdsl
from inceptdsl import SpecError
from inceptdsl.cli import parse_literal
from inceptdsl.middle.values import ListValue


def _value(expr: str, params: str = "", **overrides: object) -> int:
    """The value of `expr` (an int), read back from the features of a linear layer (plus 100,
    so that 0 and small negatives are sizes too)."""
    text = (
        f"network t({params}) {{\n  input 3 x 8 x 8\n  global_avgpool -> flatten\n"
        f"  linear (100 + ({expr}))\n}}\n"
    )
    net = inceptdsl.loads(text, **overrides)
    return net.graph.nodes["linear"]["shape"][0] - 100


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("[10, 20, 30][0]", 10),
        ("[10, 20, 30][-1]", 30),
        ("[[1, 2], [3, 4]][1][0]", 3),
        ("(5, 6, 7)[1]", 6),
        ("len([1, 2, 3] + [4])", 4),
        ("sum([1, 2, 3][1:])", 5),
        ("sum([1, 2, 3][:-1])", 3),
        ("len([1, 2, 3][5:])", 0),
        ("sum(range(5))", 10),
        ("sum(range(2, 10, 3))", 15),
        ("len(range(10, 0))", 0),
        ("enumerate([7, 8])[1][0] + enumerate([7, 8])[1][1]", 9),
        ("zip([1, 2], [30, 40, 50])[1][1] + len(zip([1, 2], [3, 4, 5]))", 42),
        ("min([4, 2, 9]) + max(3, 5)", 7),
        ("2 ** 10", 1024),
        ("-2 ** 2 + 10", 6),
        ("2 ** 3 ** 2", 512),
        ("(2 ** 3) ** 2", 64),
        ("int(2 ** 0.5 * 100)", 141),
        ("pow(3, 3)", 27),
        ("int(sqrt(81))", 9),
        ("round(exp(log(12)))", 12),
        ("round(log(1000, 10))", 3),
        ("1 if true else 2", 1),
        ("1 if false else 2 if false else 3", 3),
        ("(4 if 1 > 2 else 5) * 2", 10),
        ("7 if true else [1][5]", 7),  # only the chosen side is evaluated
        ("sum([v * 2 for v in [1, 2, 3]])", 12),
        ("sum([a * b for a, b in zip([1, 2], [3, 4])])", 11),
        ("len([i for i, (a, b) in enumerate([(1, 2), (3, 4), (5, 6)]) if a > 1])", 2),
        ("sum([n for n in range(4) if n // 2 * 2 != n] + [0])", 4),
        ('index(["b0", "b1", "b2"], "b2")', 2),
        ("index([1, 2.0, 2], 2)", 2),  # an int is not found as a float
    ],
)
def test_expression_values(expr: str, value: int) -> None:
    assert _value(expr) == value


def test_typed_list_parameters_and_set() -> None:
    params = "ws: list[int] = [4, 5], fs: list[float] = [1, 2], t: tuple[int, float] = (2, 3)"
    assert _value("ws[0] * ws[1]", params) == 20
    assert _value("int(sum(fs) * t[1])", params) == 9  # ints declared float become floats
    assert _value("sum(ws)", params, ws=ListValue((1, 2, 3))) == 6
    assert (
        _value("len(tab) * tab[1][2]", "tab: list[tuple[int, int, int]] = [(1, 2, 3), (4, 5, 6)]")
        == 12
    )
    assert parse_literal("[1, 2.5, (3, 4)]") == ListValue((1, 2.5, (3, 4)))


@pytest.mark.parametrize(
    ("expr", "params", "code", "words"),
    [
        ("[1, 2][2]", "", "E307", "index 2 is out of range"),
        ("[1, 2][-3]", "", "E307", "index -3 is out of range"),
        ("[][0]", "", "E307", "the list has 0 items"),
        ("ws[0]", "ws: list[int] = [1, 2.5]", "E308", "item [1] is float 2.5"),
        ("t[0]", "t: tuple[int, int] = (1, 2, 3)", "E301", "has 3 items, not 2"),
        ("ws[0]", "ws: list[int] = 5", "E301", "not a list"),
        ("sum([1, true])", "", "E308", "item 1 is bool"),
        ("5[0]", "", "E301", "indexing needs a list or tuple"),
        ("[1][0.5]", "", "E305", "an index needs a whole number"),
        ("1 if 3 else 2", "", "E301", "expected true or false"),
        ("sqrt(-1)", "", "E305", "sqrt() needs a number >= 0"),
        ("log(0)", "", "E305", "log() needs a positive number"),
        ("0 ** -1", "", "E305", "division by zero"),
        ("10 ** 10 ** 6", "", "E900", "exceeds"),
        ("len(range(10 ** 12))", "", "E900", "a list of 1,000,000,000,000 items"),
        ("len(range(1, 2, 0))", "", "E305", "step must not be zero"),
        ('index(["b0"], "b9")', "", "E304", '"b9" is not in the list'),
        ("len([v for v in 3])", "", "E309", "needs a list or tuple"),
        ("len([v for a, b in [1]])", "", "E310", "is int 1"),
        ("len([v for v in [1] if 2])", "", "E301", "expected true or false"),
    ],
)
def test_errors_are_located(expr: str, params: str, code: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        _value(expr, params)
    assert info.value.code == code, info.value.render()
    assert words in info.value.message
    assert info.value.span is not None and info.value.span.line in (1, 4)


def test_an_absurd_list_is_refused_fast() -> None:
    """range(10**12) and a loop of big lists stop within the work limits, not in a hang."""
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        _value("len(range(10 ** 12))")
    assert info.value.code == "E900"
    with pytest.raises(SpecError) as info:
        _value("len(range(99999) + range(99999) + range(99999))")
    assert info.value.code == "E900"
    assert time.perf_counter() - start < 2.0


def test_unknown_list_type_is_a_located_error() -> None:
    with pytest.raises(SpecError) as info:
        _value("1", "ws: lst[int] = [1]")
    assert info.value.code == "E201"
    assert "did you mean `list`" in (info.value.hint or "")
