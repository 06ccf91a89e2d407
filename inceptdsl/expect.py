"""`expect` declarations checked against computed figures (what `inceptdsl verify` runs).

    expect METRIC CMP VALUE [within TOL | within P%] [with p=v, ...] source "citation"

METRIC is a total (`params`, `buffers`, `variables`, `macs`, `flops`, `activations`,
`aux_params`, `aux_buffers`, `aux_macs`) or `PATH.METRIC` for one node or scope (`params`,
`buffers`, `variables`, `macs`, `flops`, `shape`). `with` evaluates the expectation on the same
spec built with other parameter values. Every result carries its citation.

Cost: the figures of a network (totals, and the sums of every node and scope) are computed once
and shared by all its expectations; each distinct `with` parameter set builds the network once,
keeps only those figures, and all variants of one `verify` together may build at most
MAX_VARIANT_NODES nodes (MAX_VARIANTS sets), so `with` cannot multiply time and memory.

An expectation about a layer or block that these parameters leave out (`expect aux1.params`
with `--set aux_logits=false`: aux1 is declared under an `if`) is skipped, with the reason,
rather than failed: it describes the network at other parameter values.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .check.resolve_names import walk_stmts
from .errors import InvalidValueError, LimitError, Note, SpecError, UnknownMetricError
from .front import ast as A
from .front.source import Span
from .ir import costs, node, shape_of
from .middle.cost import FLOPS_PER_MAC
from .middle.evaluate import Evaluator, format_value
from .names import did_you_mean

if TYPE_CHECKING:
    import networkx as nx

    from .front.loader import Program
    from .network import Network
    from .report import Report

TOTALS = (
    "params",
    "buffers",
    "variables",
    "macs",
    "flops",
    "activations",
    "aux_params",
    "aux_buffers",
    "aux_macs",
)
NODE_METRICS = ("params", "buffers", "variables", "macs", "flops", "shape")

MAX_VARIANTS = 64
"""Most distinct `with` parameter sets one network's expectations may use."""

MAX_VARIANT_NODES = 200_000
"""Most IR nodes all `with` variants of one `verify` may build together (each variant is a
whole network; the bundled specs' variants build a few thousand)."""


@dataclass(frozen=True)
class ExpectResult:
    """One checked expectation."""

    metric: str
    cmp: str
    expected: Any
    actual: Any
    tolerance: str
    with_: str
    source: str
    span: Span
    ok: bool
    skipped: str = ""
    """Why the expectation was not checked (it names a part these parameters leave out), or
    "" when it was checked; a skipped result is not a failure."""
    written: str = ""
    """The expected figure as the spec writes it (`0.386G`, `3*3*3*4 + 4`), or ""."""

    def describe(self) -> str:
        """The expectation as written, with its value where the text is not plainly it:
        `macs ~= 0.386G (386,000,000) within 1%`."""
        tol = f" within {self.tolerance}" if self.tolerance else ""
        at = f" with {self.with_}" if self.with_ else ""
        return f"{self.metric} {self.cmp} {self.expected_text()}{tol}{at}"

    def expected_text(self) -> str:
        shown = _show(self.expected)
        text = " ".join(self.written.split())
        plain = text.replace("_", "").replace(" ", "")
        if not text or plain == shown.replace(",", "").replace(" ", ""):
            return shown
        return f"{text} ({shown})"


@dataclass(frozen=True, eq=False)
class Verification(Sequence[ExpectResult]):
    """The results of a network's `expect` declarations, in spec order: a sequence of
    ExpectResult with a one-line repr and an HTML table for notebooks."""

    network: str
    results: tuple[ExpectResult, ...]

    def __getitem__(self, i: Any) -> Any:
        return self.results[i]

    def __len__(self) -> int:
        return len(self.results)

    def __eq__(self, other: object) -> bool:  # equal to a list or tuple of the same results
        if isinstance(other, Verification):
            return self.results == other.results
        if isinstance(other, (list, tuple)):
            return list(self.results) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @property
    def passed(self) -> int:
        return sum(r.ok and not r.skipped for r in self.results)

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.results)

    @property
    def skipped(self) -> int:
        return sum(bool(r.skipped) for r in self.results)

    @property
    def ok(self) -> bool:
        """No expectation failed (skipped ones do not fail)."""
        return self.failed == 0

    def __repr__(self) -> str:
        return (
            f"<Verification {self.network}: {self.passed} passed, {self.failed} failed, "
            f"{self.skipped} skipped>"
        )

    def _repr_html_(self) -> str:
        from .present.html import esc, verify_html

        return f"<p>{esc(repr(self))}</p>{verify_html(self.results)}"


