"""A Pygments lexer for .incept specs, registered as the `incept` lexer through the
`pygments.lexers` entry point: `pygmentize -l incept specs/inception_v3.incept`.

Keywords and layer names come from the grammar's vocabulary and the layer registry, so a new
layer is highlighted without an edit here."""

from __future__ import annotations

import re
from importlib.resources import files

from pygments.lexer import RegexLexer, bygroups, words
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

from ..ir.ops import LAYERS, MERGES


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

KEYWORDS = _grammar_words() + tuple(MERGES)
"""The grammar's keywords (but `true`/`false`/`none`, highlighted as constants, and the size
operator `x`) and the op registry's merge keywords (`concat`, `add`, ...)."""

TYPES = ("int", "float", "bool", "str", "size", "act", "any", "list", "tuple", "choice")
"""Parameter types (check/types.py), highlighted as such."""


class InceptLexer(RegexLexer):
    name = "Incept"
    aliases = ["incept", "inceptdsl"]
    filenames = ["*.incept"]
    mimetypes = ["text/x-incept"]

    tokens = {
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
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(tuple(sorted(LAYERS, key=len, reverse=True)), suffix=r"\b"), Name.Builtin),
            (words(TYPES, prefix=r"\b", suffix=r"\b"), Keyword.Type),
            (r"[A-Z]\w*", Name.Class),
            (r"[A-Za-z_]\w*(?=\s*=)", Name.Attribute),
            (r"[A-Za-z_]\w*", Name),
            (r"->|==|!=|~=|<=|>=|//|\*\*|[-+*/%<>=]", Operator),
            (r"[{}()\[\],.:]", Punctuation),
        ]
    }
