"""What the editor knows about a variant (`network v extends parent { replace/insert/remove }`):
the parent network as the variant's `extends` builds it, and which parent path the cursor is
on, so hover, definition and completion work on the edit paths and the parent's name.

The parent is built the way lowering builds it (lower/binding.py's `extends_args`: the
`extends` arguments evaluated with the variant's parameters; a variant without parameters of
its own passes its inherited ones through), but without the edits: a removed or replaced unit
is described as the parent has it. It is built on the first request that needs it and kept
with the analysis.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..check.placement import parent_network
from ..errors import SpecError
from ..front import ast as A
from ..front.loader import Program
from ..front.source import Span
from ..ir import info, op_of
from ..lower import bind_network_params, extends_args, network_functions, network_params
from ..network import Network, build


@dataclass(frozen=True)
class EditPath:
    """The parent path under the cursor: `path` up to the segment the cursor is on."""

    path: str
    full: str
    span: Span


def variant_decl(program: Program) -> A.NetworkDecl | None:
    nets = program.root.module.networks
    return nets[0] if len(nets) == 1 and nets[0].extends is not None else None


def build_parent(program: Program) -> Network | None:
    """The parent of the document's variant, with the arguments its `extends` gives, or None
    (not a variant, or the parent does not build: the diagnostics say why)."""
    decl = variant_decl(program)
    if decl is None or decl.extends is None:
        return None
    ext = decl.extends
    ref = program.root.blocks.get(ext.name)
    parent = parent_network(ref) if ref is not None else None
    if ref is None or parent is None:
        return None
    try:
        mine = bind_network_params(
            decl,
            {},
            None,
            network_params(decl, program.root),
            network_functions(decl, program.root),
        )
        pparams = network_params(parent, ref.file)
        given = extends_args(decl, mine, pparams, program.root.functions)
        return build(Program(ref.file, program.files), given)
    except SpecError:
        return None


def edit_path_at(program: Program, path: str, line: int, col: int) -> EditPath | None:
    """The edit path (replace, insert, remove target) at 0-based (line, col) of the document
    at `path`, cut after the segment under the cursor (`Mixed_6b` on `Mixed_6b.branch1x1`)."""
    decl = variant_decl(program)
    if decl is None:
        return None
    for target, span in _targets(decl.body.stmts):
        if os.path.abspath(span.path) != path or span.line != line + 1:
            continue
        start = span.column - 1
        if not start <= col <= span.end_column - 1:
            continue
        offset, cut = col - start, len(target)
        for i, seg in enumerate(target):
            offset -= len(seg) + 1
            if offset < 0:
                cut = i + 1
                break
        return EditPath(".".join(target[:cut]), ".".join(target), span)
    return None


def extends_at(program: Program, path: str, line: int, col: int) -> A.Extends | None:
    """The `extends NAME` under the cursor, if it is on the name."""
    decl = variant_decl(program)
    ext = decl.extends if decl is not None else None
    if ext is None:
        return None
    s = ext.name_span
    if os.path.abspath(s.path) == path and s.line == line + 1:
        if s.column - 1 <= col <= s.end_column - 1:
            return ext
    return None


def _targets(stmts: tuple[A.Stmt, ...]) -> list[tuple[tuple[str, ...], Span]]:
    out: list[tuple[tuple[str, ...], Span]] = []
    for s in stmts:
        if isinstance(s, A.ReplaceStmt | A.InsertStmt):
            out.append((s.target, s.target_span))
        elif isinstance(s, A.RemoveStmt):
            out += list(zip(s.targets, s.target_spans, strict=True))
        elif isinstance(s, A.IfStmt):
            out += _targets(s.then.stmts)
            if isinstance(s.orelse, A.Body):
                out += _targets(s.orelse.stmts)
            elif s.orelse is not None:
                out += _targets((s.orelse,))
    return out


def children(net: Network, prefix: str) -> dict[str, str]:
    """The path segments directly below `prefix` ("" for the top) in `net`, each with what it
    is (a layer's op, a block's name, a group's kind), for completion."""
    found: dict[str, str] = {}
    scopes = info(net.graph).scopes
    start = prefix + "." if prefix else ""
    for name in list(net.graph.nodes) + list(scopes):  # nodes first: the network's order
        if not name.startswith(start) or name == "input":
            continue
        seg = name[len(start) :].split(".", 1)[0]
        if seg in found:
            continue
        full = start + seg
        scope = scopes.get(full)
        if scope is not None:
            found[seg] = scope.block or scope.kind
        elif full in net.graph:
            found[seg] = op_of(net.graph, full).value
    return found