def _written(net: Network, span: Span) -> str:
    """The source text of a one-line span, or "" (the source is not at hand)."""
    src = net.program.sources.get(span.path)
    if src is None or span.end_line != span.line or not 1 <= span.line <= src.line_count:
        return ""
    return src.line(span.line)[span.column - 1 : span.end_column - 1]


def _show(v: Any) -> str:
    if isinstance(v, tuple):
        return "x".join(str(x) for x in v)
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return format_value(v)


@dataclass
class Figures:
    """What expectations read from one built network: totals, the summed params, buffers and
    MACs of every node and every scope (a name prefix), shapes, and label names.

    The sums of a path are those of every node named the path or under it (`path.`). Lazy
    figures (the network's own, whose graph is kept anyway) read a node's shape and figures
    from the graph and sum the scopes (the nodes with a `.` in their names) on first use: at
    100,000 nodes, summing every node for an expectation about one took a tenth of a second.
    Eager ones (a `with` variant's) sum everything now, so that the graph can go."""

    name: str
    labels: dict[str, str]
    conditional: frozenset[str] = field(default_factory=frozenset)
    """Labels and aux head names declared under an `if` (present at some parameter values)."""
    conditional_aux: bool = False
    """Whether some aux head is declared under an `if`."""
    report: Callable[[], Report] | None = None
    """Where the totals come from, on first use (the report of a 100,000-node network takes
    longer than building it, and expectations about single layers do not need it)."""
    graph: nx.DiGraph | None = None
    """The network's graph (lazy figures), or None (eager: _shapes and _sums hold every node)."""
    _shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    _sums: dict[str, tuple[int, int, int]] | None = None
    _totals: tuple[dict[str, Any], tuple[str, ...]] | None = None

    @staticmethod
    def of(net: Network, lazy: bool = False) -> Figures:
        """The figures of `net`; `lazy`: sums and totals are computed when first read (the
        network is kept until then), else now (and the network can go)."""
        labels, aux = conditional_labels(net)
        fig = Figures(net.name, dict(net.labels), labels, bool(aux), net.report, net.graph)
        if not lazy:
            with _gc_paused():
                fig._shapes = {name: tuple(shape) for name, shape, *_ in costs(net.graph)}
                fig._sums = _sums(net.graph, scoped=False)
            fig.graph = None
            fig.totals()
        return fig

    def shape(self, node: str) -> tuple[int, ...] | None:
        """The output shape of node `node`, or None (no such node)."""
        if self.graph is None:
            return self._shapes.get(node)
        return tuple(shape_of(self.graph, node)) if node in self.graph else None

    def node_names(self) -> Iterable[str]:
        return self._shapes if self.graph is None else self.graph

    def sums(self, path: str) -> tuple[int, int, int] | None:
        """The summed params, buffers and MACs of the node or scope `path`, or None (neither)."""
        g = self.graph
        if self._sums is None:
            assert g is not None
            with _gc_paused():
                self._sums = _sums(g, scoped=True)
        scoped = self._sums.get(path)
        if g is None or "." in path or path not in g:
            return scoped
        n = node(g, path)  # a top-level node: its own figures, and those of any `path.` nodes
        if scoped is None:
            return n.params, n.buffers, n.macs
        return n.params + scoped[0], n.buffers + scoped[1], n.macs + scoped[2]

    def totals(self) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The network's totals and aux head names."""
        if self._totals is None:
            assert self.report is not None
            with _gc_paused():
                rep = self.report()
            self._totals, self.report = (rep.totals(), tuple(rep.aux_heads)), None
        return self._totals


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic GC paused: figures of a large network allocate many small objects while the
    network's own stay alive, and the GC would rescan them all (a third of the time at 100,000
    nodes), as network.build says."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _sums(g: nx.DiGraph, scoped: bool) -> dict[str, tuple[int, int, int]]:
    """The summed params, buffers and MACs of every node (`scoped`: of the nodes with a `.` in
    their names), under the node's name and every prefix of it (`a.b.c`: `a.b.c`, `a.b`, `a`)."""
    sums: dict[str, list[int]] = {}
    if scoped and "." not in "".join(g):  # no scope: one C call rather than one per node
        return {}
    for name, _, params, buffers, macs in costs(g):
        if scoped and "." not in name:
            continue
        if "." not in name and name not in sums:  # a top-level node: its own sums
            sums[name] = [params, buffers, macs]
            continue
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            acc = sums.setdefault(".".join(parts[:i]), [0, 0, 0])
            acc[0] += params
            acc[1] += buffers
            acc[2] += macs
    return {k: (a, b, c) for k, (a, b, c) in sums.items()}


