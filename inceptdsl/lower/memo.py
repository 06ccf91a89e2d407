"""Memoised block calls: a block lowered once with some arguments is replayed, not lowered again.

A sweep lowers one program at thousands of parameter values, and most block calls repeat: the
same block with the same arguments on an input of the same shape (the copies of a `repeat`,
and every point that differs only elsewhere). Such a call makes the same nodes under another
scope, so the first lowering is recorded (nodes, labels, scopes, names taken, work counted)
relative to the scope the call's units go in, and later calls copy the record into theirs.

A call is recorded when that scope is fresh (nothing named in it yet: a labelled call's own
scope, or a `repeat ... as` copy whose first unit the call is), not for `@` blocks, and only
when the record is complete: no variant edits in the lowering, no aux head, no warning due,
every node fed from inside the scope or from the call's input. The key holds everything the
body's lowering reads: the block, its bound arguments and the layer defaults (compared by type
and value, so 1, 1.0 and true differ), the input's shape, the aux head and the scope's kind. A
replay counts the recorded steps, nodes, expression work and nesting, and is refused (the call
is lowered for real) where that would pass a limit; so a lowering with the memo succeeds
exactly when the plain one does, with the same graph. A failing one may stop at another place
(the sweep lowers a failing point again without the memo for its error). Opt-in
(`lower(..., memo=BlockMemo(program))`): only the sweep uses it; tests/test_sweep_memo.py
compares graphs and metrics with the plain lowering.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx

from ..check import budget
from ..front.loader import BlockRef, Program
from ..front.source import Span
from ..ir.graph import AuxHead, shape_of
from ..middle.evaluate import Work
from ..middle.values import ListValue, Record, Symbol
from . import limits
from .context import Ctx
from .edits import Edits
from .scopes import Scope, ScopeLog

MAX_ENTRIES = 20_000
"""Records kept; past this the memo starts afresh (a sweep's distinct calls number thousands)."""

NodeRec = tuple[Any, ...]
"""(name, op, attrs, srcs, shape, params, buffers, macs, span, aux) of one node made."""


class Unkeyable(Exception):
    """A value the key cannot compare exactly, or a name outside the call: not memoised."""


@dataclass(frozen=True)
class CallRecord:
    """One block call's lowering, names relative to its scope (None: the call's input)."""

    nodes: tuple[NodeRec, ...]
    out: str | None
    labels: tuple[tuple[str, str | None], ...]
    made: tuple[tuple[str, Any], ...]
    calls: tuple[tuple[str, tuple[Any, ...]], ...]
    own_calls: tuple[Any, ...]
    """Calls without a level made in the scope itself (its `calls` entry may predate the call)."""
    residual_adds: tuple[str, ...]
    taken: tuple[tuple[str, Span | None], ...]
    counts: tuple[tuple[str, int], ...]
    next_index: int
    steps: int
    kept: int
    work: int
    nesting: int


class BlockMemo:
    """Records of block calls of one program, shared by its lowerings (one per sweep point)."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.records: dict[tuple[Any, ...], CallRecord] = {}
        self.estimate = budget.Estimate(limits.MAX_REPEAT)
        """The work estimates (check/budget.py), shared too: a body's bound depends only on the
        program and the argument values. Past its visit cap an estimate is weaker, never
        larger, so a lowering that succeeds is unchanged; a failing one may stop later."""
        self.hits = 0
        self.misses = 0

    def put(self, key: tuple[Any, ...], rec: CallRecord) -> None:
        if len(self.records) >= MAX_ENTRIES:
            self.records.clear()
        self.records[key] = rec


def freeze(v: Any) -> Any:
    """`v` as a key that equals another only for the same types and values."""
    t = type(v)
    if t is float:
        return (float, v.hex())  # -0.0 and 0.0 differ; nan equals nan
    if t in (int, bool, str) or v is None:
        return (t, v)
    if t is tuple:
        return (tuple, tuple(freeze(x) for x in v))
    if t is ListValue:
        return (ListValue, tuple(freeze(x) for x in v.items))
    if t is Symbol:
        return (Symbol, v.name)
    if t is Record:
        return (Record, v.kind, tuple((k, freeze(x)) for k, x in v.fields))
    raise Unkeyable(t.__name__)


def freeze_defaults(d: Any) -> tuple[Any, ...]:
    """Layer defaults ({op: {option: (value, span)}}) as a key, in their order."""
    return tuple(
        (op, tuple((k, freeze(v), sp) for k, (v, sp) in opts.items())) for op, opts in d.items()
    )


class Memoising:
    """Lowerer's memoised block calls (a mixin: Lowerer sets these attributes)."""

    memo: BlockMemo | None
    g: nx.DiGraph | None
    labels: dict[str, str]
    scopes: ScopeLog
    edits: Edits
    aux_heads: list[AuxHead]
    warnings: list[Any]
    steps: int
    kept: int
    removed: int
    nesting: int
    work: Work
    _log: list[NodeRec] | None
    _recording: int
    _peak: int
    _warn_events: int
    _frozen: dict[int, tuple[Any, tuple[Any, ...]]]

    def _memo_key(self, ref: BlockRef, sub: Ctx, x: str) -> tuple[Any, ...] | None:
        """The key of a call whose units go in `sub.scope`, or None where it is not memoised."""
        scope = sub.scope
        if self.edits.every or not scope.prefix or scope.taken or scope.counts:
            return None
        if scope.next_index:
            return None
        assert self.g is not None
        try:
            return (
                id(ref.decl),
                id(ref.file),
                tuple((k, freeze(v)) for k, v in sub.names.items()),
                self._frozen_defaults(sub.defaults),
                self._frozen_defaults(sub.forced),
                shape_of(self.g, x),
                sub.aux,
                sub.depth,
                scope.indexed,
            )
        except Unkeyable:
            return None

    def _frozen_defaults(self, d: Any) -> tuple[Any, ...]:
        """freeze_defaults(d), once per mapping in one lowering (kept, so its id stays its)."""
        hit = self._frozen.get(id(d))
        if hit is not None and hit[0] is d:
            return hit[1]
        frozen = freeze_defaults(d)
        self._frozen[id(d)] = (d, frozen)
        return frozen

    def _memoised(self, key: tuple[Any, ...], scope: Scope, x: str, body: Callable[[], str]) -> str:
        """The call's output: replayed from its record, or lowered by `body` and recorded."""
        memo = self.memo
        assert memo is not None
        rec = memo.records.get(key)
        if rec is not None:
            out = self._replay(rec, scope, x)
            if out is not None:
                memo.hits += 1
                return out
        memo.misses += 1
        made, calls, adds = self.scopes.made, self.scopes.calls, self.scopes.residual_adds
        path = scope.prefix[:-1]
        if self._log is None:
            self._log = []
        self._recording += 1
        start = len(self._log)
        n_labels, n_made, n_adds = len(self.labels), len(made), len(adds)
        n_own = len(calls.get(path, ()))
        n_calls = len(calls) - (path in calls)
        n_aux, n_warn, events = len(self.aux_heads), len(self.warnings), self._warn_events
        steps, kept, work = self.steps, self.kept, self.work.used
        outer_peak, self._peak = self._peak, self.nesting
        try:
            out = body()
            if (
                len(self.aux_heads) == n_aux
                and len(self.warnings) == n_warn
                and self._warn_events == events
                and not self.removed
                and not self.edits.every
            ):
                new_calls = _newest(calls, len(calls) - (path in calls) - n_calls, skip=path)
                try:
                    memo.put(
                        key,
                        _record(
                            scope,
                            x,
                            out,
                            self._log[start:],
                            _newest(self.labels, len(self.labels) - n_labels),
                            _newest(made, len(made) - n_made),
                            new_calls,
                            tuple(calls.get(path, ())[n_own:]),
                            adds[n_adds:],
                            (self.steps - steps, self.kept - kept, self.work.used - work),
                            self._peak - self.nesting,
                        ),
                    )
                except Unkeyable:
                    pass
            return out
        finally:
            self._peak = max(outer_peak, self._peak)
            self._recording -= 1
            if not self._recording:
                self._log = None

    def _replay(self, rec: CallRecord, scope: Scope, x: str) -> str | None:
        """Copy `rec` into `scope` at input `x`; None (nothing done) where the copy would pass a
        limit: the call is then lowered for real, which reports it where it happens."""
        g = self.g
        assert g is not None
        if (
            self.steps + rec.steps > limits.MAX_STEPS
            or len(g) + len(rec.nodes) > limits.MAX_NODES
            or self.work.used + rec.work > self.work.limit
            or self.nesting + rec.nesting > limits.MAX_NESTING
        ):
            return None
        prefix = scope.prefix
        log = self._log
        nodes: list[tuple[str, dict[str, Any]]] = []
        edges: list[tuple[str, str, dict[str, int]]] = []
        for rel, op, attrs, srcs, shape, params, buffers, macs, span, aux in rec.nodes:
            full = prefix + rel
            ins = tuple(x if s is None else prefix + s for s in srcs)
            # the fields in ir.graph.add_node's order; edges after all nodes, in the same order
            # as one add_node after another would add them (the adjacency's order is the same)
            nodes.append(
                (
                    full,
                    {
                        "op": op,
                        "attrs": attrs,
                        "shape": shape,
                        "params": params,
                        "buffers": buffers,
                        "macs": macs,
                        "span": span,
                        "aux": aux,
                    },
                )
            )
            edges.extend((src, full, {"index": i}) for i, src in enumerate(ins))
            if log is not None:
                log.append((full, op, attrs, ins, shape, params, buffers, macs, span, aux))
        g.add_nodes_from(nodes)  # one call each: networkx clears its caches per call
        g.add_edges_from(edges)
        labels, made, calls = self.labels, self.scopes.made, self.scopes.calls
        for rel, out in rec.labels:
            labels[prefix + rel] = x if out is None else prefix + out
        for rel, info in rec.made:
            made[prefix + rel] = info
        for rel, entries in rec.calls:
            calls[prefix + rel] = list(entries)
        if rec.own_calls:
            calls.setdefault(prefix[:-1], []).extend(rec.own_calls)
        self.scopes.residual_adds.extend(prefix + a for a in rec.residual_adds)
        scope.taken.update(rec.taken)
        scope.counts.update(rec.counts)
        scope.next_index = rec.next_index
        self.steps += rec.steps
        self.kept += rec.kept
        self.work.used += rec.work
        self._peak = max(self._peak, self.nesting + rec.nesting)
        return x if rec.out is None else prefix + rec.out


def _newest(d: dict[str, Any], n: int, skip: str | None = None) -> list[tuple[str, Any]]:
    """The last `n` items put in `d` (leaving out key `skip`), oldest first, without walking
    the older ones."""
    items = reversed(d.items())
    out = list(itertools.islice((kv for kv in items if kv[0] != skip), n))
    out.reverse()
    return out


def _record(
    scope: Scope,
    x: str,
    out: str,
    nodes: list[NodeRec],
    labels: list[tuple[str, str]],
    made: list[tuple[str, Any]],
    calls: list[tuple[str, list[Any]]],
    own_calls: tuple[Any, ...],
    adds: list[str],
    counts: tuple[int, int, int],
    nesting: int,
) -> CallRecord:
    """A call's lowering with names relative to `scope` (input `x` as None); raises Unkeyable
    when something it made or read lies outside the scope."""
    prefix = scope.prefix
    cut = len(prefix)

    def inner(n: str) -> str:
        if not n.startswith(prefix):
            raise Unkeyable(n)
        return n[cut:]

    def rel(n: str) -> str | None:
        return None if n == x else inner(n)

    return CallRecord(
        nodes=tuple(
            (inner(n), op, attrs, tuple(rel(s) for s in srcs), *rest)
            for n, op, attrs, srcs, *rest in nodes
        ),
        out=rel(out),
        labels=tuple((inner(k), rel(v)) for k, v in labels),
        made=tuple((inner(k), v) for k, v in made),
        calls=tuple((inner(k), tuple(v)) for k, v in calls),
        own_calls=own_calls,
        residual_adds=tuple(inner(a) for a in adds),
        taken=tuple(scope.taken.items()),
        counts=tuple(scope.counts.items()),
        next_index=scope.next_index,
        steps=counts[0],
        kept=counts[1],
        work=counts[2],
        nesting=nesting,
    )
