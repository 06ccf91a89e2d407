"""Golden diagnostics: for every error code, small bad specs whose rendered errors are committed.

`tests/diagnostics/<CODE>_<what>.incept` is the spec and `<CODE>_<what>.err` the exact stderr
of `inceptdsl check` on it, with paths relative to the repository root: what a user reads is
reviewed as a diff. A first line `# inceptdsl COMMAND [ARGS...]` runs another command instead
(`verify` for expectations, `--set` for command-line parameters). Regenerate the .err files
with `pytest --update-golden` and review the diff. tests/diagnostics/.incept-root marks the
directory as a spec tree, so the import-outside-root case does not depend on the checkout.

Errors that need something a committed .incept file cannot be (a missing file, a directory,
binary bytes, a 2 MB file) are tested in test_errors.py; the coverage test below counts them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT
from support.diagnostics import DIAGNOSTICS, _argv
from support.golden import assert_golden

from inceptdsl.cli import main
from inceptdsl.errors import all_error_classes

CASES = sorted(DIAGNOSTICS.glob("*.incept"))
CLASSES = {cls.code: cls for cls in all_error_classes()}

NEVER_RAISED = {
    "E000": "SpecError, the root class: every raise site uses a subclass",
    "E400": "ShapeError, the base of E401-E407: every raise site uses a subclass",
}
UNREACHABLE = {
    "E404": "EmptyOutputError: a window's output is at least 1 whenever the (dilated) kernel fits "
    "its padded input (floor and ceil mode alike, pads are >= 0), and E403 reports the kernel "
    "that does not fit first; adaptive pooling sizes are checked >= 1 (E304)",
}
IN_TEST_ERRORS = {
    "E001": "a read error other than missing/directory (a path through a regular file)",
    "E002": "the spec file does not exist",
    "E003": "a directory given as the spec",
    "E105": "binary and non-UTF-8 bytes",
    "E901": "a file over the 2 MB limit",
}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_diagnostic(
    path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    rc = main(_argv(path))
    err = capsys.readouterr().err
    assert_golden(request, path.with_suffix(".err"), err)
    code = path.name[:4]
    reported = re.findall(r"error\[(E\d{3})\]", err)
    assert reported, err
    assert reported[0] == code, f"{path.name} reports {reported[0]}"
    assert rc == CLASSES[code].exit_code
    assert "Traceback" not in err and "internal error" not in err


def test_diagnostic_files_are_well_formed() -> None:
    # parents/: networks the variant diagnostics extend (not cases themselves)
    names = [p.name for p in DIAGNOSTICS.iterdir() if p.is_file() and p.name != ".incept-root"]
    bad = [n for n in names if not re.fullmatch(r"E\d{3}_[a-z0-9_]+\.(incept|err)", n)]
    assert bad == []
    stems = {Path(n).stem for n in names}
    orphans = sorted(s for s in stems if not (DIAGNOSTICS / f"{s}.incept").exists())
    assert orphans == [], "a .err without its .incept: delete it"
    assert all(p.name[:4] in CLASSES for p in CASES)


def test_every_error_code_has_a_diagnostic() -> None:
    """Every code is shown by a golden pair, tested in test_errors.py, or listed as unreachable
    with the reason; the exemption lists may not go stale either."""
    codes = set(CLASSES)
    golden = {p.name[:4] for p in CASES}
    errors_test = (ROOT / "tests" / "test_errors.py").read_text(encoding="utf-8")
    tested = {c for c in IN_TEST_ERRORS if f"error[{c}]" in errors_test}
    assert tested == set(IN_TEST_ERRORS), "test_errors.py must assert each of IN_TEST_ERRORS"
    exempt = set(NEVER_RAISED) | set(UNREACHABLE)
    assert sorted(codes - golden - exempt - tested) == []
    assert sorted(golden & exempt) == [], "a code with a diagnostic is not unreachable"
    assert exempt <= codes
