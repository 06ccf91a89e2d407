"""Spec text for the importers' values: numbers, sizes, words, records, parameters."""

from __future__ import annotations

import math
import re
from typing import Any

from ..errors import UnsupportedModelError
from ..fmt import quote
from .model import Rec, Size, Sym, Var

RESERVED = frozenset(
    "network block import input defaults let if else aux from expect within with source concat "
    "add residual shortcut repeat as in and or not x true false none".split()
)


def literal(v: Any) -> str:
    """`v` as the language writes it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise UnsupportedModelError(f"the value {v} cannot be written in a spec")
        text = repr(v)
        return text if ("." in text or "e" in text) else text + ".0"
    if isinstance(v, Size):
        return f"{v.h}x{v.w}"
    if isinstance(v, Sym):
        return v.name
    if isinstance(v, Var):
        return v.name
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, Rec):
        return f"{v.kind}(" + ", ".join(f"{k}={literal(x)}" for k, x in v.fields) + ")"
    if isinstance(v, tuple):
        return "(" + ", ".join(literal(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    raise TypeError(f"no spec literal for {type(v).__name__}")


def grouped(n: int) -> str:
    """An integer with `_` every three digits (`13_004_888`), as the bundled specs cite them."""
    return f"{n:_}" if abs(n) >= 10_000 else str(n)


def identifier(text: str, fallback: str = "x") -> str:
    """`text` made a NAME of the language that the torch backend accepts: letters, digits and
    `_`, starting with a letter, not a reserved word."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_")
    name = re.sub(r"__+", "_", name)
    if not name:
        name = fallback
    if not name[0].isalpha():
        name = f"{fallback}_{name}"
    if name in RESERVED:
        name += "_"
    return name


def camel(text: str) -> str:
    """A block name from a class or prefix name: `inception` -> `Inception`."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", text) if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts) or "Block"
    return name if name[0].isalpha() else "B" + name


def type_of(values: list[Any]) -> str:
    """The parameter type that holds every value in `values`."""
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "float"
    if all(isinstance(v, Size) for v in values):
        return "size"
    if all(isinstance(v, Sym) for v in values):
        return "act"
    return "any"


def key(v: Any) -> tuple[str, Any]:
    """Equality that tells 1 from 1.0 and from true."""
    return (type(v).__name__, v)
