"""Work budgets known before the work: a static lower bound of what a body will expand to.

Lowering counts expansion steps and IR nodes as it goes (lower/limits.py, MAX_STEPS and
MAX_NODES), which stops an absurd spec only after it has done the limit's worth of work: a second
for `repeat 400 { repeat 400 { relu } }`, hours for nested empty repeats or blocks that call the
level below twice, 40 levels deep. Before a `repeat` runs its body N times, a `for` its body once
per item, and a block call the block's body, lowering asks this module what that body costs at
least, and stops at once when the count already spent plus N times that would pass the limit.

The bound must never exceed what lowering really does, or a valid spec would be refused: every
count here mirrors one in lower/expand.py (a statement is one step, a unit one, a block call five
more, a `let` or `defaults` four, a repeat iteration one, a `for` iteration five; a layer, a merge
and a residual's add one node each), and whatever cannot be known without shapes or is not
understood (an `if` whose condition reads `in.channels`, a repeat count from `prev.channels`, a
construct added later) counts as the least it could be: the cheapest branch, or nothing. A `for`
loop's list is evaluated (its length is known before the body runs) and its body estimated without
the loop's names, which differ at every iteration: whatever reads them counts as the least it could
be.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import SpecError, TooManyNodesError, TooMuchWorkError
from ..front import ast as A
from ..front.source import Span
from ..ir import ops as O
from ..middle.evaluate import Evaluator, Work
from ..middle.loops import bind, items_of, target_names
from .types import TYPES, coerce

if TYPE_CHECKING:
    from ..front.loader import BlockRef, SpecFile

CAP = 10**30
"""Costs are clamped here: beyond every limit, and it keeps the arithmetic of 64 nested
`repeat 100000` cheap."""

STMT, UNIT, ITERATION = 1, 1, 1
"""Steps lower/expand.py counts for a statement, a unit and a repeat iteration."""

BLOCK_CALL = 5
"""Steps lowering counts for a block call (on top of its unit) and a `for` iteration: each builds
a new context, which costs about five plain steps. The one definition: lower/expand.py counts
it and the estimates here mirror it."""

BINDING = BLOCK_CALL - 1
"""Steps a `let` or `defaults` counts on top of its statement (a new context, like a call)."""

MAX_DEPTH = 200
"""Deepest nesting the estimate follows (blocks calling blocks); deeper counts as nothing, and
lowering's own nesting limit (E904) reports it."""

MAX_VISITS = 20_000
"""Most units (and `for` iterations estimated one by one) the value-aware estimates of one lowering
may visit (0.1 to 0.2 s). Blocks are estimated once per set of argument values, but arguments
that differ at every call (`L(n * 2) -> L(n * 2 + 1)`, 40 levels deep) would make the estimate
as long as the expansion; past this many visits a unit counts as itself alone, which is still a
lower bound, and lowering's own counting stops such a spec."""


PER_ITEM = 64
"""Longest `for` list whose iterations are estimated one by one, with the item's names bound
(a stage table); a longer one is estimated once without them and multiplied."""

ESTIMATE_WORK = 1_000_000
"""Most list items and function calls (evaluate.Work) the estimates of one lowering may make
together (a fifth of lowering's own budget): a `for` loop's list is made to know its length,
and a declared function called; past this, values count as unknown."""


@dataclass(slots=True)
class Cost:
    """At least this many expansion steps and IR nodes (never changed once made; not frozen,
    which would make each one several times slower to create, and one is made per block call)."""

    steps: int = 0
    nodes: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(min(self.steps + other.steps, CAP), min(self.nodes + other.nodes, CAP))

    def times(self, n: int) -> Cost:
        return Cost(min(self.steps * n, CAP), min(self.nodes * n, CAP))

    def least(self, other: Cost) -> Cost:
        return Cost(min(self.steps, other.steps), min(self.nodes, other.nodes))

    def most(self, other: Cost) -> Cost:
        return Cost(max(self.steps, other.steps), max(self.nodes, other.nodes))


ZERO = Cost()


class _Unknown(Exception):
    """A value the estimate cannot know statically."""


