"""What a notebook shows: one-line reprs and HTML for verify results and diffs, and an error
that prints its caret and hint (issue 13, part 3)."""

from __future__ import annotations

import html.parser

import pytest

import inceptdsl
from inceptdsl import SpecError

BASE = """network tiny {
  input 3 x 8 x 8
  conv 4 3x3 pad=1
  global_avgpool
  flatten
  linear 10
  expect params == 3*3*3*4 + 4 + 4*10 + 10 source "by hand"
  expect params ~= 0.16K within 2% source "rounded"
  expect params == 162 source "plain"
  expect params == 1 source "wrong"
}
"""


class _Strict(html.parser.HTMLParser):
    """Collects start tags; the text must parse and nest."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.seen.append(tag)
        if tag not in ("br", "img", "meta"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, tag


def _parse(text: str) -> list[str]:
    p = _Strict()
    p.feed(text)
    p.close()
    assert p.stack == []
    return p.seen


def test_verification_is_a_sequence_with_a_one_line_repr_and_html() -> None:
    net = inceptdsl.loads(BASE, filename="tiny.incept")
    v = net.verify()
    assert len(v) == 4 and [r.ok for r in v] == [True, True, True, False]
    assert (v.passed, v.failed, v.skipped, v.ok) == (3, 1, 0, False)
    assert repr(v) == "<Verification tiny: 3 passed, 1 failed, 0 skipped>"
    page = v._repr_html_()
    assert _parse(page).count("tr") == 5 and "FAIL" in page and "by hand" in page


def test_figures_are_shown_as_written_with_their_value() -> None:
    v = inceptdsl.loads(BASE, filename="tiny.incept").verify()
    assert v[0].describe() == "params == 3*3*3*4 + 4 + 4*10 + 10 (162)"
    assert v[1].describe() == "params ~= 0.16K (160) within 2%"
    assert v[2].describe() == "params == 162"  # plain: no repetition


def test_diff_repr_and_html_escape_spec_names() -> None:
    a = inceptdsl.loads(BASE, filename="a.incept")
    b = inceptdsl.loads(BASE.replace("conv 4 3x3", "conv 8 3x3"), filename="<b>x</b>.incept")
    d = a.diff(b)
    assert repr(d).startswith("<Diff tiny -> tiny: ") and "params 162 -> " in repr(d)
    assert "\n" not in repr(d)
    page = d._repr_html_()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;.incept" in page
    assert "b" not in _parse(page)  # the file name is text, not markup


def test_str_of_a_spec_error_has_the_caret_and_the_hint() -> None:
    with pytest.raises(SpecError) as exc:
        inceptdsl.loads(BASE.replace("flatten", "flaten"), filename="tiny.incept")
    lines = str(exc.value).splitlines()
    assert lines[0] == "tiny.incept:5:3: error[E201]: unknown layer or block `flaten`"
    assert lines[1] == " 5 |   flaten" and lines[2] == "   |   ^^^^^^"
    assert lines[-1].startswith("  hint: did you mean `flatten`")
    assert exc.value.headline() == lines[0]
