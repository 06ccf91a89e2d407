"""Golden emitted torch source for every bundled spec (tests/golden/torch/<spec>.py).

The emitted file is what users read and keep, so any change to it is reviewed as a diff:
`pytest --update-golden` rewrites these files after an intended change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import bundled_specs, spec_id
from support.golden import assert_golden

import inceptdsl
from inceptdsl.backend import get

BACKEND = get("torch")


@pytest.mark.parametrize("spec", bundled_specs(), ids=spec_id)
def test_emitted_source_matches_golden(request: pytest.FixtureRequest, spec: Path) -> None:
    text = BACKEND.emit(inceptdsl.load(str(spec)).graph)
    assert_golden(request, f"torch/{spec_id(spec)}.py", text)
