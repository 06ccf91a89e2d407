"""Block recovery: module instances of one class with the same structure become one block.

Each scope written as a block call is rendered once with every value replaced by a
placeholder: instances whose rendered text (the skeleton) is equal share a block, and the
values that differ between them become its parameters. A parameter is named after the
constructor argument that holds the same value in every instance (recorded when the model was
built: torchvision's `Inception(ch1x1=..., ch3x3red=...)`), else after the unit and option it
sets (`branch_pool_channels`); values that always agree become one parameter (`c7` in four
convs). Blocks are recovered from the innermost scopes outwards, so a parent's skeleton holds
its children's block names and arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..ir.ops import LAYERS
from .model import LayerGraph, Size, Sym, Var
from .units import UAux, ULayer, UMerge, Unit, UResidual, UScope, walk
from .values import camel, identifier, key, type_of

PARAMETRIC = (int, float, bool, Size, Sym)


@dataclass
class Param:
    name: str
    type: str
    default: Any = None
    has_default: bool = False


@dataclass
class BlockDef:
    name: str
    cls: str
    instances: list[UScope]
    params: list[Param] = field(default_factory=list)
    replace: list[Any] = field(default_factory=list)  # per value position: a Var or a literal


Render = Callable[[list[Unit], Callable[[Any, str], str]], str]


def _scopes_by_depth(body: list[Unit]) -> list[list[UScope]]:
    levels: list[list[UScope]] = []

    def visit(units: list[Unit], depth: int) -> None:
        for u in units:
            if isinstance(u, UScope):
                if not u.group:
                    while len(levels) <= depth:
                        levels.append([])
                    levels[depth].append(u)
                visit(u.body, depth + (0 if u.group else 1))
            elif isinstance(u, UMerge):
                for b in u.branches:
                    visit(b, depth)
            elif isinstance(u, UResidual):
                visit(u.main, depth)
                visit(u.shortcut, depth)
            elif isinstance(u, UAux):
                visit(u.body, depth)

    visit(body, 0)
    return levels


def _labels(body: list[Unit]) -> list[str]:
    return [u.label for u in walk(body) if isinstance(u, (ULayer, UScope)) and u.label]


def skeleton(render: Render, body: list[Unit]) -> tuple[str, list[Any], list[str]]:
    """The body's text with its parametric values as placeholders, the values, their contexts."""
    values: list[Any] = []
    contexts: list[str] = []

    def val(v: Any, ctx: str) -> str:
        if isinstance(v, PARAMETRIC) and not (isinstance(v, Sym) and v.name in ("same", "valid")):
            values.append(v)
            contexts.append(ctx)
            return f"\x00{len(values) - 1}\x00"
        from .values import literal

        return literal(v)

    return render(body, val), values, contexts


def recover(graph: LayerGraph, body: list[Unit], render: Render) -> list[BlockDef]:
    """Assign `block` and `args` to every scope written as a block call; the block definitions
    in the order their first instance appears, innermost first."""
    taken = set(LAYERS) | {identifier(graph.name)}
    first_labels: dict[str, list[str]] = {}
    blocks: list[BlockDef] = []
    for level in reversed(_scopes_by_depth(body)):
        groups: dict[tuple[str, str], tuple[BlockDef, list[list[Any]], list[str]]] = {}
        for u in level:
            skel, values, contexts = skeleton(render, u.body)
            k = (u.cls, skel)
            if k not in groups:
                base = camel(u.cls)
                labels = _labels(u.body)
                if base not in first_labels:
                    first_labels[base] = labels
                    name = base
                else:  # a second structure of one class: named for what it adds
                    extra = [x for x in labels if x not in first_labels[base]]
                    name = base + camel(extra[0]) if extra else base
                # numbered 2, 3, ... after the name (MBConv, MBConv2, MBConv3; never MBConv22)
                n = 2
                stem = name
                while name in taken:
                    name = f"{stem}{n}"
                    n += 1
                taken.add(name)
                groups[k] = (BlockDef(name, u.cls, []), [], contexts)
            bd, vals, _ = groups[k]
            bd.instances.append(u)
            vals.append(values)
        for bd, vals, contexts in groups.values():
            _parametrize(graph, bd, vals, contexts)
            blocks.append(bd)
    return blocks


def _parametrize(
    graph: LayerGraph, bd: BlockDef, vals: list[list[Any]], contexts: list[str]
) -> None:
    n = len(contexts)
    inits = [graph.scopes[u.path].init if u.path in graph.scopes else {} for u in bd.instances]
    sig_defaults = (
        graph.scopes[bd.instances[0].path].init_defaults
        if bd.instances[0].path in graph.scopes
        else {}
    )
    # Arguments that describe the input (in_channels, inplanes) are never literals of a spec,
    # which infers input sizes: they are matched last.
    order = sorted(inits[0] if inits else [], key=lambda a: a.startswith("in"))
    by_vec: dict[tuple[Any, ...], Param] = {}
    first_pos: dict[str, int] = {}
    used: set[str] = set()
    bd.replace = []
    for i in range(n):
        column = [v[i] for v in vals]
        vec = tuple(key(x) for x in column)
        if len(set(vec)) == 1:
            bd.replace.append(column[0])
            continue
        if vec not in by_vec:
            name = None
            for cand in order:
                if cand in used:
                    continue
                if all(
                    cand in ini and key(ini[cand]) == vk for ini, vk in zip(inits, vec, strict=True)
                ):
                    name = cand
                    break
            from_ctor = name is not None
            if name is None:
                name = contexts[i]
            name = identifier(name, "p")
            base, j = name, 2
            while name in used:
                name = f"{base}_{j}"
                j += 1
            used.add(name)
            p = Param(name, type_of(column))
            if from_ctor and name in sig_defaults:
                d = sig_defaults[name]
                if isinstance(d, PARAMETRIC) and type_of([d, *column]) == p.type:
                    p.default, p.has_default = d, True
            by_vec[vec] = p
            first_pos[name] = i
        bd.replace.append(Var(by_vec[vec].name))
    params = list(by_vec.values())
    rank = {name: k for k, name in enumerate(order)}
    params.sort(key=lambda p: (p.has_default, rank.get(p.name, len(rank) + first_pos[p.name])))
    bd.params = params
    for u, values in zip(bd.instances, vals, strict=True):
        u.block = bd.name
        u.args = []
        for p in params:
            v = values[first_pos[p.name]]
            if p.has_default and key(v) == key(p.default):
                continue
            u.args.append((p.name if p.has_default else None, v))
