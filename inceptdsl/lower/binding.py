"""Argument binding, done once for every kind of call: network parameters (defaults and
`--set`), block calls and `extends` arguments all go through `call_args` (what the call
writes; `extends_args` for a variant's parent) and `bind_params` (each parameter: given, else
its default, else an error; then type-checked)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..check.placement import parent_network
from ..check.types import TYPES, coerce, coerce_typed, member_hint, mismatch, parse_type
from ..errors import (
    ArgumentCountError,
    ElementTypeError,
    NetworkCountError,
    Note,
    SpecError,
    TypeMismatchError,
    UnknownParameterError,
)
from ..front import ast as A
from ..front.loader import Program, SpecFile
from ..front.source import Span
from ..middle.evaluate import Evaluator
from ..middle.functions import FnRef
from ..middle.values import format_value, type_name
from ..names import did_you_mean

Given = dict[str, tuple[Any, Span | None]]
"""Parameter name -> (value, where it was given)."""


def call_args(
    params: Sequence[A.Param],
    args: Sequence[A.Expr],
    kwargs: Sequence[A.KwArg],
    ev: Evaluator,
) -> Given:
    """The arguments a call writes, positional then by name, evaluated and keyed by parameter."""
    given: Given = {}
    for p, arg in zip(params, args, strict=False):
        given[p.name] = (ev.eval(arg), arg.span)
    for kw in kwargs:
        if kw.name in given:
            raise ArgumentCountError(
                f"`{kw.name}` is given twice (positionally and by name)", kw.span
            )
        given[kw.name] = (ev.eval(kw.value), kw.span)
    return given


def bind_params(
    params: Sequence[A.Param],
    given: Mapping[str, tuple[Any, Span | None]],
    evaluator: Callable[[Mapping[str, Any]], Evaluator],
    missing: Callable[[A.Param], SpecError],
) -> dict[str, Any]:
    """Each parameter's value: the one given, else its default (evaluated by
    `evaluator(values so far)`, so a default sees the parameters before it), else `missing`;
    then checked against its declared type."""
    values: dict[str, Any] = {}
    for p in params:
        if p.name in given:
            v, span = given[p.name]
        elif p.default is not None:
            v, span = evaluator(values).eval(p.default), p.default.span
        else:
            raise missing(p)
        values[p.name] = typed(p, v, span)
    return values


def typed(p: A.Param, v: Any, span: Span | None) -> Any:
    """`v` as parameter `p`'s declared type (an int where a float is declared becomes one)."""
    check = TYPES.get(p.type)
    if check is None:  # a list or tuple type (resolve_names reported any unknown one)
        t = parse_type(p.type)
        bad = mismatch(t, v) if t is not None else None
        if bad is not None:
            cls = ElementTypeError if bad[1] else TypeMismatchError
            raise cls(
                f"parameter `{p.name}` is declared {p.type}: {bad[0]}",
                span,
                hint=member_hint(t, v),
            )
        return coerce_typed(t, v) if t is not None else v
    if not check(v):
        raise TypeMismatchError(
            f"parameter `{p.name}` is declared {p.type}, got {type_name(v)} {format_value(v)}",
            span,
        )
    return coerce(p.type, v)


def extends_args(
    decl: A.NetworkDecl,
    values: Mapping[str, Any],
    pparams: Sequence[A.Param],
    functions: Mapping[str, FnRef] | None = None,
) -> dict[str, Any]:
    """What a variant's `extends` passes to its parent (whose parameters are `pparams`): a
    variant without parameters of its own passes its inherited ones through as they are;
    otherwise the arguments, evaluated with the variant's parameter `values`."""
    ext = decl.extends
    assert ext is not None
    if not decl.params:
        return {p.name: values[p.name] for p in pparams}
    ev = Evaluator(values, functions=functions)
    return {k: v for k, (v, _) in call_args(pparams, ext.args, ext.kwargs, ev).items()}


def network_decl(program: Program) -> A.NetworkDecl:
    nets = program.root.module.networks
    if len(nets) != 1:
        where = program.root.source.path
        if not nets:
            raise NetworkCountError(
                f"{where} declares no network, only "
                f"{_plural(len(program.root.module.blocks), 'block')}",
                path=where,
                hint="a spec that is loaded must declare one `network NAME(...) { ... }`; "
                "files of shared blocks are imported, not loaded",
            )
        raise NetworkCountError(
            f"{where} declares {len(nets)} networks; a spec declares exactly one",
            nets[1].span,
            notes=[Note("the first is here", nets[0].span)],
        )
    return nets[0]


def _plural(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def network_params(decl: A.NetworkDecl, file: SpecFile) -> tuple[A.Param, ...]:
    """A network's parameters. A variant that declares none has its parent's, with the
    `extends` arguments as their defaults (`network v extends p(num_classes=10)`)."""
    if decl.extends is None or decl.params:
        return decl.params
    ref = file.blocks.get(decl.extends.name)
    parent = parent_network(ref) if ref is not None else None
    if ref is None or parent is None:
        return ()  # check/placement reports it
    inherited = network_params(parent, ref.file)
    given: dict[str, A.Expr] = {
        p.name: a for p, a in zip(inherited, decl.extends.args, strict=False)
    }
    given.update({kw.name: kw.value for kw in decl.extends.kwargs})
    return tuple(
        p.model_copy(update={"default": given[p.name]}) if p.name in given else p for p in inherited
    )


def network_functions(decl: A.NetworkDecl, file: SpecFile) -> Mapping[str, FnRef]:
    """The functions a network's parameter defaults may call: its file's and, for a variant
    that inherits its parent's parameters, the parent's, which those defaults were written
    against (`image_size: int = member(variant)[3]` in a family that a variant extends)."""
    if decl.extends is None or decl.params:
        return file.functions
    ref = file.blocks.get(decl.extends.name)
    parent = parent_network(ref) if ref is not None else None
    if ref is None or parent is None:
        return file.functions
    return {**network_functions(parent, ref.file), **file.functions}


def bind_network_params(
    decl: A.NetworkDecl,
    overrides: Mapping[str, Any],
    override_span: Span | None = None,
    params: tuple[A.Param, ...] | None = None,
    functions: Mapping[str, FnRef] | None = None,
) -> dict[str, Any]:
    """Network parameter values: declared defaults, replaced by `overrides` (type-checked)."""
    params = decl.params if params is None else params
    known = {p.name for p in params}
    for name in overrides:
        if name not in known:
            raise UnknownParameterError(
                f"network `{decl.name}` has no parameter `{name}`",
                override_span,
                path=None if override_span else decl.span.path,
                hint=did_you_mean(name, known)
                or f"its parameters are: {', '.join(sorted(known)) or 'none'}",
            )
    given = {
        p.name: (overrides[p.name], override_span or p.span) for p in params if p.name in overrides
    }
    return bind_params(
        params,
        given,
        lambda names: Evaluator(names, functions=functions),
        lambda p: ArgumentCountError(
            f"network parameter `{p.name}` has no default and was not given",
            p.span,
            hint=f"pass it with --set {p.name}=VALUE",
        ),
    )
