"""Pure functions declared in a spec: `fn make_divisible(v: float, d: int = 8) -> int = ...`.

A call binds the arguments to the typed parameters and evaluates the one expression of the
body with the language's own evaluator: a function sees its parameters and the functions
declared above it in its file (or imported), nothing else (no `in.*`, no caller's names), so
it cannot recurse and a spec stays data. Calls count toward the evaluator's work limit and
nest at most MAX_CALL_DEPTH deep.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..errors import (
    ArgumentCountError,
    ElementTypeError,
    NestingTooDeepError,
    Note,
    SpecError,
    TypeMismatchError,
    UnknownParameterError,
)
from ..front import ast as A
from ..front.loader import FnRef
from ..front.source import Span
from ..names import did_you_mean
from .param_types import TYPES, coerce_typed, member_hint, mismatch, parse_type
from .values import format_value, type_name

MAX_CALL_DEPTH = 32
"""Most calls of declared functions nested in one another (the evaluator recurses per call)."""


class Caller(Protocol):
    """The evaluator that meets the call (evaluate.Evaluator; a later stage, so named by what
    is used of it): the body is evaluated by a fresh one of the same class."""

    work: Any
    depth: int

    def eval(self, e: A.Expr) -> Any: ...


def check_type(type_text: str, v: Any, what: str, span: Span | None) -> Any:
    """`v` as a value of the declared type (ints become floats for `float`), or E301/E308."""
    check = TYPES.get(type_text)
    if check is not None:
        if not check(v):
            raise TypeMismatchError(
                f"{what} is declared {type_text}, got {type_name(v)} {format_value(v)}", span
            )
        return coerce_typed((type_text, ()), v)
    t = parse_type(type_text)
    if t is None:  # resolve_names reported the unknown type
        return v
    bad = mismatch(t, v)
    if bad is not None:
        cls = ElementTypeError if bad[1] else TypeMismatchError
        raise cls(f"{what} is declared {type_text}: {bad[0]}", span, hint=member_hint(t, v))
    return coerce_typed(t, v)


def call(ref: FnRef, e: A.Func, caller: Caller) -> Any:
    """The value of `e`, a call of the declared function `ref`, evaluated by `caller`."""
    decl = ref.decl
    if caller.depth >= MAX_CALL_DEPTH:
        raise NestingTooDeepError(
            f"calls of functions nest more than {MAX_CALL_DEPTH} deep", e.span
        )
    params = {p.name: p for p in decl.params}
    given: dict[str, tuple[Any, Span]] = {}
    if len(e.args) > len(decl.params):
        raise ArgumentCountError(
            f"function `{decl.name}` takes {len(decl.params)} arguments, got {len(e.args)}",
            e.args[len(decl.params)].span,
            notes=[Note(f"`{decl.name}` is declared here", decl.span)],
        )
    for p, a in zip(decl.params, e.args, strict=False):
        given[p.name] = (caller.eval(a), a.span)
    for kw in e.kwargs:
        if kw.name not in params:
            raise UnknownParameterError(
                f"function `{decl.name}` has no parameter `{kw.name}`",
                kw.span,
                hint=did_you_mean(kw.name, params)
                or f"its parameters are: {', '.join(params) or 'none'}",
            )
        if kw.name in given:
            raise ArgumentCountError(
                f"`{kw.name}` is given twice (positionally and by name)", kw.span
            )
        given[kw.name] = (caller.eval(kw.value), kw.span)
    names: dict[str, Any] = {}
    inner = type(caller)(names, work=caller.work, functions=ref.visible, depth=caller.depth + 1)  # type: ignore[call-arg]
    try:
        for p in decl.params:
            if p.name in given:
                v, span = given[p.name]
            elif p.default is not None:
                v, span = inner.eval(p.default), p.default.span
            else:
                raise ArgumentCountError(
                    f"function `{decl.name}` needs argument `{p.name}`",
                    e.span,
                    notes=[Note(f"`{p.name}` is declared here", p.span)],
                )
            names[p.name] = check_type(p.type, v, f"parameter `{p.name}`", span)
        result = inner.eval(decl.body)
        if decl.returns is not None:
            result = check_type(decl.returns, result, f"`{decl.name}`'s result", decl.returns_span)
    except SpecError as err:
        if not any(n.message.startswith("in function") for n in err.notes):
            err.notes = (*err.notes, Note(f"in function `{decl.name}` called here", e.span))
        raise
    return result
