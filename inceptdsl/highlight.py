"""A Pygments lexer for .incept specs, registered as the `incept` lexer through the
`pygments.lexers` entry point: `pygmentize -l incept specs/inception_v3.incept`.

Keywords come from the grammar (front/lexer.py), layer names and merge keywords from the op
registry, so a new keyword or layer is highlighted without an edit here. It lives after the
registry's stage; the front end's part takes the registry's names as arguments."""

from __future__ import annotations

from pygments.lexer import RegexLexer

from .front.lexer import GRAMMAR_KEYWORDS, token_rules
from .ir.ops import LAYERS, MERGES

KEYWORDS = GRAMMAR_KEYWORDS + tuple(MERGES)
"""The grammar's keywords (front/lexer.py) and the op registry's merge keywords (`concat`,
`add`, ...)."""


class InceptLexer(RegexLexer):
    name = "Incept"
    aliases = ["incept", "inceptdsl"]
    filenames = ["*.incept"]
    mimetypes = ["text/x-incept"]

    tokens = token_rules(KEYWORDS, LAYERS)
