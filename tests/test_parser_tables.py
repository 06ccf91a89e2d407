"""The parser's tables (inceptdsl/front/parser_tables.json) and the promise that nothing is
unpickled.

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

from inceptdsl.front import parse as P

sys.path.insert(0, str(ROOT))
from tools import parser_tables  # noqa: E402


def test_committed_tables_are_current() -> None:
    assert parser_tables.TARGET.read_text(encoding="utf-8") == parser_tables.render(), (
        f"inceptdsl/front/parser_tables.json is stale: run `{parser_tables.COMMAND}`"
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


PLANT = """
import os, pickle, sys, tempfile
from lark import Lark
from inceptdsl.front import parse as P
marker = sys.argv[1]
# The cache file Lark writes for this grammar and these options, in this TMPDIR...
Lark(P._grammar_text(), **P.GRAMMAR_OPTIONS, **P._runtime_options(), cache=True)
(name,) = [n for n in os.listdir(tempfile.gettempdir()) if n.startswith(".lark_cache")]
path = os.path.join(tempfile.gettempdir(), name)
head = open(path, "rb").readline()  # the grammar's hash, which Lark checks first
class Boom:
    def __reduce__(self):
        return (open, (marker, "w"))
with open(path, "wb") as fh:  # ... replaced by another user's pickle that runs code
    fh.write(head)
    pickle.dump(Boom(), fh)
print(path)
"""

LOAD = """
import sys
from lark import Lark
from inceptdsl.front import parse as P
if sys.argv[1] == "lark-cache":  # the control: what `cache=True` did
    Lark(P._grammar_text(), **P.GRAMMAR_OPTIONS, **P._runtime_options(), cache=True)
else:
    import inceptdsl
    inceptdsl.loads("network n {\\n  input 3 x 8 x 8\\n  relu\\n}\\n")
"""


def test_a_planted_cache_pickle_is_never_loaded(tmp_path: Path) -> None:
    """Another user plants a pickle where Lark's cache would be. inceptdsl never reads it; the
    control shows that `Lark(..., cache=True)`, what parse.py used to do, runs its code."""
    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir()
    env = {"TMPDIR": str(shared_tmp), "PATH": "/usr/bin:/bin"}

    def run(code: str, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
        )

    marker = tmp_path / "code-ran"
    run(PLANT, str(marker))
    run(LOAD, "inceptdsl")
    assert not marker.exists()
    run(LOAD, "lark-cache")
    assert marker.exists(), "control: the planted pickle should run under cache=True"
