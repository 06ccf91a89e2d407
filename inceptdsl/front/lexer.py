"""The rules of the Pygments lexer for .incept specs, from the grammar's vocabulary: keywords
read from grammar.lark, so that a new keyword is highlighted without an edit here. The names
that come from the op registry (layers, merge keywords) are passed in by highlight.py, which
registers the lexer (`pygmentize -l incept`): the front end comes before the registry."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib.resources import files
from typing import Any

from pygments.lexer import bygroups, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)


def grammar_keywords(grammar: str) -> tuple[str, ...]:
    """Every word a grammar text spells out (`"network"`, `"for"`, ...), in grammar order, but
    the constants and the size operator `x`: the language's keywords, read from grammar.lark
    so that a new keyword is highlighted without an edit here (tests/test_editors.py holds the
    TextMate grammar to the same list)."""
    words = re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', grammar)
    return tuple(dict.fromkeys(w for w in words if w not in CONSTANTS + ("x",)))


def _grammar_words() -> tuple[str, ...]:
    return grammar_keywords(
        files("inceptdsl.front").joinpath("grammar.lark").read_text(encoding="utf-8")
    )


CONSTANTS = ("true", "false", "none")

GRAMMAR_KEYWORDS = _grammar_words()
"""The grammar's keywords, but `true`/`false`/`none` (highlighted as constants) and the size
operator `x`."""

TYPES = ("int", "float", "bool", "str", "size", "act", "any", "list", "tuple", "choice")
"""Parameter types (check/types.py), highlighted as such."""


def token_rules(keywords: Iterable[str], layers: Iterable[str]) -> dict[str, list[Any]]:
    """The lexer's `tokens`: `keywords` (the grammar's and the registry's merges) and the
    registry's `layers` highlighted as such."""
    return {
        "root": [
            (r"\s+", Whitespace),
            (r"#.*$", Comment.Single),
            (r'"(\\\\|\\"|[^"])*"', String.Double),
            (r"\b(block|network)(\s+)([A-Za-z_]\w*)", bygroups(Keyword, Whitespace, Name.Class)),
            (r"\b(fn)(\s+)([A-Za-z_]\w*)", bygroups(Keyword, Whitespace, Name.Function)),
            (r"([A-Za-z_][\w.]*)(\s*)(:)(?!=)", bygroups(Name.Label, Text, Punctuation)),
            (r"(@[A-Za-z0-9_-]*)(\s*)(:)(?!=)", bygroups(Name.Label, Text, Punctuation)),
            (r"\b\d+(x\d+)+\b", Number),
            (r"\b\d[\d_]*(\.\d+)?([eE][+-]?\d+)?[KMG]?%?", Number),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (words(tuple(keywords), suffix=r"\b"), Keyword),
            (words(tuple(sorted(layers, key=len, reverse=True)), suffix=r"\b"), Name.Builtin),
            (words(TYPES, prefix=r"\b", suffix=r"\b"), Keyword.Type),
            (r"[A-Z]\w*", Name.Class),
            (r"[A-Za-z_]\w*(?=\s*=)", Name.Attribute),
            (r"[A-Za-z_]\w*", Name),
            (r"->|==|!=|~=|<=|>=|//|\*\*|[-+*/%<>=]", Operator),
            (r"[{}()\[\],.:]", Punctuation),
        ]
    }
