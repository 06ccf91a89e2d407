"""The order of the emitted statements and the local variable each value lives in.

Both backends emit straight-line code: torch's forward (no per-node interpretation loop: as
fast as hand-written torchvision code, and torch.compile captures it whole) and keras'
functional `build()` (one layer call per statement, as keras.applications). Three decisions
shape it:

- Aux heads run only in training, so each head's nodes move into one `if self.training:` /
  `if training:` block, placed right after the last trunk node the head reads (spec order
  otherwise).
- `identity` nodes make no statement: they are another name for their input's value.
- Locals are reused like registers: a value takes the lowest-numbered free name (`x`, `x1`,
  `x2`, ...) once its inputs that die at this statement are released. The trunk then stays `x`,
  branches get `x1`, `x2`, ..., and a dead tensor is released as soon as its name is reused,
  as in torchvision's block-by-block code (keeping every intermediate alive would cost memory
  and allocator time).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from inceptdsl.ir import Node, Op, nodes


@dataclass(frozen=True)
class Step:
    """One node's statement: `target = <op>(args)`; `head` is its aux head, or None."""

    node: Node
    target: str
    args: tuple[str, ...]
    head: str | None
    last_use: frozenset[str]  # the values (node names) whose last reader this is


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]
    output: str  # the local holding the eval-mode output
    aux_outputs: tuple[tuple[str, str], ...]  # (head name, local), in spec order


def _register(index: int) -> str:
    return "x" if index == 0 else f"x{index}"


def _order(g: nx.DiGraph) -> list[Node]:
    """Trunk nodes in spec order, with each aux head's nodes moved after its last dependency."""
    all_nodes = list(nodes(g))
    heads = [h.name for h in g.graph.get("aux_heads", ())]
    trunk = [n for n in all_nodes if n.aux is None]
    position = {n.name: i for i, n in enumerate(trunk)}
    after: dict[int, list[Node]] = {}
    for head in heads:
        members = [n for n in all_nodes if n.aux == head]
        own = {n.name for n in members}
        deps = [position[s] for n in members for s in n.inputs if s not in own]
        if any(s not in own and s not in position for n in members for s in n.inputs):
            raise ValueError(f"IR error: aux head {head!r} reads a node of another aux head")
        after.setdefault(max(deps, default=0), []).extend(members)
    stray = {n.aux for n in all_nodes if n.aux is not None} - set(heads)
    if stray:
        raise ValueError(f"IR error: nodes belong to undeclared aux heads {sorted(stray)}")
    order: list[Node] = []
    for i, n in enumerate(trunk):
        order.append(n)
        order.extend(after.get(i, ()))
    return order


def schedule(g: nx.DiGraph) -> Schedule:
    order = _order(g)
    # identity nodes alias their input's value; everything else is its own value
    value: dict[str, str] = {}
    for n in order:
        value[n.name] = value[n.inputs[0]] if n.op is Op.IDENTITY else n.name
    outputs = [value[g.graph["output"]]]
    outputs += [value[h.output] for h in g.graph.get("aux_heads", ())]
    last: dict[str, int] = {}
    for i, n in enumerate(order):
        if n.op is not Op.IDENTITY:
            for src in n.inputs:
                last[value[src]] = i
    end = len(order)
    for v in outputs:
        last[v] = end

    local: dict[str, str] = {}  # value -> its local's name
    taken: set[int] = set()
    index_of: dict[str, int] = {}
    steps: list[Step] = []
    for i, n in enumerate(order):
        if n.op is Op.IDENTITY:
            steps.append(Step(n, local[value[n.name]], (local[value[n.name]],), n.aux, frozenset()))
            continue
        args = tuple(local[value[s]] for s in n.inputs)
        dying = frozenset(value[s] for s in n.inputs if last[value[s]] == i)
        for v in dying:
            taken.discard(index_of[v])
        free = 0
        while free in taken:
            free += 1
        taken.add(free)
        index_of[n.name] = free
        local[n.name] = _register(free)
        if last.get(n.name, i) == i:  # nobody reads it: its name is free again at once
            taken.discard(free)
        steps.append(Step(n, local[n.name], args, n.aux, dying))
    aux = tuple((h.name, local[value[h.output]]) for h in g.graph.get("aux_heads", ()))
    return Schedule(tuple(steps), local[outputs[0]], aux)
