"""Fitting a text table to a terminal's width (the `report` and `diff` tables).

A table wider than the terminal wraps into noise, so on a terminal a table is narrowed step by
step along a ladder its caller chooses (shorten a column, then drop one, ...) until it fits,
and the first column is cut in the middle as a last resort; the caller says what was left out
and how to get it (`--wide`, `--columns`). A pipe or a file is not a terminal: it keeps every
column, so scripts and goldens see the same text at any width.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

MIN_FIRST = 16
"""The narrowest the first column (the names) is cut to."""


def terminal_width(stream: TextIO | None = None) -> int | None:
    """The width to fit when `stream` (default stdout) is a terminal: `COLUMNS` when set (as
    shutil reads it), else the terminal's size; None for a pipe or a file (keep everything)."""
    stream = stream or sys.stdout
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size().columns if tty else None


@dataclass
class Col:
    """One column: its cells (the header first) and, optionally, narrower ones to use first."""

    key: str
    header: str
    numeric: bool
    cells: list[str]
    short: list[str] | None = None

    @property
    def width(self) -> int:
        return max(len(self.header), *(len(c) for c in self.cells)) if self.cells else 0


@dataclass
class Fitted:
    cols: list[Col]
    dropped: list[str] = field(default_factory=list)
    """Headers of the columns left out, in the order they were dropped."""
    shortened: list[str] = field(default_factory=list)
    """Headers of the columns shown in their short form."""
    cut: bool = False
    """Whether the first column's texts were cut to fit."""


def table_width(cols: Sequence[Col], sep: int = 2) -> int:
    return sum(c.width for c in cols) + sep * max(len(cols) - 1, 0)


def fit(cols: Sequence[Col], width: int, ladder: Sequence[tuple[str, str]], sep: int = 2) -> Fitted:
    """`cols` narrowed to `width`: each ladder step (`("short", key)` or `("drop", key)`) is
    taken in turn while the table is too wide; then the first column is cut in the middle."""
    out = Fitted([Col(c.key, c.header, c.numeric, list(c.cells), c.short) for c in cols])
    for action, key in ladder:
        if table_width(out.cols, sep) <= width:
            break
        col = next((c for c in out.cols if c.key == key), None)
        if col is None:
            continue
        if action == "drop":
            out.cols.remove(col)
            out.dropped.append(col.header)
            if col.header in out.shortened:  # dropped after all: say so once
                out.shortened.remove(col.header)
        elif col.short is not None and col.short != col.cells:
            col.cells, col.short = col.short, None
            out.shortened.append(col.header)
    over = table_width(out.cols, sep) - width
    if over > 0 and out.cols:
        first = out.cols[0]
        room = max(first.width - over, MIN_FIRST, len(first.header))
        if room < first.width:
            first.cells = [cut_middle(c, room) for c in first.cells]
            out.cut = True
    return out


def cut_middle(text: str, width: int) -> str:
    """`text` in at most `width` characters, its middle replaced by `…` (a dotted name keeps
    its first and last segments' ends: `Mixed_6b.bra…7dbl_5`)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    tail = width - 1 - head
    return text[:head] + "…" + text[len(text) - tail :]


def lines(cols: Sequence[Col], sep: int = 2) -> list[str]:
    """The header line then one line per row: text left-aligned, numbers right-aligned."""
    widths = [c.width for c in cols]
    n = len(cols[0].cells) if cols else 0
    out = []
    for i in range(-1, n):
        parts = []
        for c, w in zip(cols, widths, strict=True):
            text = c.header if i < 0 else c.cells[i]
            parts.append(text.rjust(w) if c.numeric else text.ljust(w))
        out.append((" " * sep).join(parts).rstrip())
    return out


def compact(n: int, signed: bool = False) -> str:
    """A count in three significant digits with a K/M/G suffix: 928, 9.28K, 19.2M, 1.30G."""
    sign = "-" if n < 0 else "+" if signed and n > 0 else ""
    a = abs(n)
    if a < 1000:
        return f"{sign}{a}"
    for unit, size in (("K", 10**3), ("M", 10**6), ("G", 10**9)):
        v = a / size
        text = f"{v:.2f}" if v < 9.995 else f"{v:.1f}" if v < 99.95 else f"{v:.0f}"
        if float(text) < 1000 or unit == "G":
            break
    return f"{sign}{text}{unit}"


def footnote(
    fitted: Fitted,
    width: int,
    short_note: str = "",
    how: str = "`--wide` shows every column in full, `--columns` picks them.",
) -> str:
    """What the fitted table left out or shortened, and how to see it; empty when nothing."""
    parts = []
    if fitted.dropped:
        parts.append(f"not shown at {width} columns: {', '.join(fitted.dropped)}")
    if fitted.shortened:
        parts.append(f"{', '.join(fitted.shortened)} shortened{short_note}")
    if fitted.cut:
        parts.append("long names cut in the middle (…)")
    if not parts:
        return ""
    return "; ".join(parts) + ". " + how
