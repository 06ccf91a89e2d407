"""Errors in variants land where the cause is (issues 18 and 22): a variant called as a block is
a located error, not a crash; an edit that breaks the parent's aux head or empties a concat is
reported at the edit; a parent that fails on its own with the variant's arguments is said to,
naming the parameter, with the aux head flag that would leave the failing head out."""

from __future__ import annotations

from pathlib import Path

import pytest

from inceptdsl import SpecError, load

PARENT = """\
network parent(n: int = 8, aux_logits: bool = true, image_size: int = 32) {
  input 3 x image_size x image_size
  stem: conv n 3x3
  body: conv n 3x3
  if aux_logits {
    head: aux from body {
      aux_conv: conv 4 7x7
      global_avgpool
    }
  }
  mix: concat {
    a: conv 4 1x1
    b: conv 4 1x1
  }
  global_avgpool
}
"""


def _error(tmp_path: Path, text: str) -> SpecError:
    (tmp_path / "parent.incept").write_text(PARENT)
    (tmp_path / "v.incept").write_text('import "parent.incept" (parent)\n' + text)
    with pytest.raises(SpecError) as exc:
        load(str(tmp_path / "v.incept"))
    return exc.value


def _where(err: SpecError) -> tuple[str, int]:
    assert err.span is not None
    return Path(err.span.path).name, err.span.line


def test_a_variant_called_as_a_block_is_a_located_error(tmp_path: Path) -> None:
    """Before: `AssertionError: ReplaceStmt`, exit 3."""
    (tmp_path / "user.incept").write_text(
        'import "v.incept" (v)\nnetwork user {\n  input 3 x 32 x 32\n  v\n}\n'
    )
    _error(tmp_path, "network v extends parent {\n  remove body\n}\n")  # writes the files
    with pytest.raises(SpecError) as exc:
        load(str(tmp_path / "user.incept"))
    err = exc.value
    assert (err.code, _where(err)) == ("E304", ("user.incept", 4))
    assert err.message == (
        "`v` is a variant network (`extends parent`); a variant cannot be called as a block"
    )
    assert [(Path(n.span.path).name, n.span.line) for n in err.notes if n.span] == [("v.incept", 2)]


def test_removing_what_the_aux_head_taps_is_reported_at_the_remove(tmp_path: Path) -> None:
    err = _error(tmp_path, "network v extends parent {\n  remove body\n}\n")
    assert (err.code, _where(err)) == ("E201", ("v.incept", 3))
    assert err.message.startswith("after `remove body`: `aux from body`: no layer")
    assert [(Path(n.span.path).name, n.span.line) for n in err.notes if n.span] == [
        ("parent.incept", 6)
    ]


def test_removing_every_branch_of_a_concat_is_reported_at_the_remove(tmp_path: Path) -> None:
    err = _error(tmp_path, "network v extends parent {\n  remove mix.a, mix.b\n}\n")
    assert (err.code, _where(err)) == ("E304", ("v.incept", 3))
    assert err.message == "after `remove mix.b`: `concat` has no branches"
    assert err.notes[0].span is not None and _where_note(err) == ("parent.incept", 11)


def _where_note(err: SpecError) -> tuple[str, int]:
    span = err.notes[0].span
    assert span is not None
    return Path(span.path).name, span.line


def test_a_parent_that_fails_on_its_own_is_not_blamed_on_the_edit(tmp_path: Path) -> None:
    """image_size=12: the aux head's 7x7 conv does not fit its 8x8 - 2 grid in the parent
    alone; the `remove mix.a` is innocent (issue 22: `remove Mixed_6d`)."""
    err = _error(tmp_path, "network v extends parent(image_size=9) {\n  remove mix.a\n}\n")
    assert (err.code, _where(err)) == ("E403", ("v.incept", 2))
    assert err.message.startswith(
        "`parent` fails on its own with image_size=9 (default 32), without this variant's "
        "edits: conv kernel 7x7 is larger"
    )
    assert _where_note(err) == ("parent.incept", 7)
    assert err.hint == (
        "the failing layer belongs to the aux head `head`: pass `aux_logits=false` to leave it "
        "out, or change image_size"
    )


def test_the_parent_failing_outside_an_aux_head_names_the_parameter(tmp_path: Path) -> None:
    err = _error(tmp_path, "network v extends parent(image_size=2) {\n  remove mix.a\n}\n")
    assert (err.code, _where(err)) == ("E403", ("v.incept", 2))
    assert _where_note(err) == ("parent.incept", 3)
    assert err.hint == (
        "the parent's layers do not fit with image_size=2 (default 32): change image_size"
    )


def test_an_edit_that_breaks_the_parent_is_still_blamed(tmp_path: Path) -> None:
    """The control: the parent alone builds at image_size=16, the replacement shrinks the grid
    so that the aux head's 7x7 conv no longer fits."""
    err = _error(
        tmp_path,
        "network v extends parent(image_size=16) {\n  replace body with conv 8 3x3 stride=2\n}\n",
    )
    assert (err.code, _where(err)) == ("E403", ("v.incept", 3))
    assert err.message.startswith("after `replace body`: conv kernel 7x7")
    assert _where_note(err) == ("parent.incept", 7)
    load_ok = tmp_path / "ok.incept"
    load_ok.write_text(
        'import "parent.incept" (parent)\n'
        "network v extends parent(image_size=16) {\n  remove mix.a\n}\n"
    )
    assert len(load(str(load_ok)).graph) > 5
