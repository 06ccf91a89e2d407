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
from dataclasses import dataclass, field
from typing import Any

from ..errors import (
    LimitError,
    NestingTooDeepError,
    SpecSyntaxError,
    UnexpectedCharacterError,
    UnexpectedEndError,
)
from ..source import SourceFile, Span

MAX_DEPTH = 32
MAX_FIELDS = 200_000

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+|\n)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fF]?(?![A-Za-z_0-9]))
  | (?P<name>-?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}<>:\[\],;])
    """,
    re.X,
)


@dataclass(frozen=True)
class Word:
    """An enum value or identifier (`MAX`, `TRAIN`, `true`)."""

    name: str


@dataclass
class Field:
    name: str
    value: Any  # int, float, str, Word, Message, or a list of scalars
    span: Span
    value_span: Span


@dataclass
class Message:
    fields: list[Field] = field(default_factory=list)
    span: Span | None = None

    def all(self, name: str) -> list[Field]:
        return [f for f in self.fields if f.name == name]

    def get(self, name: str) -> Field | None:
        found = self.all(name)
        return found[-1] if found else None


@dataclass
class _Tok:
    kind: str
    text: str
    line: int
    col: int


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.source = SourceFile.of(path, text)
        self.toks: list[_Tok] = []
        line, col, pos = 1, 1, 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None and text[pos] in "\"'":
                at_end = "\n" not in text[pos:]
                raise self._err(
                    UnexpectedEndError if at_end else SpecSyntaxError,
                    "the file ends inside a string"
                    if at_end
                    else "a string is not closed on its line",
                    line,
                    col,
                    1,
                    hint="the file is truncated" if at_end else None,
                )
            if m is None:
                raise self._err(
                    UnexpectedCharacterError,
                    f"unexpected character {text[pos]!r}",
                    line,
                    col,
                    1,
                )
            kind = m.lastgroup or ""
            tok = m.group()
            if kind not in ("ws", "comment"):
                self.toks.append(_Tok(kind, tok, line, col))
            nl = tok.count("\n")
            if nl:
                line += nl
                col = len(tok) - tok.rfind("\n")
            else:
                col += len(tok)
            pos = m.end()
        self.end = (line, col)
        self.i = 0
        self.count = 0

    def _err(
        self, cls: type, msg: str, line: int, col: int, width: int, hint: str | None = None
    ) -> Any:
        err = cls(msg, Span(self.path, line, col, line, col + width), hint=hint)
        return err.with_sources({self.path: self.source})

    def span(self, t: _Tok) -> Span:
        return Span(self.path, t.line, t.col, t.line, t.col + len(t.text))

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

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
        self.i += 1
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
                self.i += 1
                return msg
            if t.kind != "name" or t.text.startswith("-"):
                raise self.unexpected(t, "a field name")
            self.i += 1
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
                msg.fields.append(Field(t.text, sub, self.span(t), self.span(nxt)))
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
                msg.fields.append(Field(t.text, values, self.span(t), self.span(nxt)))
            else:
                value = self.scalar(nxt)
                while (
                    isinstance(value, str) and (p := self.peek()) is not None and p.kind == "string"
                ):
                    self.i += 1
                    value += self.scalar(p)
                msg.fields.append(Field(t.text, value, self.span(t), self.span(nxt)))
            p = self.peek()
            if p is not None and p.text in (",", ";"):
                self.i += 1

    def scalar(self, t: _Tok) -> Any:
        if t.kind == "string":
            return _unescape(t.text[1:-1])
        if t.kind == "number":
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
