"""The unit tree: the layer graph rearranged into the language's structures, scope by scope.

A body is a list of units in execution order: a layer, a scope (a module instance written as a
block call or a `{ }` group), a merge (`concat`/`add` with one body per branch), a residual
(`residual scale=S act=A { main } shortcut { path }`), a repeat, or (made by block recovery
when instances of one class differ in a part, unify.py) an `if` over that part. Labels are
decided later (naming.py), once the whole body is known.

`wild` marks a copy made by unify.py to stand for a part an instance does not have: its
values say nothing about that instance (block recovery fills them from the others).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Layer


@dataclass
class ULayer:
    layer: Layer
    seg: str | None = None  # the module path relative to the enclosing scope, one segment
    required: bool = False  # the label must be `seg` (the node holds state)
    label: str | None = None
    name: str = ""  # the full IR name it will get
    wild: bool = False


@dataclass
class UScope:
    path: str
    cls: str
    seg: str
    body: list[Unit] = field(default_factory=list)
    group: bool = False  # written as a labelled `{ }` group (numbered members) instead of a block
    label: str | None = None
    name: str = ""
    block: str | None = None  # the block it calls, once blocks are recovered
    args: list[tuple[str | None, Any]] = field(default_factory=list)  # (keyword or None, value)
    output: str = ""  # the layer id of its output
    wild: bool = False


@dataclass
class UMerge:
    layer: Layer
    branches: list[list[Unit]]
    name: str = ""


@dataclass
class UResidual:
    layer: Layer  # the add
    main: list[Unit]
    shortcut: list[Unit]
    scale: float | None = None
    act: str | None = None
    scale_layer: Layer | None = None
    act_layer: Layer | None = None
    name: str = ""  # the name of its last node (the add, or the activation after it)
    wild: bool = False

    @property
    def output(self) -> str:
        return (self.act_layer or self.layer).id


@dataclass
class URepeat:
    count: int
    unit: UScope


@dataclass
class UAux:
    name: str
    tap: str  # layer id; its spec name is filled in by naming
    body: list[Unit]
    weight: float | None = None
    tap_name: str = ""


@dataclass
class UIf:
    """`if COND { then } else { other }`: a part some instances of a block have (`present`
    says whether this one does); `what` names the condition (`downsample`, `residual`)."""

    present: bool
    then: list[Unit]
    other: list[Unit]
    what: str
    wild: bool = False


Unit = ULayer | UScope | UMerge | UResidual | URepeat | UAux | UIf


def walk(body: list[Unit]) -> list[Unit]:
    """Every unit of `body`, nested ones included, in lowering order."""
    out: list[Unit] = []
    for u in body:
        out.append(u)
        if isinstance(u, UScope):
            out += walk(u.body)
        elif isinstance(u, UMerge):
            for b in u.branches:
                out += walk(b)
        elif isinstance(u, UResidual):
            out += walk(u.main) + walk(u.shortcut)
        elif isinstance(u, URepeat):
            out += walk([u.unit])
        elif isinstance(u, UAux):
            out += walk(u.body)
        elif isinstance(u, UIf):
            out += walk(u.then) + walk(u.other)
    return out