class Estimate:
    """Lower bounds of bodies, memoised per body and argument values for one lowering."""

    def __init__(self, max_repeat: int) -> None:
        self.max_repeat = max_repeat
        """A larger repeat count is reported by lowering (E900, lower/limits.py) when it is
        reached; here it counts as zero."""
        self._memo: dict[tuple[int, str], Cost] = {}
        self._blind_memo: dict[tuple[int, str], Cost] = {}
        self._blind = False
        self._active: set[int] = set()
        self._depth = 0
        self._visits = 0
        self._work = Work(ESTIMATE_WORK)
        self._loops: dict[tuple[int, str, bool], tuple[tuple[Any, ...], Cost]] = {}

    def bounds(
        self, stmts: tuple[A.Stmt, ...], names: Mapping[str, Any], file: SpecFile
    ) -> Iterator[Cost]:
        """Lower bounds of what `lower._seq(stmts)` costs with these names in scope, cheapest
        first (a caller may stop at the first that passes its limit): one blind to every value
        from outside the text, so each block's is computed once (blocks that call the level
        below twice, 40 levels deep, take 40 visits whatever their arguments); then, while
        visits are left (MAX_VISITS), the larger of it and one with the values known."""
        blind = self.blind(stmts, file)
        yield blind
        if self._visits < MAX_VISITS:
            yield blind.most(self._body(stmts, names, file))

    def body(self, stmts: tuple[A.Stmt, ...], names: Mapping[str, Any], file: SpecFile) -> Cost:
        """The best lower bound of `bounds`."""
        *_, best = self.bounds(stmts, names, file)
        return best

    def blind(self, stmts: tuple[A.Stmt, ...], file: SpecFile) -> Cost:
        hit = self._blind_memo.get((id(stmts), "[]"))  # _key({}): asked at every block call
        if hit is not None:
            return hit
        self._blind = True
        try:
            return self._body(stmts, {}, file)
        finally:
            self._blind = False

    def _body(self, stmts: tuple[A.Stmt, ...], names: Mapping[str, Any], file: SpecFile) -> Cost:
        memo = self._blind_memo if self._blind else self._memo
        key = (id(stmts), _key(names))
        hit = memo.get(key)
        if hit is not None:
            return hit
        if self._depth >= MAX_DEPTH or id(stmts) in self._active:
            return ZERO  # absurd nesting or recursion: lowering reports it (E904, E206)
        self._depth += 1
        self._active.add(id(stmts))
        try:
            cost = self._seq(stmts, dict(names), file, branches=False)
        finally:
            self._depth -= 1
            self._active.discard(id(stmts))
        memo[key] = cost
        return cost

    def _seq(
        self, stmts: tuple[A.Stmt, ...], names: dict[str, Any], file: SpecFile, branches: bool
    ) -> Cost:
        total = ZERO
        for s in stmts:
            total += Cost(STMT)
            if isinstance(s, A.Chain):
                for u in s.units:
                    total += self._unit(u, names, file)
            elif isinstance(s, (A.LetStmt, A.DefaultsStmt)):
                total += Cost(BINDING)
                if isinstance(s, A.LetStmt):
                    try:
                        names[s.name] = self._value(s.value, names, file)
                    except _Unknown:
                        names.pop(s.name, None)
            elif isinstance(s, A.IfStmt):
                total += self._if(s, names, file, branches)
            elif isinstance(s, A.ForStmt):
                total += self.loop(s, names, file, branches)
            elif isinstance(s, A.AuxStmt) and not branches:
                total += self._seq(s.body.stmts, dict(names), file, branches=False)
        return total

    def _if(self, s: A.IfStmt, names: dict[str, Any], file: SpecFile, branches: bool) -> Cost:
        """The chosen body where the condition is known, else the cheapest branch."""
        node: A.IfStmt | A.Body | None = s
        options: list[Cost] = []
        while isinstance(node, A.IfStmt):
            try:
                cond = self._value(node.cond, names, file)
            except _Unknown:
                cond = None
            if cond is True:
                return self._seq(node.then.stmts, dict(names), file, branches)
            if cond is None or not isinstance(cond, bool):
                options.append(self._seq(node.then.stmts, dict(names), file, branches))
            node = node.orelse
        options.append(self._seq(node.stmts, dict(names), file, branches) if node else ZERO)
        least = options[0]
        for c in options[1:]:
            least = least.least(c)
        return least

    def loop(
        self, s: A.ForStmt, names: Mapping[str, Any], file: SpecFile, branches: bool = False
    ) -> Cost:
        """A `for` whose list can be known without shapes (else nothing): see iterations."""
        try:
            items = items_of(self._value(s.iter, names, file), s.iter)
        except (_Unknown, SpecError):
            return ZERO
        return self.iterations(s, items, names, file, branches)

    def iterations(
        self,
        s: A.ForStmt,
        items: tuple[Any, ...],
        names: Mapping[str, Any],
        file: SpecFile,
        branches: bool = False,
    ) -> Cost:
        """A `for` over `items`: per iteration a new context, then the body. Up to PER_ITEM
        items, the body is estimated with each item's names bound; beyond, once without the
        loop's names (whatever reads them counts as its least) and multiplied; blind to every
        value (see bounds) once MAX_VISITS are spent."""
        if self._blind or self._visits >= MAX_VISITS:
            return (Cost(BLOCK_CALL) + self.blind(s.body.stmts, file)).times(len(items))
        inner = loop_names(s, names)
        if len(items) > PER_ITEM:
            return (Cost(BLOCK_CALL) + self._loop_body(s, inner, file, branches)).times(len(items))
        key = (id(s), _key(inner), branches)  # a loop run again (in a repeat): once per values
        hit = self._loops.get(key)
        if hit is not None and hit[0] == items:
            return hit[1]
        total = ZERO
        self._visits += len(items)  # each iteration's names are bound and keyed: a visit too
        for k, item in enumerate(items):
            each = dict(inner)
            try:
                bind(s.target, item, k, each)
            except SpecError:  # lowering reports it
                each = inner
            total += Cost(BLOCK_CALL) + self._loop_body(s, each, file, branches)
        self._loops[key] = (items, total)
        return total

    def _loop_body(
        self, s: A.ForStmt, names: dict[str, Any], file: SpecFile, branches: bool
    ) -> Cost:
        if branches:  # a merge's branches: estimated in place, as `if` bodies are
            return self._seq(s.body.stmts, dict(names), file, branches=True)
        return self._body(s.body.stmts, names, file)

    def _value(self, e: A.Expr, names: Mapping[str, Any], file: SpecFile) -> Any:
        """The value of `e` from names alone (no shapes), or _Unknown. The file's functions
        are called, out of this estimate's own work budget (ESTIMATE_WORK)."""
        try:
            return Evaluator(names, work=self._work, functions=file.functions).eval(e)
        except (SpecError, RecursionError):
            raise _Unknown from None

    def _bind(
        self, ref: BlockRef, call: A.Call, names: Mapping[str, Any], file: SpecFile
    ) -> dict[str, Any]:
        """The block's parameters that can be known from the call (the others are left out, so
        what reads them counts as unknown); arguments are evaluated in the calling file,
        defaults in the block's."""
        decl = ref.decl
        given: dict[str, Any] = {}
        for p, arg in zip(decl.params, call.args, strict=False):
            try:
                given[p.name] = self._value(arg, names, file)
            except _Unknown:
                given[p.name] = _Unknown
        for kw in call.kwargs:
            try:
                given[kw.name] = self._value(kw.value, names, file)
            except _Unknown:
                given[kw.name] = _Unknown
        bound: dict[str, Any] = {}
        for p in decl.params:
            if p.name in given:
                v = given[p.name]
            elif p.default is not None:
                try:
                    v = self._value(p.default, bound, ref.file)
                except _Unknown:
                    continue
            else:
                continue
            check = TYPES.get(p.type)
            if v is _Unknown or (check is not None and not check(v)):
                continue
            bound[p.name] = coerce(p.type, v)
        return bound

    def _unit(self, u: A.Unit, names: dict[str, Any], file: SpecFile) -> Cost:
        core = u.core
        cost = Cost(UNIT)
        if not self._blind:
            self._visits += 1
            if self._visits > MAX_VISITS:
                return cost  # the estimate has spent its time: the unit's own step is certain
        if isinstance(core, A.Call):
            ref = file.blocks.get(core.name)
            if ref is not None:
                bound = {} if self._blind else self._bind(ref, core, names, file)
                return cost + Cost(BLOCK_CALL) + self._body(ref.decl.body.stmts, bound, ref.file)
            return cost + Cost(nodes=1) if core.name in O.LAYERS else cost
        if isinstance(core, A.Repeat):
            try:
                n = self._value(core.count, names, file)
            except _Unknown:
                return cost
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= self.max_repeat:
                return cost
            return cost + (Cost(ITERATION) + self._body(core.body.stmts, names, file)).times(n)
        if isinstance(core, A.Group):
            return cost + self._body(core.body.stmts, names, file)
        if isinstance(core, A.Merge):
            inner = self._seq(core.body.stmts, dict(names), file, branches=True)
            made = any(isinstance(s, A.Chain) for s in core.body.stmts)
            return cost + inner + Cost(nodes=int(made))
        if isinstance(core, A.Residual):
            cost += self._body(core.body.stmts, names, file) + Cost(nodes=1)
            if core.shortcut is not None:
                cost += self._body(core.shortcut.stmts, names, file)
            return cost
        return cost  # a construct this estimate does not know: at least its unit step


