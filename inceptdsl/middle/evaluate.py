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

from ..errors import (
    ArithmeticSpecError,
    ElementTypeError,
    IndexRangeError,
    InvalidValueError,
    LimitError,
    TooMuchWorkError,
    TypeMismatchError,
    UnknownNameError,
)
from ..front import ast as A
from ..front.loader import FnRef
from ..ir.ops import ACTIVATION_DEFS, ACTIVATIONS, INITS
from ..names import did_you_mean
from .functions import call
from .loops import bind, items_of
from .values import ListValue, Record, Symbol, format_value, type_name

MAX_MAGNITUDE = 10**15
"""Largest absolute value an expression may produce (far above any real layer size)."""

MAX_LIST_ITEMS = 100_000
"""Longest list or tuple an expression may make (`range(n)`, `a + b`): a stage table has tens
of rows; `range(10**12)` stops here, located, before anything is allocated."""

MAX_WORK_ITEMS = 5_000_000
"""Most list items and function calls one lowering's expressions may make together (about a
second of work): a loop that builds a long list in every iteration stops with E905."""


CALL_WORK = 250
"""What one call of a declared function counts toward MAX_WORK_ITEMS: binding and checking its
arguments costs about as much as making 250 list items, so a lowering makes at most 20,000
calls (about a second; EfficientNet-b7's spec makes a few hundred)."""


class Work:
    """The items and calls expressions have made so far, shared by every evaluator of one
    lowering so that loops cannot multiply a bounded expression into hours of work."""

    def __init__(self, limit: int = MAX_WORK_ITEMS) -> None:
        self.used = 0
        self.calls = 0  # of declared functions, CALL_WORK each
        self.limit = limit

    def charge(self, n: int, e: A.Node, call: bool = False) -> None:
        self.used += n
        self.calls += call
        if self.used > self.limit:
            raise TooMuchWorkError(
                f"the spec's expressions make more than {self.limit:,} list items and calls",
                e.span,
                hint=self._advice(),
            )

    def _advice(self) -> str:
        """What made most of the work: calls of declared functions, or lists."""
        if 2 * self.calls * CALL_WORK > self.used:
            return (
                f"{self.calls:,} calls of declared functions made most of it (one counts as "
                f"{CALL_WORK} items): check functions that call functions many times"
            )
        return "check `range(...)` sizes and lists built inside loops"


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


def _items(v: Any, e: A.Node, what: str) -> tuple[Any, ...]:
    """The items of a list or tuple (a size is a tuple too)."""
    if isinstance(v, ListValue):
        return v.items
    if isinstance(v, tuple):
        return v
    raise TypeMismatchError(
        f"{what} needs a list or tuple, got {type_name(v)} {format_value(v)}", e.span
    )


def _numbers(v: Any, e: A.Node, what: str) -> list[int | float]:
    out = []
    for i, x in enumerate(_items(v, e, what)):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise ElementTypeError(
                f"{what} needs numbers; item {i} is {type_name(x)} {format_value(x)}", e.span
            )
        out.append(x)
    return out


def _sized(n: int, e: A.Node) -> int:
    if n > MAX_LIST_ITEMS:
        raise LimitError(
            f"a list of {n:,} items; the limit is {MAX_LIST_ITEMS:,}",
            e.span,
            hint="stage tables and loops are tens of items long: check the bounds",
        )
    return n


def _extreme(name: str, pick: Callable[..., Any]) -> Callable[[list[Any], A.Func], Any]:
    """`min(a, b, ...)`, or `min(xs)` of one list."""

    def fn(args: list[Any], e: A.Func) -> Any:
        if len(args) == 1 and isinstance(args[0], ListValue):
            items = _numbers(args[0], e, f"{name}()")
            if not items:
                raise TypeMismatchError(f"{name}() of an empty list", e.span)
            return pick(items)
        if not args:
            raise TypeMismatchError(f"{name}() needs at least one argument", e.span)
        return pick(_num(a, e, f"{name}()") for a in args)

    return fn


def _fn_len(args: list[Any], e: A.Func) -> int:
    _arity("len", args, 1, 1, e)
    return len(_items(args[0], e, "len()"))


def _fn_sum(args: list[Any], e: A.Func) -> Any:
    _arity("sum", args, 1, 1, e)
    return sum(_numbers(args[0], e, "sum()"))


def _fn_range(args: list[Any], e: A.Func) -> ListValue:
    """`range(n)`, `range(a, b)`, `range(a, b, step)`: as in Python, as a list."""
    _arity("range", args, 1, 3, e)
    ints = [_int(a, e, "range()") for a in args]
    if len(ints) == 3 and ints[2] == 0:
        raise ArithmeticSpecError("range() step must not be zero", e.span)
    r = range(*ints)
    _sized(len(r), e)
    return ListValue(tuple(r))


