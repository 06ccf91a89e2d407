"""Editor support: the Pygments lexer (through its entry point, as pygmentize finds it) and the
TextMate grammar agree with the language's vocabulary."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT, SPECS
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Keyword, Name

from inceptdsl.check import types as check_types
from inceptdsl.ir.ops import LAYERS, MERGES
from inceptdsl.lexer import KEYWORDS, TYPES


def test_pygmentize_highlights_a_spec() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pygments", "-l", "incept", "-f", "html",
         str(SPECS / "inception_v3.incept")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert '<span class="kn">' in proc.stdout or '<span class="k">' in proc.stdout
    assert '<span class="nb">conv</span>' in proc.stdout
    assert '<span class="c1">#' in proc.stdout


def test_lexer_tokens_and_no_errors_on_every_bundled_spec() -> None:
    lexer = get_lexer_by_name("incept")  # found through the pygments.lexers entry point
    text = (SPECS / "inception_v3.incept").read_text()
    toks = list(lexer.get_tokens(text))
    assert (Keyword, "network") in toks and (Name.Builtin, "conv") in toks
    assert (Name.Class, "InceptionA") in toks and (Name.Label, "Mixed_5b") in toks
    for p in sorted(SPECS.rglob("*.incept")):
        bad = [v for t, v in lexer.get_tokens(p.read_text()) if t is Error]
        assert bad == [], p


def test_textmate_grammar_knows_every_layer_and_keyword() -> None:
    g = json.loads((ROOT / "editors/vscode/syntaxes/incept.tmLanguage.json").read_text())
    by_name = {p.get("name"): p["match"] for p in g["patterns"] if "match" in p and "name" in p}
    layers = set(re.findall(r"\w+", by_name["support.function.layer.incept"])) - {"b"}
    assert layers == set(LAYERS)
    keywords = set(re.findall(r"\w+", by_name["keyword.control.incept"])) - {"b"}
    assert keywords == set(KEYWORDS)
    types = set(re.findall(r"\w+", by_name["storage.type.incept"])) - {"b"}
    assert types == set(TYPES) >= set(check_types.TYPES) | set(check_types.CONTAINERS)


def test_keywords_are_the_grammars() -> None:
    """Every word the grammar spells out is highlighted (a new keyword needs no edit in the
    lexer), but the constants and the size operator `x`."""
    grammar = (ROOT / "inceptdsl" / "grammar.lark").read_text()
    words = set(re.findall(r'"([A-Za-z_]\w*)"', grammar))
    assert set(KEYWORDS) == words - {"true", "false", "none", "x"} | set(MERGES)
    assert {"if", "else", "in"} <= set(KEYWORDS)
    pkg = json.loads((ROOT / "editors/vscode/package.json").read_text())
    assert pkg["contributes"]["grammars"][0]["path"] == "./syntaxes/incept.tmLanguage.json"
