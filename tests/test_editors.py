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
from inceptdsl.front.lexer import CONSTANTS, TYPES, grammar_keywords
from inceptdsl.highlight import KEYWORDS
from inceptdsl.ir.ops import LAYERS, MERGES

sys.path.insert(0, str(ROOT / "tools"))
import textmate_keywords  # noqa: E402

TEXTMATE = ROOT / "editors/vscode/syntaxes/incept.tmLanguage.json"


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
    grammar = (ROOT / "inceptdsl" / "front" / "grammar.lark").read_text()
    words = set(re.findall(r'"([A-Za-z_]\w*)"', grammar))
    assert set(KEYWORDS) == words - {"true", "false", "none", "x"} | set(MERGES)
    assert {"if", "else", "in"} <= set(KEYWORDS)
    pkg = json.loads((ROOT / "editors/vscode/package.json").read_text())
    assert pkg["contributes"]["grammars"][0]["path"] == "./syntaxes/incept.tmLanguage.json"


def _textmate_words(text: str, scope: str) -> set[str]:
    g = json.loads(text)
    [match] = [p["match"] for p in g["patterns"] if p.get("name") == scope]
    return set(re.findall(r"\w+", match)) - {"b"}


def test_textmate_grammar_is_generated_from_the_language() -> None:
    """tools/textmate_keywords.py has been run: its output is the committed grammar."""
    text = TEXTMATE.read_text(encoding="utf-8")
    assert textmate_keywords.render(text) == text
    assert _textmate_words(text, "constant.language.incept") == set(CONSTANTS)


def test_a_keyword_added_to_the_grammar_only_is_caught() -> None:
    """A new keyword in grammar.lark reaches the Pygments list at once, and the committed
    TextMate grammar then no longer matches (the checks above fail until the tool is run)."""
    grammar = (ROOT / "inceptdsl" / "front" / "grammar.lark").read_text(encoding="utf-8")
    grown = grammar_keywords(grammar + '\nfrobnicate_stmt: "frobnicate" NAME\n') + tuple(MERGES)
    assert set(grown) - set(KEYWORDS) == {"frobnicate"}
    text = TEXTMATE.read_text(encoding="utf-8")
    assert "frobnicate" not in _textmate_words(text, "keyword.control.incept")
    assert textmate_keywords.render(text, grown) != text
    regenerated = textmate_keywords.render(text, grown)
    assert _textmate_words(regenerated, "keyword.control.incept") == set(grown)


def test_pygments_highlights_edit_loop_and_expression_keywords() -> None:
    lexer = get_lexer_by_name("incept")
    variant = (SPECS / "variants" / "googlenet_5x5.incept").read_text(encoding="utf-8")
    text = variant + (
        "\nnetwork n {\n  for i in [1, 2] { conv 8 3x3 }\n"
        "  conv (prev.channels if true else 8) 1x1\n"
        "  insert relu after a\n  insert relu before b\n  replace c with relu\n  remove d\n}\n"
        "fn f(v: int) -> int = v\n"
    )
    keywords = {v for t, v in lexer.get_tokens(text) if t is Keyword}
    expected = {"extends", "replace", "insert", "remove", "before", "after", "prev", "for", "in"}
    assert expected | {"fn", "if", "else"} <= keywords, expected - keywords


def test_vscode_extension_reads_its_declared_setting_and_pins_its_client() -> None:
    """The VS Code folder packages as documented (`npm install && npm run package`): the
    setting extension.js reads is declared, the client library is a runtime dependency pinned
    by the lock file (so the .vsix bundles it), and the packaging tool is a dev dependency."""
    folder = ROOT / "editors" / "vscode"
    pkg = json.loads((folder / "package.json").read_text())
    source = (folder / "extension.js").read_text()
    settings = pkg["contributes"]["configuration"]["properties"]
    assert 'getConfiguration("inceptdsl").get("command")' in source
    assert settings["inceptdsl.command"]["default"] == ["inceptdsl", "lsp"]
    assert "vscode-languageclient/node" in source and "vscode-languageclient" in pkg["dependencies"]
    lock = json.loads((folder / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == pkg["dependencies"]
    assert lock["packages"][""]["devDependencies"] == pkg["devDependencies"]
    assert "node_modules/vscode-languageclient" in lock["packages"]
    assert pkg["scripts"]["package"].startswith("vsce package")
