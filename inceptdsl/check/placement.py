"""Pass: every statement is where it may be, with the options its statement has.

Static rules, checked on every body whether or not an `if` branch is taken: a network starts
with `input` and has it once; `expect` belongs in a network; a merge's body holds branches,
`let`, `defaults` and `if`; `aux` takes `weight`, `residual` takes `scale` and `act`; a variant
(`extends`) holds edits, `defaults`, `let`, `if` and `expect` only, and edits appear nowhere
else; an inserted unit has a label; `@` labels appear only in blocks; only block calls splice.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import (
    ArgumentCountError,
    DuplicateNameError,
    InvalidValueError,
    Note,
    PrefixLabelError,
    SpecError,
    UnknownNameError,
    UnknownOptionError,
    UnknownParameterError,
)
from ..front import ast as A
from ..front.loader import BlockRef, Program, SpecFile
from ..names import did_you_mean
from .resolve_names import walk_stmts

AUX_OPTIONS = ("weight",)
RESIDUAL_OPTIONS = ("scale", "act")
EDITS = (A.ReplaceStmt, A.InsertStmt, A.RemoveStmt)
_EDIT_WORD = {A.ReplaceStmt: "replace", A.InsertStmt: "insert", A.RemoveStmt: "remove"}


def parent_network(ref: BlockRef) -> A.NetworkDecl | None:
    """The network a block reference stands for, when it is a network imported by name."""
    for net in ref.file.module.networks:
        if net.name == ref.decl.name and net.span == ref.decl.span:
            return net
    return None


_PREFIX_LABELS: dict[int, tuple[A.Body, bool]] = {}
"""uses_prefix's answers by body identity (the body is kept, so its id is not reused): asked
at every block call, where hashing the body (an lru_cache key) would walk all of it."""


def _prefix_labels(body: A.Body) -> bool:
    return any(
        isinstance(s, A.Unit) and s.label is not None and s.label.startswith("@")
        for s in walk_stmts(body)
    )


def uses_prefix(decl: A.BlockDecl) -> bool:
    """Does the block name units after its call's label (`@`, `@_bn`)? Such a block is flat:
    its call adds no level, and it must be labelled."""
    body = decl.body
    hit = _PREFIX_LABELS.get(id(body))
    if hit is not None and hit[0] is body:
        return hit[1]
    if len(_PREFIX_LABELS) >= 4096:
        _PREFIX_LABELS.clear()
    answer = _prefix_labels(body)
    _PREFIX_LABELS[id(body)] = (body, answer)
    return answer


def check_placement(program: Program) -> list[SpecError]:
    errors: list[SpecError] = []
    for f in program.files.values():
        for net in f.module.networks:
            errors += _network(net, f)
        for block in f.module.blocks:
            errors += _body(block.body.stmts, f, where="block")
    return errors


def _network(net: A.NetworkDecl, f: SpecFile) -> list[SpecError]:
    stmts = net.body.stmts
    errs: list[SpecError] = []
    if net.extends is not None:
        errs += _extends(net.extends, f)
        errs += _variant_body(stmts, f)
        errs += _duplicate_edits(stmts)
        return errs
    if not stmts or not isinstance(stmts[0], A.InputStmt):
        errs.append(
            InvalidValueError(
                f"network `{net.name}` must start with `input C x H x W`",
                stmts[0].span if stmts else net.span,
                hint="for example `input 3 x image_size x image_size`",
            )
        )
        return errs
    return errs + _body(stmts[1:], f, where="network")


def _extends(ext: A.Extends, f: SpecFile) -> list[SpecError]:
    ref = f.blocks.get(ext.name)
    parent = parent_network(ref) if ref is not None else None
    if parent is not None:
        return _extends_args(ext, parent)
    networks = [n for n, r in f.blocks.items() if parent_network(r) is not None]
    return [
        UnknownNameError(
            f"`extends {ext.name}`: `{ext.name}` is a block, not a network"
            if ref is not None
            else f"`extends {ext.name}`: no network `{ext.name}` is imported",
            ext.name_span,
            hint=did_you_mean(ext.name, networks)
            or (
                f"`extends` takes a network imported by name; a block is called: `{ext.name}(...)`"
                if ref is not None
                else f'import it by name: `import "PATH.incept" ({ext.name})`'
            ),
        )
    ]


def _extends_args(ext: A.Extends, parent: A.NetworkDecl) -> list[SpecError]:
    """The `extends` arguments name parameters the parent has (a variant of a variant that
    declares none has its grandparent's: those are checked when lowering)."""
    if not parent.params:
        return []
    names = [p.name for p in parent.params]
    errs: list[SpecError] = []
    if len(ext.args) > len(names):
        errs.append(
            ArgumentCountError(
                f"network `{parent.name}` takes {len(names)} parameters, got "
                f"{len(ext.args)} positional",
                ext.args[len(names)].span,
            )
        )
    for kw in ext.kwargs:
        if kw.name not in names:
            errs.append(
                UnknownParameterError(
                    f"network `{parent.name}` has no parameter `{kw.name}`",
                    kw.span,
                    hint=did_you_mean(kw.name, names) or f"its parameters: {', '.join(names)}",
                )
            )
    return errs


def _variant_body(stmts: tuple[A.Stmt, ...], f: SpecFile) -> list[SpecError]:
    errs: list[SpecError] = []
    for s in stmts:
        if isinstance(s, A.IfStmt):
            for body in _if_bodies(s):
                errs += _variant_body(body.stmts, f)
        elif isinstance(s, (A.ReplaceStmt, A.InsertStmt)):
            errs += _edit_unit(s)
            errs += _units([s.unit], f, where="variant")
        elif isinstance(s, (A.RemoveStmt, A.LetStmt, A.DefaultsStmt, A.ExpectStmt)):
            continue
        else:
            what = {A.InputStmt: "`input`", A.AuxStmt: "an aux head", A.Chain: "a layer"}
            errs.append(
                InvalidValueError(
                    f"{what.get(type(s), 'this statement')} cannot stand in a variant's body",
                    s.span,
                    hint="a network that `extends` another changes it with `replace PATH with "
                    "UNIT`, `insert LABEL: UNIT before|after PATH`, `remove PATH` and "
                    "`defaults`; the input is the parent's (pass its parameters in `extends`)",
                )
            )
    return errs


def _edit_unit(s: A.ReplaceStmt | A.InsertStmt) -> list[SpecError]:
    if isinstance(s, A.InsertStmt) and s.unit.label is None:
        return [
            InvalidValueError(
                "an inserted unit needs a label",
                s.unit.span,
                hint="name it, e.g. `insert Mixed_7d: InceptionE after Mixed_7c`, so that the "
                "parent's units keep their names and numbers",
            )
        ]
    return []


def _duplicate_edits(stmts: tuple[A.Stmt, ...]) -> list[SpecError]:
    """Two `replace` or `remove` of one path in one variant: the second would hide the first."""
    seen: dict[tuple[str, ...], A.Stmt] = {}
    errs: list[SpecError] = []
    for s in stmts:
        targets: tuple[tuple[str, ...], ...] = ()
        if isinstance(s, A.ReplaceStmt):
            targets = (s.target,)
        elif isinstance(s, A.RemoveStmt):
            targets = s.targets
        for t in targets:
            if t in seen:
                errs.append(
                    DuplicateNameError(
                        f"`{'.'.join(t)}` is edited twice",
                        s.span,
                        notes=[Note("first edited here", seen[t].span)],
                    )
                )
            seen.setdefault(t, s)
    return errs


def _if_bodies(s: A.IfStmt) -> Iterator[A.Body]:
    node: A.IfStmt | A.Body | None = s
    while isinstance(node, A.IfStmt):
        yield node.then
        node = node.orelse
    if isinstance(node, A.Body):
        yield node


def _body(stmts: tuple[A.Stmt, ...], f: SpecFile, where: str) -> list[SpecError]:
    """Statements of a network body (after `input`), a block body, or a nested body."""
    errs: list[SpecError] = []
    for s in stmts:
        if isinstance(s, A.InputStmt):
            errs.append(
                InvalidValueError(
                    "`input` may appear only once, as the first statement of a network", s.span
                )
            )
        elif isinstance(s, A.ExpectStmt) and where != "network":
            errs.append(
                InvalidValueError("`expect` belongs in a network body, not in a block", s.span)
            )
        elif isinstance(s, EDITS):
            errs.append(
                InvalidValueError(
                    f"`{_EDIT_WORD[type(s)]}` edits a parent network: it belongs in the body "
                    "of a network that `extends` another",
                    s.span,
                    hint="declare `network NAME(...) extends PARENT(...) { ... }`",
                )
            )
        elif isinstance(s, A.IfStmt):
            for body in _if_bodies(s):
                errs += _body(body.stmts, f, where)
        elif isinstance(s, A.AuxStmt):
            errs += _options(s.options, "aux", AUX_OPTIONS)
            errs += _body(s.body.stmts, f, "nested")
        elif isinstance(s, A.ForStmt):
            errs += [
                InvalidValueError(
                    "`expect` cannot stand in a `for` body: it would be checked once per iteration",
                    e.span,
                    hint="write it in the network body, after the loop",
                )
                for e in s.body.stmts
                if isinstance(e, A.ExpectStmt)
            ]
            errs += _body(tuple(e for e in s.body.stmts if not isinstance(e, A.ExpectStmt)),
                          f, where)  # fmt: skip
        elif isinstance(s, A.Chain):
            errs += _units(s.units, f, where)
    return errs


def _units(
    units: Iterator[A.Unit] | tuple[A.Unit, ...] | list[A.Unit], f: SpecFile, where: str
) -> list[SpecError]:
    errs: list[SpecError] = []
    for u in units:
        if u.label is not None and u.label.startswith("@") and where != "block":
            errs.append(
                PrefixLabelError(
                    f"`{u.label}` stands for the label of a block's call; here there is no call",
                    u.label_span,
                    hint="`@` labels belong in blocks; write the full name here",
                )
            )
        core = u.core
        if u.splice and (not isinstance(core, A.Call) or core.name not in f.blocks):
            errs.append(
                InvalidValueError(
                    f"only a block call can be spliced; `{getattr(core, 'name', '')}` is a layer",
                    u.span,
                    hint="drop the `*`: a layer already continues the numbering of its group",
                )
            )
        inner = "nested" if where == "network" else where
        if isinstance(core, (A.Group, A.Repeat)):
            errs += _body(core.body.stmts, f, inner)
        elif isinstance(core, A.Merge):
            errs += _branches(core, f, inner)
        elif isinstance(core, A.Residual):
            errs += _options(core.options, "residual", RESIDUAL_OPTIONS)
            errs += _body(core.body.stmts, f, inner)
            if core.shortcut is not None:
                errs += _body(core.shortcut.stmts, f, inner)
    return errs


def _branches(m: A.Merge, f: SpecFile, where: str) -> list[SpecError]:
    errs: list[SpecError] = []
    stack = list(m.body.stmts)
    while stack:
        s = stack.pop(0)
        if isinstance(s, A.Chain):
            errs += _units(s.units, f, where)
        elif isinstance(s, A.IfStmt):
            for body in _if_bodies(s):
                stack.extend(body.stmts)
        elif isinstance(s, A.ForStmt):
            stack.extend(s.body.stmts)
        elif not isinstance(s, (A.LetStmt, A.DefaultsStmt)):
            errs.append(
                InvalidValueError(
                    f"only branches, `let`, `defaults`, `if` and `for` may appear inside "
                    f"`{m.name} {{ }}`",
                    s.span,
                )
            )
    return errs


def _options(kwargs: tuple[A.KwArg, ...], what: str, allowed: tuple[str, ...]) -> list[SpecError]:
    return [
        UnknownOptionError(
            f"`{what}` has no option `{kw.name}`",
            kw.span,
            hint=did_you_mean(kw.name, allowed)
            or f"its option{'s are' if len(allowed) > 1 else ' is'}: {', '.join(allowed)}",
        )
        for kw in kwargs
        if kw.name not in allowed
    ]
