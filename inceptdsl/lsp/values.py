"""Hover on names and functions: a name inside a `for` body shows its value at each iteration
(`c = 16 (i=0), 24 (i=1), ...`, from what the lowering saw: lower/trace.py), a function its
signature and where it is declared."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from ..front import ast as A
from ..front.source import Span, display_path
from ..lower.trace import Seen
from ..middle.functions import FnRef
from ..middle.values import format_value

SHOWN = 8
"""Iterations a hover lists before `...` and the count."""
WIDTH = 40
"""Characters of one value shown (a long list is cut with `...`)."""


def _contains(span: Span, line: int, col: int) -> bool:
    """Whether 1-based (line, col) lies in `span` (end inclusive)."""
    return (span.line, span.column) <= (line, col) <= (span.end_line, span.end_column)


def _nodes(node: Any) -> Iterator[A.Node]:
    """Every AST node under `node` (itself included)."""
    if isinstance(node, A.Node):
        yield node
        for name in type(node).model_fields:
            yield from _nodes(getattr(node, name, None))
    elif isinstance(node, tuple):
        for x in node:
            yield from _nodes(x)


def loops_around(module: A.Module, line: int, col: int) -> list[A.ForStmt]:
    """The `for` statements that hold 1-based (line, col), outermost first."""
    found = [n for n in _nodes(module) if isinstance(n, A.ForStmt) and _contains(n.span, line, col)]
    return sorted(found, key=lambda n: (n.span.line, n.span.column))


def _first_name(target: A.ForTarget) -> str | None:
    if target.name is not None:
        return target.name
    return _first_name(target.items[0]) if target.items else None


def _target_names(target: A.ForTarget) -> list[str]:
    if target.name is not None:
        return [target.name]
    return [n for t in target.items for n in _target_names(t)]


def loop_hover(
    module: A.Module, path: str, seen: Seen, word: str, line: int, col: int
) -> str | None:
    """`word`'s value at each iteration of the loops around 0-based (line, col) of the document
    at `path`, as the statement there saw it (on a loop's header, a name it binds: as its body
    saw it); None outside a loop, for a word that is no name there, or a statement that never
    ran (a branch not taken)."""
    line, col = line + 1, col + 1
    loops = loops_around(module, line, col)
    while loops and not _contains(loops[-1].body.span, line, col):
        header = loops[-1]  # the cursor is on this loop's header, not in its body
        if word in _target_names(header.target) and header.body.stmts:
            return _shown(word, seen.get(header.body.stmts[0].span, []), loops)
        loops.pop()
    if not loops:
        return None
    here = [
        (span, names)
        for span, names in seen.items()
        if _contains(span, line, col)
        and _contains(loops[-1].body.span, span.line, span.column)
        and os.path.abspath(span.path) == path
    ]
    if not here:
        return None
    _, runs = min(here, key=lambda sn: (sn[0].end_line - sn[0].line, sn[0].end_column))
    return _shown(word, runs, loops)


def _shown(word: str, runs: list[Mapping[str, Any]], loops: list[A.ForStmt]) -> str | None:
    if not runs or any(word not in names for names in runs):
        return None
    values = [_short(format_value(names[word])) for names in runs]
    if len(runs) > 1 and len(set(values)) == 1:
        return f"**{word}** = {values[0]} (the same in all {len(runs)} iterations)"
    labels = [n for n in (_first_name(lp.target) for lp in loops) if n is not None and n != word]
    shown = [_one(v, names, labels) for v, names in zip(values[:SHOWN], runs, strict=False)]
    more = f", ... ({len(runs)} iterations)" if len(runs) > SHOWN else ""
    return f"**{word}** = {', '.join(shown)}{more}"


def _short(text: str, width: int = WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _one(value: str, names: Mapping[str, Any], labels: list[str]) -> str:
    at = ", ".join(f"{n}={format_value(names[n])}" for n in labels if n in names)
    return f"{value} ({at})" if at else value


def function_hover(name: str, functions: Mapping[str, FnRef]) -> str | None:
    """A declared function's signature and where it is declared."""
    ref = functions.get(name)
    if ref is None:
        return None
    d = ref.decl
    params = ", ".join(
        f"{p.name}: {p.type}" + (" = ..." if p.default is not None else "") for p in d.params
    )
    returns = f" -> {d.returns}" if d.returns else ""
    s = d.span
    return f"**{name}**({params}){returns} — function, declared in {display_path(s.path)}:{s.line}"
