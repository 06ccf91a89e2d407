"""Shared test configuration: the --update-golden flag and the list of bundled specs.

Torch and TensorFlow may share the test process: triton (pulled in by torch's compiler stack)
crashes when loaded after TensorFlow, so it is made unimportable before anything imports torch
(see the triton note in docs and references).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.modules.setdefault("triton", None)  # type: ignore[arg-type]

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def bundled_specs() -> list[Path]:
    """Every spec under specs/ that defines a network (specs/lib holds shared blocks)."""
    return sorted(p for p in SPECS.rglob("*.incept") if "lib" not in p.relative_to(SPECS).parts)


def spec_id(p: Path) -> str:
    return str(p.relative_to(SPECS).with_suffix(""))


def pytest_addoption(parser):  # type: ignore[no-untyped-def]
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files instead of comparing against them",
    )


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _run_from_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in messages and goldens are shown relative to the working directory: fix it."""
    monkeypatch.chdir(ROOT)
