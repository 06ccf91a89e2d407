"""Pass: declared functions (`fn`) are well formed, see only their parameters and the functions
declared above them, and never recurse (docs/language.md section 4c).

Why the order rule: a function may call only functions declared above it in its file (or
imported), so a program of functions is evaluated top-down and cannot recurse; a call that
reaches forward is E211, or E212 when it closes a cycle back to the caller (itself included).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import (
    DuplicateNameError,
    FunctionOrderError,
    FunctionRecursionError,
    Note,
    SpecError,
    UnknownNameError,
)
from ..front import ast as A
from ..front.loader import Program, SpecFile
from ..middle.evaluate import FUNCTIONS, RECORDS, SYMBOLS
from ..names import did_you_mean
from .resolve_names import check_params
from .types import CONTAINERS, TYPES, parse_type, unknown_part


def check_functions(program: Program) -> list[SpecError]:
    errors: list[SpecError] = []
    for f in program.files.values():
        errors += _file(f)
    return errors


def _file(f: SpecFile) -> list[SpecError]:
    errs: list[SpecError] = []
    decls = f.module.functions
    order = {d.name: i for i, d in reversed(list(enumerate(decls)))}  # first declaration
    own_calls = {d.name: {c.name for c in _calls(d.body)} for d in decls}
    for i, d in enumerate(decls):
        if order[d.name] != i:
            first = decls[order[d.name]]
            errs.append(
                DuplicateNameError(
                    f"function `{d.name}` is declared twice",
                    d.span,
                    notes=[Note("first declared here", first.span)],
                )
            )
            continue
        if d.name in FUNCTIONS or d.name in RECORDS:
            errs.append(
                DuplicateNameError(
                    f"function `{d.name}` has the name of a built-in function",
                    d.span,
                    hint=f"rename the function: a call `{d.name}(...)` must mean one thing",
                )
            )
        errs += check_params(d.params)
        if d.returns is not None and parse_type(d.returns) is None:
            word = unknown_part(d.returns)
            errs.append(
                UnknownNameError(
                    f"unknown type `{d.returns}`",
                    d.returns_span,
                    hint=(did_you_mean(word, [*TYPES, *CONTAINERS]) if word else None)
                    or f"types are: {', '.join(TYPES)}, and list[T], tuple[T1, T2, ...]",
                )
            )
        errs += _body(d, f, order, own_calls)
    return errs


def _body(
    d: A.FnDecl, f: SpecFile, order: dict[str, int], own_calls: dict[str, set[str]]
) -> list[SpecError]:
    errs: list[SpecError] = []
    params = {p.name for p in d.params}
    above = set(f.functions) - {n for n, i in order.items() if i >= order[d.name]}
    exprs = [d.body, *(p.default for p in d.params if p.default is not None)]
    for e in (x for root in exprs for x in _walk(root)):
        if isinstance(e, A.Var) and e.name not in params and e.name not in SYMBOLS:
            errs.append(
                UnknownNameError(
                    f"unknown name `{e.name}` in function `{d.name}`",
                    e.span,
                    hint=did_you_mean(e.name, params)
                    or "a function sees only its parameters: pass the value as an argument",
                )
            )
        elif isinstance(e, A.InRef):
            errs.append(
                UnknownNameError(
                    f"`{e.base}.{e.attr}` is not available in function `{d.name}`",
                    e.span,
                    hint="a function sees only its parameters: pass the shape as an argument",
                )
            )
        elif isinstance(e, A.Func) and e.name not in FUNCTIONS and e.name not in RECORDS:
            errs += _call(d, e, above, order, own_calls)
    return errs


def _call(
    d: A.FnDecl,
    e: A.Func,
    above: set[str],
    order: dict[str, int],
    own_calls: dict[str, set[str]],
) -> list[SpecError]:
    if e.name in above:
        return []
    if e.name in order:  # this file's function, declared here or below
        cycle = _path(e.name, d.name, own_calls)
        if cycle is not None:
            chain = " -> ".join([d.name, *cycle])
            return [
                FunctionRecursionError(
                    f"function recursion: {chain}",
                    e.span,
                    hint="functions do not recurse: write the repetition as a `for` loop or "
                    "a list (`sum`, `range`), or unroll it into helper functions",
                )
            ]
        return [
            FunctionOrderError(
                f"function `{e.name}` is used before it is declared",
                e.span,
                hint=f"move `fn {e.name}` above `fn {d.name}`: a function calls only those "
                "declared above it",
            )
        ]
    return [
        UnknownNameError(
            f"unknown function `{e.name}` in function `{d.name}`",
            e.span,
            hint=did_you_mean(e.name, [*FUNCTIONS, *above]),
        )
    ]


def _path(start: str, goal: str, calls: dict[str, set[str]]) -> list[str] | None:
    """The names from `start` to `goal` along calls (both included), if `goal` is reached."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        name, path = stack.pop()
        if name == goal:
            return path
        if name in seen:
            continue
        seen.add(name)
        stack.extend((c, [*path, c]) for c in sorted(calls.get(name, ())) if c in calls)
    return None


def _walk(e: A.Node) -> Iterator[A.Node]:
    """Every expression node under `e`, `e` included."""
    stack: list[object] = [e]
    while stack:
        v = stack.pop()
        if isinstance(v, A.Node):
            yield v
            stack.extend(getattr(v, name) for name in type(v).model_fields)
        elif isinstance(v, tuple):
            stack.extend(v)


def _calls(e: A.Expr) -> Iterator[A.Func]:
    return (x for x in _walk(e) if isinstance(x, A.Func))
