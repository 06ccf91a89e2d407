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


_CELL = """
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance(colors="nocolor")
spec = "network n {\\n input 3 x 4 x 4\\n conv 8 7x7\\n}\\n"
shell.run_cell(f"import inceptdsl\\nnet = inceptdsl.loads({spec!r}, filename='n.incept')")
"""


def _ipython_cell(**env: str) -> str:
    """What IPython prints for a cell whose `inceptdsl.loads` raises a shape error (E403, raised
    deep inside lowering), in a fresh interpreter."""
    import os
    import subprocess
    import sys

    environ = {k: v for k, v in os.environ.items() if k != "INCEPTDSL_TRACEBACK"}
    proc = subprocess.run(
        [sys.executable, "-c", _CELL],
        capture_output=True,
        text=True,
        env={**environ, **env},
        timeout=120,
        check=True,
    )
    return proc.stdout + proc.stderr


def test_ipython_shows_a_spec_error_as_its_located_message_alone() -> None:
    out = _ipython_cell()
    assert out.splitlines()[:3] == [
        "n.incept:3:2: error[E403]: conv kernel 7x7 is larger than its padded input: "
        "height 4 + padding 0 = 4 < 7",
        " 3 |  conv 8 7x7",
        "   |  ^^^^^^^^^^",
    ]
    assert "Traceback" not in out and ".py" not in out and "hint: pad the input" in out


def test_ipython_shows_the_full_traceback_when_asked() -> None:
    out = _ipython_cell(INCEPTDSL_TRACEBACK="1")
    assert "Traceback (most recent call last)" in out
    assert "inceptdsl/lower/" in out and "error[E403]" in out


def test_report_depth_is_what_a_notebook_shows() -> None:
    net = inceptdsl.load("specs/inception_v3.incept")
    assert net.report() is net.report()  # one cached report at the default depth
    shallow, deep, every = net.report(), net.report(depth=2), net.report(depth=None)
    assert "Mixed_5b.branch1x1" not in str(shallow) and "InceptionA" in str(shallow)
    assert "Mixed_5b.branch1x1 " in str(deep) and "Mixed_5b.branch1x1" in deep._repr_html_()
    assert str(every) == every.to_table(None) and every.params == shallow.params
    assert shallow._repr_html_().count("<tr") < deep._repr_html_().count("<tr")


def test_diff_html_is_a_table_with_each_blocks_layers_folded() -> None:
    base = "tests/fixtures/diff/base.incept"
    d = inceptdsl.load(base).diff(inceptdsl.load("tests/fixtures/diff/retype_block.incept"))
    page = d._repr_html_()
    tags = _parse(page)
    assert tags.count("details") == len(d.blocks) == 1 and "ul" not in tags and "li" not in tags
    assert "<summary>block Mod(c=16) → Wide(c=16) (another block type); 5 layers differ" in page
    assert "conv2d 32x16x16, 6,976 params (new)" in page
