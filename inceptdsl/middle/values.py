"""Values of the spec language: what evaluating an expression can give.

Plain Python data: int, float, bool, None, str, tuples (sizes, pads), ListValue (`[a, b]`, kept
apart from tuples so that a list is never taken for a size), Symbol (an enumerated
word such as `relu` or `same`) and Record (an option record such as `bn(eps=...)` or
`leaky_relu(slope=0.2)`). Kept apart from the evaluator so that the op registry (which checks
option values) and the evaluator (whose vocabulary the registry supplies) can both use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Symbol:
    """An enumerated word: an activation (`relu`) or a padding mode (`same`, `valid`)."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ListValue:
    """A list `[a, b, c]`: immutable (the language has no assignment), hashable like every
    value, and a type of its own so that `[3, 3]` is not a kernel size by accident."""

    items: tuple[Any, ...]

    def __str__(self) -> str:
        return format_value(self)


@dataclass(frozen=True)
class Record:
    """An option record written like a call, e.g. `bn(eps=0.001, scale=false)`."""

    kind: str
    fields: tuple[tuple[str, Any], ...]

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self.fields:
            if k == key:
                return v
        return default

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={format_value(v)}" for k, v in self.fields)
        return f"{self.kind}({inner})"


def format_value(v: Any) -> str:
    """A value as the spec language would write it."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, ListValue):
        return "[" + ", ".join(format_value(x) for x in v.items) + "]"
    if isinstance(v, tuple):
        if v and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            return "x".join(str(x) for x in v)
        return "(" + ", ".join(format_value(x) for x in v) + ")"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, float):
        return repr(v)
    return str(v)


def type_name(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, tuple):
        return "size" if all(isinstance(x, int) for x in v) else "tuple"
    if isinstance(v, ListValue):
        return "list"
    if isinstance(v, Symbol):
        return f"`{v.name}`"
    if isinstance(v, Record):
        return f"{v.kind}(...)"
    return type(v).__name__
