"""Each bundled zoo spec is no longer than the reference code it reproduces (issue 19).

tools/spec_lines.py counts code lines on both sides (its docstring says what counts: the spec
with its imported libraries, no comments, blank lines or `expect`s; the reference model's own
classes and builders, no comments or docstrings). This fails when a spec grows past its
reference, when a bundled spec is in neither of the tool's lists, and when a counter counts
what it should not (the counters are checked on small texts with known answers).
"""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT, SPECS

sys.path.insert(0, str(ROOT))
from tools import spec_lines as S  # noqa: E402

pytestmark = pytest.mark.backend  # the references are torchvision, timm and Keras source


def test_every_bundled_network_spec_is_listed() -> None:
    """A new zoo spec needs its reference (or the reason it has none) in the tool."""
    specs = {
        str(p.relative_to(SPECS).with_suffix(""))
        for p in SPECS.rglob("*.incept")
        if p.parent.name not in ("lib", "variants")
    }
    assert specs == set(S.REFERENCES) | set(S.NO_REFERENCE)


@pytest.mark.parametrize("spec", sorted(S.REFERENCES))
def test_spec_is_no_longer_than_its_reference(spec: str) -> None:
    ours, theirs = S.spec_lines(spec), S.reference_lines(spec)
    print(f"{spec}: {ours} spec lines, {theirs} reference lines")
    assert 0 < ours <= theirs


def test_spec_counter_skips_comments_blanks_and_expects() -> None:
    text = (
        '# a comment\nimport "lib/x.incept"\n\nnetwork n() {\n  input 3 x 8 x 8  # trailing\n'
        '  conv 8 1x1\n  expect params == 32\n    source "a # in a string"\n'
        '  expect macs == 1 source "b"\n  flatten\n}\n'
    )
    assert S.spec_code_lines(text) == 6  # import, network, input, conv, flatten, }


def test_python_counter_skips_comments_blanks_and_docstrings() -> None:
    source = (
        'class A:\n    """Doc,\n    two lines."""\n\n    # comment\n    def f(self):\n'
        '        """One."""\n        return [\n            1,  # one\n        ]\n'
    )
    assert S.python_code_lines(source) == 5  # class, def, return [, 1, ]


def test_spec_lines_include_imported_libraries() -> None:
    files = S.spec_files(SPECS / "cnn" / "efficientnet_b0.incept")
    assert [p.name for p in files] == ["efficientnet_b0.incept", "efficientnet.incept"]
    assert S.spec_lines("cnn/efficientnet_b0") == sum(
        S.spec_code_lines(p.read_text(encoding="utf-8")) for p in files
    )
