"""What a diagram shows, before any geometry: the scopes of a network and, for each scope, the
series-parallel structure of its children.

The name hierarchy decides the boxes: a scope (`Mixed_5b`, `repeat.3`) is drawn as one box
when collapsed and as a frame around its children when expanded. Aux heads are pseudo-scopes
at the root, drawn beside the trunk from their tap.

Inception graphs are series-parallel, so each scope's children decompose exactly into series
(a chain, top to bottom) and parallel sections (concat branches side by side; a residual
shortcut is a parallel section with an empty branch). `decompose` finds that structure in
linear time from the spec (topological) order: a child through which no edge passes is a cut
of the series; what lies between two cuts splits into weakly connected components, the
branches, each decomposed again. A graph that is not series-parallel still gets a drawing:
the part that does not decompose is drawn as a chain with its other edges routed around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from ..ir import Op, aux_of, info, inputs, node, shape_of
from ..middle.details import details

ENTRY = "\x00entry"
EXIT = "\x00exit"
LANE = "\x00lane"


@dataclass
class Unit:
    """A box: an IR node, or a scope (a block or an aux head) with children."""

    path: tuple[str, ...]
    node: str | None = None  # the IR node, for a leaf
    children: list[tuple[str, ...]] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)  # every IR node inside, spec order
    aux: str | None = None

    @property
    def key(self) -> str:
        return ".".join(self.path)

    @property
    def is_scope(self) -> bool:
        return self.node is None


@dataclass(frozen=True)
class Par:
    """Branches side by side between two cuts; `shortcut`: an edge also joins the cuts."""

    branches: tuple[Series, ...]
    shortcut: bool


@dataclass(frozen=True)
class Series:
    """Items top to bottom: unit keys (str) or parallel sections."""

    items: tuple[str | Par, ...]


@dataclass
class Scope:
    """A scope's layout structure: its SP tree and the edges between its children."""

    unit: Unit
    tree: Series
    edges: dict[tuple[str, str], list[str]]
    """(child key or ENTRY, child key or EXIT) -> the IR source nodes of those edges."""
    extra: list[tuple[str, str]]
    """Edges the SP tree does not draw (a part that is not series-parallel)."""


@dataclass
class Model:
    g: nx.DiGraph
    units: dict[str, Unit]
    scopes: dict[str, Scope]
    root: Unit
    aux: list[tuple[str, str]]
    """(aux unit key, tap node) per aux head, in spec order."""

    def max_depth(self) -> int:
        return max((len(u.path) for u in self.units.values()), default=1)


def _path(name: str, aux: str | None) -> tuple[str, ...]:
    segs = tuple(name.split("."))
    if aux is not None and segs[0] != aux:
        return (aux, *segs)
    return segs


def build_model(g: nx.DiGraph) -> Model:
    root = Unit(())
    units: dict[str, Unit] = {"": root}
    for name in g.nodes:
        head = aux_of(g, name)
        path = _path(name, head)
        for i in range(1, len(path) + 1):
            key = ".".join(path[:i])
            u = units.get(key)
            if u is None:
                u = units[key] = Unit(path[:i], aux=head if i == 1 else None)
                units[".".join(path[: i - 1])].children.append(path[:i])
            u.nodes.append(name)
        units[".".join(path)].node = name
        root.nodes.append(name)
    for u in units.values():  # a name that is both a node and a scope cannot happen (ir.md)
        if u.node is not None and u.children:
            u.node = None
    aux = [
        (h.name, h.tap)
        for h in info(g).aux_heads
        if h.name in units and units[h.name].aux is not None
    ]
    model = Model(g, units, {}, root, aux)
    for key, u in units.items():
        if u.is_scope:
            model.scopes[key] = _scope(model, u)
    return model


