"""Memory of one inference forward at a batch size and dtype, from the IR alone.

- params, buffers: their element counts x bytes per element.
- activations: every inference-path tensor of one forward (the input and each node's output),
  x batch x bytes: what a forward that kept everything (autograd in training) would hold.
- peak activations: the most bytes alive at once when the graph runs in spec order (the order
  every backend emits), computed from liveness: a node's output is allocated when it runs and
  freed right after its last inference-path reader has run; the input is alive throughout (the
  caller holds its batch) and the network's output from when it is made. While a node runs,
  its inputs and its output are alive, plus a transient for a unit with a `bn` attribute
  (the conv result the BN reads: one more tensor of the output's size). Outputs that alias
  their input (ALIASES) allocate nothing. Aux heads do not run in inference and are left out.
- peak = params + buffers + peak activations: the least a framework needs; real allocators
  add workspace and rounding, and tests/test_memory.py compares the figure with torch's
  profiler on CPU.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import networkx as nx

from ..ir import Op, attrs_of, aux_of, info, op_of, shape_of, totals
from ..ir.ops import ALIASES as OP_ALIASES

DTYPES = {"float32": 4, "bfloat16": 2, "float16": 2}
"""Bytes per element of the dtypes a memory estimate can be made for."""

ALIASES = OP_ALIASES
"""Ops whose output is a view of (or the same tensor as) their input in inference (declared by
each op: Trait.ALIAS)."""


@dataclass(frozen=True)
class Memory:
    batch: int
    dtype: str
    bytes_per_element: int
    params_bytes: int
    buffers_bytes: int
    activations_bytes: int
    peak_activations_bytes: int
    peak_node: str
    """The node during whose run the peak is reached."""

    @property
    def peak_bytes(self) -> int:
        return self.params_bytes + self.buffers_bytes + self.peak_activations_bytes

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "peak_bytes": self.peak_bytes}


def estimate(
    g: nx.DiGraph,
    batch: int = 1,
    dtype: str = "float32",
    ins: Mapping[str, tuple[str, ...]] | None = None,
) -> Memory:
    """The memory estimate of `g` (see the module docstring for the model); `ins` is
    `all_inputs(g)` where the caller has it already."""
    size = DTYPES[dtype]
    if ins is None:
        ins = all_inputs(g)
    main = [n for n in g.nodes if aux_of(g, n) is None]
    elems = {n: math.prod(shape_of(g, n)) * batch for n in main}
    # A value's storage: the node that allocated it (an alias shares its input's storage).
    owner: dict[str, str] = {}
    for n in main:
        first = ins[n][:1]
        owner[n] = owner[first[0]] if op_of(g, n) in ALIASES and first else n
    last_use: dict[str, int] = {}
    for i, n in enumerate(main):
        for src in ins[n]:
            if aux_of(g, src) is None:
                last_use[owner[src]] = i
    keep = {owner[info(g).output], *(n for n in main if op_of(g, n) is Op.INPUT)}
    live: dict[str, int] = {}
    total = 0  # sum(live.values())
    peak, peak_node = 0, main[0] if main else ""
    for i, n in enumerate(main):
        if owner[n] == n:
            live[n] = elems[n]
            total += elems[n]
        attrs = attrs_of(g, n)
        transient = elems[n] if _has_bn(attrs) and attrs.bn is not None else 0  # type: ignore[attr-defined]
        now = total + transient
        if now > peak:
            peak, peak_node = now, n
        for src in (n, *[owner[s] for s in ins[n]]):  # a repeat finds it freed already
            if src in live and src not in keep and last_use.get(src, -1) <= i:
                total -= live.pop(src)
    params, buffers, _ = totals(g)
    return Memory(
        batch=batch,
        dtype=dtype,
        bytes_per_element=size,
        params_bytes=params * size,
        buffers_bytes=buffers * size,
        activations_bytes=sum(elems.values()) * size,
        peak_activations_bytes=peak * size,
        peak_node=peak_node,
    )


def all_inputs(g: nx.DiGraph) -> dict[str, tuple[str, ...]]:
    """ir.inputs of every node, from one pass over the edges (a sweep estimates thousands of
    graphs: a view per node's predecessors costs more than the estimate itself)."""
    found: dict[str, list[tuple[int, str]]] = {n: [] for n in g}
    # g.adjacency() gives the adjacency dicts themselves; g.edges would store a view that
    # refers to the graph (a cycle: the graph left to the GC), g.succ.items() a view per node
    for u, succ in g.adjacency():
        for v, d in succ.items():
            found[v].append((d["index"], u))
    return {
        n: tuple(u for _, u in sorted(e)) if len(e) > 1 else tuple(u for _, u in e)
        for n, e in found.items()
    }


_BN: dict[type, bool] = {}


def _has_bn(attrs: object) -> bool:
    """Whether `attrs.bn` exists (a field or a class attribute), per attribute class: the
    getattr default of a pydantic model without it raises and catches an AttributeError."""
    t = type(attrs)
    has = _BN.get(t)
    if has is None:
        has = _BN[t] = "bn" in getattr(t, "model_fields", {}) or hasattr(t, "bn")
    return has
