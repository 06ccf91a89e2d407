"""The design space of a sweep: one dimension per network parameter, checked against the
parameter's declared type, enumerated as a grid or sampled (seeded).

`--param` forms (docs/sweep.md): `lo:hi:step` (a linear grid), `lo:hi:xF` (a geometric grid,
each value F times the last), `lo:hi` (int: every integer; float: continuous, sampled only),
`lo:hi:log` (float, log-uniform, sampled only) and `a,b,c` (a choice, any type: bools, strings
such as a family's `variant`, sizes); a `choice[...]` parameter named alone (`--param variant`)
takes every member. The space comes from the command line, not from the spec:
a spec declares one network and its defaults; the ranges worth exploring depend on the question
(a budget, a device), so they stay with the question.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..check.types import TYPES, coerce, member_hint, members, mismatch, parse_type
from ..errors import SweepSpaceError, TypeMismatchError, UnknownParameterError
from ..front import ast as A
from ..front.transform import MAX_NUMBER_CHARS, decode_number
from ..middle.evaluate import SYMBOLS, Symbol
from ..middle.values import format_value, type_name
from ..names import did_you_mean

MAX_POINTS = 1_000_000
"""A grid larger than this is refused (E701): enumerate a part, or sample it."""
MAX_CHOICES = 10_000
"""Values one dimension may hold."""


@dataclass(frozen=True)
class Dimension:
    """One parameter's values: `values` for a grid (None: continuous), `lo`/`hi` and `log` for
    sampling a continuous range."""

    name: str
    type: str
    values: tuple[Any, ...] | None
    lo: float = 0.0
    hi: float = 0.0
    log: bool = False

    def sample(self, rng: random.Random) -> Any:
        if self.values is not None:
            return self.values[rng.randrange(len(self.values))]
        # 6 significant digits, as `set_line` prints them: the --set line rebuilds the point
        if self.log:
            return float(f"{math.exp(rng.uniform(math.log(self.lo), math.log(self.hi))):.6g}")
        return float(f"{rng.uniform(self.lo, self.hi):.6g}")

    def describe(self) -> str:
        if self.values is None:
            return f"{self.name}: {self.type} in [{self.lo:g}, {self.hi:g}]" + (
                " (log)" if self.log else ""
            )
        shown = ", ".join(format_value(v) for v in self.values[:6])
        more = f", ... ({len(self.values)} values)" if len(self.values) > 6 else ""
        return f"{self.name}: {shown}{more}"


@dataclass(frozen=True)
class Space:
    """The dimensions of a sweep, in the order given."""

    dims: tuple[Dimension, ...]
    path: str | None = None
    """The spec the errors name."""

    @property
    def size(self) -> int | None:
        """Grid points; None when a dimension is continuous."""
        if any(d.values is None for d in self.dims):
            return None
        return math.prod(len(d.values or ()) for d in self.dims)

    def grid(self) -> Iterator[dict[str, Any]]:
        if self.size is None:
            cont = next(d.name for d in self.dims if d.values is None)
            raise SweepSpaceError(
                f"`{cont}` is a continuous range: a grid needs its step",
                path=self.path,
                hint=f"give a step (`{cont}=LO:HI:STEP`) or sample it with --samples N",
            )
        if self.size > MAX_POINTS:
            raise SweepSpaceError(
                f"the grid has {self.size:,} points, over the limit of {MAX_POINTS:,}",
                path=self.path,
                hint="sample it with --samples N, or narrow the ranges",
            )
        names = [d.name for d in self.dims]
        for combo in itertools.product(*(d.values or () for d in self.dims)):
            yield dict(zip(names, combo, strict=True))

    def sample(self, n: int, seed: int) -> list[dict[str, Any]]:
        """`n` points drawn independently per dimension with a seeded generator (the same seed
        gives the same points on every machine)."""
        rng = random.Random(seed)
        return [{d.name: d.sample(rng) for d in self.dims} for _ in range(n)]


def parse_space(
    items: Sequence[str], decl_name: str, params: Sequence[A.Param], path: str
) -> Space:
    """The space given by `--param` items for a network with declared `params`."""
    by_name = {p.name: p for p in params}
    dims: list[Dimension] = []
    seen: set[str] = set()
    for item in items:
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        every = members(by_name[name].type) if not sep and name in by_name else None
        if every is not None:  # a family's member parameter, named alone: all its members
            raw = ",".join(every)
        elif not sep or not name or not raw:
            raise SweepSpaceError(
                f"--param expects NAME=RANGE or NAME=A,B,..., got {item!r}",
                path=path,
                hint="e.g. --param width=0.5:2.0:0.25, --param depth=1,2,3",
            )
        if name not in by_name:
            raise UnknownParameterError(
                f"network `{decl_name}` has no parameter `{name}`",
                path=path,
                hint=did_you_mean(name, by_name)
                or f"its parameters are: {', '.join(sorted(by_name)) or 'none'}",
            )
        if name in seen:
            raise SweepSpaceError(f"--param {name} is given twice", path=path)
        seen.add(name)
        dims.append(_dimension(by_name[name], raw, path))
    return Space(tuple(dims), path)


def _dimension(p: A.Param, raw: str, path: str) -> Dimension:
    if ":" in raw and "," not in raw:
        return _range(p, raw, path)
    values = tuple(_typed(p, literal(v.strip()), path) for v in raw.split(","))
    if any(v == "" for v in raw.split(",")):
        raise SweepSpaceError(f"--param {p.name}: an empty value in {raw!r}", path=path)
    if len(values) > MAX_CHOICES:
        raise SweepSpaceError(f"--param {p.name}: over {MAX_CHOICES:,} values", path=path)
    return Dimension(p.name, p.type, tuple(dict.fromkeys(values)))


def _range(p: A.Param, raw: str, path: str) -> Dimension:
    if p.type not in ("int", "float"):
        raise TypeMismatchError(
            f"--param {p.name}: a range needs an int or float parameter; "
            f"`{p.name}` is declared {p.type}",
            path=path,
            hint=f"list its values: --param {p.name}=A,B,...",
        )
    parts = [s.strip() for s in raw.split(":")]
    if len(parts) not in (2, 3):
        raise SweepSpaceError(
            f"--param {p.name}: a range is LO:HI or LO:HI:STEP, got {raw!r}", path=path
        )
    lo, hi = (_number(p, s, path) for s in parts[:2])
    if lo > hi:
        raise SweepSpaceError(
            f"--param {p.name}: the range {raw} is empty (LO {format_value(lo)} is above HI "
            f"{format_value(hi)})",
            path=path,
        )
    step = parts[2] if len(parts) == 3 else None
    if step == "log":
        if p.type != "float" or lo <= 0:
            raise SweepSpaceError(
                f"--param {p.name}: a log range needs a float parameter and LO > 0", path=path
            )
        return Dimension(p.name, p.type, None, lo, hi, log=True)
    if step is None:
        if p.type == "float":
            return Dimension(p.name, p.type, None, lo, hi)
        if hi - lo >= MAX_CHOICES:
            raise SweepSpaceError(
                f"--param {p.name}: {raw} holds over {MAX_CHOICES:,} values",
                path=path,
                hint=f"give a step ({p.name}=LO:HI:STEP) or narrow the range",
            )
        return _checked_values(p, [int(lo) + i for i in range(int(hi) - int(lo) + 1)], path)
    geometric = step.startswith("x")
    s = _number(p if not geometric else _FLOAT, step.removeprefix("x"), path)
    if (geometric and (s <= 1 or lo <= 0)) or (not geometric and s <= 0):
        raise SweepSpaceError(
            f"--param {p.name}: the step {step} never reaches {format_value(hi)}",
            path=path,
            hint="a step is > 0; a geometric step xF has F > 1 and LO > 0",
        )
    if not geometric and (hi - lo) / s >= MAX_CHOICES:
        raise SweepSpaceError(
            f"--param {p.name}: {raw} holds over {MAX_CHOICES:,} values",
            path=path,
            hint="give a larger step or narrow the range",
        )
    values: list[Any] = []
    k = 0
    while len(values) <= MAX_CHOICES:
        v = lo * s**k if geometric else lo + k * s
        if v > hi * (1 + 1e-9):
            break
        values.append(round(v, 10) if p.type == "float" else v)
        k += 1
    if len(values) > MAX_CHOICES:
        raise SweepSpaceError(
            f"--param {p.name}: {raw} holds over {MAX_CHOICES:,} values", path=path
        )
    if p.type == "int":
        values = [int(round(v)) if geometric else v for v in values]
    return _checked_values(p, list(dict.fromkeys(values)), path)


_FLOAT = A.Param.model_construct(name="step", type="float", default=None)


def _checked_values(p: A.Param, values: list[Any], path: str) -> Dimension:
    if len(values) > MAX_CHOICES:
        raise SweepSpaceError(f"--param {p.name}: over {MAX_CHOICES:,} values", path=path)
    return Dimension(p.name, p.type, tuple(_typed(p, v, path) for v in values))


def _number(p: A.Param, text: str, path: str) -> Any:
    v = literal(text)
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise TypeMismatchError(
            f"--param {p.name}: a range bound must be a number, got {printable_value(v)}",
            path=path,
        )
    return _typed(p, v, path)


def _typed(p: A.Param, v: Any, path: str) -> Any:
    t = parse_type(p.type) if p.type.startswith("choice") else None
    bad = mismatch(t, v) if t is not None else None
    if bad is not None:
        raise TypeMismatchError(
            f"--param {p.name}: `{p.name}` is declared {p.type}: {bad[0]}",
            path=path,
            hint=member_hint(t, v),
        )
    check = TYPES.get(p.type)
    if check is not None and not check(v):
        raise TypeMismatchError(
            f"--param {p.name}: `{p.name}` is declared {p.type}, got {type_name(v)} "
            f"{format_value(v)}",
            path=path,
        )
    return coerce(p.type, v)


def printable_value(v: Any) -> str:
    return f"{type_name(v)} {format_value(v)}"


def literal(raw: str) -> Any:
    """A command-line value typed like a spec literal (as `--set`: 10, 0.5, true, 32x32, relu,
    else a string)."""
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if raw in SYMBOLS:
        return Symbol(raw)
    parts = raw.split("x")
    if len(parts) in (2, 3) and all(p.isascii() and p.isdigit() for p in parts):
        return tuple(int(p) for p in parts)
    sign, digits = (-1, raw[1:]) if raw[:1] == "-" else (1, raw.removeprefix("+"))
    if len(digits) <= MAX_NUMBER_CHARS:
        try:
            return sign * decode_number(digits)
        except ValueError:
            pass
    return raw


def set_line(point: Mapping[str, Any]) -> str:
    """The `--set` arguments that rebuild a point (`--set width=0.5 --set variant=small`)."""
    return " ".join(f"--set {k}={shown(v)}" for k, v in point.items())


def shown(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "x".join(map(str, v))
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
