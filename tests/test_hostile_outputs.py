"""The hostile cases about outputs (tests/hostile/cases_outputs.py), run as test_hostile.py runs
its corpus: the real command line in a fresh interpreter, every promise checked, the whole tree
fingerprinted, stderr (and stdout where shown) compared with tests/hostile/outputs/NAME.golden.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hostile.cases import CASES as CORPUS
from hostile.cases_outputs import CASES
from support.golden import assert_golden
from support.harness import REPO, Case, assert_promises, run

GOLDEN = REPO / "tests" / "hostile" / "outputs"

_FRAMEWORK_LOG = re.compile(r"^[WIEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+\] .*\n", re.MULTILINE)
"""A framework's own log line (glog format: level, date, time, pid; torch warns that triton
is missing): its time and pid differ on every run, and it is not inceptdsl's output."""


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_output_case(case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    result = run(case, tmp_path / "s")
    assert_promises(result)
    assert result.rc == case.exit, f"exit {result.rc}, expected {case.exit}\n{result.err}"
    if case.check is not None:
        case.check(result)
    golden = _FRAMEWORK_LOG.sub("", result.golden())
    assert_golden(request, GOLDEN / f"{case.name}.golden", golden)


def test_case_names_are_unique_and_goldens_have_cases() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) and not set(names) & {c.name for c in CORPUS}
    orphans = sorted(p.stem for p in GOLDEN.glob("*.golden") if p.stem not in names)
    assert orphans == [], "a golden without its case: delete it"