def conditional_labels(net: Network) -> tuple[frozenset[str], frozenset[str]]:
    """Labels and aux head names declared inside an `if` anywhere in the program (the parts
    whose presence depends on parameter values), and the aux head names among them."""
    out: set[str] = set()
    aux: set[str] = set()
    for f in net.program.files.values():
        decls: list[A.NetworkDecl | A.BlockDecl] = [*f.module.networks, *f.module.blocks]
        for decl in decls:
            for st in walk_stmts(decl.body):
                if not isinstance(st, A.IfStmt):
                    continue
                for body in _branches(st):
                    for x in walk_stmts(body):
                        if isinstance(x, A.Unit) and x.label is not None:
                            out.add(x.label)
                        elif isinstance(x, A.AuxStmt):
                            out.add(x.name)
                            aux.add(x.name)
    return frozenset(out), frozenset(aux)


def _branches(st: A.IfStmt) -> list[A.Body]:
    """The bodies of an `if` / `else if` / `else` chain."""
    out = []
    node: A.Body | A.IfStmt | None = st
    while isinstance(node, A.IfStmt):
        out.append(node.then)
        node = node.orelse
    if node is not None:
        out.append(node)
    return out


class _Variants:
    """The figures of the network at each distinct `with` parameter set, built once each."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.base = Figures.of(net, lazy=True)
        self.built: dict[tuple[tuple[str, str], ...], Figures] = {}
        self.nodes = 0

    def get(self, overrides: dict[str, Any], span: Span) -> Figures:
        key = _key(overrides)
        hit = self.built.get(key)
        if hit is not None:
            return hit
        if len(self.built) >= MAX_VARIANTS:
            raise _too_many_sets(span)
        variant = self.net.with_params(_span=span, **overrides)
        self.nodes += len(variant.graph)
        if self.nodes > MAX_VARIANT_NODES:
            raise _too_many_nodes(span)
        self.built[key] = figures = Figures.of(variant)
        return figures  # the variant's graph is not kept


def _key(overrides: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in overrides.items()))


def _too_many_sets(span: Span) -> LimitError:
    return LimitError(
        f"the expectations use more than {MAX_VARIANTS} distinct `with` parameter sets", span
    )


def _too_many_nodes(span: Span, least: int | None = None) -> LimitError:
    at_least = f"the sets up to this one make at least {least:,} nodes together; " if least else ""
    return LimitError(
        f"the `with` variants build more than {MAX_VARIANT_NODES:,} nodes together",
        span,
        hint=at_least + "each distinct `with` builds the whole network again; use fewer",
    )


def precharge(
    program: Program,
    overrides: Mapping[str, Any],
    expects: Sequence[A.ExpectStmt],
    params: Mapping[str, Any] | None = None,
) -> None:
    """Charge every distinct `with` parameter set of `expects` its least size (check/budget.py)
    before any is built, so that too many or too large variants stop before the first is built,
    not after the limit's worth of building. `params` are the network's values (bound from
    `overrides` when not given). Stops quietly where it cannot evaluate (building or checking
    that expectation reports it), and a variant network's sets are charged only when built (its
    edits can remove what the parent's text makes)."""
    from .check.budget import Estimate
    from .lower import MAX_REPEAT, bind_network_params, network_decl, network_params

    root = program.root
    try:
        decl = network_decl(program)
        if params is None:
            params = bind_network_params(
                decl, overrides, None, network_params(decl, root), root.functions
            )
    except SpecError:
        return
    estimate = Estimate(MAX_REPEAT)
    seen: set[tuple[tuple[str, str], ...]] = set()
    total = 0
    for stmt in expects:
        if not stmt.with_:
            continue
        span = stmt.with_[0].span
        try:
            values = {
                kw.name: Evaluator(params, functions=root.functions).eval(kw.value)
                for kw in stmt.with_
            }
            if _key(values) in seen:
                continue
            if len(seen) >= MAX_VARIANTS:
                raise _too_many_sets(span)
            seen.add(_key(values))
            if decl.extends is not None:
                continue
            given = {**overrides, **values}
            bound = bind_network_params(
                decl, given, span, network_params(decl, root), root.functions
            )
        except LimitError:
            raise
        except SpecError:
            return
        total += 1 + estimate.body(decl.body.stmts, bound, root).nodes  # 1: the input node
        if total > MAX_VARIANT_NODES:
            raise _too_many_nodes(span, total)


