"""The scope tree of an IR graph: which nodes and sub-scopes each scope holds, what it reads and
what it returns, so that a backend can make every block and group a module of its own.

A scope is a prefix of node names (docs/ir.md); `info(g).scopes` says what made it (a block
call and its arguments, a group, an aux head). Every scope with a name becomes a **module** with
its own forward, called from its parent's, except one whose nodes belong to different aux heads
(or to an aux head and the trunk): such a scope is a **holder**, a container of state whose
members run in the parent's forward, because it has no single place to run (its aux part runs
only in training). A scope's nodes form an interval of the graph's (topological) node order, so
its inputs and outputs are well defined: the values it reads from outside, in the order first
read, and its nodes that are read outside (or are the network's or an aux head's output).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from inceptdsl.ir import Node, Op, ScopeInfo, info, nodes


@dataclass
class Scope:
    """One scope: `path` ("" for the network itself) and what it holds."""

    path: str
    info: ScopeInfo | None
    parent: Scope | None
    members: list[Node | Scope] = field(default_factory=list)  # direct members, in spec order
    names: list[str] = field(default_factory=list)  # every node beneath, in graph order
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    aux: str | None = None  # the aux head all its nodes belong to (None: the trunk)
    module: bool = True  # a module with a forward (else a holder)

    @property
    def label(self) -> str:
        """The last segment of the path (its attribute name in the parent)."""
        return self.path.rsplit(".", 1)[-1]

    @property
    def depth(self) -> int:
        return 0 if not self.path else self.path.count(".") + 1

    @property
    def block(self) -> str | None:
        """The block this scope is a call of (or whose only unscoped call it holds)."""
        if self.info is None:
            return None
        if self.info.block is not None:
            return self.info.block
        if len(self.info.calls) == 1:
            return self.info.calls[0][0]
        return None

    @property
    def block_args(self) -> tuple[tuple[str, Any], ...]:
        if self.info is None:
            return ()
        if self.info.block is not None:
            return self.info.args
        if len(self.info.calls) == 1:
            return self.info.calls[0][1]
        return ()

    def relative(self, name: str) -> str:
        """`name` (a node or scope path beneath this scope) relative to it."""
        return name[len(self.path) + 1 :] if self.path else name

    def module_scopes(self) -> list[Scope]:
        """This scope's descendants that are modules, children before parents (post-order)."""
        out: list[Scope] = []
        for m in self.members:
            if isinstance(m, Scope):
                out += m.module_scopes()
                if m.module:
                    out.append(m)
        return out


def _parent_path(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else ""


def scope_tree(g: nx.DiGraph) -> Scope:
    """The tree of scopes of `g`, the network itself at the root."""
    infos: dict[str, ScopeInfo] = info(g).scopes
    root = Scope("", None, None)
    scopes: dict[str, Scope] = {"": root}

    def get(path: str) -> Scope:
        if path not in scopes:
            parent = get(_parent_path(path))
            scopes[path] = Scope(path, infos.get(path), parent)
            parent.members.append(scopes[path])
        return scopes[path]

    all_nodes = list(nodes(g))
    by_name = {n.name: n for n in all_nodes}
    for n in all_nodes:
        owner = get(_parent_path(n.name))
        owner.members.append(n)
        s: Scope | None = owner
        while s is not None:
            s.names.append(n.name)
            s = s.parent
    heads = {h.output for h in info(g).aux_heads}
    ends = heads | {info(g).output}
    for s in scopes.values():
        if s is root:
            continue
        within = set(s.names)
        auxes = {by_name[n].aux for n in s.names}
        s.aux = next(iter(auxes)) if len(auxes) == 1 else None
        s.module = len(auxes) == 1
        reads: dict[str, None] = {}
        for name in s.names:
            for src in by_name[name].inputs:
                if src not in within:
                    reads.setdefault(src, None)
        s.inputs = tuple(reads)
        s.outputs = tuple(
            n for n in s.names if n in ends or any(d not in within for d in g.successors(n))
        )
    root.inputs = ("input",)
    return root


def items(s: Scope) -> list[Node | Scope]:
    """What `s`'s forward runs, in spec order: its nodes and module children, and the members
    of holder children in their place (the input node is the forward's argument)."""
    out: list[Node | Scope] = []
    for m in s.members:
        if isinstance(m, Scope) and not m.module:
            out += items(m)
        elif not (isinstance(m, Node) and m.op is Op.INPUT):
            out.append(m)
    return out


def holders(s: Scope) -> list[Scope]:
    """The holder scopes directly under module `s` (through other holders), in spec order."""
    out: list[Scope] = []
    for m in s.members:
        if isinstance(m, Scope) and not m.module:
            out.append(m)
            out += holders(m)
    return out