def _scope(model: Model, scope: Unit) -> Scope:
    g = model.g
    is_root = not scope.path
    members = [c for c in scope.children if not (is_root and model.units[".".join(c)].aux)]
    units = {".".join(c) for c in members}
    while True:
        owner = {n: k for k in units for n in model.units[k].nodes}
        edges: dict[tuple[str, str], list[str]] = {}
        for n in scope.nodes:
            v = owner.get(n)
            if v is None:
                continue
            for src in inputs(g, n):
                u = owner.get(src, ENTRY if not is_root else None)
                if u is None or u == v:
                    continue
                edges.setdefault((u, v), []).append(src)
            if not is_root and any(s not in owner for s in g.succ[n]):
                edges.setdefault((v, EXIT), []).append(n)
        q = nx.DiGraph([e for e in edges if ENTRY not in e and EXIT not in e])
        q.add_nodes_from(units)
        try:
            cycle = nx.find_cycle(q)
        except nx.NetworkXNoCycle:
            break
        # A scope split around a sibling (x.a -> y -> x.b) cannot be one box: dissolve it.
        for k in {a for a, _ in cycle} | {b for _, b in cycle}:
            if model.units[k].is_scope:
                units.discard(k)
                units.update(".".join(c) for c in model.units[k].children)
                break
        else:  # pragma: no cover - a cycle of IR nodes is impossible
            raise AssertionError("cycle in the IR")
    order = {n: i for i, n in enumerate(g.nodes)}
    keys = sorted(units, key=lambda k: order[model.units[k].nodes[0]])
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    if is_root:  # the trunk's sources and sinks stand for the (undrawn) entry and exit
        has_in = {b for _, b in edges}
        has_out = {a for a, _ in edges}
        for k in keys:
            if k not in has_in:
                succ.setdefault(ENTRY, []).append(k)
            if k not in has_out:
                succ.setdefault(k, []).append(EXIT)
    extra: list[tuple[str, str]] = []
    tree = decompose(keys, succ, ENTRY, EXIT, extra)
    return Scope(scope, tree, edges, extra)


def decompose(
    keys: list[str], succ: dict[str, list[str]], entry: str, exit: str, extra: list
) -> Series:
    """The SP tree of `keys` (in topological order) between `entry` and `exit`."""
    pos = {entry: 0, **{k: i + 1 for i, k in enumerate(keys)}, exit: len(keys) + 1}
    reach = [0] * (len(keys) + 2)
    for a in [entry, *keys]:
        for b in succ.get(a, ()):
            if b in pos:
                reach[pos[a]] = max(reach[pos[a]], pos[b])
    cuts = []
    far = reach[0]
    for i in range(1, len(keys) + 1):
        if far <= i:
            cuts.append(i)
        far = max(far, reach[i])
    bounds = [0, *cuts, len(keys) + 1]
    items: list[str | Par] = []
    for left, right in zip(bounds, bounds[1:], strict=False):
        inner = keys[left : right - 1]
        if inner:
            a = entry if left == 0 else keys[left - 1]
            b = exit if right == len(keys) + 1 else keys[right - 1]
            par = _parallel(inner, succ, a, b, extra)
            if len(par.branches) == 1 and not par.shortcut:
                items += par.branches[0].items
            else:
                items.append(par)
        if right <= len(keys):
            items.append(keys[right - 1])
    return Series(tuple(items))


def _parallel(inner: list[str], succ: dict[str, list[str]], a: str, b: str, extra: list) -> Par:
    inside = set(inner)
    und = nx.Graph()
    und.add_nodes_from(inner)
    for k in inner:
        for t in succ.get(k, ()):
            if t in inside:
                und.add_edge(k, t)
    comps = sorted(
        (sorted(c, key=inner.index) for c in nx.connected_components(und)),
        key=lambda c: inner.index(c[0]),
    )
    branches = []
    for comp in comps:
        csucc = {k: [t if t in comp else "\x00x" for t in succ.get(k, ())] for k in comp}
        # Inner nodes are fed only by the left cut `a` or by each other (no edge spans a cut).
        csucc["\x00e"] = [k for k in comp if k in succ.get(a, ())]
        if len(comps) == 1 and not _has_cut(comp, csucc):
            # Not series-parallel: a chain in spec order, the other edges drawn around it.
            for i, k in enumerate(comp):
                for t in succ.get(k, ()):
                    if t in comp and comp.index(t) != i + 1:
                        extra.append((k, t))
            branches.append(Series(tuple(comp)))
            continue
        branches.append(decompose(comp, csucc, "\x00e", "\x00x", extra))
    return Par(tuple(branches), shortcut=b in succ.get(a, ()))


