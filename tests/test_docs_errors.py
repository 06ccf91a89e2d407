"""docs/errors.md documents every error code, and its examples are the real diagnostics.

The list of codes comes from `inceptdsl.errors.all_error_classes()`, so a new error class
fails here until it is documented. Each example in the page is marked
`<!-- example: NAME -->` and shows tests/diagnostics/NAME.incept and its golden .err exactly;
`pytest --update-golden` rewrites those blocks from the diagnostics (review the diff).
"""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from support.diagnostics import DIAGNOSTICS, _argv
from support.golden import assert_golden

from inceptdsl.errors import all_error_classes

DOC = ROOT / "docs" / "errors.md"
EXAMPLE = re.compile(r"<!-- example: (\w+) -->\n```incept\n.*?```\n\n```text\n.*?```\n", re.S)


def _example(name: str) -> str:
    spec = (DIAGNOSTICS / f"{name}.incept").read_text(encoding="utf-8")
    err = (DIAGNOSTICS / f"{name}.err").read_text(encoding="utf-8")
    command = " ".join(["inceptdsl", *_argv(DIAGNOSTICS / f"{name}.incept")])
    return f"<!-- example: {name} -->\n```incept\n{spec}```\n\n```text\n$ {command}\n{err}```\n"


def test_every_code_has_a_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    headings = re.findall(r"^## (E\d{3}): ", text, re.M)
    codes = [cls.code for cls in all_error_classes()]
    assert [c for c in codes if c not in headings] == []
    assert headings == sorted(headings), "sections in code order"
    assert len(headings) == len(set(headings))


def test_every_section_says_what_it_means_and_how_to_fix_it() -> None:
    sections = re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]
    for section in sections:
        code = section[:4]
        if not code.startswith("E"):
            continue
        cls = next(c for c in all_error_classes() if c.code == code)
        assert f"`{cls.__name__}`." in section, code
        assert "**Fix.**" in section, code


def test_every_diagnostic_is_mentioned() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [p.stem for p in sorted(DIAGNOSTICS.glob("*.incept")) if p.stem not in text]
    assert missing == [], "show or list each tests/diagnostics case under its code"


def test_examples_are_the_golden_diagnostics(request: pytest.FixtureRequest) -> None:
    text = DOC.read_text(encoding="utf-8")
    names = EXAMPLE.findall(text)
    assert len(names) >= 30
    assert all((DIAGNOSTICS / f"{n}.incept").exists() for n in names)
    assert_golden(request, DOC, EXAMPLE.sub(lambda m: _example(m.group(1)), text))
