"""Rewrite the keyword and type patterns of editors/vscode/syntaxes/incept.tmLanguage.json from
the language (inceptdsl.lexer.KEYWORDS, read from grammar.lark, and lexer.TYPES), so the
TextMate grammar cannot fall behind a new keyword. tests/test_editors.py checks it is current.

    python tools/textmate_keywords.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from inceptdsl.lexer import KEYWORDS, TYPES
from inceptdsl.output import write_output

TARGET = Path(__file__).resolve().parent.parent / "editors/vscode/syntaxes/incept.tmLanguage.json"


def render(text: str) -> str:
    for scope, words in (("keyword.control.incept", KEYWORDS), ("storage.type.incept", TYPES)):
        pattern = re.compile(rf'("name": "{re.escape(scope)}",\s*"match": ")[^"]*(")')
        alternatives = "\\\\b(" + "|".join(words) + ")\\\\b"
        text = pattern.sub(lambda m, a=alternatives: m.group(1) + a + m.group(2), text)
    json.loads(text)  # still a valid grammar
    return text


if __name__ == "__main__":
    write_output(str(TARGET), render(TARGET.read_text(encoding="utf-8")))
    print(f"wrote {TARGET}")
