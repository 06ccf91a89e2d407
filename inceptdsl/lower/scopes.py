"""Naming scopes: the one namespace rule (docs/language.md, "Names"), shared by lowering and by
the importers (importers/naming.py), which must predict the names lowering will give.

In a scope a name is used once; unlabelled members of an indexed scope are numbered 0, 1, ...;
elsewhere a generated name is the base, then `base_1`, `base_2`, ... skipping names taken.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import DuplicateNameError, Note, SpecError
from ..front.source import Span
from ..ir.graph import ScopeInfo


@dataclass
class Namespace:
    """The names made in one scope: its prefix, the names taken (each with where it was taken,
    for the error), the next number of an indexed scope and the count of each generated base."""

    prefix: str
    indexed: bool = False
    next_index: int = 0
    taken: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def duplicate(self, name: str, where: Any) -> SpecError:
        """The error for a name taken twice (`where` says where the second one is)."""
        raise NotImplementedError

    def claim(self, name: str, where: Any) -> str:
        if name in self.taken:
            raise self.duplicate(name, where)
        self.taken[name] = where
        return self.prefix + name

    def _next(self, base: str) -> tuple[str, int]:
        n = self.counts.get(base, 0)
        name = base if n == 0 else f"{base}_{n}"
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        return name, n

    def peek_generated(self, base: str) -> str:
        """The name `generated(base)` would return, without taking it."""
        return self._next(base)[0]

    def generated(self, base: str, where: Any) -> str:
        name, n = self._next(base)
        self.counts[base] = n + 1
        return self.claim(name, where)

    def generated_run(self, bases: Sequence[tuple[str, Any]], count: int) -> list[str]:
        """What `generated(base, where)` returns for each of `bases` in turn, `count` times over
        (the copies of a repeated chain, lower/copies.py), in one loop: the same names."""
        out = []
        taken, counts, prefix = self.taken, self.counts, self.prefix
        for _ in range(count):
            for base, where in bases:
                n = counts.get(base, 0)
                name = base if n == 0 else f"{base}_{n}"
                if name in taken:
                    name, n = self._next(base)
                counts[base] = n + 1
                taken[name] = where
                out.append(prefix + name)
        return out

    def index(self, where: Any) -> str:
        name = str(self.next_index)
        self.next_index += 1
        return self.claim(name, where)


@dataclass
class Scope(Namespace):
    """A naming scope of lowering: names are taken at a source span."""

    taken: dict[str, Span | None] = field(default_factory=dict)

    def duplicate(self, name: str, where: Any) -> SpecError:
        first = self.taken[name]
        return DuplicateNameError(
            f"the name `{self.prefix}{name}` is used twice",
            where,
            notes=[Note("first used here", first)] if first else [],
            hint="give the layers different labels (a block called twice without labels "
            "in one scope defines its layers twice: label the calls)",
        )

    def child(self, name: str, indexed: bool = False) -> Scope:
        return Scope(prefix=name + ".", indexed=indexed)


class ScopeLog:
    """What made each scope (the graph's `scopes`, docs/ir.md): backends build one module per
    scope, named and parameterised after the block call or group that made it."""

    def __init__(self) -> None:
        self.made: dict[str, tuple[str, Span | None, str | None, tuple[tuple[str, Any], ...]]] = {}
        self.calls: dict[str, list[tuple[str, tuple[tuple[str, Any], ...]]]] = {}
        self.residual_adds: list[str] = []  # adds made by `residual` (main path written first)

    def open(self, path: str, kind: str, span: Span | None, block: str | None = None,
             args: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        self.made[path] = (kind, span, block, tuple((args or {}).items()))

    def call(self, scope: Scope, block: str, args: Mapping[str, Any]) -> None:
        """A block call that adds no level: it belongs to the scope it is made in."""
        self.calls.setdefault(scope.prefix[:-1], []).append((block, tuple(args.items())))

    def infos(self) -> dict[str, ScopeInfo]:
        return {
            path: ScopeInfo(path, kind, span, block, args, tuple(self.calls.get(path, ())))
            for path, (kind, span, block, args) in self.made.items()
        }