def _fn_enumerate(args: list[Any], e: A.Func) -> ListValue:
    """`enumerate(xs)`: the list of (index, item) pairs, for `for i, x in enumerate(xs)`."""
    _arity("enumerate", args, 1, 2, e)
    start = _int(args[1], e, "enumerate() start") if len(args) == 2 else 0
    return ListValue(tuple(enumerate(_items(args[0], e, "enumerate()"), start)))


def _fn_zip(args: list[Any], e: A.Func) -> ListValue:
    """`zip(a, b, ...)`: the list of tuples of items at the same index (as long as the
    shortest)."""
    _arity("zip", args, 1, 8, e)
    return ListValue(tuple(zip(*(_items(a, e, "zip()") for a in args), strict=False)))


def _fn_index(args: list[Any], e: A.Func) -> int:
    """`index(xs, v)`: the position of the first item equal to v (a member's row by name)."""
    _arity("index", args, 2, 2, e)
    items = _items(args[0], e, "index()")
    for i, x in enumerate(items):
        if x == args[1] and type_name(x) == type_name(args[1]):
            return i
    raise InvalidValueError(
        f"{format_value(args[1])} is not in the list",
        e.args[1].span,
        hint="the list holds "
        + ", ".join(format_value(x) for x in items[:12])
        + (", ..." if len(items) > 12 else ""),
    )


def _fn_pow(args: list[Any], e: A.Func) -> Any:
    _arity("pow", args, 2, 2, e)
    return power(_num(args[0], e, "pow()"), _num(args[1], e, "pow()"), e)


def power(a: int | float, b: int | float, e: A.Node) -> int | float:
    """`a ** b`: exact for ints with b >= 0; bounded before it is computed (`10 ** 10**6`
    is a located error, not a million-digit integer)."""
    if a == 0 and b < 0:
        raise ArithmeticSpecError("division by zero (0 to a negative power)", e.span)
    if a < 0 and not float(b).is_integer():
        raise ArithmeticSpecError(
            f"{format_value(a)} ** {format_value(b)} is not a real number", e.span
        )
    if abs(a) > 1 and b > 0 and b * math.log10(abs(a)) > math.log10(MAX_MAGNITUDE) + 1:
        raise LimitError(f"the expression's value exceeds {MAX_MAGNITUDE:.0e}", e.span)
    if isinstance(a, int) and isinstance(b, int) and b >= 0:
        return a**b
    return float(a) ** float(b)


def _math(name: str, f: Callable[[float], float], ok: Callable[[float], bool], need: str) -> Any:
    """A one-argument real function with its domain (`log` of a positive number)."""

    def fn(args: list[Any], e: A.Func) -> float:
        _arity(name, args, 1, 1, e)
        x = _num(args[0], e, f"{name}()")
        if not ok(x):
            raise ArithmeticSpecError(
                f"{name}() needs {need}, got {format_value(x)}", e.args[0].span
            )
        try:
            return f(x)
        except OverflowError:
            raise LimitError(f"{name}({format_value(x)}) is too large", e.span) from None

    return fn


def _fn_log(args: list[Any], e: A.Func) -> float:
    """`log(x)` (natural) or `log(x, base)`."""
    _arity("log", args, 1, 2, e)
    xs = [_num(a, e, "log()") for a in args]
    if any(x <= 0 for x in xs) or (len(xs) == 2 and xs[1] == 1):
        raise ArithmeticSpecError(
            "log() needs a positive number (and a positive base other than 1), got "
            + ", ".join(format_value(x) for x in xs),
            e.span,
        )
    return math.log(*xs)


def _arity(name: str, args: list[Any], lo: int, hi: int, e: A.Func) -> None:
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise TypeMismatchError(
            f"{name}() takes {want} argument{'s' if hi > 1 else ''}, got {len(args)}", e.span
        )


def _one(name: str, f: Callable[[float], Any]) -> Callable[[list[Any], A.Func], Any]:
    def fn(args: list[Any], e: A.Func) -> Any:
        if len(args) != 1:
            raise TypeMismatchError(f"{name}() takes one argument, got {len(args)}", e.span)
        return f(_num(args[0], e, f"{name}()"))

    return fn


