"""Golden files: compare text with a committed file, or rewrite it under `pytest --update-golden`.

Goldens hold what users read (IR print, reports, emitted source, rendered errors); a change to
one is reviewed as a diff like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent.parent / "golden"


def assert_golden(request: pytest.FixtureRequest, path: Path | str, text: str) -> None:
    path = Path(path)
    if not path.is_absolute():
        path = GOLDEN_DIR / path
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"missing golden {path}; run pytest --update-golden and review the diff"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{path} differs; run pytest --update-golden and review the diff"
