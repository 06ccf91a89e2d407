"""Checkers of layer option values: (value, span, what) -> the normalised value, or a coded,
located SpecError. Layer surfaces (inceptdsl/ir/ops/) name one per option, so lowering only
ever sees well-formed attributes."""

from __future__ import annotations

from typing import Any

from ..errors import ArithmeticSpecError, ChannelError, InvalidValueError, TypeMismatchError
from ..front.source import Span
from ..middle.values import Symbol, format_value, type_name
from .registry import Check, Pads


def _int(v: Any, span: Span, what: str, minimum: int = 1) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, float):
        raise ArithmeticSpecError(
            f"{what} must be a whole number, got {format_value(v)}",
            span,
            hint="`/` gives a fraction: divide with `//` to round down, or use round(...)",
        )
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeMismatchError(
            f"{what} must be an integer, got {type_name(v)} {format_value(v)}", span
        )
    if v < minimum:
        raise InvalidValueError(f"{what} must be at least {minimum}, got {v}", span)
    return v


def pos_int(v: Any, span: Span, what: str) -> int:
    return _int(v, span, what, 1)


def nonneg_int(v: Any, span: Span, what: str) -> int:
    return _int(v, span, what, 0)


def channels(v: Any, span: Span, what: str) -> int:
    """A channel or feature count: a whole number (E305), and positive (E405)."""
    n = _int(v, span, what, minimum=-(2**63))
    if n < 1:
        raise ChannelError(f"{what} must be a positive integer, got {n}", span)
    return n


def number(v: Any, span: Span, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeMismatchError(f"{what} must be a number, got {type_name(v)}", span)
    return float(v)


def positive(v: Any, span: Span, what: str) -> float:
    x = number(v, span, what)
    if x <= 0:
        raise InvalidValueError(f"{what} must be positive, got {format_value(v)}", span)
    return x


def probability(v: Any, span: Span, what: str) -> float:
    x = number(v, span, what)
    if not 0 <= x < 1:
        raise InvalidValueError(f"{what} must be in [0, 1), got {format_value(v)}", span)
    return x


def boolean(v: Any, span: Span, what: str) -> bool:
    if not isinstance(v, bool):
        raise TypeMismatchError(f"{what} must be true or false, got {type_name(v)}", span)
    return v


def pair(v: Any, span: Span, what: str) -> tuple[int, int]:
    """An int `k` (k x k) or a size/pair `kh x kw` / `(kh, kw)`."""
    if isinstance(v, tuple):
        if len(v) != 2:
            raise InvalidValueError(
                f"{what} must be one or two numbers (h x w), got {format_value(v)}", span
            )
        return pos_int(v[0], span, what), pos_int(v[1], span, what)
    k = pos_int(v, span, what)
    return k, k


def optional_pair(v: Any, span: Span, what: str) -> tuple[int, int] | None:
    return None if v is None else pair(v, span, what)


def padding(v: Any, span: Span, what: str) -> Pads | str:
    """`same`, `valid`, p, (ph, pw) or ((top, bottom), (left, right)) -> 'same' or pads."""
    if isinstance(v, Symbol) and v.name in ("same", "valid"):
        return "same" if v.name == "same" else (0, 0, 0, 0)
    if isinstance(v, tuple):
        if len(v) == 2 and all(isinstance(x, tuple) for x in v):
            (t, b), (lft, r) = (_two(x, span, what) for x in v)
            return (t, b, lft, r)
        if len(v) == 2:
            ph, pw = (nonneg_int(x, span, what) for x in v)
            return (ph, ph, pw, pw)
        raise InvalidValueError(
            f"{what} must be same, valid, p, (ph, pw) or ((top, bottom), (left, right)); "
            f"got {format_value(v)}",
            span,
        )
    p = nonneg_int(v, span, what)
    return (p, p, p, p)


def explicit_padding(v: Any, span: Span, what: str) -> Pads:
    """Padding given as numbers (p, (ph, pw) or ((top, bottom), (left, right))), not `same`."""
    p = padding(v, span, what)
    if isinstance(p, str):
        raise InvalidValueError(
            f"{what} must be given in pixels, not `same`",
            span,
            hint="write p, (ph, pw) or ((top, bottom), (left, right))",
        )
    return p


def _two(v: Any, span: Span, what: str) -> tuple[int, int]:
    if not isinstance(v, tuple) or len(v) != 2:
        raise InvalidValueError(
            f"{what}: expected a pair (before, after), got {format_value(v)}", span
        )
    return nonneg_int(v[0], span, what), nonneg_int(v[1], span, what)


def optional(check: Check) -> Check:
    """`check`, letting `none` through (an option whose absence means "inherit")."""
    return lambda v, s, w: None if v is None else check(v, s, w)