FUNCTIONS: dict[str, Callable[[list[Any], A.Func], Any]] = {
    "min": _extreme("min", min),
    "max": _extreme("max", max),
    "int": _one("int", lambda x: int(x)),
    "round": _one("round", lambda x: int(round(x))),
    "floor": _one("floor", math.floor),
    "ceil": _one("ceil", math.ceil),
    "abs": _one("abs", abs),
    "float": _one("float", float),
    "sqrt": _math("sqrt", math.sqrt, lambda x: x >= 0, "a number >= 0"),
    "exp": _math("exp", math.exp, lambda x: True, "a number"),
    "log": _fn_log,
    "pow": _fn_pow,
    "len": _fn_len,
    "sum": _fn_sum,
    "range": _fn_range,
    "enumerate": _fn_enumerate,
    "zip": _fn_zip,
    "index": _fn_index,
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
        work: Work | None = None,
        functions: Mapping[str, FnRef] | None = None,
        depth: int = 0,
    ):
        self.names = names
        self.in_shape = in_shape
        self.prev_shape = prev_shape
        self.work = work if work is not None else Work()
        self.functions = functions or {}
        self.depth = depth  # calls of declared functions this evaluation is nested in

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
        if isinstance(e, A.ListExpr):
            self.work.charge(len(e.items), e)
            return ListValue(tuple(self.eval(i) for i in e.items))
        if isinstance(e, A.ListComp):
            return self._listcomp(e)
        if isinstance(e, A.Index):
            return self._index(e)
        if isinstance(e, A.Slice):
            return self._slice(e)
        if isinstance(e, A.Cond):
            return self.eval(e.then if self._bool(self.eval(e.cond), e.cond) else e.orelse)
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

    def _listcomp(self, e: A.ListComp) -> ListValue:
        out = []
        for k, item in enumerate(items_of(self.eval(e.iter), e.iter)):
            self.work.charge(1, e)
            names = dict(self.names)
            bind(e.target, item, k, names)
            inner = Evaluator(
                names, self.in_shape, self.prev_shape, self.work, self.functions, self.depth
            )
            if e.cond is None or inner._bool(inner.eval(e.cond), e.cond):
                out.append(inner.eval(e.element))
        return ListValue(tuple(out))

    def _index(self, e: A.Index) -> Any:
        target = self.eval(e.target)
        items = _items(target, e.target, "indexing")
        i = _int(self.eval(e.index), e.index, "an index")
        if not -len(items) <= i < len(items):
            n = len(items)
            raise IndexRangeError(
                f"index {i} is out of range: the {type_name(target)} has {n} item"
                + ("" if n == 1 else "s"),
                e.index.span,
                hint=f"indexes go from 0 to {n - 1} (or -{n} to -1 from the end)"
                if n
                else "the list is empty",
            )
        return items[i]

    def _slice(self, e: A.Slice) -> Any:
        target = self.eval(e.target)
        items = _items(target, e.target, "slicing")
        lo, hi = self._bound(e.start), self._bound(e.stop)
        part = items[lo:hi]
        self.work.charge(len(part), e)
        return ListValue(part) if isinstance(target, ListValue) else part

    def _bound(self, e: A.Expr | None) -> int | None:
        """A slice bound: omitted or `none` is the end, as in Python."""
        v = None if e is None else self.eval(e)
        return None if v is None or e is None else _int(v, e, "a slice bound")

    def _binop(self, e: A.BinOp) -> Any:
        if e.op in ("and", "or"):
            left = self._bool(self.eval(e.left), e.left)
            if e.op == "and" and not left:
                return False
            if e.op == "or" and left:
                return True
            return self._bool(self.eval(e.right), e.right)
        left, right = self.eval(e.left), self.eval(e.right)
        if e.op == "+" and isinstance(left, ListValue) and isinstance(right, ListValue):
            _sized(len(left.items) + len(right.items), e)
            self.work.charge(len(left.items) + len(right.items), e)
            return ListValue(left.items + right.items)
        a = _num(left, e.left, f"`{e.op}`")
        b = _num(right, e.right, f"`{e.op}`")
        if e.op == "**":
            return power(a, b, e)
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
        if fn is None and e.name in self.functions:
            self.work.charge(CALL_WORK, e, call=True)
            return call(self.functions[e.name], e, self)
        if fn is None:
            raise UnknownNameError(
                f"unknown function `{e.name}`",
                e.span,
                hint=did_you_mean(e.name, [*FUNCTIONS, *RECORDS, *self.functions]),
            )
        if e.kwargs:
            raise TypeMismatchError(f"{e.name}() takes no named arguments", e.kwargs[0].span)
        self.work.charge(1, e)
        result = fn([self.eval(a) for a in e.args], e)
        if isinstance(result, ListValue):
            self.work.charge(len(result.items), e)
        return result
