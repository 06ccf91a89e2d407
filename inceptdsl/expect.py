"""`expect` declarations checked against computed figures (what `inceptdsl verify` runs).

    expect METRIC CMP VALUE [within TOL | within P%] [with p=v, ...] source "citation"

METRIC is a total (`params`, `buffers`, `variables`, `macs`, `flops`, `activations`,
`aux_params`, `aux_buffers`, `aux_macs`) or `PATH.METRIC` for one node or scope (`params`,
`buffers`, `variables`, `macs`, `flops`, `shape`). `with` evaluates the expectation on the same
spec built with other parameter values. Every result carries its citation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import ast as A
from .cost import FLOPS_PER_MAC
from .errors import InvalidValueError, SpecError, UnknownMetricError
from .evaluate import Evaluator, format_value
from .names import did_you_mean
from .source import Span

if TYPE_CHECKING:
    from .network import Network

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

    def describe(self) -> str:
        tol = f" within {self.tolerance}" if self.tolerance else ""
        at = f" with {self.with_}" if self.with_ else ""
        return f"{self.metric} {self.cmp} {_show(self.expected)}{tol}{at}"


def _show(v: Any) -> str:
    if isinstance(v, tuple):
        return "x".join(str(x) for x in v)
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return format_value(v)


def verify(net: Network) -> list[ExpectResult]:
    """Check every `expect` of the network; errors in the declarations raise SpecError."""
    results = []
    variants: dict[tuple[tuple[str, str], ...], Network] = {}
    for exp in net.expectations:
        stmt = exp.stmt
        try:
            results.append(_check(net, stmt, exp.names, variants))
        except SpecError as err:
            raise err.with_sources(net.program.sources) from None
    return results


def _check(
    net: Network, stmt: A.ExpectStmt, names: Any, variants: dict[Any, Network]
) -> ExpectResult:
    ev = Evaluator(names)
    target = net
    with_text = ""
    if stmt.with_:
        overrides = {kw.name: Evaluator(net.params).eval(kw.value) for kw in stmt.with_}
        key = tuple(sorted((k, repr(v)) for k, v in overrides.items()))
        if key not in variants:
            variants[key] = net.with_params(_span=stmt.with_[0].span, **overrides)
        target = variants[key]
        with_text = ", ".join(f"{k}={format_value(v)}" for k, v in overrides.items())
    actual = metric_value(target, stmt.target, stmt.target_span)
    expected = ev.eval(stmt.value)
    tol, tol_text = _tolerance(stmt, ev, expected)
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
    )


def metric_value(net: Network, target: tuple[str, ...], span: Span) -> Any:
    rep = net.report()
    if len(target) == 1:
        if target[0] not in TOTALS:
            raise UnknownMetricError(
                f"unknown metric `{target[0]}`",
                span,
                hint=did_you_mean(target[0], TOTALS)
                or f"totals are: {', '.join(TOTALS)}; per node: PATH.{'|'.join(NODE_METRICS)}",
            )
        return rep.totals()[target[0]]
    *path_segs, metric = target
    path = ".".join(path_segs)
    if metric not in NODE_METRICS:
        raise UnknownMetricError(
            f"unknown metric `{metric}` for `{path}`",
            span,
            hint=did_you_mean(metric, NODE_METRICS) or f"metrics are: {', '.join(NODE_METRICS)}",
        )
    g = net.graph
    if metric == "shape":
        node = net.labels.get(path, path if path in g else None)
        if node is None:
            raise _unknown_path(net, path, span)
        return tuple(g.nodes[node]["shape"])
    prefix = path + "."
    rows = [d for n, d in g.nodes(data=True) if n == path or n.startswith(prefix)]
    if not rows:
        raise _unknown_path(net, path, span)
    if metric == "variables":
        return sum(d["params"] + d["buffers"] for d in rows)
    if metric == "flops":
        return FLOPS_PER_MAC * sum(d["macs"] for d in rows)
    return sum(d[metric] for d in rows)


def _unknown_path(net: Network, path: str, span: Span) -> SpecError:
    names = set(net.labels) | set(net.graph.nodes)
    return UnknownMetricError(
        f"no layer or block named `{path}` in network `{net.name}`",
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
