"""Brace errors (E106 unclosed `{`, E107 extra `}`) point at the brace, not where the parser gave
up: the cases of issue 22 item 5, the cases that must keep their old error, and the language
server showing the same error with the note as related information."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.lsp_client import Client

from inceptdsl import SpecError
from inceptdsl.front.parse import parse

BODY = "  input 3 x 32 x 32\n  conv 16 3x3\n  global_avgpool -> flatten -> linear 10\n"


def _error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse(text, "a.incept")
    return info.value


def _where(err: SpecError) -> tuple[str, int | None, int | None, list[int | None]]:
    return err.code, err.line, err.column, [n.span.line if n.span else None for n in err.notes]


def test_missing_brace_before_the_next_declaration() -> None:
    err = _error("block Stem {\n  conv 32 3x3\n\nnetwork tiny {\n" + BODY + "}\n")
    assert _where(err) == ("E106", 1, 12, [4])
    assert "`block Stem`" in err.message


def test_unclosed_concat_that_swallows_the_next_lines() -> None:
    text = "network tiny {\n  input 3 x 32 x 32\n  concat {\n    conv 16 1x1\n    relu\n"
    err = _error(text + "  global_avgpool -> flatten -> linear 10\n}\n")
    assert _where(err) == ("E106", 3, 10, [6])
    assert "`concat`" in err.message


def test_nested_unclosed_brace_closed_by_a_less_indented_brace() -> None:
    text = (
        "network t {\n  input 3 x 8 x 8\n  A: concat {\n    add {\n      relu\n    relu\n  }\n}\n"
    )
    assert _where(_error(text)) == ("E106", 4, 9, [6])  # `add`, whose `}` belongs before `relu`


def test_last_brace_missing_and_several_unclosed_at_the_end() -> None:
    assert _where(_error("network tiny {\n" + BODY)) == ("E106", 1, 14, [])
    err = _error("block A {\n  concat {\n    add {\n      relu\n")
    assert _where(err) == ("E106", 1, 9, [2, 3])
    assert [n.message for n in err.notes] == [
        "`concat` is not closed either",
        "`add` is not closed either",
    ]
    assert err.hint == "every `{` needs its `}`; add them at the end of the file, innermost first"


def test_extra_brace_inside_the_network() -> None:
    text = "network tiny {\n  input 3 x 32 x 32\n  concat {\n    relu\n  }\n  }\n  relu\n}\n"
    err = _error(text)
    assert _where(err) == ("E107", 6, 3, [1])
    assert err.notes[0].message == "`network tiny` opened here closes on line 8"


def test_extra_brace_at_the_end() -> None:
    assert _where(_error("network tiny {\n" + BODY + "}\n}\n")) == ("E107", 6, 1, [])


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        # the file ends inside a statement: cut short, not a brace error
        ("network t {\n  input 3 x 8 x 8\n  conv 8 3x3 stride=\n", "E103", 3),
        # an unrelated mistake before the unclosed brace is reported as it is
        ("network t {\n  conv 16 3x3 = 4\n  concat {\n    relu\n}\n", "E101", 2),
        # a character the lexer rejects: the braces after it are unknown
        ("network t {\n  conv 4 3x3 relu -> bad=$\n", "E101", 2),
        # balanced braces: the parser's own error
        ("network t {\n  input 3 x 8 x 8\n  conv 8 3x3 -> = 4\n}\n", "E101", 3),
    ],
)
def test_other_errors_keep_their_code(text: str, code: str, line: int) -> None:
    err = _error(text)
    assert (err.code, err.line) == (code, line), err.render()


def test_language_server_shows_the_unclosed_brace(tmp_path: Path) -> None:
    text = "network tiny {\n  input 3 x 32 x 32\n  concat {\n    relu\n  relu\n}\n"
    client = Client()
    try:
        uri = client.open(tmp_path / "a.incept", text)
        [d] = client.diagnostics(uri)
    finally:
        client.close()
    assert d["code"] == "E106"
    assert d["range"]["start"] == {"line": 2, "character": 9}
    assert d["message"].startswith("unclosed `{`: `concat` opened here is never closed")
    [related] = d["relatedInformation"]
    assert related["location"]["range"]["start"] == {"line": 4, "character": 2}
    assert "its `}` belongs before this line" in related["message"]