def _has_cut(comp: list[str], csucc: dict[str, list[str]]) -> bool:
    pos = {"\x00e": 0, **{k: i + 1 for i, k in enumerate(comp)}, "\x00x": len(comp) + 1}
    far = max((pos[t] for t in csucc.get("\x00e", ()) if t in pos), default=0)
    for i, k in enumerate(comp, start=1):
        if far <= i:
            return True
        far = max(far, *(pos[t] for t in csucc.get(k, ()) if t in pos), 0)
    return False


# ---- what a box says ------------------------------------------------------------------------


def short(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


@dataclass(frozen=True)
class Label:
    lines: tuple[str, ...]
    title: str
    """The hover text: every exact figure."""


def _made_by(g: nx.DiGraph, path: str) -> str:
    """What a box stands for, as the spec says it: the block it calls (`InceptionA`, also for
    a numbered repeat iteration that calls one block), else its syntax (`repeat`, `concat`,
    `residual`, `group`); `block` when the graph does not say."""
    scope = info(g).scopes.get(path)
    if scope is None:
        return "block"
    if scope.block:
        return str(scope.block)
    called = {b for b, _ in scope.calls}
    if len(called) == 1:
        return str(called.pop())
    return "group" if scope.kind == "iteration" else str(scope.kind)


def frame_title(model: Model, u: Unit, parent: Unit) -> str:
    """An expanded scope's title: its name and what made it (`Mixed_5b · InceptionA`), the
    name alone when the graph says nothing more (`block`) or the same."""
    name = ".".join(u.path[len(parent.path) :])
    kind = "aux head" if u.aux else _made_by(model.g, u.key)
    return name if kind in ("block", name) else f"{name} · {kind}"


def label(model: Model, u: Unit, parent: Unit) -> Label:
    g = model.g
    name = ".".join(u.path[len(parent.path) :]) or "network"
    params = sum(node(g, n).params for n in u.nodes)
    buffers = sum(node(g, n).buffers for n in u.nodes)
    macs = sum(node(g, n).macs for n in u.nodes)
    last = node(g, u.nodes[-1])
    cost = f"params {short(params)} · MACs {short(macs)}" if params or macs else ""
    if u.node is not None:
        d = node(g, u.node)
        what = f"{d.op.value} {details(d.attrs)}".strip()
        ins = " + ".join(shape_text(shape_of(g, i)) for i in inputs(g, u.node))
        lines = tuple(t for t in (name, what if what != name else "", cost) if t)
        if d.op is Op.INPUT:
            lines = (name, shape_text(d.shape))
        title = (
            f"{u.node}\n{what}\ninput {ins or '-'}  output {shape_text(d.shape)}\n"
            f"params {d.params:,}  buffers {d.buffers:,}  MACs {d.macs:,}"
        )
        if d.span is not None:
            title += f"\n{d.span}"
    else:
        kind = "aux head" if u.aux else _made_by(g, u.key)
        what = f"{kind} · {len(u.nodes)} layers · {shape_text(last.shape)}"
        lines = (name, what, cost) if cost else (name, what)
        title = (
            f"{u.key} ({kind}, {len(u.nodes)} layers)\noutput {shape_text(last.shape)}\n"
            f"params {params:,}  buffers {buffers:,}  MACs {macs:,}"
        )
    return Label(lines, title)


def default_depth(model: Model, boxes: int = 8) -> int:
    """The shallowest depth at which the trunk shows at least `boxes` boxes (inception_v4's
    timm layout puts everything under `features`, so depth 1 would be three boxes)."""
    for depth in range(1, model.max_depth() + 1):
        count = sum(
            1
            for u in model.units.values()
            if u.path and (len(u.path) == depth or (u.node and len(u.path) < depth))
        )
        if count >= boxes:
            return depth
    return max(1, model.max_depth())
