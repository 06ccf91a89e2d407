"""Source files and spans: where every AST node, IR node and error points back to.

Kept apart from errors.py so that the AST and the IR can carry spans without depending on the
error machinery, and so that paths are shown the same way everywhere (relative when possible).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based, end-inclusive region of one file (line, column .. end_line, end_column)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class SourceFile:
    """A spec file's text, with the path as it should be shown to the user."""

    path: str
    text: str
    _lines: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @staticmethod
    def of(path: str, text: str) -> SourceFile:
        return SourceFile(path, text, tuple(text.splitlines()))

    def line(self, number: int) -> str:
        """Line `number` (1-based) without its newline, or '' past the end."""
        if 1 <= number <= len(self._lines):
            return self._lines[number - 1]
        return ""


def display_path(path: str) -> str:
    """`path` relative to the working directory when it lies below it, else as given.

    Error messages and goldens then read `specs/x.incept`, never a machine's absolute path.
    """
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
