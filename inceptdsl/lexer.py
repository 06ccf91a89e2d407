"""A Pygments lexer for .incept specs, registered as the `incept` lexer through the
`pygments.lexers` entry point: `pygmentize -l incept specs/inception_v3.incept`.

Keywords and layer names come from the grammar's vocabulary and the layer registry, so a new
layer is highlighted without an edit here."""

from __future__ import annotations

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

from .ir.ops import LAYERS, MERGES

KEYWORDS = (
    "network", "block", "import", "from", "as", "input", "defaults", "let", "if", "else",
    "residual", "shortcut", "repeat", "aux", "expect", "source", "within",
    "with", "and", "or", "not", "in",
) + tuple(MERGES)  # fmt: skip
"""The grammar's keywords and the op registry's merge keywords (`concat`, `add`, ...)."""


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
            (r"([A-Za-z_][\w.]*)(\s*)(:)(?!=)", bygroups(Name.Label, Text, Punctuation)),
            (r"(@[A-Za-z0-9_-]*)(\s*)(:)(?!=)", bygroups(Name.Label, Text, Punctuation)),
            (r"\b\d+(x\d+)+\b", Number),
            (r"\b\d[\d_]*(\.\d+)?([eE][+-]?\d+)?[KMG]?%?", Number),
            (words(("true", "false", "none"), suffix=r"\b"), Keyword.Constant),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(tuple(sorted(LAYERS, key=len, reverse=True)), suffix=r"\b"), Name.Builtin),
            (r"\b(int|float|bool|str|size|act)\b", Keyword.Type),
            (r"[A-Z]\w*", Name.Class),
            (r"[A-Za-z_]\w*(?=\s*=)", Name.Attribute),
            (r"[A-Za-z_]\w*", Name),
            (r"->|==|!=|~=|<=|>=|//|[-+*/%<>=]", Operator),
            (r"[{}()\[\],.:]", Punctuation),
        ]
    }
