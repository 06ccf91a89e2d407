"""The hostile corpus of weights files and importers (tests/hostile/cases_importers.py): every
case ends as promised (tests/test_hostile.py's promises: exit 0/1/2, no internal error or
traceback, located errors, bounded output, no file changed but the output), with its golden
in tests/hostile/importers/ (`pytest --update-golden` rewrites them; review the diff).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile.cases_importers import CASES
from support.golden import assert_golden
from support.harness import REPO, Case, assert_promises, run

GOLDEN = REPO / "tests" / "hostile" / "importers"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_importer_case(case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    result = run(case, tmp_path / "s")
    assert_promises(result)
    assert result.rc == case.exit, f"exit {result.rc}, expected {case.exit}\n{result.err}"
    assert_golden(request, GOLDEN / f"{case.name}.golden", result.golden())


def test_case_names_are_unique_and_goldens_have_cases() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    orphans = sorted(p.stem for p in GOLDEN.glob("*.golden") if p.stem not in names)
    assert orphans == [], "a golden without its case: delete it"
