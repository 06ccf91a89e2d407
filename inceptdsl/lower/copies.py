"""The copies of a repeated chain of layers without arguments (`repeat 99990 { relu }`) made in
bulk once they are known to be identical: building each through the statement, the unit, the
layer and two networkx calls was most of the second that 100,000 of them took.

Exact by construction: the copies are made only where lowering each would take the path
`_seq` -> `_unit` -> `_layer` -> a reused layer (expand.PlainLayer) for every unit, with the
same names (the scope's own `generated`, in order), attributes, figures, edges, labels, steps
and kept units, and no limit reached (else each is lowered, and the limit reports as before).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import networkx as nx

from ..check import budget
from ..front import ast as A
from ..front.source import Span
from ..ir import ops as O
from ..ir import shape_of
from ..ir.graph import Row, Shape, add_chain
from . import limits
from .context import Ctx
from .edits import Edits

if TYPE_CHECKING:
    from .expand import PlainLayer


def plain_chain(r: A.Repeat, ctx: Ctx) -> tuple[A.Call, ...] | None:
    """The calls of a repeat body that is a single chain of unlabelled layer calls without
    arguments (each a reused layer once built; sepconv and dwconv may warn), or None."""
    if r.pattern is not None or ctx.scope.indexed or len(r.body.stmts) != 1:
        return None
    chain = r.body.stmts[0]
    if not isinstance(chain, A.Chain) or not chain.units:
        return None
    calls = []
    for u in chain.units:
        c = u.core
        if u.label is not None or u.splice or not isinstance(c, A.Call) or c.args or c.kwargs:
            return None
        if c.name not in O.LAYERS or c.name in ctx.file.blocks or c.name in ("sepconv", "dwconv"):
            return None
        calls.append(c)
    return tuple(calls)


class Copies:
    """Lowerer's bulk copies (a mixin: Lowerer sets these attributes)."""

    g: nx.DiGraph | None
    edits: Edits
    steps: int
    kept: int
    labels: dict[str, str]
    names_seen: Any
    _log: list[Any] | None
    _figures: tuple[Shape, int, int, int]

    if TYPE_CHECKING:

        def _plain_layer(self, call: A.Call, shape: Shape, ctx: Ctx) -> PlainLayer | None: ...

        def _tick(self, span: Span | None, steps: int = 1) -> None: ...

    def _copies(
        self, r: A.Repeat, calls: tuple[A.Call, ...], x: str, ctx: Ctx, count: int
    ) -> str | None:
        """Make the last `count` iterations of `r` at once after node `x`, or return None
        where they might differ from one another or from lowering each: a variant's edits,
        a block call being recorded (memo.py), the language server's trace, a layer not reused
        at its input's shape, a chain whose output shape is not its input's (the next copy's
        input differs), or a limit the copies would reach."""
        g = self.g
        assert g is not None
        if self.edits.every or self._log is not None or self.names_seen is not None:
            return None
        start = shape = shape_of(g, x)
        plains = []
        for call in calls:
            plain = self._plain_layer(call, shape, ctx)
            if plain is None:
                return None
            plains.append(plain)
            shape = plain.figures[0]
        if shape != start:
            return None
        k = len(calls)
        steps = count * (budget.ITERATION + budget.STMT + k * budget.UNIT)  # as _repeat counts
        if self.steps + steps > limits.MAX_STEPS or len(g) + count * k > limits.MAX_NODES:
            return None
        self._tick(r.span, steps)
        self.kept += count * k
        units = r.body.stmts[0].units  # type: ignore[union-attr]
        bases = [(call.name, u.span) for u, call in zip(units, calls, strict=True)]
        names = ctx.scope.generated_run(bases, count)  # as `_named` names each
        srcs = [x, *names[:-1]]
        rows: list[Row] = []
        for call, plain in zip(calls, plains, strict=True):
            op = O.LAYERS[call.name].op
            assert op is not None  # as in _named
            rows.append((op, plain.attrs, *plain.figures, call.span, ctx.aux))
        add_chain(g, names, srcs, rows)
        self.labels.update(zip(names, names, strict=True))
        self._figures = plains[-1].figures
        return names[-1]
