"""The order of the emitted statements and the local variable each value lives in.

Both backends emit straight-line code: torch's forward (no per-node interpretation loop: as
fast as hand-written torchvision code, and torch.compile captures it whole) and keras'
functional `build()` (one layer call per statement, as keras.applications). Three decisions
shape it:

- Aux heads run only in training, so each head's nodes (or its module) move into one
  `if self.training:` / `if training:` block, placed right after the last trunk statement the
  head reads (spec order otherwise).
- `identity` nodes make no statement: they are another name for their input's value.
- Locals are reused like registers: a value takes the lowest-numbered free name (`x`, `x1`,
  `x2`, ...) once its inputs that die at this statement are released. The trunk then stays `x`,
  branches get `x1`, `x2`, ..., and a dead tensor is released as soon as its name is reused,
  as in torchvision's block-by-block code (keeping every intermediate alive would cost memory
  and allocator time).

The same rules schedule one scope's forward (backends/common/scopes.py): its statements are its
nodes and its child modules' calls, its arguments the values it reads from outside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from inceptdsl.ir import Node, Op, info, nodes

from .scopes import Scope


@dataclass(frozen=True)
class Step:
    """One statement: `targets = <node or scope call>(args)`; `head` is its aux head, or None."""

    item: Node | Scope
    targets: tuple[str, ...]
    args: tuple[str, ...]
    head: str | None
    last_use: frozenset[str]  # the values (node names) whose last reader this is

    @property
    def node(self) -> Node:
        assert isinstance(self.item, Node)
        return self.item

    @property
    def target(self) -> str:
        return self.targets[0]


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]
    output: str  # the local holding the eval-mode output
    aux_outputs: tuple[tuple[str, str], ...]  # (head name, local), in spec order
    args: tuple[str, ...] = ()  # the locals holding the arguments
    returns: tuple[str, ...] = ()  # the locals holding a scope's outputs, in order


def _register(index: int) -> str:
    return "x" if index == 0 else f"x{index}"


def _reads(item: Node | Scope) -> tuple[str, ...]:
    return item.inputs


def _makes(item: Node | Scope) -> tuple[str, ...]:
    return (item.name,) if isinstance(item, Node) else item.outputs


def _head(item: Node | Scope) -> str | None:
    return item.aux


def _is_identity(item: Node | Scope) -> bool:
    return isinstance(item, Node) and item.op is Op.IDENTITY


def _order(
    items: Sequence[Node | Scope], heads: Sequence[str], home: str | None, args: set[str]
) -> list[Node | Scope]:
    """`home` items in spec order, with each other aux head's items moved after their last
    dependency (`home` is the aux head the whole scope belongs to: None for the trunk)."""
    trunk = [it for it in items if _head(it) == home]
    position = {out: i for i, it in enumerate(trunk) for out in _makes(it)}
    after: dict[int, list[Node | Scope]] = {}
    for head in heads:
        if head == home:
            continue
        members = [it for it in items if _head(it) == head]
        own = {o for it in members for o in _makes(it)}
        reads = [s for it in members for s in _reads(it) if s not in own]
        if any(s not in position and s not in args for s in reads):
            raise ValueError(f"IR error: aux head {head!r} reads a node of another aux head")
        deps = [position[s] for s in reads if s in position]
        after.setdefault(max(deps, default=-1), []).extend(members)
    stray = {_head(it) for it in items} - set(heads) - {home}
    if stray:
        raise ValueError(f"IR error: nodes belong to undeclared aux heads {sorted(stray, key=str)}")
    order: list[Node | Scope] = list(after.get(-1, ()))
    for i, it in enumerate(trunk):
        order.append(it)
        order.extend(after.get(i, ()))
    return order


def schedule_items(
    items: Sequence[Node | Scope],
    heads: Sequence[str],
    args: tuple[str, ...] = (),
    results: tuple[str, ...] = (),
    home: str | None = None,
) -> Schedule:
    """The statements of `items` (nodes and scope calls) given `args` (values read from outside,
    held by the first locals) and `results` (values that must live to the end, in order: the
    output first). `output` and `returns` are the locals holding them."""
    order = _order(items, heads, home, set(args))
    # identity nodes alias their input's value; everything else is its own value
    value: dict[str, str] = {a: a for a in args}
    for it in order:
        for out in _makes(it):
            value[out] = value[it.inputs[0]] if _is_identity(it) else out
    last: dict[str, int] = {}
    for i, it in enumerate(order):
        if not _is_identity(it):
            for src in _reads(it):
                last[value[src]] = i
    end = len(order)
    for v in results:
        last[value[v]] = end

    local: dict[str, str] = {}  # value -> its local's name
    taken: set[int] = set()
    index_of: dict[str, int] = {}
    for i, a in enumerate(args):
        local[a], index_of[a] = _register(i), i
        taken.add(i)
        if a not in last:  # an argument nobody reads
            taken.discard(i)
    steps: list[Step] = []
    for i, it in enumerate(order):
        if _is_identity(it):
            alias = local[value[it.inputs[0]]]
            steps.append(Step(it, (alias,), (alias,), _head(it), frozenset()))
            continue
        reads = tuple(local[value[s]] for s in _reads(it))
        dying = frozenset(value[s] for s in _reads(it) if last[value[s]] == i)
        for v in dying:
            taken.discard(index_of[v])
        targets = []
        for out in _makes(it):
            free = 0
            while free in taken:
                free += 1
            taken.add(free)
            index_of[out] = free
            local[out] = _register(free)
            targets.append(local[out])
        for out in _makes(it):
            if last.get(out, i) == i:  # nobody reads it: its name is free again at once
                taken.discard(index_of[out])
        steps.append(Step(it, tuple(targets), reads, _head(it), dying))
    returns = tuple(local[value[v]] for v in results)
    return Schedule(
        tuple(steps), returns[0] if returns else "", (), tuple(local[a] for a in args), returns
    )


def schedule(g: nx.DiGraph) -> Schedule:
    """The flat schedule of the whole network (the input node is the first statement)."""
    heads = info(g).aux_heads
    results = (info(g).output, *(h.output for h in heads))
    plan = schedule_items(list(nodes(g)), [h.name for h in heads], results=results)
    aux = tuple((h.name, r) for h, r in zip(heads, plan.returns[1:], strict=True))
    return Schedule(plan.steps, plan.output, aux)
