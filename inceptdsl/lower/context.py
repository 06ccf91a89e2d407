"""What lowering passes down (Ctx) and what it hands back (Lowered, Expectation)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..errors import SpecWarning, TypeMismatchError
from ..front import ast as A
from ..front.loader import SpecFile
from ..front.source import Span
from ..middle.evaluate import Evaluator
from ..middle.values import format_value, type_name
from .scopes import Scope

Defaults = Mapping[str, Mapping[str, tuple[Any, Span]]]


@dataclass(frozen=True)
class Ctx:
    """What a statement sees: names (lexical), layer defaults (dynamic, like slim's arg_scope),
    the naming scope, the enclosing block's input, the visible blocks, the aux head."""

    names: Mapping[str, Any]
    defaults: Mapping[str, Mapping[str, tuple[Any, Span]]]
    scope: Scope
    block_in: str
    file: SpecFile
    aux: str | None = None
    depth: int = 0
    forced: Mapping[str, Mapping[str, tuple[Any, Span]]] = field(default_factory=dict)
    """A variant's `defaults`: they win over the parent's own (explicit options still win)."""
    stem: str | None = None
    """What `@` in a label stands for: the label of the call of a block that uses `@`."""


@dataclass(frozen=True)
class Expectation:
    """An `expect` declaration with the parameter values it is checked at."""

    stmt: A.ExpectStmt
    names: Mapping[str, Any]


@dataclass
class Lowered:
    graph: nx.DiGraph
    expects: list[Expectation]
    labels: dict[str, str]
    warnings: list[SpecWarning] = field(default_factory=list)


def choose_static(s: A.IfStmt, ev: Evaluator) -> A.Body | None:
    """The body an `if` / `else if` / `else` chain selects."""
    node: A.IfStmt | A.Body | None = s
    while isinstance(node, A.IfStmt):
        cond = ev.eval(node.cond)
        if not isinstance(cond, bool):
            raise TypeMismatchError(
                f"`if` needs true or false, got {type_name(cond)} {format_value(cond)}",
                node.cond.span,
            )
        if cond:
            return node.then
        node = node.orelse
    return node