def _key(names: Mapping[str, Any]) -> str:
    return repr(sorted((k, repr(v)) for k, v in names.items()))


def loop_names(s: A.ForStmt, names: Mapping[str, Any]) -> dict[str, Any]:
    """The names a `for` body sees, less those the loop binds (they differ at every
    iteration, and an outer name of the same spelling is hidden)."""
    bound = set(target_names(s.target))
    return {k: v for k, v in names.items() if k not in bound}


def check(
    cost: Cost,
    steps: int,
    nodes: int,
    max_steps: int,
    max_nodes: int,
    span: Span | None,
    what: str,
    advice: str = "check repeat counts and blocks that call blocks many times",
) -> None:
    """Stop before the work when `steps` / `nodes` already spent plus `cost` pass a limit;
    `what` names the unit that would do it ("this `repeat 400`"), `advice` what to check."""
    if nodes + cost.nodes > max_nodes:
        raise TooManyNodesError(
            f"the network expands to more than {max_nodes:,} nodes",
            span,
            hint=f"{what} makes at least {_count(cost.nodes)} nodes{_before(nodes)}; {advice}",
        )
    if steps + cost.steps > max_steps:
        raise TooMuchWorkError(
            f"expanding the network takes more than {max_steps:,} steps",
            span,
            hint=f"{what} takes at least {_count(cost.steps)} steps{_before(steps)}; {advice}, "
            "even empty ones",
        )


def _before(spent: int) -> str:
    """What was spent before, where it matters (more than the input node and a few steps)."""
    return f", on top of {spent:,} before it" if spent > 100 else ""


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"{n:.1e}".replace("e+", "e")
