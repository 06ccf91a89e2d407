"""Pass: every called name is a layer or a visible block, with known options and arity.

Runs over every file of the program before lowering, collecting all independent errors, so a
spec with three misspelt layers gets three located messages at once (with did-you-mean hints).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..errors import (
    ArgumentCountError,
    DuplicateNameError,
    InvalidValueError,
    Note,
    SpecError,
    UnknownNameError,
    UnknownOptionError,
)
from ..front import ast as A
from ..front.libblocks import import_hint
from ..front.loader import Program, SpecFile
from ..ir.ops import LAYERS, MERGES
from ..names import did_you_mean
from .types import CONTAINERS, TYPES, parse_type, unknown_part

RESERVED_LABELS = frozenset({"input"})


def resolve_names(program: Program) -> list[SpecError]:
    errors: list[SpecError] = []
    for f in program.files.values():
        errors += [_network_vs_block(net, f) for net in f.module.networks if net.name in f.blocks]
        decls: list[A.NetworkDecl | A.BlockDecl] = [*f.module.networks, *f.module.blocks]
        for decl in decls:
            if decl.name in LAYERS:  # a call `relu` would mean the block, silently
                kind = "network" if isinstance(decl, A.NetworkDecl) else "block"
                errors.append(
                    DuplicateNameError(
                        f"{kind} `{decl.name}` has the name of a built-in layer",
                        decl.span,
                        hint=f"rename the {kind}: a call `{decl.name}` must mean one thing",
                    )
                )
            errors += check_params(decl.params)
            params = {p.name: p for p in decl.params}
            for call in _calls(decl.body):
                errors += _check_call(call, f, params)
            for d in _defaults(decl.body):
                errors += _check_defaults(d)
            for m in _merges(decl.body):
                errors += _check_merge(m, f)
    return errors


def _network_vs_block(net: A.NetworkDecl, f: SpecFile) -> SpecError:
    """A network named like a block the file sees (its own, or one imported: an imported
    network is a block too): `extends NAME` or a call `NAME` would mean the imported one, and
    which of the two a reader meant is anybody's guess."""
    ref = f.blocks[net.name]
    kind = "network" if any(n.span == ref.decl.span for n in ref.file.module.networks) else "block"
    where = "declared in this file" if ref.file is f else f"imported from {ref.file.source.path}"
    notes = [Note(f"the {kind} is declared here", ref.decl.span)]
    notes += [
        Note("and imported here", span)
        for imp in f.module.imports
        if imp.names is not None
        for name, span in zip(imp.names, imp.name_spans, strict=True)
        if name == net.name
    ]
    hint = f"rename one of them: `{net.name}` must mean one thing"
    if kind == "network":
        hint += f"; to edit the imported network, `network NEW_NAME extends {net.name} {{ ... }}`"
    return DuplicateNameError(
        f"network `{net.name}` has the name of a {kind} {where}", net.span, notes=notes, hint=hint
    )


def _check_merge(m: A.Merge, f: SpecFile) -> list[SpecError]:
    d = MERGES.get(m.name)
    if d is None:
        what = "a layer" if m.name in LAYERS else "a block" if m.name in f.blocks else None
        return [
            UnknownNameError(
                f"`{m.name}` is {what}, not a merge: it takes no `{{ }}` of branches"
                if what
                else f"unknown merge `{m.name} {{ }}`",
                m.name_span,
                hint=(None if what else did_you_mean(m.name, MERGES))
                or f"branches go inside a merge: {', '.join(f'{k} {{ }}' for k in MERGES)}",
            )
        ]
    assert d.merge is not None
    if m.args:
        return [
            ArgumentCountError(
                f"`{m.name} {{ }}` takes options only, no positional arguments",
                m.args[0].span,
                hint="write its options as name=value before the `{`"
                + (f": {', '.join(d.merge.options)}" if d.merge.options else ""),
            )
        ]
    return _repeated(m.options) + [
        UnknownOptionError(
            f"`{m.name} {{ }}` has no option `{kw.name}`",
            kw.span,
            hint=did_you_mean(kw.name, d.merge.options)
            or f"its options are: {', '.join(d.merge.options) or 'none'}",
        )
        for kw in m.options
        if kw.name not in d.merge.options
    ]


