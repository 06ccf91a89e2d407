"""The expression evaluator: the project's own, over the AST; Python's eval is never used.

Values are those of values.py (plain Python data, Symbol, Record); the words that make Symbols
and Records come from the op registry. Arithmetic is exact on ints; `/` gives a float, `//`
floors; results are bounded so an absurd expression fails fast with a located error instead of
building a huge integer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from . import ast as A
from .errors import ArithmeticSpecError, LimitError, TypeMismatchError, UnknownNameError
from .ir.ops import ACTIVATION_DEFS, ACTIVATIONS, INITS
from .names import did_you_mean
from .values import Record, Symbol, format_value, type_name

MAX_MAGNITUDE = 10**15
"""Largest absolute value an expression may produce (far above any real layer size)."""


PADDING_MODES = ("same", "valid")

SYMBOLS: frozenset[str] = frozenset(ACTIVATIONS) | frozenset(PADDING_MODES)
"""Bare words that evaluate to a Symbol: activation names (from the op registry) and padding
modes."""

RECORDS: frozenset[str] = (
    frozenset({"bn"})
    | frozenset(name for name, d in ACTIVATION_DEFS.items() if d.params)
    | frozenset(INITS)  # init=trunc_normal(std=0.01)
)
"""Words written like a call that make a Record: `bn(...)` and parameterised activations
(`leaky_relu(slope=0.2)`)."""


def _num(v: Any, e: A.Node, what: str) -> int | float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeMismatchError(f"{what} needs a number, got {type_name(v)}", e.span)
    return v


def _int(v: Any, e: A.Node, what: str) -> int:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, float) and math.isfinite(v):
        raise ArithmeticSpecError(
            f"{what} needs a whole number, got {format_value(v)}",
            e.span,
            hint="`/` gives a fraction: divide with `//` to round down, or use round(...)",
        )
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeMismatchError(
            f"{what} needs an integer, got {type_name(v)} {format_value(v)}", e.span
        )
    return v


def _bounded(v: Any, e: A.Node) -> Any:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if isinstance(v, float) and not math.isfinite(v):
            raise ArithmeticSpecError("the expression's value is not finite", e.span)
        if abs(v) > MAX_MAGNITUDE:
            raise LimitError(f"the expression's value exceeds {MAX_MAGNITUDE:.0e}", e.span)
    return v


def _fn_min(args: list[Any], e: A.Func) -> Any:
    if not args:
        raise TypeMismatchError("min() needs at least one argument", e.span)
    return min(_num(a, e, "min()") for a in args)


def _fn_max(args: list[Any], e: A.Func) -> Any:
    if not args:
        raise TypeMismatchError("max() needs at least one argument", e.span)
    return max(_num(a, e, "max()") for a in args)


def _one(name: str, f: Callable[[float], Any]) -> Callable[[list[Any], A.Func], Any]:
    def fn(args: list[Any], e: A.Func) -> Any:
        if len(args) != 1:
            raise TypeMismatchError(f"{name}() takes one argument, got {len(args)}", e.span)
        return f(_num(args[0], e, f"{name}()"))

    return fn


FUNCTIONS: dict[str, Callable[[list[Any], A.Func], Any]] = {
    "min": _fn_min,
    "max": _fn_max,
    "int": _one("int", lambda x: int(x)),
    "round": _one("round", lambda x: int(round(x))),
    "floor": _one("floor", math.floor),
    "ceil": _one("ceil", math.ceil),
    "abs": _one("abs", abs),
    "float": _one("float", float),
}
"""Built-in functions callable in expressions (docs/language.md lists them)."""


class Evaluator:
    """Evaluates expressions against named values and, in blocks, the input shape (`in.*`)
    and the shape of the tensor the current unit receives (`prev.*`)."""

    def __init__(
        self,
        names: Mapping[str, Any],
        in_shape: tuple[int, ...] | None = None,
        prev_shape: tuple[int, ...] | None = None,
    ):
        self.names = names
        self.in_shape = in_shape
        self.prev_shape = prev_shape

    def eval(self, e: A.Expr) -> Any:
        return _bounded(self._eval(e), e)

    def _eval(self, e: A.Expr) -> Any:  # noqa: C901 (one dispatch over node kinds)
        if isinstance(e, A.Number):
            return e.value
        if isinstance(e, A.Const):
            return e.value
        if isinstance(e, A.String):
            return e.value
        if isinstance(e, A.SizeLit):
            return e.dims
        if isinstance(e, A.Var):
            if e.name in self.names:
                return self.names[e.name]
            if e.name in SYMBOLS:
                return Symbol(e.name)
            raise UnknownNameError(
                f"unknown name `{e.name}`",
                e.span,
                hint=did_you_mean(e.name, [*self.names, *SYMBOLS]),
            )
        if isinstance(e, A.InRef):
            return self._in_ref(e)
        if isinstance(e, A.SizeExpr):
            return tuple(_int(self.eval(p), p, "a size") for p in e.parts)
        if isinstance(e, A.TupleExpr):
            return tuple(self.eval(i) for i in e.items)
        if isinstance(e, A.UnaryOp):
            v = self.eval(e.operand)
            if e.op == "not":
                return not self._bool(v, e.operand)
            return -_num(v, e.operand, "`-`")
        if isinstance(e, A.BinOp):
            return self._binop(e)
        if isinstance(e, A.Compare):
            return self._compare(e)
        if isinstance(e, A.Func):
            return self._func(e)
        raise AssertionError(f"unhandled expression {type(e).__name__}")

    def _bool(self, v: Any, e: A.Node) -> bool:
        if not isinstance(v, bool):
            raise TypeMismatchError(f"expected true or false, got {type_name(v)}", e.span)
        return v

    def _in_ref(self, e: A.InRef) -> int:
        shape, base = (self.in_shape, "in") if e.base == "in" else (self.prev_shape, "prev")
        if shape is None:
            where = "a block or network body" if base == "in" else "a unit's arguments"
            raise UnknownNameError(f"`{base}` is only available inside {where}", e.span)
        attrs = {"channels": 0, "height": 1, "width": 2}
        if e.attr == "features" and len(shape) == 1:
            return shape[0]
        if e.attr == "features":
            raise TypeMismatchError(
                f"`{base}.features` is only defined for a flat input; the input is "
                + "x".join(map(str, shape)),
                e.span,
                hint=f"use `{base}.channels`, `{base}.height` or `{base}.width`",
            )
        if e.attr not in attrs:
            raise UnknownNameError(
                f"`{base}` has no attribute `{e.attr}`",
                e.span,
                hint=did_you_mean(e.attr, [*attrs, "features"]),
            )
        idx = attrs[e.attr]
        if idx >= len(shape):
            raise TypeMismatchError(
                f"`{base}.{e.attr}` is not defined: the input is flat ({shape[0]} features)",
                e.span,
            )
        return shape[idx]

    def _binop(self, e: A.BinOp) -> Any:
        if e.op in ("and", "or"):
            left = self._bool(self.eval(e.left), e.left)
            if e.op == "and" and not left:
                return False
            if e.op == "or" and left:
                return True
            return self._bool(self.eval(e.right), e.right)
        a = _num(self.eval(e.left), e.left, f"`{e.op}`")
        b = _num(self.eval(e.right), e.right, f"`{e.op}`")
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            if abs(a) > MAX_MAGNITUDE or abs(b) > MAX_MAGNITUDE:
                raise LimitError(f"the expression's value exceeds {MAX_MAGNITUDE:.0e}", e.span)
            return a * b
        if b == 0:
            raise ArithmeticSpecError("division by zero", e.span)
        if e.op == "/":
            return a / b
        return a // b

    def _compare(self, e: A.Compare) -> bool:
        a, b = self.eval(e.left), self.eval(e.right)
        if e.op in ("==", "!="):
            same = (
                a == b
                and type_name(a) == type_name(b)
                or (
                    isinstance(a, (int, float))
                    and isinstance(b, (int, float))
                    and not isinstance(a, bool)
                    and not isinstance(b, bool)
                    and a == b
                )
            )
            return same if e.op == "==" else not same
        if e.op == "~=":
            raise TypeMismatchError("`~=` is only for `expect` declarations", e.span)
        x = _num(a, e.left, f"`{e.op}`")
        y = _num(b, e.right, f"`{e.op}`")
        return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[e.op]

    def _func(self, e: A.Func) -> Any:
        if e.name in RECORDS:
            if e.args:
                raise TypeMismatchError(
                    f"`{e.name}(...)` takes named options only, e.g. {e.name}(eps=0.001)", e.span
                )
            return Record(e.name, tuple((k.name, self.eval(k.value)) for k in e.kwargs))
        fn = FUNCTIONS.get(e.name)
        if fn is None:
            raise UnknownNameError(
                f"unknown function `{e.name}`",
                e.span,
                hint=did_you_mean(e.name, [*FUNCTIONS, *RECORDS]),
            )
        if e.kwargs:
            raise TypeMismatchError(f"{e.name}() takes no named arguments", e.kwargs[0].span)
        return fn([self.eval(a) for a in e.args], e)
