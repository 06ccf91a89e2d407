"""The structural units: `repeat` (its copies, named by a pattern or not), merges (`concat`,
`add`, ... with branches, or `split=` slices of the input) and `residual` (scale, shortcut,
add, activation), each lowered from its body's statements."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import networkx as nx

from ..check import budget
from ..errors import (
    AddShapeError,
    ChannelError,
    InvalidValueError,
    LimitError,
    Note,
    TypeMismatchError,
)
from ..front import ast as A
from ..front.source import Span
from ..ir import op_of
from ..ir import ops as O
from ..ir.options import number
from ..middle.evaluate import Evaluator
from ..middle.loops import expand_pattern
from ..middle.shapes import fmt_shape
from ..middle.values import format_value
from . import limits
from .context import Ctx
from .copies import plain_chain
from .scopes import ScopeLog


class Structures:
    """Lowerer's structural units (a mixin: Lowerer sets these attributes and lowers the
    statements and nodes)."""

    scopes: ScopeLog
    labels: dict[str, str]
    kept: int
    removed: int
    g: nx.DiGraph | None

    if TYPE_CHECKING:

        def _seq(
            self, stmts: tuple[A.Stmt, ...], x: str, ctx: Ctx, network: bool = False
        ) -> str: ...

        def _unit(self, u: A.Unit, x: str, ctx: Ctx) -> str: ...

        def _binding(self, s: A.DefaultsStmt | A.LetStmt, x: str, ctx: Ctx) -> Ctx: ...

        def _choose(self, s: A.IfStmt, x: str, ctx: Ctx) -> A.Body | None: ...

        def _iterations(
            self, s: A.ForStmt, x: str, ctx: Ctx
        ) -> Iterator[tuple[Ctx, str | None]]: ...

        def _ev(self, ctx: Ctx, x: str) -> Evaluator: ...

        def _shape(self, node: str) -> tuple[int, ...]: ...

        def _node(
            self,
            name: str,
            op: O.Op,
            attrs: O.Attrs,
            srcs: tuple[str, ...],
            span: Span | None,
            aux: str | None,
            src_spans: list[Span | None] | None = None,
        ) -> str: ...

        def _tick(self, span: Span | None, steps: int = 1) -> None: ...

        def _copies(
            self, r: A.Repeat, calls: tuple[A.Call, ...], x: str, ctx: Ctx, count: int
        ) -> str | None: ...

        def _precharge(
            self,
            stmts: tuple[A.Stmt, ...],
            ctx: Ctx,
            n: int,
            span: Span,
            what: str,
            per: int = 0,
            kind: str = "repeat",
        ) -> None: ...

        inside: tuple[str, str] | None

        def _enter(self, kind: str, what: str) -> tuple[str, str] | None: ...

    def _branches(
        self,
        stmts: tuple[A.Stmt, ...],
        x: str,
        ctx: Ctx,
        out: list[tuple[str, Span]],
        part: Callable[[Span], str] | None = None,
    ) -> None:
        """Lower each branch statement of a merge at input `x` into `out`; every branch starts
        from `x`, or from `part(span)` when the branches split the input (a fresh slice per
        branch)."""
        for s in stmts:
            self._tick(s.span)
            if isinstance(s, A.Chain):
                y = x if part is None else part(s.span)
                kept, removed = self.kept, self.removed
                for u in s.units:
                    y = self._unit(u, y, ctx)
                if self.kept == kept and self.removed > removed:
                    continue  # a variant removed every unit of this branch: the branch goes
                out.append((y, s.span))
            elif isinstance(s, (A.DefaultsStmt, A.LetStmt)):
                ctx = self._binding(s, x, ctx)
            elif isinstance(s, A.IfStmt):
                body = self._choose(s, x, ctx)
                if body is not None:
                    self._branches(body.stmts, x, ctx, out, part)
            elif isinstance(s, A.ForStmt):  # each iteration's chains are branches
                for sub, _ in self._iterations(s, x, ctx):
                    self._branches(s.body.stmts, x, sub, out, part)
            else:  # pragma: no cover - check/placement reports it
                raise AssertionError(type(s).__name__)

    def _repeat(self, r: A.Repeat, x: str, ctx: Ctx) -> str:
        ev = self._ev(ctx, x)
        n = ev.eval(r.count)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise TypeMismatchError(
                f"`repeat` needs a count >= 0, got {format_value(n)}", r.count.span
            )
        if n > limits.MAX_REPEAT:
            raise LimitError(
                f"`repeat {n}` exceeds the limit of {limits.MAX_REPEAT:,}", r.count.span
            )
        self._precharge(r.body.stmts, ctx, n, r.span, f"this `repeat {n}`", budget.ITERATION)
        outer = self._enter("repeat", f"the `repeat {n}` at line {r.span.line}")
        calls = plain_chain(r, ctx)  # the copies of such a chain may be made at once
        for i in range(n):
            self._tick(r.span)
            if r.pattern is not None:
                local = _pattern(r.pattern, i, ctx.names)
                name = ctx.scope.claim(local, r.pattern.span)
                self.scopes.open(name, "iteration", r.pattern.span)
                sub = replace(ctx, scope=ctx.scope.child(name))
                x = self._seq(r.body.stmts, x, sub)
                self.labels[name] = x
            else:
                x = self._seq(r.body.stmts, x, ctx)
                if calls is not None and i + 1 < n:
                    rest = self._copies(r, calls, x, ctx, n - i - 1)
                    if rest is not None:
                        x = rest
                        break
        self.inside = outer
        return x

    def _merge(self, m: A.Merge, x: str, ctx: Ctx) -> str:
        outs: list[tuple[str, Span]] = []
        d = O.MERGES[m.name]  # resolve_names guarantees it exists
        split = None
        for kw in m.options:  # resolve_names checked the names
            assert d.merge is not None
            value = self._ev(ctx, x).eval(kw.value)  # `prev.channels` is the merge's input's
            split = d.merge.options[kw.name](value, kw.value.span, "split")
        if split is None:
            self._branches(m.body.stmts, x, ctx, outs)
        else:
            sizes = self._split_sizes(split, x, m)
            starts = [sum(sizes[:i]) for i in range(len(sizes))]
            made: list[str] = []

            def part(span: Span) -> str:
                i = len(made)
                if i >= len(sizes):
                    raise InvalidValueError(
                        f"`{m.name} split=` gives {len(sizes)} parts, but there are more branches",
                        span,
                        hint="give one size per branch",
                    )
                attrs = O.ChannelSliceAttrs(start=starts[i], size=sizes[i])
                name = ctx.scope.generated("split", span)
                made.append(self._node(name, O.Op.CHANNEL_SLICE, attrs, (x,), span, ctx.aux))
                return made[-1]

            self._branches(m.body.stmts, x, ctx, outs, part)
            if len(made) != len(sizes):
                raise InvalidValueError(
                    f"`{m.name} split=` gives {len(sizes)} parts, but there are {len(made)} "
                    "branches",
                    m.span,
                    hint="give one size per branch",
                )
        if not outs:
            raise InvalidValueError(f"`{m.name}` has no branches", m.span)
        name = ctx.scope.generated(m.name, m.span)
        return self._node(
            name,
            d.op,
            d.attrs(),
            tuple(o for o, _ in outs),
            m.span,
            ctx.aux,
            src_spans=[s for _, s in outs],
        )

    def _split_sizes(self, split: int | tuple[int, ...], x: str, m: A.Merge) -> list[int]:
        """The channel count of each part: `split=N` equal parts, or the sizes given."""
        c = self._shape(x)[0]
        if isinstance(split, int):
            if c % split:
                raise ChannelError(
                    f"`split={split}` needs channels divisible by {split}; the input has {c}",
                    m.span,
                )
            return [c // split] * split
        if sum(split) != c:
            raise ChannelError(
                f"`split=` sizes {', '.join(map(str, split))} add up to {sum(split)}, but the "
                f"input has {c} channels",
                m.span,
                hint="the parts must cover the input's channels exactly",
            )
        return list(split)

    def _residual_hint(self, short: tuple[int, ...], x: str, ctx: Ctx, identity: bool) -> str:
        """E402's fix: end the branch at the shortcut's size, written as the number (`in.` is
        the network input in a network body and `prev.` the branch's last output, so neither
        names it), or as `in.channels` where an identity shortcut is its block's input."""
        g = self.g
        in_block = (
            identity and x == ctx.block_in and g is not None and op_of(g, x) is not O.Op.INPUT
        )
        if len(short) == 3:
            c = "in.channels" if in_block else str(short[0])
            end = f"`conv {c} 1x1` (to match the shortcut's {short[0]} channels; keep stride 1)"
        else:
            end = f"`linear {short[0]}` (to match the shortcut's {short[0]} features)"
        return (
            f"end the branch with {end}, or give the shortcut a projection: "
            "`shortcut { conv C 1x1 stride=S }`"
        )

    def _residual(self, r: A.Residual, x: str, ctx: Ctx) -> str:
        ev = self._ev(ctx, x)
        scale, act = 1.0, None
        for kw in r.options:  # check/placement allows only these two
            v = ev.eval(kw.value)
            if kw.name == "scale":
                scale = number(v, kw.value.span, "residual scale")
            else:
                act = O.activation(v, kw.value.span, "residual act")
        main = self._seq(r.body.stmts, x, ctx)
        if scale != 1.0:
            main = self._node(
                ctx.scope.generated("scale", r.span),
                O.Op.SCALE,
                O.ScaleAttrs(factor=scale),
                (main,),
                r.span,
                ctx.aux,
            )
        short = self._seq(r.shortcut.stmts, x, ctx) if r.shortcut is not None else x
        short_span = r.shortcut.span if r.shortcut is not None else r.span
        s_shape, m_shape = self._shape(short), self._shape(main)
        if s_shape != m_shape:
            what = "the shortcut" if r.shortcut is not None else "the input (identity shortcut)"
            raise AddShapeError(
                f"residual shapes differ: the branch gives {fmt_shape(m_shape)}, "
                f"{what} is {fmt_shape(s_shape)}",
                r.body.stmts[-1].span if r.body.stmts else r.body.span,
                notes=[Note("the shortcut is here", short_span)] if r.shortcut else [],
                hint=self._residual_hint(s_shape, x, ctx, r.shortcut is None),
            )
        out = self._node(
            ctx.scope.generated("add", r.span),
            O.Op.ADD,
            O.AddAttrs(),
            (short, main),
            r.span,
            ctx.aux,
            src_spans=[short_span, r.body.span],
        )
        self.scopes.residual_adds.append(out)
        if act is not None:
            out = self._node(
                ctx.scope.generated(act.fn, r.span),
                O.Op.ACT,
                O.ActAttrs(fn=act),
                (out,),
                r.span,
                ctx.aux,
            )
        return out


_COUNTER = re.compile(r"\{([in])(?:\+(\d{1,6}))?\}")


def _pattern(p: A.String, i: int, names: Mapping[str, Any] | None = None) -> str:
    """`repeat N as "block35_{n}"`: {i} is the 0-based iteration, {n} the 1-based one, and
    `{n+4}` / `{i+4}` add an offset (Xception's middle flow is block5 .. block12); other
    `{name}` fields are names' values, and the name may hold `-` as quoted labels do
    (`"block1-{i}"`)."""
    if i > 0 and not _COUNTER.search(p.value):
        raise InvalidValueError(
            f"repeat name pattern {p.value!r} gives every copy the same name",
            p.span,
            hint=f'number the copies: "{p.value}_{{n}}" counts from 1, "{p.value}_{{i}}" from 0',
        )
    return expand_pattern(p, names or {}, {"i": i, "n": i + 1})
