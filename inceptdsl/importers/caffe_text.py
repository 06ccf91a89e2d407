"""A reader for protobuf text format, the syntax of Caffe's .prototxt files, with no schema.

Caffe's own reader needs caffe.proto; the `protobuf` package's text_format needs the compiled
schema too. The importer only needs the tree of fields, so this is a small recursive-descent
parser over the text format's tokens: `name: value`, `name { ... }` (also `name: { ... }` and
`< >` braces), repeated fields in order, strings (adjacent ones joined), numbers, enum words
and `[a, b]` lists. Every field keeps its span, so errors point at the prototxt line. Hostile
input stops with a located error: nesting is limited, and so are the file size and the
number of fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import (
    LimitError,
    NestingTooDeepError,
    SpecSyntaxError,
    UnexpectedCharacterError,
    UnexpectedEndError,
)
from ..front.source import SourceFile, Span

MAX_DEPTH = 32
MAX_FIELDS = 100_000
"""GoogLeNet's train_val.prototxt has about 2,000 fields."""

_TOKEN = re.compile(
    r"""
    (?P<skip>(?:[ \t\r\f\v\n]+|\#[^\n]*)++)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fF]?(?![A-Za-z_0-9]))
  | (?P<name>-?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}<>:\[\],;])
  | (?P<bad>.)
    """,
    re.X | re.S,
)
"""One token per match; a run of blank space and comments is one `skip` match (so blank lines
cost no Python work; possessive, so the regex engine keeps no backtracking state for it: 8 MB
of comments took 1 GB without), and any other character is `bad`, so the matches cover the
text."""


@dataclass(frozen=True)
class Word:
    """An enum value or identifier (`MAX`, `TRAIN`, `true`)."""

    name: str


class Field:
    """`name: value` (or `name { ... }`); its spans (of the name, of the value) are made when
    an error asks for them, not for each of a file's fields."""

    __slots__ = ("_path", "_tok", "_vtok", "name", "value")

    def __init__(self, name: str, value: Any, path: str, tok: _Tok, vtok: _Tok) -> None:
        self.name = name
        self.value = value  # int, float, str, Word, Message, or a list of scalars
        self._path, self._tok, self._vtok = path, tok, vtok

    @property
    def span(self) -> Span:
        return _span(self._path, self._tok)

    @property
    def value_span(self) -> Span:
        return _span(self._path, self._vtok)


@dataclass
class Message:
    fields: list[Field] = field(default_factory=list)
    span: Span | None = None

    def all(self, name: str) -> list[Field]:
        return [f for f in self.fields if f.name == name]

    def get(self, name: str) -> Field | None:
        found = self.all(name)
        return found[-1] if found else None


class _Tok(NamedTuple):
    kind: str
    text: str
    line: int
    col: int


def _span(path: str, t: _Tok) -> Span:
    return Span(path, t.line, t.col, t.line, t.col + len(t.text))


def _source(path: str, text: str) -> SourceFile:
    """SourceFile.of(path, text) in C-speed steps: the same lines (split at `\\n`, one
    trailing `\\r` dropped), without a Python step per line of an 8 MB file."""
    lines = re.split("\r?\n", text) if "\r" in text else text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if lines and lines[-1].endswith("\r"):
        lines[-1] = lines[-1][:-1]
    return SourceFile(path, text, tuple(lines))


