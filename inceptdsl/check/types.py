"""Parameter types, as the check passes import them: the definitions are in param_types.py
(an earlier stage, so that the evaluator can check a function's arguments too)."""

from __future__ import annotations

from ..middle.param_types import (
    CONTAINERS,
    TYPES,
    Type,
    coerce,
    coerce_typed,
    member_hint,
    members,
    mismatch,
    parse_type,
    unknown_part,
)

__all__ = [
    "CONTAINERS",
    "TYPES",
    "Type",
    "coerce",
    "coerce_typed",
    "member_hint",
    "members",
    "mismatch",
    "parse_type",
    "unknown_part",
]
