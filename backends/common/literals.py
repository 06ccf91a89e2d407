"""How an IR number is written into emitted source, shared by the torch and keras backends."""

from __future__ import annotations

import math

from inceptdsl.errors import InvalidValueError


def num(value: object, backend: str) -> str:
    """A Python literal for an IR number: ints as ints, floats as their shortest repr; anything
    else (nan, inf, a string) is an error naming `backend`."""
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value):
        return repr(float(value))
    raise InvalidValueError(f"the {backend} backend cannot write the number {value!r}")
