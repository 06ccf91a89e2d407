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
from tiers import TIER_OF, TIERS  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    for tier in TIERS:
        config.addinivalue_line("markers", f"{tier}: the {tier} test tier (tests/tiers.py)")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `-m TIERS`, skip importing test files of other tiers: collecting `-m core` then
    imports no framework (a file of heavy tests imports torch or TensorFlow at module level).

    A file that marks some of its tests with another tier is always collected.
    """
    expr = config.getoption("markexpr", "")
    tier = TIER_OF.get(collection_path.name)
    if not expr or tier is None or collection_path.suffix != ".py":
        return None
    try:
        from _pytest.mark.expression import Expression

        selected = Expression.compile(expr).evaluate(lambda name, **_: name == tier)
    except Exception:  # pytest's private API moved, or an expression of other markers
        return None
    if selected or any(f"pytest.mark.{t}" in collection_path.read_text() for t in TIERS):
        return None
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its file's tier, unless it carries a tier marker of its own."""
    for item in items:
        if any(item.get_closest_marker(t) for t in TIERS):
            continue
        tier = TIER_OF.get(item.path.name)
        if tier is not None:  # an unlisted file runs only in the whole suite (test_tiers fails)
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _run_from_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in messages and goldens are shown relative to the working directory: fix it."""
    monkeypatch.chdir(ROOT)