def certain_expects(program: Program) -> tuple[A.ExpectStmt, ...]:
    """The network's `expect` declarations known before it is built: those outside any `if`
    (the others depend on values), or () where the program has no single network."""
    nets = program.root.module.networks
    if len(nets) != 1:
        return ()
    return tuple(s for s in nets[0].body.stmts if isinstance(s, A.ExpectStmt))


def verify(net: Network) -> Verification:
    """Check every `expect` of the network; errors in the declarations raise SpecError."""
    results = []
    try:
        precharge(net.program, net.overrides, [e.stmt for e in net.expectations], net.params)
    except SpecError as err:
        raise err.with_sources(net.program.sources) from None
    variants = _Variants(net)
    for exp in net.expectations:
        try:
            results.append(_check(net, exp.stmt, exp.names, variants))
        except SpecError as err:
            raise err.with_sources(net.program.sources) from None
    return Verification(net.name, tuple(results))


def _check(net: Network, stmt: A.ExpectStmt, names: Any, variants: _Variants) -> ExpectResult:
    ev = Evaluator(names, functions=net.program.root.functions)
    figures = variants.base
    with_text = ""
    if stmt.with_:
        overrides = {
            kw.name: Evaluator(net.params, functions=net.program.root.functions).eval(kw.value)
            for kw in stmt.with_
        }
        with_text = ", ".join(f"{k}={format_value(v)}" for k, v in overrides.items())
        try:
            figures = variants.get(overrides, stmt.with_[0].span)
        except SpecError as err:
            raise _from_with(err, stmt, with_text) from None
    expected = ev.eval(stmt.value)
    tol, tol_text = _tolerance(stmt, ev, expected)
    skipped = ""
    try:
        actual = metric_value(figures, stmt.target, stmt.target_span)
    except _Absent as absent:
        actual, skipped, ok = None, absent.reason, True
    else:
        ok = _compare(stmt, actual, expected, tol)
    return ExpectResult(
        ".".join(stmt.target),
        stmt.cmp,
        expected,
        actual,
        tol_text,
        with_text,
        stmt.source,
        stmt.span,
        ok,
        skipped,
        _written(net, stmt.value.span),
    )