class _Parser:
    """Tokens are made as the parser asks for them, so a limit stops a huge file early, and
    each costs a constant amount of Python work (line numbers are counted between tokens)."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.text = text
        self.source = _source(path, text)
        self.end = (1, 1)
        self._tokens = self._scan()
        self._next: _Tok | None = next(self._tokens, None)
        self.count = 0

    def _scan(self) -> Iterator[_Tok]:
        text = self.text
        line, line_start, last = 1, 0, 0
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup or ""
            if kind == "skip":
                continue
            pos = m.start()
            newlines = text.count("\n", last, pos)
            if newlines:
                line += newlines
                line_start = text.rfind("\n", last, pos) + 1
            last = pos
            col = pos - line_start + 1
            if kind == "bad":
                raise self._bad(m.group(), pos, line, col)
            yield _Tok(kind, m.group(), line, col)
        newlines = text.count("\n", last)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", last) + 1
        self.end = (line, len(text) - line_start + 1)

    def _bad(self, ch: str, pos: int, line: int, col: int) -> Any:
        if ch in "\"'":
            at_end = "\n" not in self.text[pos:]
            return self._err(
                UnexpectedEndError if at_end else SpecSyntaxError,
                "the file ends inside a string" if at_end else "a string is not closed on its line",
                line,
                col,
                1,
                hint="the file is truncated" if at_end else None,
            )
        return self._err(UnexpectedCharacterError, f"unexpected character {ch!r}", line, col, 1)

    def _advance(self) -> None:
        self._next = next(self._tokens, None)

    def _err(
        self, cls: type, msg: str, line: int, col: int, width: int, hint: str | None = None
    ) -> Any:
        err = cls(msg, Span(self.path, line, col, line, col + width), hint=hint)
        return err.with_sources({self.path: self.source})

    def span(self, t: _Tok) -> Span:
        return _span(self.path, t)

    def peek(self) -> _Tok | None:
        return self._next

    def next(self, what: str) -> _Tok:
        t = self.peek()
        if t is None:
            line, col = self.end
            raise self._err(
                UnexpectedEndError,
                f"the file ends where {what} was expected",
                line,
                col,
                1,
                hint="the file is truncated, or a `}` is missing",
            )
        self._advance()
        return t

    def unexpected(self, t: _Tok, what: str) -> Any:
        return self._err(
            SpecSyntaxError, f"expected {what}, found {t.text!r}", t.line, t.col, len(t.text)
        )

    def message(self, depth: int, close: str | None, opener: _Tok | None) -> Message:
        if depth > MAX_DEPTH:
            assert opener is not None
            raise self._err(
                NestingTooDeepError,
                f"messages nest more than {MAX_DEPTH} deep",
                opener.line,
                opener.col,
                1,
            )
        msg = Message(span=self.span(opener) if opener else None)
        while True:
            t = self.peek()
            if t is None:
                if close is None:
                    return msg
                self.next(
                    f"`{close}` closing the `{opener.text if opener else ''}` at line "
                    f"{opener.line if opener else 0}"
                )
            assert t is not None
            if close is not None and t.text == close:
                self._advance()
                return msg
            if t.kind != "name" or t.text.startswith("-"):
                raise self.unexpected(t, "a field name")
            self._advance()
            self.count += 1
            if self.count > MAX_FIELDS:
                raise self._err(
                    LimitError, f"more than {MAX_FIELDS:,} fields", t.line, t.col, len(t.text)
                )
            nxt = self.next(f"`:` or `{{` after {t.text}")
            colon = nxt.text == ":"
            if colon:
                nxt = self.next(f"a value for {t.text}")
            if nxt.text in ("{", "<"):
                sub = self.message(depth + 1, "}" if nxt.text == "{" else ">", nxt)
                msg.fields.append(Field(t.text, sub, self.path, t, nxt))
            elif not colon:
                raise self.unexpected(nxt, f"`:` or `{{` after {t.text}")
            elif nxt.text == "[":
                values: list[Any] = []
                while True:
                    v = self.next(f"a value in the list of {t.text}")
                    if v.text == "]" and not values:
                        break
                    values.append(self.scalar(v))
                    sep = self.next("`,` or `]`")
                    if sep.text == "]":
                        break
                    if sep.text != ",":
                        raise self.unexpected(sep, "`,` or `]`")
                msg.fields.append(Field(t.text, values, self.path, t, nxt))
            else:
                value = self.scalar(nxt)
                while (
                    isinstance(value, str) and (p := self.peek()) is not None and p.kind == "string"
                ):
                    self._advance()
                    value += self.scalar(p)
                msg.fields.append(Field(t.text, value, self.path, t, nxt))
            p = self.peek()
            if p is not None and p.text in (",", ";"):
                self._advance()

    def scalar(self, t: _Tok) -> Any:
        if t.kind == "string":
            return _unescape(t.text[1:-1])
        if t.kind == "number":
            if t.text.isdigit() and len(t.text) <= 30:
                return int(t.text)
            text = t.text.rstrip("fF") if not t.text.lower().startswith(("0x", "-0x")) else t.text
            try:
                if re.fullmatch(r"-?0[xX][0-9a-fA-F]+", text):
                    return int(text, 16)
                if re.fullmatch(r"-?\d+", text):
                    if len(text) > 30:
                        raise ValueError
                    return int(text)
                return float(text)
            except ValueError:
                raise self._err(
                    LimitError, f"the number {t.text} is too large", t.line, t.col, len(t.text)
                ) from None
        if t.kind == "name":
            low = t.text.lower()
            if low in ("inf", "-inf", "infinity", "-infinity", "nan", "-nan"):
                return float(low.replace("infinity", "inf"))
            return Word(t.text)
        raise self.unexpected(t, "a value")


def _unescape(s: str) -> str:
    out = []
    i = 0
    simple = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\"}
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            i += 1
            out.append(simple.get(s[i], s[i]))
        else:
            out.append(c)
        i += 1
    return "".join(out)


def parse_prototxt(text: str, path: str) -> tuple[Message, SourceFile]:
    """The top-level message of a prototxt, and its source (for rendering errors)."""
    p = _Parser(text, path)
    return p.message(0, None, None), p.source
