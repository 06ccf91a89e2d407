"""Parameter types of networks and blocks, and the check that a value has the declared type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ir.ops import ACTIVATION_DEFS
from ..values import Record, Symbol


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


def coerce(type_name: str, v: Any) -> Any:
    """The value as the parameter will hold it (ints declared float become floats)."""
    if type_name == "float" and _is_int(v):
        return float(v)
    return v
