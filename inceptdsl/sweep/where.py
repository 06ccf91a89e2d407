"""`--where` constraints and objectives: a small expression language, parsed here (never
`eval`): comparisons of metrics, numeric parameters and numbers (with K/M/G/T suffixes, and
KiB/MiB/GiB for bytes), joined by `and`, `or`, `not` and parentheses.

    macs <= 2G and params < 10M
    (memory < 64MiB or batch_ok) ...   # names: METRICS or the space's numeric parameters
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConstraintError
from ..front.source import SourceFile, Span
from ..front.transform import decode_number
from ..names import did_you_mean

METRICS: dict[str, str] = {
    "params": "trainable parameters",
    "buffers": "BN running statistics and other buffers",
    "macs": "multiply-accumulates of one sample's inference",
    "flops": "2 x macs",
    "memory": "peak bytes of an inference forward at --batch and --dtype (params + buffers + "
    "live activations)",
    "activations": "peak bytes of live activations alone",
    "layers": "depth in weight layers (conv, linear) on the longest input-to-output path",
    "nodes": "IR nodes",
}
"""Every metric a sweep measures, with what it means (docs/sweep.md)."""

LATENCY_METRICS: dict[str, str] = {
    "latency": "median milliseconds of one inference of the optimized model (--measure latency)",
    "latency_spread": "interquartile range of those timings, milliseconds",
}
"""Measured metrics: only for the points that were timed (objectives, not --where)."""

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_BYTES = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?(?:KiB|MiB|GiB|TiB|[KMGT])?)"
    r"|(?P<name>[A-Za-z_]\w*)|(?P<op><=|>=|==|!=|<|>)|(?P<paren>[()]))"
)
MAX_CHARS = 2000
MAX_NESTING = 50
"""Parentheses and `not`s nested deeper than this are refused (E702), before Python's stack."""

Env = Mapping[str, Any]


@dataclass(frozen=True)
class Constraint:
    """A parsed `--where`: `holds(values)` for a point's metrics and parameters."""

    text: str
    fn: Callable[[Env], bool]
    names: frozenset[str]

    def holds(self, env: Env) -> bool:
        return self.fn(env)


def parse_constraint(text: str, names: Collection[str]) -> Constraint:
    """Parse `text`; `names` are what it may mention (metrics and numeric parameters)."""
    if len(text) > MAX_CHARS:
        raise ConstraintError(f"--where is {len(text):,} characters; the limit is {MAX_CHARS}")
    p = _Parser(text, names)
    if not p.toks:
        raise ConstraintError("--where is empty", hint='e.g. --where "macs <= 2G"')
    fn = p.expr()
    if p.pos < len(p.toks):
        raise p.error(p.toks[p.pos], "expected `and`, `or` or the end")
    return Constraint(text, fn, frozenset(p.used))


def metric_name(text: str, names: Collection[str], option: str) -> str:
    """An objective (`--objectives`, `--x`): a known name, or E702."""
    if text in names:
        return text
    raise ConstraintError(
        f"{option}: unknown metric `{text}`",
        hint=did_you_mean(text, names) or f"the metrics are: {', '.join(names)}",
    )


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int


class _Parser:
    def __init__(self, text: str, names: Collection[str]) -> None:
        self.text, self.names, self.used = text, list(names), set[str]()
        self.toks: list[_Tok] = []
        i = 0
        while i < len(text):
            if text[i:].strip() == "":
                break
            m = _TOKEN.match(text, i)
            if m is None or m.end() == i:
                at = i + len(text[i:]) - len(text[i:].lstrip())
                raise self.error(_Tok("?", text[at], at), f"unexpected character {text[at]!r}")
            kind = m.lastgroup or "?"
            val = m.group(kind)
            start = m.start(kind)
            if kind == "name" and val in ("and", "or", "not"):
                kind = val
            self.toks.append(_Tok(kind, val, start))
            i = m.end()
        self.pos = 0
        self.depth = 0

    def error(self, tok: _Tok | None, message: str, hint: str | None = None) -> ConstraintError:
        start = tok.start if tok else len(self.text)
        width = max(len(tok.text) if tok else 1, 1)
        span = Span("--where", 1, start + 1, 1, start + 1 + width)
        err = ConstraintError(message, span, hint=hint)
        err.with_sources({"--where": SourceFile.of("--where", self.text)})
        return err

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise self.error(None, "the constraint ends too early")
        self.pos += 1
        return tok

    def expr(self) -> Callable[[Env], bool]:
        left = self.conj()
        while (t := self.peek()) is not None and t.kind == "or":
            self.pos += 1
            right = self.conj()
            left = (lambda a, b: lambda env: a(env) or b(env))(left, right)
        return left

    def conj(self) -> Callable[[Env], bool]:
        left = self.neg()
        while (t := self.peek()) is not None and t.kind == "and":
            self.pos += 1
            right = self.neg()
            left = (lambda a, b: lambda env: a(env) and b(env))(left, right)
        return left

    def neg(self) -> Callable[[Env], bool]:
        t = self.peek()
        self.depth += 1
        try:
            return self._neg(t)
        finally:
            self.depth -= 1

    def _neg(self, t: _Tok | None) -> Callable[[Env], bool]:
        if self.depth > MAX_NESTING:
            raise self.error(t, f"the constraint nests deeper than {MAX_NESTING} levels")
        if t is not None and t.kind == "not":
            self.pos += 1
            inner = self.neg()
            return lambda env: not inner(env)
        if t is not None and t.kind == "paren" and t.text == "(":
            self.pos += 1
            inner = self.expr()
            close = self.peek()
            if close is None or close.text != ")":
                raise self.error(close, "expected `)`")
            self.pos += 1
            return inner
        return self.comparison()

    def comparison(self) -> Callable[[Env], bool]:
        left = self.operand()
        op = self.take()
        if op.kind != "op":
            raise self.error(op, "expected a comparison (<, <=, >, >=, ==, !=)")
        right = self.operand()
        fn = _OPS[op.text]
        chain = [(fn, right)]
        while (t := self.peek()) is not None and t.kind == "op":  # 1M < params <= 10M
            self.pos += 1
            chain.append((_OPS[t.text], self.operand()))

        def holds(env: Env) -> bool:
            a = left(env)
            for f, b in chain:
                bv = b(env)
                if not f(a, bv):
                    return False
                a = bv
            return True

        return holds

    def operand(self) -> Callable[[Env], Any]:
        t = self.take()
        if t.kind == "num":
            value = _number(t.text)
            return lambda env: value
        if t.kind == "name":
            if t.text not in self.names:
                raise self.error(
                    t,
                    f"unknown metric `{t.text}`",
                    did_you_mean(t.text, self.names) or f"the metrics are: {', '.join(self.names)}",
                )
            self.used.add(t.text)
            name = t.text
            return lambda env: env[name]
        raise self.error(t, "expected a metric, a parameter or a number")


def _number(text: str) -> int | float:
    for suffix, factor in _BYTES.items():
        if text.endswith(suffix):
            v = decode_number(text.removesuffix(suffix)) * factor
            return int(v) if float(v).is_integer() else v
    return decode_number(text)
