"""Tests of the canonical formatter (inceptdsl/fmt.py).

`fmt` rewrites people's files, so every test checks the three promises on top of the exact
output: the meaning is unchanged (same AST up to spans), formatting is idempotent, and no
comment is lost. Exact outputs pin the canonical style so that it changes only on purpose.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

from inceptdsl import SpecError
from inceptdsl.fmt import LINE_LIMIT, format_module, format_source, strip_spans
from inceptdsl.front.parse import parse
from inceptdsl.front.transform import to_ast

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted((ROOT / "specs").glob("**/*.incept"))
PATH = "t.incept"


def meaning(text: str) -> object:
    tree, _ = parse(text, PATH)
    return strip_spans(to_ast(tree, PATH))


def comment_texts(text: str) -> Counter[str]:
    return Counter(str(tok).rstrip() for tok in parse(text, PATH)[1])


def fmt(text: str) -> str:
    """Format `text` and check the formatter's promises on the way."""
    out = format_source(text, PATH)
    assert meaning(out) == meaning(text), out
    assert format_source(out, PATH) == out, out
    assert comment_texts(out) == comment_texts(text), out
    assert out.endswith("\n") and not out.endswith("\n\n")
    return out


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# ---- every construct: exact canonical output --------------------------------------------------

CASES: dict[str, tuple[str, str]] = {
    "expressions": (
        """
        network n {
          let a = ((1 + 2))
          let b = (a + b) * c - (d - e) - (f - g) + +1
          let c = -(-a) - -(b * c) + -(a + 1)
          let d = not (a == b) and (not c or d) or (e or f)
          let e = (a < b) == c
          let f = (a x b) x c
          let g = max(a=1, 2, (3, 4), (5,)) // 2 / 3
          let h = (a or b) and c
          let i = (a and b) or not not c
          let j = 27_161_264 + 5.7G + 1e-3 + 0.5 + 15M
          let k = "tab\\there \\"q\\" back\\\\slash" + in.channels + true + false + none
          let l = 3x3 + 3x299x299 + (a + b) x 2
          let m = a*(b//c)  -  (a/b)*c
        }
        """,
        """
        network n {
          let a = 1 + 2
          let b = (a + b) * c - (d - e) - (f - g) + 1
          let c = - -a - -(b * c) + -(a + 1)
          let d = not a == b and (not c or d) or (e or f)
          let e = (a < b) == c
          let f = (a x b) x c
          let g = max(2, (3, 4), (5,), a=1) // 2 / 3
          let h = (a or b) and c
          let i = a and b or not not c
          let j = 27_161_264 + 5.7G + 1e-3 + 0.5 + 15M
          let k = "tab\\there \\"q\\" back\\\\slash" + in.channels + true + false + none
          let l = 3x3 + 3x299x299 + (a + b) x 2
          let m = a * (b // c) - a / b * c
        }
        """,
    ),
    "calls": (
        """
        block B() {
          conv 64 3x3 stride=2
          conv(64, 3x3, stride=2, pad=(0, 3))
          conv(2 * c, 3x3) pad=1
          conv 64 k x k act=relu bn=bn(eps=0.001)
          conv "s" in.channels true none 3x3 x 2
          conv(-1, 3x3)
          flatten()
          bn eps=0.1
          InceptionB
          InceptionAux num_classes
          InceptionA pool_features=32
          Foo(1, a x b, key=2)
        }
        """,
        """
        block B {
          conv 64 3x3 stride=2
          conv 64 3x3 stride=2 pad=(0, 3)
          conv(2 * c, 3x3, pad=1)
          conv 64 k x k act=relu bn=bn(eps=0.001)
          conv "s" in.channels true none 3x3 x 2
          conv(-1, 3x3)
          flatten
          bn eps=0.1
          InceptionB
          InceptionAux(num_classes)
          InceptionA(pool_features=32)
          Foo(1, a x b, key=2)
        }
        """,
    ),
    "units": (
        """
        network n {
          a: conv 1 1x1 -> b: { conv 2 1x1 -> relu } -> c: concat {
            p: conv 3 1x1
            q: maxpool 3x3
          } -> add { identity
                     conv 4 1x1 } -> residual scale=0.1 act=relu { conv 5 3x3 } shortcut { conv 5 1x1 }
          repeat 3 { relu }
          repeat k as "b{i}" { Foo(1) -> Bar }
          repeat 1 as "outer" { repeat 2 { relu } }
          residual { conv 1 1x1
            relu }
          {}
          concat {}
          g: {
            relu
            sigmoid
          }
        }
        """,  # noqa: E501
        """
        network n {
          a: conv 1 1x1 -> b: { conv 2 1x1 -> relu } -> c: concat {
            p: conv 3 1x1
            q: maxpool 3x3
          } -> add {
            identity
            conv 4 1x1
          } -> residual scale=0.1 act=relu { conv 5 3x3 } shortcut { conv 5 1x1 }
          repeat 3 { relu }
          repeat k as "b{i}" { Foo(1) -> Bar }
          repeat 1 as "outer" {
            repeat 2 { relu }
          }
          residual {
            conv 1 1x1
            relu
          }
          {}
          concat {}
          g: {
            relu
            sigmoid
          }
        }
        """,
    ),
    "statements": (
        """
        network n(num_classes: int = 1000, aux_logits: bool = true, image_size: int = 299, dropout: float = 0.5, extra: int = 7) {
          input 3 x image_size x image_size
          defaults conv()
          defaults conv(bias=false, bn=bn(eps=0.001), act=relu)
          if a { relu } else { sigmoid }
          if a { relu }
          else if b {
            tanh
          }
          else { }
          X: aux from Mixed_6e.0 weight=0.4 { InceptionAux(num_classes) }
          Y: aux from m { conv 1 1x1
            relu }
          expect params == 27_161_264 source "s"
          expect a.b.c ~= 5G within 15% with aux_logits=false, n=2 source "s"
          expect macs < 5 within a * 2 source "s"
          expect params == 27_161_264 with aux_logits=false, num_classes=10 source "a source string that is long"
          expect params == 27_161_264
            within 1%
            source "torchvision inception_v3(aux_logits=True): sum of parameters (its weights meta num_params)"
        }
        """,  # noqa: E501
        """
        network n(num_classes: int = 1000, aux_logits: bool = true,
                  image_size: int = 299, dropout: float = 0.5, extra: int = 7) {
          input 3 x image_size x image_size
          defaults conv()
          defaults conv(bias=false, bn=bn(eps=0.001), act=relu)
          if a {
            relu
          } else {
            sigmoid
          }
          if a {
            relu
          } else if b {
            tanh
          } else {}
          X: aux from Mixed_6e.0 weight=0.4 { InceptionAux(num_classes) }
          Y: aux from m {
            conv 1 1x1
            relu
          }
          expect params == 27_161_264 source "s"
          expect a.b.c ~= 5G within 15% with aux_logits=false, n=2 source "s"
          expect macs < 5 within a * 2 source "s"
          expect params == 27_161_264 with aux_logits=false, num_classes=10
            source "a source string that is long"
          expect params == 27_161_264 within 1%
            source "torchvision inception_v3(aux_logits=True): sum of parameters (its weights meta num_params)"
        }
        """,  # noqa: E501
    ),
    "imports and declarations": (
        """
        import "a.incept"
        import "b.incept" (A, B,)
        import "a_very_long_path/to/some/library/of/blocks.incept" (BlockNumberOne, BlockNumberTwo, BlockNumberThree)
        block C {}
        network N {}
        """,  # noqa: E501
        """
        import "a.incept"
        import "b.incept" (A, B)
        import "a_very_long_path/to/some/library/of/blocks.incept" (BlockNumberOne, BlockNumberTwo,
                                                                    BlockNumberThree)

        block C {}

        network N {}
        """,
    ),
    "long lines": (
        """
        block B {
          very_long_label_number_one: conv 64 1x1 -> very_long_label_number_two: conv 64 3x3 pad=1 -> relu -> relu
          concat {
            branch: conv 64 1x1 -> concat { a: relu
              b: relu } -> very_long_label_number_two: conv 64 3x3 pad=1 -> very_long_label_3: relu -> sigmoid -> tanh -> relu
          }
          SomeBlockWithALongName(first_argument=1, second_argument=2, third_argument=3, fourth_argument=4, fifth=5)
          a: relu -> lbl: SomeBlockWithALongName(first_argument=1, second_argument=2, third_argument=3) -> relu
          defaults conv(bias=false, bn=bn(eps=0.001, momentum=0.1), act=relu, stride=1, pad=0, dilation=1, groups=1)
          { conv 64 1x1 -> conv 64 1x7 pad=(0, 3) -> conv 64 7x1 pad=(3, 0) -> conv 96 3x3 -> conv 96 3x3 -> relu }
        }
        """,  # noqa: E501
        """
        block B {
          very_long_label_number_one: conv 64 1x1
            -> very_long_label_number_two: conv 64 3x3 pad=1
            -> relu
            -> relu
          concat {
            branch: conv 64 1x1
              -> concat {
                a: relu
                b: relu
              }
              -> very_long_label_number_two: conv 64 3x3 pad=1
              -> very_long_label_3: relu
              -> sigmoid
              -> tanh
              -> relu
          }
          SomeBlockWithALongName(first_argument=1, second_argument=2,
                                 third_argument=3, fourth_argument=4, fifth=5)
          a: relu
            -> lbl: SomeBlockWithALongName(first_argument=1, second_argument=2, third_argument=3)
            -> relu
          defaults conv(bias=false, bn=bn(eps=0.001, momentum=0.1),
                        act=relu, stride=1, pad=0, dilation=1, groups=1)
          {
            conv 64 1x1
              -> conv 64 1x7 pad=(0, 3)
              -> conv 64 7x1 pad=(3, 0)
              -> conv 96 3x3
              -> conv 96 3x3
              -> relu
          }
        }
        """,  # noqa: E501
    ),
    "long parameter types": (
        r"""
        fn pick(variant: choice["alpha_one", "beta_two", "gamma_three", "delta_four", "epsilon_five", "zeta_six"]) -> int = 1
        block B(x: int, sizes: list[tuple[int, int]] = [(1, 2)], mode: choice["a, b", "c]d", "e\"f", "first_long_member", "second_long_member", "third"] = "a, b",  # why
                y: int = 2) {
          relu
        }
        network n(variant: choice["alpha_one", "beta_two", "gamma_three", "delta_four", "epsilon_five", "zeta_six"] = "beta_two") {
          input 3 x 8 x 8
          B(1)
        }
        """,  # noqa: E501
        r"""
        fn pick(variant: choice["alpha_one", "beta_two", "gamma_three",
                                "delta_four", "epsilon_five", "zeta_six"]) -> int = 1

        block B(x: int, sizes: list[tuple[int, int]] = [(1, 2)],
                mode: choice["a, b", "c]d", "e\"f", "first_long_member",
                             "second_long_member", "third"] = "a, b",  # why
                y: int = 2) {
          relu
        }

        network n(variant: choice["alpha_one", "beta_two", "gamma_three", "delta_four",
                                  "epsilon_five", "zeta_six"] = "beta_two") {
          input 3 x 8 x 8
          B(1)
        }
        """,
    ),
    "newlines the post-lexer drops": (
        """
        network n(a: int,
                  b: int) {
          x1: conv(64,
                   3x3)
            -> relu
          expect params == 1
            with a=1,
                 b=2
            source "s"
          if a {
            relu
          }
          else {
            relu
          }
          residual { relu }
          shortcut { relu }
          let c =
            1
        }
        """,
        """
        network n(a: int, b: int) {
          x1: conv 64 3x3 -> relu
          expect params == 1 with a=1, b=2 source "s"
          if a {
            relu
          } else {
            relu
          }
          residual { relu } shortcut { relu }
          let c = 1
        }
        """,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_canonical_output(name: str) -> None:
    given, expected = CASES[name]
    assert fmt(src(given)) == src(expected)


@pytest.mark.parametrize("name", list(CASES))
def test_canonical_output_is_a_fixed_point(name: str) -> None:
    expected = src(CASES[name][1])
    assert format_source(expected, PATH) == expected


@pytest.mark.parametrize("name", ["long lines", "long parameter types"])
def test_lines_fit_where_a_break_is_allowed(name: str) -> None:
    out = fmt(src(CASES[name][0]))
    assert all(len(line) <= LINE_LIMIT for line in out.splitlines())


def test_number_literals_keep_their_text() -> None:
    out = fmt(
        'network n {\n  expect params == 27_161_264 within 0.5% source "s"\n'
        "  let a = 5.7G + 159K + 1_000 + 1e-3 + 1.5K\n}\n"
    )
    assert "27_161_264" in out and "0.5%" in out
    assert "5.7G + 159K + 1_000 + 1e-3 + 1.5K" in out


def test_crlf_and_tabs_are_normalised() -> None:
    text = "network n {\r\n\tconv 1 1x1  # c\r\n\r\n\r\n\trelu\r\n}\r\n"
    assert fmt(text) == "network n {\n  conv 1 1x1  # c\n\n  relu\n}\n"


def test_format_module_takes_the_parsers_comments() -> None:
    text = "# head\nnetwork n { relu }  # tail\n"
    tree, comments = parse(text, PATH)
    assert format_module(to_ast(tree, PATH), comments) == "# head\nnetwork n {\n  relu\n}  # tail\n"


def test_errors_are_the_parsers() -> None:
    for bad in ("network n {", "network n { conv 64 3x3 stride=2 64 }", "", "# only\n"):
        with pytest.raises(SpecError) as got:
            format_source(bad, PATH)
        with pytest.raises(SpecError) as want:
            to_ast(parse(bad, PATH)[0], PATH)
        assert type(got.value) is type(want.value)
        assert got.value.code == want.value.code
        assert str(got.value) == str(want.value)


def test_strip_spans_ignores_layout_only() -> None:
    assert meaning("network n { conv(64, 3x3) }") == meaning("network n {\n  conv 64 3x3\n}\n")
    assert meaning("network n { conv 64 3x3 }") != meaning("network n { conv 64 5x5 }")
    assert meaning("network n { let a = 1_0 }") != meaning("network n { let a = 10 }")


# ---- comments ---------------------------------------------------------------------------------

COMMENT_CASES: dict[str, tuple[str, str]] = {
    "leading, trailing, closing and end of file": (
        """
        # file header


        # about A
        block A {   # after the brace
          # first
          relu  # trailing


          # before b, after a blank line

          sigmoid
          # last in body
        }  # after A
        # between
        block B {
          # only a comment
        }
        # end of file
        """,
        """
        # file header

        # about A
        block A {  # after the brace
          # first
          relu  # trailing

          # before b, after a blank line

          sigmoid
          # last in body
        }  # after A

        # between
        block B {
          # only a comment
        }
        # end of file
        """,
    ),
    "chains keep comments between units": (
        """
        block A {
          a: conv 1 1x1  # first
            # about b
            -> b: conv 2 1x1  # second
            -> c: relu  # third
          d: conv 1 1x1 ->  # dangling arrow
            relu
        }
        """,
        """
        block A {
          a: conv 1 1x1  # first
            # about b
            -> b: conv 2 1x1  # second
            -> c: relu  # third
          d: conv 1 1x1  # dangling arrow
            -> relu
        }
        """,
    ),
    "comments inside joined lines move to the statement": (
        """
        block A(a: int,  # the a
                b: int) {
          conv(64,  # channels
               # own line inside
               3x3)  # kernel
          defaults conv(bias=false,  # no bias
                        act=relu)
          expect params == 1  # value
            source "s"  # source
        }
        """,
        """
        block A(a: int, b: int) {  # the a
          # channels
          conv 64 3x3  # kernel
          # own line inside
          defaults conv(bias=false, act=relu)  # no bias
          # value
          expect params == 1 source "s"  # source
        }
        """,
    ),
    "bodies with comments are not inlined": (
        """
        block A {
          aux1: aux from m { relu  # why
          }
          r: residual {
            # explain
            relu
          } shortcut { relu }
          if a {
            relu
          }
          # before else
          else { relu }
        }
        """,
        """
        block A {
          aux1: aux from m {
            relu  # why
          }
          r: residual {
            # explain
            relu
          } shortcut { relu }
          if a {
            relu
          } else {
            # before else
            relu
          }
        }
        """,
    ),
    "concat branches": (
        """
        block A {
          concat {  # branches
            # one
            a: conv 1 1x1   # 1x1
            b: conv 1 1x1 -> conv 3 3x3

            # pool
            maxpool 3x3 stride=1 pad=1 -> conv 1 1x1  # proj
          }
        }
        """,
        """
        block A {
          concat {  # branches
            # one
            a: conv 1 1x1  # 1x1
            b: conv 1 1x1 -> conv 3 3x3

            # pool
            maxpool 3x3 stride=1 pad=1 -> conv 1 1x1  # proj
          }
        }
        """,
    ),
    "a long parameter type's comments": (
        """
        network n(variant: choice["alpha_one", "beta_two",  # inner
                    # own inner
                    "gamma_three", "delta_four", "epsilon_five", "zeta_six", "eta_seven"] = "beta_two") {  # tail
          input 3 x 8 x 8
        }
        """,  # noqa: E501
        """
        network n(variant: choice["alpha_one", "beta_two", "gamma_three", "delta_four",  # inner
                                  # own inner
                                  "epsilon_five", "zeta_six", "eta_seven"] = "beta_two") {  # tail
          input 3 x 8 x 8
        }
        """,
    ),
}


@pytest.mark.parametrize("name", list(COMMENT_CASES))
def test_comments(name: str) -> None:
    given, expected = COMMENT_CASES[name]
    assert fmt(src(given)) == src(expected)
    assert fmt(src(expected)) == src(expected)  # a fixed point: no comment moves again


def test_trailing_whitespace_of_comments_is_dropped() -> None:
    assert fmt("network n {  \n  relu  # c   \t\n}\n") == "network n {\n  relu  # c\n}\n"


def _comment_every_line(text: str) -> str:
    """An own-line comment before, and a trailing comment after, every non-blank line."""
    out = []
    for i, line in enumerate(text.splitlines()):
        if line.strip():
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# own {i}", f"{line}  # tail {i}"]
        else:
            out.append(line)
    return "\n".join(out) + "\n"


STRESS = [src(c[0]) for c in (*CASES.values(), *COMMENT_CASES.values())]
STRESS += [p.read_text(encoding="utf-8") for p in BUNDLED]


@pytest.mark.parametrize("index", range(len(STRESS)))
def test_comments_everywhere_survive(index: int) -> None:
    text = _comment_every_line(STRESS[index])
    out = fmt(text)
    assert sum(comment_texts(out).values()) >= 2 * len([s for s in text.splitlines() if s]) // 3


# ---- bundled specs ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLED, ids=[str(p.relative_to(ROOT)) for p in BUNDLED])
def test_bundled_spec_round_trips(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    out = format_source(text, str(path))
    tree, comments = parse(text, str(path))
    tree2, comments2 = parse(out, str(path))
    assert strip_spans(to_ast(tree2, str(path))) == strip_spans(to_ast(tree, str(path)))
    assert format_source(out, str(path)) == out
    assert [str(c).rstrip() for c in comments2] == [str(c).rstrip() for c in comments]


@pytest.mark.parametrize("path", BUNDLED, ids=[str(p.relative_to(ROOT)) for p in BUNDLED])
def test_bundled_spec_is_canonical(path: Path) -> None:
    """The bundled specs are the house style: `inceptdsl fmt --check specs/...` stays clean."""
    text = path.read_text(encoding="utf-8")
    assert format_source(text, str(path)) == text, f"run `inceptdsl fmt {path.relative_to(ROOT)}`"


def test_there_are_bundled_specs() -> None:
    assert len(BUNDLED) >= 2


def test_an_index_after_an_index_stays_quoted() -> None:
    # `features.2.0` lexes as `features` `.` `2.0` (a number): the second index keeps its quotes.
    text = (
        'network m extends n {\n  replace features.2."0" with conv 32 3x3\n'
        '  remove b1.3."4".conv\n}\n'
    )
    assert fmt(text) == text
    assert meaning(fmt(text)) == meaning(text)


def test_a_merge_with_positional_arguments_keeps_them() -> None:
    # `c concat split=2 { }` (a label without its colon) parses as a merge `c` with an argument:
    # an error later (resolve_names), but fmt must not drop the argument and change the meaning.
    text = "network n {\n  c concat split=2 {\n    relu\n    relu\n  }\n}\n"
    assert fmt(text) == text
    assert meaning(fmt(text)) == meaning(text)
