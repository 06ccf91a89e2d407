"""The hostile-input corpus (tests/hostile/cases.py): every case ends as promised.

Each case runs the real command line in a fresh interpreter on its own file tree. It must end
with its exit code (0 success, 1 a located spec error, 2 a usage or I/O error), never an
internal error or a traceback, with bounded and escaped output (no raw control character
reaches the terminal), within its time and memory bounds, and without changing any file it
was not asked to write (the whole tree, the outside files included, is fingerprinted before
and after). Its stderr (and stdout where the case shows it) is the golden
tests/hostile/NAME.golden: `pytest --update-golden` rewrites them; review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile.cases import CASES
from support.golden import assert_golden
from support.harness import REPO, Case, assert_promises, run

GOLDEN = REPO / "tests" / "hostile"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_case(case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    result = run(case, tmp_path / "s")
    assert_promises(result)
    assert result.rc == case.exit, f"exit {result.rc}, expected {case.exit}\n{result.err}"
    if case.check is not None:
        case.check(result)
    assert_golden(request, GOLDEN / f"{case.name}.golden", result.golden())


def test_case_names_are_unique_and_goldens_have_cases() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    orphans = sorted(p.stem for p in GOLDEN.glob("*.golden") if p.stem not in names)
    assert orphans == [], "a golden without its case: delete it"
