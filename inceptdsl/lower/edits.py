"""A variant's edits (`replace`, `insert`, `remove`), keyed by the parent's IR paths."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import ast as A
from ..loader import SpecFile
from ..source import Span


@dataclass
class Edit:
    """One edit of a variant, with the names and file its unit is lowered with."""

    stmt: A.ReplaceStmt | A.InsertStmt | A.RemoveStmt
    path: str
    span: Span
    names: Mapping[str, Any]
    file: SpecFile
    parent: str
    used: bool = False

    @property
    def words(self) -> str:
        if isinstance(self.stmt, A.InsertStmt):
            return f"insert ... {self.stmt.where} {self.path}"
        return f"{'replace' if isinstance(self.stmt, A.ReplaceStmt) else 'remove'} {self.path}"


@dataclass
class Edits:
    """A variant's edits keyed by full IR path (the parent's names), applied during lowering
    as each unit is reached; every edit must be used by the end."""

    replace: dict[str, Edit] = field(default_factory=dict)
    remove: dict[str, Edit] = field(default_factory=dict)
    before: dict[str, list[Edit]] = field(default_factory=dict)
    after: dict[str, list[Edit]] = field(default_factory=dict)
    every: list[Edit] = field(default_factory=list)
    applied: list[Edit] = field(default_factory=list)

    def add(self, e: Edit) -> None:
        """Add an edit; one of a parent's (added earlier) for the same path gives way."""
        self.every.append(e)
        if isinstance(e.stmt, (A.ReplaceStmt, A.RemoveStmt)):
            for table in (self.replace, self.remove):
                old = table.pop(e.path, None)
                if old is not None:
                    old.used = True  # superseded by the child's edit of the same path
            (self.replace if isinstance(e.stmt, A.ReplaceStmt) else self.remove)[e.path] = e
        else:
            where = self.before if e.stmt.where == "before" else self.after
            where.setdefault(e.path, []).append(e)

    def use(self, e: Edit) -> Edit:
        e.used = True
        self.applied.append(e)
        return e
