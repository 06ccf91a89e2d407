"""The work budget of one lowering: expansion steps counted as they are taken (stopped at
limits.MAX_STEPS), and before a repeat, a `for` loop or a block call runs, the static lower bound
of what it will cost (check/budget.py), so that absurd work stops before it is done."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import networkx as nx

from ..check import budget
from ..errors import TooMuchWorkError
from ..front import ast as A
from ..front.source import Span
from . import limits
from .context import Ctx
from .edits import Edits

ADVICE = {
    "repeat": "check repeat counts and blocks that call blocks many times",
    "for": "check the lengths of loop lists (nested loops multiply) and blocks that call blocks "
    "many times",
    "block": "check blocks that call blocks many times",
}
"""What to check, by the kind of unit that would pass a limit ("even empty ones" is added for
the step limit: work that makes no node counts too)."""


class WorkBudget:
    """Lowerer's counting of work (a mixin: Lowerer sets these attributes)."""

    g: nx.DiGraph | None
    edits: Edits
    steps: int
    estimate: budget.Estimate
    inside: tuple[str, str] | None = None
    """The innermost repeat or `for` loop being expanded: its kind (ADVICE) and its description,
    for the hint of a limit found by counting (with none, only block calls can have multiplied
    the work)."""

    def _enter(self, kind: str, what: str) -> tuple[str, str] | None:
        """Note that a repeat or loop starts; returns what to restore after it."""
        outer, self.inside = self.inside, (kind, what)
        return outer

    def _precharge(
        self,
        stmts: tuple[A.Stmt, ...],
        ctx: Ctx,
        n: int,
        span: Span,
        what: str,
        per: int = 0,
        kind: str = "repeat",
    ) -> None:
        """Stop before running `stmts` n times (a repeat's iterations, or once for a block
        call) when that would pass a work limit (check/budget.py)."""
        bounds = (
            (budget.Cost(per) + least).times(n)
            for least in self.estimate.bounds(stmts, ctx.names, ctx.file)
        )
        self._stop_before(bounds, ctx, span, what, kind)

    def _precharge_loop(self, s: A.ForStmt, items: tuple[Any, ...], ctx: Ctx) -> None:
        """Stop before a `for` runs its body once per item when that would pass a limit."""
        blind = self.estimate.blind(s.body.stmts, ctx.file)
        bounds = (
            (budget.Cost(budget.BLOCK_CALL) + blind).times(len(items))  # cheap, memoised
            if k == 0
            else self.estimate.iterations(s, items, ctx.names, ctx.file)
            for k in range(2)
        )
        what = f"this `for` over {len(items):,} items"
        self._stop_before(bounds, ctx, s.span, what, "for")

    def _stop_before(
        self, bounds: Iterator[budget.Cost], ctx: Ctx, span: Span, what: str, kind: str
    ) -> None:
        """Raise at the first of `bounds` (lower bounds of the work about to be done, cheapest
        first) that passes a limit. A variant's pending `remove` or `replace` in this scope can
        take away what the text makes: that work is counted as it is done (an `insert` only
        adds work)."""
        if self.g is None:
            return
        if self.edits.remove or self.edits.replace:
            pending = (*self.edits.remove, *self.edits.replace)
            if any(path.startswith(ctx.scope.prefix) for path in pending):
                return
        for cost in bounds:
            budget.check(
                cost,
                self.steps,
                len(self.g),
                limits.MAX_STEPS,
                limits.MAX_NODES,
                span,
                what,
                ADVICE[kind],
            )

    def _tick(self, span: Span | None, steps: int = 1) -> None:
        """Count expansion steps; stop at limits.MAX_STEPS (see there)."""
        self.steps += steps
        if self.steps > limits.MAX_STEPS:
            kind, what = self.inside or ("block", "")
            inside = f"inside {what}: " if what else ""
            raise TooMuchWorkError(
                f"expanding the network takes more than {limits.MAX_STEPS:,} steps",
                span,
                hint=f"{inside}{ADVICE[kind]}, even empty ones",
            )
