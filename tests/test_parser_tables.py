"""The parser's tables (inceptdsl/parser_tables.json) and the promise that nothing is unpickled.

- The committed tables are what tools/parser_tables.py generates from grammar.lark now, and the
  parser is built from them (not rebuilt from the grammar, which takes ~0.3 s per process).
- They parse every bundled spec to the same tree as a parser built from the grammar.
- No module of the package uses pickle or Lark's cache (a pickle in the shared temp
  directory, under a predictable name), and a fresh process that parses writes no cache file.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import ROOT, SPECS

from inceptdsl import parse as P

sys.path.insert(0, str(ROOT))
from tools import parser_tables  # noqa: E402


def test_committed_tables_are_current() -> None:
    assert parser_tables.TARGET.read_text(encoding="utf-8") == parser_tables.render(), (
        f"inceptdsl/parser_tables.json is stale: run `{parser_tables.COMMAND}`"
    )


def test_the_parser_is_loaded_from_the_tables() -> None:
    assert P.using_tables()


def test_tables_parse_like_the_grammar() -> None:
    fresh = P.build_parser()
    for path in sorted(SPECS.rglob("*.incept")):
        text = path.read_text(encoding="utf-8")
        assert P._parser().parse(text) == fresh.parse(text), path


def test_a_stale_fingerprint_falls_back_to_the_grammar(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    P._parser.cache_clear()
    monkeypatch.setattr(P, "grammar_fingerprint", lambda: "not the tables' fingerprint")
    try:
        assert not P.using_tables()
        assert P.parse("network n {\n  input 3 x 8 x 8\n}\n", "x.incept")[0].data == "start"
    finally:
        P._parser.cache_clear()


def test_no_pickle_and_no_lark_cache_in_the_package() -> None:
    sources = {p: p.read_text(encoding="utf-8") for p in (ROOT / "inceptdsl").rglob("*.py")}
    unpickling = re.compile(r"^\s*(import|from)\s+(pickle|marshal|shelve|dill|cloudpickle)\b", re.M)
    assert [p for p, s in sources.items() if unpickling.search(s)] == []
    assert [p for p, s in sources.items() if re.search(r"cache\s*=\s*(True|['\"])", s)] == []


def test_a_fresh_process_writes_no_cache_file(tmp_path: Path) -> None:
    before = set(Path(tempfile.gettempdir()).glob(".lark_cache*"))
    code = "import inceptdsl; inceptdsl.load('specs/googlenet.incept')"
    env = {"TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
    assert list(tmp_path.iterdir()) == []
    assert set(Path(tempfile.gettempdir()).glob(".lark_cache*")) == before
