"""A layer's details in a few words (`64 3x3 s2 p1 bn relu`), derived from its IR attributes.

Nothing here knows an op: every attribute model is read generically, so a new op in the
registry gets details without an edit. Rules, per field in model order:
- a field without a default (what the op cannot do without: channels, kernel, p, fn) is shown
  as its bare value, or behind its abbreviation when it has one (a pool's `s2`);
- a field with a default is shown only when it differs from it: a True flag by its name
  (`same`, `ceil`), a nested attribute model by its name (`bn`) or, if it has a spelling of
  its own, by that (`relu`, `leaky_relu(slope=0.2)`), a number or pair behind its
  abbreviation (`s2`, `p1`, `d2`, `g32`), anything else as `name=value`; False flags are not
  shown (a conv without bias is the norm in these networks, not news).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

ABBREVIATIONS = {
    "stride": "s",
    "pads": "p",
    "dilation": "d",
    "groups": "g",
    "depth_multiplier": "x",
    "ceil_mode": "ceil",
    "count_include_pad": "count_pad",
}
"""Short names of common attribute fields (a formatting table: fields not here print whole)."""


def _abbreviated(v: tuple[Any, ...]) -> str:
    """After an abbreviation: `2` for (2, 2) or (2, 2, 2, 2); `1x2` for a pair or for pads
    (top, bottom, left, right) equal per axis; `0,1,0,1` otherwise."""
    if len(v) == 4 and v[0] == v[1] and v[2] == v[3]:
        v = (v[0], v[2])
    if len(set(v)) == 1:
        return _value(v[0])
    return ("x" if len(v) == 2 else ",").join(_value(x) for x in v)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, tuple):
        return "x".join(_value(x) for x in v)
    if isinstance(v, BaseModel):
        return str(v) if _spelled(v) else type(v).__name__
    return str(v)


def _spelled(v: BaseModel) -> bool:
    """A nested model that says how the spec writes it (an Activation: `relu`,
    `leaky_relu(slope=0.2)`) is shown that way, not by its field name."""
    return type(v).__str__ is not BaseModel.__str__


@lru_cache(maxsize=4096)
def details(attrs: BaseModel, skip: frozenset[str] = frozenset()) -> str:
    """`attrs` in a few words: `64 3x3 s2 p1 bn relu`, `3x3 s2 ceil`, `0.5`, `relu`; the
    fields named in `skip` left out (the terminal table leaves out `init`: how training starts
    is a detail view's, not every row's). (Attribute models are frozen, so equal ones share one
    cached answer.)"""
    words: list[str] = []
    for name, info in type(attrs).model_fields.items():
        if name in skip:
            continue
        v = getattr(attrs, name)
        required = info.default is PydanticUndefined and info.default_factory is None
        abbrev = ABBREVIATIONS.get(name)
        if required and abbrev is None:
            words.append(_value(v))
            continue
        if (not required and v == info.default) or v is None or v is False:
            continue
        if v is True:
            words.append(abbrev or name)
        elif isinstance(v, BaseModel):
            words.append(str(v) if _spelled(v) else name)
        elif isinstance(v, (int, float, tuple)) and abbrev is not None:
            words.append(abbrev + (_abbreviated(v) if isinstance(v, tuple) else _value(v)))
        elif isinstance(v, str):
            words.append(v)
        else:
            words.append(f"{name}={_value(v)}")
    return " ".join(words)
