"""The golden diagnostics' folder and how a case there is run (tests/test_diagnostics.py runs
them; tests/test_docs_errors.py checks docs/errors.md against them)."""

from __future__ import annotations

import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


DIAGNOSTICS = ROOT / "tests" / "diagnostics"


def _argv(path: Path) -> list[str]:
    rel = str(path.relative_to(ROOT))
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    if first.startswith("# inceptdsl "):
        return [*shlex.split(first.removeprefix("# inceptdsl ")), rel]
    return ["check", rel]
