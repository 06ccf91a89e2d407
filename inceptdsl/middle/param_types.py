"""Parameter types of networks and blocks, and the check that a value has the declared type.

A type is a word of TYPES or a typed container written like Python's annotations:
`list[T]` (any length), `tuple[T1, T2, ...]` (exactly those items), `tuple` (any tuple);
`list[tuple[int, int, int, int]]` is a stage table. `choice["b0", "b1"]` is one of those
strings: a family's members, which tools list (`inceptdsl list`), sweep and take by name
(`inceptdsl report efficientnet_b3`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..ir.ops import ACTIVATION_DEFS
from ..names import did_you_mean
from .values import ListValue, Record, Symbol, format_value, type_name


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_size(v: Any) -> bool:
    return _is_int(v) or (isinstance(v, tuple) and len(v) in (2, 3) and all(map(_is_int, v)))


TYPES: dict[str, Callable[[Any], bool]] = {
    "int": _is_int,
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "size": _is_size,
    "act": lambda v: (
        v is None
        or (isinstance(v, Symbol) and v.name in ACTIVATION_DEFS)
        or (isinstance(v, Record) and v.kind in ACTIVATION_DEFS)
    ),
    "any": lambda v: True,
}
"""Type name -> predicate. `float` accepts ints; `size` is an int or `a x b`; `act` an
activation (a name or a record such as `leaky_relu(slope=0.2)`) or none."""


CONTAINERS = ("list", "tuple", "choice")

Type = tuple[str, tuple["Type", ...]]
"""A parsed type: (`int`, ()), (`list`, (T,)), (`tuple`, (T1, T2)), (`tuple`, ()) any tuple;
(`choice`, ((m1, ()), (m2, ()))) for the members m1, m2 (see `members`)."""

_TOKEN = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*|\[|\]|,|"(?:[^"\\\n]|\\.)*")')


def parse_type(text: str) -> Type | None:
    """The type written `text` (the parser's canonical form), or None if it is not one."""
    toks = _TOKEN.findall(text)
    if "".join(toks) != re.sub(r"\s", "", text):
        return None
    pos = [0]

    def one() -> Type | None:
        if pos[0] >= len(toks) or not toks[pos[0]][0].isalpha() and toks[pos[0]][0] != "_":
            return None
        word = toks[pos[0]]
        pos[0] += 1
        if word == "choice":
            return _choice(toks, pos)
        if pos[0] < len(toks) and toks[pos[0]] == "[":
            pos[0] += 1
            args: list[Type] = []
            while True:
                t = one()
                if t is None:
                    return None
                args.append(t)
                if pos[0] < len(toks) and toks[pos[0]] == ",":
                    pos[0] += 1
                    continue
                break
            if pos[0] >= len(toks) or toks[pos[0]] != "]":
                return None
            pos[0] += 1
            if word != "tuple" and not (word == "list" and len(args) == 1):
                return None
            return (word, tuple(args))
        if word not in TYPES and word != "tuple":
            return None
        return (word, ())

    t = one()
    return t if t is not None and pos[0] == len(toks) else None


def _choice(toks: list[str], pos: list[int]) -> Type | None:
    """The rest of `choice["a", "b", ...]` (at least one member, each once), or None."""
    if pos[0] >= len(toks) or toks[pos[0]] != "[":
        return None
    found: list[str] = []
    while True:
        pos[0] += 1
        if pos[0] >= len(toks) or not toks[pos[0]].startswith('"'):
            return None
        found.append(_decode(toks[pos[0]]))
        pos[0] += 1
        if pos[0] < len(toks) and toks[pos[0]] == ",":
            continue
        break
    if pos[0] >= len(toks) or toks[pos[0]] != "]" or len(set(found)) != len(found):
        return None
    pos[0] += 1
    return ("choice", tuple((m, ()) for m in found))


def _decode(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), quoted[1:-1])


def members(t: Type | str | None) -> tuple[str, ...] | None:
    """The members of a `choice[...]` type (a parsed type or its text); None for any other."""
    if isinstance(t, str):
        t = parse_type(t) if t.startswith("choice") else None
    if t is None or t[0] != "choice":
        return None
    return tuple(m for m, _ in t[1])


def member_hint(t: Type | None, v: Any) -> str | None:
    """For a value that is no member of a `choice` type: the closest member, or all of them."""
    names = members(t)
    if names is None or not isinstance(v, str):
        return None
    return did_you_mean(v, names) or "its members are: " + ", ".join(format_value(m) for m in names)


def unknown_part(text: str) -> str | None:
    """The first word of `text` that is no type (for a did-you-mean), or None."""
    for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r'"(?:[^"\\]|\\.)*"', "", text)):
        if word not in TYPES and word not in CONTAINERS:
            return word
    return None


def mismatch(t: Type, v: Any, where: str = "") -> tuple[str, bool] | None:
    """Why `v` is not of type `t` (None if it is), and whether the problem is an item's
    (E308) rather than the value's own (E301)."""
    word, args = t
    if word == "choice":
        names = [m for m, _ in args]
        if isinstance(v, str) and v in names:
            return None
        shown = f"{type_name(v)} {format_value(v)}" if not isinstance(v, str) else format_value(v)
        return f"{_item(where)} is {shown}, not one of its members", bool(where)
    if word == "list":
        if not isinstance(v, ListValue):
            return f"{_item(where)} is {type_name(v)} {format_value(v)}, not a list", bool(where)
        for i, x in enumerate(v.items):
            bad = mismatch(args[0], x, f"{where}[{i}]")
            if bad is not None:
                return bad[0], True
        return None
    if word == "tuple":
        if not isinstance(v, tuple):
            return f"{_item(where)} is {type_name(v)} {format_value(v)}, not a tuple", bool(where)
        if args and len(args) != len(v):
            return (
                f"{_item(where)} has {len(v)} items, not {len(args)}: {format_value(v)}",
                bool(where),
            )
        for i, (a, x) in enumerate(zip(args, v, strict=False)):
            bad = mismatch(a, x, f"{where}[{i}]")
            if bad is not None:
                return bad[0], True
        return None
    if TYPES[word](v):
        return None
    shown = format_value(v)
    return f"{_item(where)} is {type_name(v)} {shown}, not {word}", bool(where)


def _item(where: str) -> str:
    return f"item {where}" if where else "the value"


def coerce_typed(t: Type, v: Any) -> Any:
    """The value as a parameter of type `t` holds it: ints declared float become floats,
    inside lists and tuples too."""
    word, args = t
    if word == "list" and isinstance(v, ListValue):
        return ListValue(tuple(coerce_typed(args[0], x) for x in v.items))
    if word == "tuple" and isinstance(v, tuple) and args:
        return tuple(coerce_typed(a, x) for a, x in zip(args, v, strict=True))
    return coerce(word, v)


def coerce(type_name: str, v: Any) -> Any:
    """The value as the parameter will hold it (ints declared float become floats)."""
    if type_name == "float" and _is_int(v):
        return float(v)
    return v
