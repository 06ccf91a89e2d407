"""Source files and spans: where every AST node, IR node and error points back to.

Kept apart from errors.py so that the AST and the IR can carry spans without depending on the
error machinery, and so that paths are shown the same way everywhere (relative when possible).

Lines are split exactly as the lexer counts them: at `\\n` only (a `\\r` before it is dropped).
Python's str.splitlines() also splits at a lone `\\r`, U+2028 and others, which would make a
caret show a different line than the one the parser named. Text that reaches a terminal
(spec lines, names, strings, file names) goes through `printable()`, which escapes control and
format characters so a spec cannot move the cursor, recolour the terminal or reorder text.
"""

from __future__ import annotations

import os
import unicodedata
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
        return f"{printable(self.path)}:{self.line}:{self.column}"


def split_lines(text: str) -> list[str]:
    """The lines of `text` as the lexer numbers them: split at `\\n`, one trailing `\\r` dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


@dataclass(frozen=True)
class SourceFile:
    """A spec file's text, with the path as it should be shown to the user."""

    path: str
    text: str
    _lines: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @staticmethod
    def of(path: str, text: str) -> SourceFile:
        return SourceFile(path, text, tuple(split_lines(text)))

    @property
    def lines(self) -> tuple[str, ...]:
        """The lines as the lexer numbers them (split_lines)."""
        return self._lines

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def line(self, number: int) -> str:
        """Line `number` (1-based) without its newline, or '' past the end."""
        if 1 <= number <= len(self._lines):
            return self._lines[number - 1]
        return ""


_SAFE_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No"})
_SAFE_CATEGORIES |= {"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs"}


def escape_char(c: str) -> str | None:
    """How `c` is shown: None if it is shown as itself, else an escape such as `\\x1b`.

    Controls (C0, DEL, C1: ESC starts terminal sequences), format characters (bidi overrides,
    zero-width joiners), line and paragraph separators, private-use and unassigned code points
    are escaped; letters, marks, digits, punctuation, symbols and spaces are not.
    """
    if " " <= c <= "~":
        return None
    if unicodedata.category(c) in _SAFE_CATEGORIES:
        return None
    o = ord(c)
    if c == "\t":
        return "\\t"
    if c == "\r":
        return "\\r"
    if c == "\n":
        return "\\n"
    if o < 0x100:
        return f"\\x{o:02x}"
    if o < 0x10000:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def printable(text: str, limit: int | None = None) -> str:
    """`text` with every control or format character escaped (see escape_char), and cut to
    `limit` characters (with a count of what was left out) when it is longer."""
    if limit is not None and len(text) > limit:
        cut = len(text) - limit
        text = text[:limit]
        return "".join(escape_char(c) or c for c in text) + f"... ({cut:,} more characters)"
    if text.isascii() and text.isprintable():
        return text
    return "".join(escape_char(c) or c for c in text)


def char_width(c: str) -> int:
    """Terminal columns `c` takes when shown as itself (wide East Asian characters take two)."""
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def working_dir() -> str | None:
    """The working directory, or None when it no longer exists (deleted under the process)."""
    try:
        return os.getcwd()
    except OSError:
        return None


def display_path(path: str) -> str:
    """`path` relative to the working directory when it lies below it, else as given.

    Error messages and goldens then read `specs/x.incept`, never a machine's absolute path.
    """
    cwd = working_dir()
    if cwd is None:
        return path
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
