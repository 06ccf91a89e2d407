"""Columns as the client counts them. A Span's column counts code points (Python's str); an
LSP Position's `character` counts code units of the encoding the two sides agreed on at
`initialize`: UTF-16 unless the client offers another in `general.positionEncodings` (pygls
takes the first of the client's that it knows: utf-8, utf-16 or utf-32). An `é` is 1 UTF-16
unit but 2 UTF-8 bytes, an emoji 2 UTF-16 units: without this, every diagnostic, hover and
definition after one on the same line is off by that much in the editor.

The server converts at its edge only: analysis.py works in code points throughout."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lsprotocol import types as T
from pygls.workspace import PositionCodec

from ..front.source import Span, split_lines


class Columns:
    """Code-point columns <-> client units, for lines looked up by a span's path."""

    def __init__(self, codec: PositionCodec, lines_of: Callable[[str], Sequence[str] | None]):
        self.codec = codec
        self.lines_of = lines_of
        self.identity = codec.encoding == T.PositionEncodingKind.Utf32

    def to_client(self, line: str, col: int) -> int:
        """The client's units before code point `col` of `line`."""
        if self.identity or line.isascii():
            return col
        return int(self.codec.client_num_units(line[:col])) + max(0, col - len(line))

    def from_client(self, line: str, units: int) -> int:
        """The code-point column at `units` of the client's: a position inside a character
        (the second half of a surrogate pair) is that character's."""
        if self.identity or line.isascii():
            return units
        seen = 0
        for i, c in enumerate(line):
            if seen >= units:
                return i
            seen += int(self.codec.client_num_units(c))
        return len(line) + max(0, units - seen)

    def range(self, span: Span | None) -> T.Range:
        """The span as an LSP range in the client's units (0-based; the span's text is
        looked up by its path; a file whose text is unknown keeps code points)."""
        if span is None:
            return T.Range(T.Position(0, 0), T.Position(0, 0))
        # Span columns are 1-based with an exclusive end (the caret is end_column - column wide).
        end_line = max(span.end_line, span.line)
        end_col = max(0, span.end_column - 1 if span.end_line >= span.line else span.column)
        lines = self.lines_of(span.path)

        def pos(line: int, col: int) -> T.Position:
            if lines is not None and 0 <= line < len(lines):
                col = self.to_client(lines[line], col)
            return T.Position(line, col)

        return T.Range(pos(span.line - 1, span.column - 1), pos(end_line - 1, end_col))

    def position(self, text: str, p: T.Position) -> tuple[int, int]:
        """A client position in `text` as (0-based line, code-point column)."""
        lines = split_lines(text)
        if p.line >= len(lines):
            return p.line, p.character
        return p.line, self.from_client(lines[p.line], p.character)