def check_params(params: tuple[A.Param, ...]) -> list[SpecError]:
    errs: list[SpecError] = []
    seen: dict[str, A.Param] = {}
    for p in params:
        if p.name in seen:
            errs.append(
                DuplicateNameError(
                    f"parameter `{p.name}` is declared twice",
                    p.span,
                    notes=[Note("first declared here", seen[p.name].span)],
                )
            )
        seen[p.name] = p
        if parse_type(p.type) is None:
            word = unknown_part(p.type)
            hint = did_you_mean(word, [*TYPES, *CONTAINERS]) if word else None
            errs.append(
                UnknownNameError(
                    f"unknown type `{p.type}`",
                    p.type_span,
                    hint=hint
                    or f"types are: {', '.join(TYPES)}, list[T], tuple[T1, T2, ...] and "
                    'choice["a", "b", ...]',
                )
            )
    return errs


def _repeated(kwargs: tuple[A.KwArg, ...]) -> list[SpecError]:
    """An option given twice in one call (`stride=2 stride=3`): the last would silently win."""
    first: dict[str, A.KwArg] = {}
    errs: list[SpecError] = []
    for kw in kwargs:
        if kw.name in first:
            errs.append(
                ArgumentCountError(
                    f"`{kw.name}` is given twice",
                    kw.span,
                    notes=[Note("first given here", first[kw.name].span)],
                )
            )
        first.setdefault(kw.name, kw)
    return errs


def _check_call(call: A.Call, f: SpecFile, scope: Mapping[str, A.Param]) -> list[SpecError]:
    layer = LAYERS.get(call.name)
    if layer is not None:
        errs: list[SpecError] = _repeated(call.kwargs)
        if len(call.args) > len(layer.positional):
            errs.append(
                ArgumentCountError(
                    f"`{call.name}` takes {_count(len(layer.positional), 'positional argument')}"
                    f" ({', '.join(layer.positional) or 'none'}), got {len(call.args)}",
                    call.args[len(layer.positional)].span,
                    hint=f"options are written name=value: {', '.join(_opts(layer.options))}"
                    if layer.options
                    else None,
                )
            )
        for kw in call.kwargs:
            if kw.name not in layer.options:
                errs.append(
                    UnknownOptionError(
                        f"`{call.name}` has no option `{kw.name}`",
                        kw.span,
                        hint=did_you_mean(kw.name, layer.options)
                        or f"its options are: {', '.join(_opts(layer.options)) or 'none'}",
                    )
                )
        return errs
    ref = f.blocks.get(call.name)
    param = scope.get(call.name)  # a parameter of the declaration the call is in
    if ref is None and param is not None and param.type == "act":
        return _act_unit(call)
    if ref is None:
        hint = import_hint(call.name) or did_you_mean(call.name, [*LAYERS, *f.blocks])
        if param is not None:
            hint = (
                f"`{call.name}` is a parameter of type {param.type}; only a parameter of type "
                "act stands as a layer in a chain"
            )
        return [
            UnknownNameError(f"unknown layer or block `{call.name}`", call.name_span, hint=hint)
        ]
    variant = next(
        (
            n
            for n in ref.file.module.networks
            if n.name == ref.decl.name and n.span == ref.decl.span and n.extends is not None
        ),
        None,
    )
    if variant is not None and variant.extends is not None:
        parent = variant.extends.name
        return [
            InvalidValueError(
                f"`{call.name}` is a variant network (`extends {parent}`); a variant cannot be "
                "called as a block",
                call.name_span,
                notes=[Note(f"`{call.name}` extends `{parent}` here", variant.extends.span)],
                hint=f"call `{parent}(...)` and declare the calling network as a variant that "
                f"makes the edits, or declare what `{call.name}` builds as a block",
            )
        ]
    errs = _repeated(call.kwargs)
    params = ref.decl.params
    if len(call.args) > len(params):
        errs.append(
            ArgumentCountError(
                f"block `{call.name}` takes {_count(len(params), 'parameter')}, got "
                f"{len(call.args)} positional",
                call.args[len(params)].span,
            )
        )
    names = {p.name for p in params}
    for kw in call.kwargs:
        if kw.name not in names:
            errs.append(
                UnknownOptionError(
                    f"block `{call.name}` has no parameter `{kw.name}`",
                    kw.span,
                    hint=did_you_mean(kw.name, names)
                    or f"its parameters are: {', '.join(p.name for p in params) or 'none'}",
                )
            )
    return errs


