"""The layer graph both importers produce: layers in the language's terms, plus their scopes.

A `Layer` is one unit the spec will write (`conv 64 3x3 stride=2`, `relu`, `concat`), with
its inputs, the module path it must keep (state_dict keys are node names) and the scopes it
was found in (outer first). A `Scope` is a module instance (torch) or a name prefix (Caffe):
scopes that hold state become blocks or groups in the spec. Values are Python values plus the
small wrappers below for what the language writes differently (`3x3`, `relu`, `bn(eps=...)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..front.source import SourceFile, Span


@dataclass(frozen=True)
class Size:
    """A size literal: `3x3`, `1x7` (kernels, adaptive pool sizes)."""

    h: int
    w: int


@dataclass(frozen=True)
class Sym:
    """A bare word: an activation (`relu`) or a padding mode (`same`)."""

    name: str


@dataclass(frozen=True)
class Rec:
    """An option record written like a call: `bn(eps=0.001)`."""

    kind: str
    fields: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Var:
    """A block parameter used in place of a value (made by block recovery)."""

    name: str


MERGES = ("concat", "add", "multiply")
"""Layer kinds that take several inputs."""


@dataclass
class Layer:
    """One unit of the spec. `kind` is a layer name of the language or a merge (`concat`, `add`).

    `path` is the name the unit's IR node must have (the module path: it decides the
    state_dict keys) or None when the name does not matter; `stateful` says whether it must be
    kept exactly. `where` names the construct in messages (`inception3a.branch1.conv (Conv2d)`).
    """

    id: str
    kind: str
    args: tuple[Any, ...] = ()
    opts: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    path: str | None = None
    stateful: bool = False
    scopes: tuple[str, ...] = ()
    where: str = ""
    aux: str | None = None
    span: Span | None = None
    comment: str | None = None


@dataclass
class Scope:
    """A module instance or a name prefix. `cls` groups instances that may share one block;
    `init` holds the constructor arguments recorded for it (names blocks' parameters)."""

    path: str
    cls: str
    init: dict[str, Any] = field(default_factory=dict)
    init_defaults: dict[str, Any] = field(default_factory=dict)
    where: str = ""
    container: bool = False
    """A module that only holds others (an `nn.Sequential`, `nn.ModuleList`, ... or a subclass
    such as torchvision's `AnyStage`): written as a labelled group unless it repeats."""


@dataclass(frozen=True)
class AuxHead:
    """A training-only side head: its scope path (the aux statement's name), the layer whose
    output it reads, its output layer and its loss weight (None when the model does not say)."""

    name: str
    tap: str
    output: str
    weight: float | None = None


@dataclass
class LayerGraph:
    """What an importer hands to the spec writer. `layers` is in topological order and holds
    exactly one `input` layer; `expects` are (metric, value, source) figures to pin."""

    name: str
    source: str
    input_shape: tuple[int, int, int]
    layers: dict[str, Layer]
    output: str
    scopes: dict[str, Scope] = field(default_factory=dict)
    aux_heads: list[AuxHead] = field(default_factory=list)
    expects: list[tuple[str, int, str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    origin: str = ""
    group_scopes: set[str] = field(default_factory=set)
    """Scopes to write as labelled `{ }` groups rather than blocks (the Caffe importer's
    prefixes that occur once); scopes with numbered members are always groups."""
    source_file: SourceFile | None = None
    """The source model's text (a prototxt), to show errors found in the written spec there."""

    def consumers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {k: [] for k in self.layers}
        for layer in self.layers.values():
            for i in layer.inputs:
                out[i].append(layer.id)
        return out
