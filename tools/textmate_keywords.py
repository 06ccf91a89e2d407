"""Rewrite the word lists of editors/vscode/syntaxes/incept.tmLanguage.json from the language:
the keywords and constants (inceptdsl.highlight and front/lexer.py, read from grammar.lark),
the layers (the op registry, longest first so that `global_avgpool` wins over `avgpool`) and the
parameter types.
The Pygments lexer reads the same lists, so both editors' highlighting follows the grammar;
tests/test_editors.py checks this file is current.

    python tools/textmate_keywords.py
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from inceptdsl.front.lexer import CONSTANTS, TYPES
from inceptdsl.highlight import KEYWORDS
from inceptdsl.ir.ops import LAYERS
from inceptdsl.output import write_output

TARGET = Path(__file__).resolve().parent.parent / "editors/vscode/syntaxes/incept.tmLanguage.json"


def word_lists(keywords: Sequence[str] = KEYWORDS) -> dict[str, Sequence[str]]:
    """The TextMate scope of each generated pattern and its words."""
    return {
        "constant.language.incept": CONSTANTS,
        "keyword.control.incept": keywords,
        "support.function.layer.incept": sorted(LAYERS, key=lambda w: (-len(w), w)),
        "storage.type.incept": TYPES,
    }


def render(text: str, keywords: Sequence[str] = KEYWORDS) -> str:
    """The grammar `text` with each generated pattern's words replaced (the rest kept)."""
    for scope, words in word_lists(keywords).items():
        pattern = re.compile(rf'("name": "{re.escape(scope)}",\s*"match": ")[^"]*(")')
        alternatives = "\\\\b(" + "|".join(words) + ")\\\\b"
        text, n = pattern.subn(lambda m, a=alternatives: m.group(1) + a + m.group(2), text)
        if n != 1:
            raise SystemExit(f"{TARGET}: no single pattern named {scope}")
    json.loads(text)  # still a valid grammar
    return text


if __name__ == "__main__":
    write_output(str(TARGET), render(TARGET.read_text(encoding="utf-8")))
    print(f"wrote {TARGET}")