def _act_unit(call: A.Call) -> list[SpecError]:
    """A parameter of type `act` used as a layer (`-> a ->`): its value says everything."""
    extra = [*call.args, *call.kwargs]
    if not extra:
        return []
    return [
        ArgumentCountError(
            f"`{call.name}` is an activation parameter: it takes no arguments",
            extra[0].span,
            hint="pass the options in the value: `act=leaky_relu(slope=0.2)`",
        )
    ]


def _check_defaults(d: A.DefaultsStmt) -> list[SpecError]:
    layer = LAYERS.get(d.op)
    if layer is None:
        return [
            UnknownNameError(
                f"`defaults` names unknown layer `{d.op}`",
                d.op_span,
                hint=did_you_mean(d.op, LAYERS),
            )
        ]
    return _repeated(d.kwargs) + [
        UnknownOptionError(
            f"`{d.op}` has no option `{kw.name}`",
            kw.span,
            hint=did_you_mean(kw.name, layer.options),
        )
        for kw in d.kwargs
        if kw.name not in layer.options
    ]


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _opts(options: Mapping[str, object]) -> list[str]:
    return list(options)


def walk_stmts(body: A.Body) -> Iterator[A.Stmt | A.Unit]:
    """Every statement and unit under `body`, depth first (both arms of every `if`, the units
    of a variant's edits)."""
    for s in body.stmts:
        yield s
        if isinstance(s, A.Chain):
            for u in s.units:
                yield u
                yield from _core_bodies(u.core)
        elif isinstance(s, A.IfStmt):
            node: A.IfStmt | A.Body | None = s
            while isinstance(node, A.IfStmt):
                yield from walk_stmts(node.then)
                node = node.orelse
            if isinstance(node, A.Body):
                yield from walk_stmts(node)
        elif isinstance(s, (A.AuxStmt, A.ForStmt)):
            yield from walk_stmts(s.body)
        elif isinstance(s, (A.ReplaceStmt, A.InsertStmt)):  # a variant's edit
            yield s.unit
            yield from _core_bodies(s.unit.core)


def _core_bodies(core: A.Core) -> Iterator[A.Stmt | A.Unit]:
    if isinstance(core, (A.Group, A.Merge, A.Repeat)):
        yield from walk_stmts(core.body)
    elif isinstance(core, A.Residual):
        yield from walk_stmts(core.body)
        if core.shortcut is not None:
            yield from walk_stmts(core.shortcut)


def _calls(body: A.Body) -> Iterator[A.Call]:
    for s in walk_stmts(body):
        if isinstance(s, A.Unit) and isinstance(s.core, A.Call):
            yield s.core


def _merges(body: A.Body) -> Iterator[A.Merge]:
    for s in walk_stmts(body):
        if isinstance(s, A.Unit) and isinstance(s.core, A.Merge):
            yield s.core


def _defaults(body: A.Body) -> Iterator[A.DefaultsStmt]:
    for s in walk_stmts(body):
        if isinstance(s, A.DefaultsStmt):
            yield s
