"""Layer-valued parameters: a parameter of type `act` standing as a unit in a chain.

`block MB(a: act = relu) { conv 64 1x1 -> a -> conv 64 1x1 }` lowers `a` as the layer its value
names (`relu`, or `leaky_relu` with the record's options), named as if written out; a value of
`none` makes the unit the identity (nothing is built). resolve_names allows the name only
where the enclosing declaration declares it `act`, so the value is an activation here.
"""

from __future__ import annotations

from typing import Any

from ..errors import TypeMismatchError
from ..front import ast as A
from .values import Record, Symbol, format_value, type_name


def activation_call(call: A.Call, value: Any) -> A.Call | None:
    """The layer call that the `act` value stands for (None for `none`)."""
    if value is None:
        return None
    if isinstance(value, Symbol):
        return call.model_copy(update={"name": value.name, "args": (), "kwargs": ()})
    if isinstance(value, Record):
        kwargs = tuple(
            A.KwArg.model_construct(span=call.span, name=k, value=_literal(v, call))
            for k, v in value.fields
        )
        return call.model_copy(update={"name": value.kind, "args": (), "kwargs": kwargs})
    raise TypeMismatchError(
        f"`{call.name}` stands as a layer, but its value is {type_name(value)} "
        f"{format_value(value)}, not an activation",
        call.span,
    )


def _literal(v: Any, call: A.Call) -> A.Expr:
    """An option value of the record as an expression node (the layer re-reads it)."""
    if isinstance(v, bool) or v is None:
        return A.Const.model_construct(span=call.span, value=v)
    if isinstance(v, (int, float)):
        return A.Number.model_construct(span=call.span, value=v, text=repr(v))
    raise TypeMismatchError(
        f"`{call.name}`: option value {format_value(v)} is not a number", call.span
    )
