"""The work budget of one lowering: expansion steps counted as they are taken (stopped at
limits.MAX_STEPS), and before a repeat or a block call runs, the static lower bound of what it
will cost (check/budget.py), so that absurd work stops before it is done."""

from __future__ import annotations

import networkx as nx

from .. import ast as A
from ..check import budget
from ..errors import TooMuchWorkError
from ..source import Span
from . import limits
from .context import Ctx
from .edits import Edits


class WorkBudget:
    """Lowerer's counting of work (a mixin: Lowerer sets these attributes)."""

    g: nx.DiGraph | None
    edits: Edits
    steps: int
    estimate: budget.Estimate

    def _precharge(
        self, stmts: tuple[A.Stmt, ...], ctx: Ctx, n: int, span: Span, what: str, per: int = 0
    ) -> None:
        """Stop before running `stmts` n times (a repeat's iterations, or once for a block call)
        when that would pass a work limit (check/budget.py). A variant's pending `remove` or
        `replace` in this scope can take away what the text makes: that work is counted as it
        is done (an `insert` only adds work)."""
        if self.g is None:
            return
        if self.edits.remove or self.edits.replace:
            pending = (*self.edits.remove, *self.edits.replace)
            if any(path.startswith(ctx.scope.prefix) for path in pending):
                return
        for least in self.estimate.bounds(stmts, ctx.names, ctx.file):
            cost = (budget.Cost(per) + least).times(n)
            budget.check(
                cost, self.steps, len(self.g), limits.MAX_STEPS, limits.MAX_NODES, span, what
            )

    def _tick(self, span: Span | None, steps: int = 1) -> None:
        """Count expansion steps; stop at limits.MAX_STEPS (see there)."""
        self.steps += steps
        if self.steps > limits.MAX_STEPS:
            raise TooMuchWorkError(
                f"expanding the network takes more than {limits.MAX_STEPS:,} steps",
                span,
                hint="check repeat counts and blocks that call blocks many times, even empty ones",
            )
