"""Where a variant's error belongs: at the edit that caused it, or with the parent.

A variant is its parent's text lowered with edits applied, so an error raised in the parent's
layers (a shape that no longer fits, an aux head whose tap was removed, a concat whose every
branch was removed) is located in the parent's file, where nothing points at the change. If the
parent alone, built with the same arguments, fails the same way, the edits are innocent: the
error is reported at the `extends` clause, naming the parameters that differ from the parent's
defaults, with the parent's location as a note and a hint to turn off a conditional aux head the
failing layer belongs to (`aux_logits=false`, found from the spec: any boolean parameter whose `if`
guards that head). Otherwise it is reported at the last edit applied before it, with the
parent's location as a note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from ..errors import LimitError, Note, ShapeError, SpecError, SpecErrors
from ..front import ast as A
from ..front.source import Span
from .evaluate import Evaluator
from .values import format_value


class Edit(Protocol):
    """What this module reads of lower.Edit (lowering comes after it in the pipeline)."""

    stmt: A.ReplaceStmt | A.InsertStmt | A.RemoveStmt

    @property
    def words(self) -> str: ...


def locate(
    err: SpecError,
    variant_path: str,
    applied: Sequence[Edit],
    parent_alone: Callable[[], SpecError | None],
    base: A.NetworkDecl,
    params: dict[str, Any],
    extends: A.Extends,
) -> SpecError:
    """The error of lowering a variant (of `base`, built with `params`; `applied` are the
    edits applied so far, `parent_alone` lowers the parent without them and returns its error),
    placed where it belongs; `extends` is the clause that passed the parent its arguments."""
    if err.span is None or isinstance(err, SpecErrors):
        return err
    if err.span.path == variant_path:
        return err  # already in the variant (inside an edit's own unit)
    alone = parent_alone()
    if (
        alone is not None
        and alone.code == err.code
        and (
            alone.span == err.span or isinstance(err, LimitError)  # where a limit stops varies
        )
    ):
        return _parent_fails(err, base, params, extends)
    if not applied:
        return err
    return _at_edit(err, applied[-1])


def _at_edit(err: SpecError, last: Edit) -> SpecError:
    where = (
        "where the parent's layers no longer fit"
        if isinstance(err, ShapeError)
        else "where the parent's network fails"
    )
    assert err.span is not None
    notes = [Note(where, err.span), *err.notes]
    hint = err.hint
    if hint is None and isinstance(last.stmt, A.RemoveStmt):
        hint = (
            f"the parent's layers there need what `{last.words}` removes: replace it instead "
            "of removing it, or edit the layers that use it too"
        )
    return type(err)(f"after `{last.words}`: {err.message}", last.stmt.span, notes=notes, hint=hint)


def _parent_fails(
    err: SpecError,
    base: A.NetworkDecl,
    params: dict[str, Any],
    extends: A.Extends,
) -> SpecError:
    changed = _changed(base, params)
    shown = ", ".join(
        f"{k}={format_value(params[k])}"
        + (f" (default {format_value(d)})" if d is not _NO_DEFAULT else "")
        for k, d in changed
    )
    with_what = f"with {shown}" if shown else "with its default arguments"
    assert err.span is not None
    hint = err.hint
    aux = _guarding_flag(err, base, params)
    if aux is not None:
        flag, head = aux
        hint = (
            f"the failing layer belongs to the aux head `{head}`: pass `{flag}=false` to leave "
            "it out" + (f", or change {', '.join(k for k, _ in changed)}" if changed else "")
        )
    elif changed:
        hint = f"the parent's layers do not fit {with_what}: change {changed[0][0]}"
    return type(err)(
        f"`{base.name}` fails on its own {with_what}, without this variant's edits: {err.message}",
        extends.span,
        notes=[Note("where the parent fails", err.span), *err.notes],
        hint=hint,
    )


_NO_DEFAULT = object()


def _changed(base: A.NetworkDecl, params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The parameters whose values differ from the parent's defaults, with those defaults."""
    out: list[tuple[str, Any]] = []
    defaults: dict[str, Any] = {}
    for p in base.params:  # the base extends nothing: its own parameters
        try:
            d = Evaluator(defaults).eval(p.default) if p.default is not None else _NO_DEFAULT
        except SpecError:
            d = _NO_DEFAULT
        if d is not _NO_DEFAULT:
            defaults[p.name] = d
        if p.name in params and params[p.name] != d:
            out.append((p.name, d))
    return out


def _guarding_flag(
    err: SpecError, base: A.NetworkDecl, params: Mapping[str, Any]
) -> tuple[str, str] | None:
    """(a boolean parameter, an aux head) when the error lies in an aux head declared under
    `if PARAM ...` with PARAM true: setting it false leaves the head out."""
    spans = [s for s in (err.span, *(n.span for n in err.notes)) if s is not None]
    bools = {p.name for p in base.params if p.type == "bool"}
    for aux, conds in _aux_heads(base.body.stmts, ()):
        if not any(_within(s, aux.span) or _within(s, aux.body.span) for s in spans):
            continue
        for cond in conds:
            for name in _vars(cond):
                if name in bools and params.get(name) is True:
                    return name, aux.name
    return None


def _aux_heads(
    stmts: tuple[A.Stmt, ...], conds: tuple[A.Expr, ...]
) -> Iterator[tuple[A.AuxStmt, tuple[A.Expr, ...]]]:
    for s in stmts:
        if isinstance(s, A.AuxStmt):
            yield s, conds
        elif isinstance(s, A.IfStmt):
            node: A.IfStmt | A.Body | None = s
            while isinstance(node, A.IfStmt):
                yield from _aux_heads(node.then.stmts, (*conds, node.cond))
                node = node.orelse
            if node is not None:
                yield from _aux_heads(node.stmts, conds)


def _vars(e: A.Expr) -> Iterator[str]:
    if isinstance(e, A.Var):
        yield e.name
    elif isinstance(e, A.BinOp) and e.op == "and":
        yield from _vars(e.left)
        yield from _vars(e.right)


def _within(inner: Span, outer: Span) -> bool:
    return (
        inner.path == outer.path
        and (outer.line, outer.column) <= (inner.line, inner.column)
        and (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column)
    )
