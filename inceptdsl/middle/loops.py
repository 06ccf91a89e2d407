"""`for` loops: what an iteration binds, and how a copy is named (docs/language.md, 2c).

Kept apart from lower/expand.py, which only walks the iterations: evaluating the list, unpacking an
item into the loop's names and expanding a name pattern are pure functions of values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidValueError, NotIterableError, UnknownNameError, UnpackError
from ..front import ast as A
from ..names import check_label, did_you_mean
from .values import ListValue, format_value, type_name


def items_of(v: Any, e: A.Expr) -> tuple[Any, ...]:
    """The items a `for` walks: a list's or a tuple's (a size is a tuple of ints)."""
    if isinstance(v, ListValue):
        return v.items
    if isinstance(v, tuple):
        return v
    hint = (
        f"loop over a count with `range({format_value(v)})`"
        if isinstance(v, int) and not isinstance(v, bool)
        else "loop over a list `[...]`, `range(n)` or `enumerate(xs)`"
    )
    raise NotIterableError(
        f"`for` needs a list or tuple to loop over, got {type_name(v)} {format_value(v)}",
        e.span,
        hint=hint,
    )


def bind(target: A.ForTarget, item: Any, index: int, out: dict[str, Any]) -> None:
    """Unpack `item` (the `index`-th) into `target`'s names in `out`."""
    if target.name is not None:
        out[target.name] = item
        return
    parts = item.items if isinstance(item, ListValue) else item
    if not isinstance(parts, tuple) or len(parts) != len(target.items):
        what = (
            f"has {len(parts)} values"
            if isinstance(parts, tuple)
            else f"is {type_name(item)} {format_value(item)}"
        )
        raise UnpackError(
            f"item {index} of the loop {what}; the names take {len(target.items)}",
            target.span,
            hint="write one name per value of an item, e.g. `for i, (t, c, n, s) in "
            "enumerate(stages)` for a table of 4-tuples",
        )
    for t, v in zip(target.items, parts, strict=True):
        bind(t, v, index, out)


def target_names(target: A.ForTarget) -> list[str]:
    if target.name is not None:
        return [target.name]
    return [n for t in target.items for n in target_names(t)]


_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\+(\d{1,6}))?\}")


def expand_pattern(
    p: A.String, values: Mapping[str, Any], counters: Mapping[str, int] | None = None
) -> str:
    """A copy's name from its pattern: `{name}` is a name's value (an int or a string) and
    `{name+4}` adds an offset; `counters` (a `repeat`'s `i` and `n`) win over names. The
    result must be a label (letters, digits, `_`, `-`), as a quoted label must."""
    counters = counters or {}

    def field(m: re.Match[str]) -> str:
        name, plus = m.group(1), int(m.group(2) or 0)
        if name in counters:
            return str(counters[name] + plus)
        if name not in values:
            raise UnknownNameError(
                f"name pattern {p.value!r}: unknown name `{name}`",
                p.span,
                hint=did_you_mean(name, [*values, *counters])
                or "a pattern names the loop's own names: `for i, x in enumerate(xs) as "
                '"block{i}"`',
            )
        v = values[name]
        if isinstance(v, str) and not plus:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidValueError(
                f"name pattern {p.value!r}: `{name}` is {type_name(v)} {format_value(v)}; "
                "a name is made of ints and strings",
                p.span,
            )
        return str(v + plus)

    text = _FIELD.sub(field, p.value)
    if "{" in text or "}" in text or not text:
        raise InvalidValueError(
            f"name pattern {p.value!r} must give names using {{name}} or {{name+4}} fields",
            p.span,
        )
    check_label(text, p.span)
    return text


def has_fields(p: A.String) -> bool:
    return _FIELD.search(p.value) is not None