def _from_with(err: SpecError, stmt: A.ExpectStmt, with_text: str) -> SpecError:
    """An error in the network built for `expect ... with`: it is located in the network's
    layers, which are fine at the spec's own values, so a note says which `with` built them."""
    first, last = stmt.with_[0].span, stmt.with_[-1].span
    if err.span is not None and err.span.path == first.path and err.span.line == first.line:
        return err  # already at the `with` (an unknown parameter, a limit)
    at = Span(first.path, first.line, first.column, last.end_line, last.end_column)
    err.notes = (*err.notes, Note(f"the network was built with {with_text} for this `expect`", at))
    return err


class _Absent(Exception):
    """The expectation names a part that these parameter values leave out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def metric_value(fig: Figures, target: tuple[str, ...], span: Span) -> Any:
    if len(target) == 1:
        if target[0] not in TOTALS:
            raise UnknownMetricError(
                f"unknown metric `{target[0]}`",
                span,
                hint=did_you_mean(target[0], TOTALS)
                or f"totals are: {', '.join(TOTALS)}; per node: PATH.{'|'.join(NODE_METRICS)}",
            )
        totals, aux_heads = fig.totals()
        if target[0].startswith("aux_") and not aux_heads and fig.conditional_aux:
            raise _Absent("no aux head is built with these parameters")
        return totals[target[0]]
    *path_segs, metric = target
    path = ".".join(path_segs)
    if metric not in NODE_METRICS:
        raise UnknownMetricError(
            f"unknown metric `{metric}` for `{path}`",
            span,
            hint=did_you_mean(metric, NODE_METRICS) or f"metrics are: {', '.join(NODE_METRICS)}",
        )
    if metric == "shape":
        shape = fig.shape(fig.labels.get(path, path))
        if shape is None:
            raise _unknown_path(fig, path_segs, span)
        return shape
    sums = fig.sums(path)
    if sums is None:
        raise _unknown_path(fig, path_segs, span)
    params, buffers, macs = sums
    return {
        "params": params,
        "buffers": buffers,
        "macs": macs,
        "variables": params + buffers,
        "flops": FLOPS_PER_MAC * macs,
    }[metric]


def _unknown_path(fig: Figures, segs: list[str], span: Span) -> Exception:
    path = ".".join(segs)
    absent = next((s for s in segs if s in fig.conditional), None)
    if absent is not None:
        return _Absent(f"`{absent}` is not built with these parameters")
    names = set(fig.labels).union(fig.node_names())
    return UnknownMetricError(
        f"no layer or block named `{path}` in network `{fig.name}`",
        span,
        hint=did_you_mean(path, names),
    )


def _tolerance(stmt: A.ExpectStmt, ev: Evaluator, expected: Any) -> tuple[float, str]:
    t = stmt.tolerance
    if t is None:
        if stmt.cmp == "~=":
            raise InvalidValueError(
                "`~=` needs a tolerance", stmt.span, hint="add `within 5%` or `within 1M`"
            )
        return 0.0, ""
    if isinstance(expected, tuple):
        raise InvalidValueError("a shape is compared exactly; drop `within`", t.span)
    if t.percent is not None:
        return abs(expected) * t.percent / 100, t.text
    assert t.value is not None
    value = ev.eval(t.value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InvalidValueError(
            f"a tolerance must be a number >= 0, got {format_value(value)}", t.span
        )
    return float(value), _show(value)


def _compare(stmt: A.ExpectStmt, actual: Any, expected: Any, tol: float) -> bool:
    if isinstance(actual, tuple) or isinstance(expected, tuple):
        if stmt.cmp not in ("==", "!="):
            raise InvalidValueError("shapes compare with `==` or `!=` only", stmt.span)
        expected_t = expected if isinstance(expected, tuple) else (expected,)
        same = tuple(actual) == tuple(expected_t)
        return same if stmt.cmp == "==" else not same
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        raise InvalidValueError(f"expected a number, got {format_value(expected)}", stmt.value.span)
    diff = actual - expected
    if stmt.cmp in ("==", "~="):
        return abs(diff) <= tol
    if stmt.cmp == "!=":
        return abs(diff) > tol
    return {"<": diff < 0, "<=": diff <= 0, ">": diff > 0, ">=": diff >= 0}[stmt.cmp]
