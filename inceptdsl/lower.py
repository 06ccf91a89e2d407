"""Lowering: expand the network (blocks, repeats, defaults, conditionals) into the IR graph.

Shape inference and costing happen as each node is created (shapes.py, cost.py), because
later arguments may depend on earlier shapes (`in.channels`). Naming rules (docs/language.md,
"Names"): a label names a unit; in a labelled `{ }` group or `repeat`, unlabelled members are
numbered 0, 1, ... (nn.Sequential style); elsewhere unlabelled layers get their layer name
(`conv`, `conv_1`, ...) and unlabelled block calls, groups, concats and residuals add no level
to the hierarchy. A name is either a node or a scope, never both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

from . import ast as A
from .check.types import TYPES, coerce
from .errors import (
    AddShapeError,
    ArgumentCountError,
    DuplicateNameError,
    InvalidValueError,
    LimitError,
    NestingTooDeepError,
    NetworkCountError,
    Note,
    SpecError,
    TensorTooLargeError,
    TooManyNodesError,
    TypeMismatchError,
    UnknownNameError,
    UnknownParameterError,
)
from .evaluate import Evaluator
from .ir import ops as O
from .ir.graph import AuxHead, ScopeInfo, add_node, new_graph
from .ir.options import number
from .ir.registry import REQUIRED, BuildCtx, ShapeCtx
from .loader import BlockRef, Program, SpecFile
from .names import did_you_mean
from .shapes import fmt_shape
from .source import Span
from .values import format_value, type_name

MAX_NODES = 100_000
"""Most IR nodes one network may expand to (the largest bundled spec has under 1,000)."""

MAX_TENSOR_ELEMENTS = 2**32
"""Largest activation or weight tensor (elements per sample) accepted."""

MAX_REPEAT = 100_000

MAX_NESTING = 100
"""Deepest nesting of units while lowering (groups, branches, repeats, aux heads and block
calls, counted through the blocks called): lowering recurses once per level, so absurd input
must stop here with E904 rather than in a RecursionError. Bundled specs nest under 10."""


@dataclass
class Scope:
    """A naming scope: the prefix of the names made in it, and the names already taken."""

    prefix: str
    indexed: bool = False
    next_index: int = 0
    taken: dict[str, Span | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def claim(self, name: str, span: Span | None) -> str:
        if name in self.taken:
            first = self.taken[name]
            raise DuplicateNameError(
                f"the name `{self.prefix}{name}` is used twice",
                span,
                notes=[Note("first used here", first)] if first else [],
                hint="give the layers different labels (a block called twice without labels "
                "in one scope defines its layers twice: label the calls)",
            )
        self.taken[name] = span
        return self.prefix + name

    def generated(self, base: str, span: Span | None) -> str:
        n = self.counts.get(base, 0)
        name = base if n == 0 else f"{base}_{n}"
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.counts[base] = n + 1
        return self.claim(name, span)

    def index(self, span: Span | None) -> str:
        name = str(self.next_index)
        self.next_index += 1
        return self.claim(name, span)

    def child(self, name: str, indexed: bool = False) -> Scope:
        return Scope(prefix=name + ".", indexed=indexed)


class ScopeLog:
    """What made each scope (the graph's `scopes`, docs/ir.md): backends build one module per
    scope, named and parameterised after the block call or group that made it."""

    def __init__(self) -> None:
        self.made: dict[str, tuple[str, Span | None, str | None, tuple[tuple[str, Any], ...]]] = {}
        self.calls: dict[str, list[tuple[str, tuple[tuple[str, Any], ...]]]] = {}
        self.residual_adds: list[str] = []  # adds made by `residual` (main path written first)

    def open(self, path: str, kind: str, span: Span | None, block: str | None = None,
             args: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        self.made[path] = (kind, span, block, tuple((args or {}).items()))

    def call(self, scope: Scope, block: str, args: Mapping[str, Any]) -> None:
        """A block call that adds no level: it belongs to the scope it is made in."""
        self.calls.setdefault(scope.prefix[:-1], []).append((block, tuple(args.items())))

    def infos(self) -> dict[str, ScopeInfo]:
        return {
            path: ScopeInfo(path, kind, span, block, args, tuple(self.calls.get(path, ())))
            for path, (kind, span, block, args) in self.made.items()
        }


@dataclass(frozen=True)
class Ctx:
    """What a statement sees: names (lexical), layer defaults (dynamic, like slim's arg_scope),
    the naming scope, the enclosing block's input, the visible blocks, the aux head."""

    names: Mapping[str, Any]
    defaults: Mapping[str, Mapping[str, tuple[Any, Span]]]
    scope: Scope
    block_in: str
    file: SpecFile
    aux: str | None = None
    depth: int = 0


@dataclass(frozen=True)
class Expectation:
    """An `expect` declaration with the parameter values it is checked at."""

    stmt: A.ExpectStmt
    names: Mapping[str, Any]


@dataclass
class Lowered:
    graph: nx.DiGraph
    expects: list[Expectation]
    labels: dict[str, str]


def network_decl(program: Program) -> A.NetworkDecl:
    nets = program.root.module.networks
    if len(nets) != 1:
        where = program.root.source.path
        if not nets:
            raise NetworkCountError(
                f"{where} declares no network, only "
                f"{_plural(len(program.root.module.blocks), 'block')}",
                path=where,
                hint="a spec that is loaded must declare one `network NAME(...) { ... }`; "
                "files of shared blocks are imported, not loaded",
            )
        raise NetworkCountError(
            f"{where} declares {len(nets)} networks; a spec declares exactly one",
            nets[1].span,
            notes=[Note("the first is here", nets[0].span)],
        )
    return nets[0]


def _plural(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def bind_network_params(
    decl: A.NetworkDecl, overrides: Mapping[str, Any], override_span: Span | None = None
) -> dict[str, Any]:
    """Network parameter values: declared defaults, replaced by `overrides` (type-checked)."""
    known = {p.name for p in decl.params}
    for name in overrides:
        if name not in known:
            raise UnknownParameterError(
                f"network `{decl.name}` has no parameter `{name}`",
                override_span,
                path=None if override_span else decl.span.path,
                hint=did_you_mean(name, known)
                or f"its parameters are: {', '.join(sorted(known)) or 'none'}",
            )
    values: dict[str, Any] = {}
    for p in decl.params:
        if p.name in overrides:
            v = overrides[p.name]
            span = override_span or p.span
        elif p.default is not None:
            v = Evaluator(values).eval(p.default)
            span = p.default.span
        else:
            raise ArgumentCountError(
                f"network parameter `{p.name}` has no default and was not given",
                p.span,
                hint=f"pass it with --set {p.name}=VALUE",
            )
        values[p.name] = _typed(p, v, span)
    return values


def _typed(p: A.Param, v: Any, span: Span | None) -> Any:
    check = TYPES.get(p.type)
    if check is not None and not check(v):
        raise TypeMismatchError(
            f"parameter `{p.name}` is declared {p.type}, got {type_name(v)} {format_value(v)}",
            span,
        )
    return coerce(p.type, v)


class Lowerer:
    def __init__(self, program: Program) -> None:
        self.program = program
        self.g: nx.DiGraph | None = None
        self.expects: list[Expectation] = []
        self.labels: dict[str, str] = {}  # full label path -> its output node
        self.aux_heads: list[AuxHead] = []
        self.nesting = 0
        self.scopes = ScopeLog()

    # ---- entry ----

    def network(self, decl: A.NetworkDecl, params: dict[str, Any]) -> Lowered:
        stmts = decl.body.stmts
        if not stmts or not isinstance(stmts[0], A.InputStmt):
            raise InvalidValueError(
                f"network `{decl.name}` must start with `input C x H x W`",
                stmts[0].span if stmts else decl.span,
                hint="for example `input 3 x image_size x image_size`",
            )
        inp = stmts[0]
        shape = Evaluator(params).eval(inp.shape)
        if not (isinstance(shape, tuple) and len(shape) == 3):
            raise TypeMismatchError(
                f"`input` needs C x H x W, got {format_value(shape)}", inp.shape.span
            )
        for d in shape:
            if d <= 0:
                raise InvalidValueError(
                    f"input sizes must be positive, got {format_value(shape)}", inp.shape.span
                )
        self.g = new_graph(decl.name, shape, dict(params))
        root = Scope("")
        root.claim("input", inp.span)
        self._node("input", O.Op.INPUT, O.InputAttrs(shape=shape), (), inp.span, None)
        ctx = Ctx(params, {}, root, "input", self.program.root)
        out = self._seq(stmts[1:], "input", ctx, network=True)
        self.g.graph["output"] = out
        self.g.graph["aux_heads"] = tuple(self.aux_heads)
        self.g.graph["scopes"] = self.scopes.infos()
        self.g.graph["residual_adds"] = frozenset(self.scopes.residual_adds)
        return Lowered(self.g, self.expects, self.labels)

    # ---- nodes ----

    def _node(
        self,
        name: str,
        op: O.Op,
        attrs: O.Attrs,
        srcs: tuple[str, ...],
        span: Span | None,
        aux: str | None,
        src_spans: list[Span | None] | None = None,
    ) -> str:
        g = self.g
        assert g is not None
        if g.number_of_nodes() >= MAX_NODES:
            raise TooManyNodesError(
                f"the network expands to more than {MAX_NODES:,} nodes",
                span,
                hint="check repeat counts and blocks that call blocks many times",
            )
        d = O.REGISTRY[op]
        assert d.arity is None or d.arity == len(srcs), (op, srcs)
        ins = [g.nodes[s]["shape"] for s in srcs]
        shape = d.shape(attrs, ins, ShapeCtx(span, tuple(src_spans or ())))
        params, buffers, macs = d.cost(attrs, ins, shape)
        if math.prod(shape) > MAX_TENSOR_ELEMENTS or params > MAX_TENSOR_ELEMENTS:
            raise TensorTooLargeError(
                f"this layer makes a tensor of {max(math.prod(shape), params):,} elements per "
                f"sample (output {'x'.join(map(str, shape))}); the limit is "
                f"{MAX_TENSOR_ELEMENTS:,}",
                span,
            )
        add_node(
            g,
            name,
            op,
            attrs,
            srcs,
            shape=shape,
            params=params,
            buffers=buffers,
            macs=macs,
            span=span,
            aux=aux,
        )
        return name

    def _shape(self, node: str) -> tuple[int, ...]:
        assert self.g is not None
        return self.g.nodes[node]["shape"]

    # ---- statements ----

    def _seq(self, stmts: tuple[A.Stmt, ...], x: str, ctx: Ctx, network: bool = False) -> str:
        for s in stmts:
            if isinstance(s, A.Chain):
                for u in s.units:
                    x = self._unit(u, x, ctx)
            elif isinstance(s, (A.DefaultsStmt, A.LetStmt)):
                ctx = self._binding(s, x, ctx)
            elif isinstance(s, A.IfStmt):
                body = self._choose(s, x, ctx)
                if body is not None:
                    x = self._seq(body.stmts, x, ctx, network)
            elif isinstance(s, A.AuxStmt):
                self._aux(s, x, ctx)
            elif isinstance(s, A.ExpectStmt):
                if not network:
                    raise InvalidValueError(
                        "`expect` belongs in a network body, not in a block", s.span
                    )
                self.expects.append(Expectation(s, ctx.names))
            elif isinstance(s, A.InputStmt):
                raise InvalidValueError(
                    "`input` may appear only once, as the first statement of a network", s.span
                )
            else:  # pragma: no cover
                raise AssertionError(type(s).__name__)
        return x

    def _branches(
        self, stmts: tuple[A.Stmt, ...], x: str, ctx: Ctx, out: list[tuple[str, Span]]
    ) -> None:
        for s in stmts:
            if isinstance(s, A.Chain):
                y = x
                for u in s.units:
                    y = self._unit(u, y, ctx)
                out.append((y, s.span))
            elif isinstance(s, (A.DefaultsStmt, A.LetStmt)):
                ctx = self._binding(s, x, ctx)
            elif isinstance(s, A.IfStmt):
                body = self._choose(s, x, ctx)
                if body is not None:
                    self._branches(body.stmts, x, ctx, out)
            else:
                raise InvalidValueError(
                    "only branches, `let`, `defaults` and `if` may appear inside "
                    "`concat { }` or `add { }`",
                    s.span,
                )

    def _binding(self, s: A.DefaultsStmt | A.LetStmt, x: str, ctx: Ctx) -> Ctx:
        ev = Evaluator(ctx.names, self._shape(ctx.block_in))
        if isinstance(s, A.LetStmt):
            return replace(ctx, names={**ctx.names, s.name: ev.eval(s.value)})
        current = dict(ctx.defaults.get(s.op, {}))
        for kw in s.kwargs:
            current[kw.name] = (ev.eval(kw.value), kw.span)
        return replace(ctx, defaults={**ctx.defaults, s.op: current})

    def _choose(self, s: A.IfStmt, x: str, ctx: Ctx) -> A.Body | None:
        node: A.IfStmt | A.Body | None = s
        ev = Evaluator(ctx.names, self._shape(ctx.block_in))
        while isinstance(node, A.IfStmt):
            cond = ev.eval(node.cond)
            if not isinstance(cond, bool):
                raise TypeMismatchError(
                    f"`if` needs true or false, got {type_name(cond)} {format_value(cond)}",
                    node.cond.span,
                )
            if cond:
                return node.then
            node = node.orelse
        return node

    def _aux(self, s: A.AuxStmt, x: str, ctx: Ctx) -> None:
        tap = self._resolve_label(s.tap, s.tap_span, ctx)
        ev = Evaluator(ctx.names, self._shape(ctx.block_in))
        weight = 1.0
        for kw in s.options:
            if kw.name != "weight":
                from .errors import UnknownOptionError

                raise UnknownOptionError(
                    f"`aux` has no option `{kw.name}`", kw.span, hint="its option is: weight"
                )
            weight = number(ev.eval(kw.value), kw.value.span, "aux weight")
        name = ctx.scope.claim(s.name, s.span)
        self.scopes.open(name, "aux", s.span)
        sub = replace(ctx, scope=ctx.scope.child(name), aux=name)
        out = self._seq(s.body.stmts, tap, sub)
        self.labels[name] = out
        self.aux_heads.append(AuxHead(name=name, tap=tap, output=out, weight=weight))

    def _resolve_label(self, path: tuple[str, ...], span: Span, ctx: Ctx) -> str:
        rel = ".".join(path)
        for cand in (ctx.scope.prefix + rel, rel):
            if cand in self.labels:
                return self.labels[cand]
            if self.g is not None and cand in self.g:
                return cand
        raise UnknownNameError(
            f"`aux from {rel}`: no layer or block named `{rel}` before this point",
            span,
            hint=did_you_mean(rel, [k.removeprefix(ctx.scope.prefix) for k in self.labels]),
        )

    # ---- units ----

    def _unit(self, u: A.Unit, x: str, ctx: Ctx) -> str:
        if self.nesting >= MAX_NESTING:
            raise NestingTooDeepError(
                f"blocks, groups and branches nest more than {MAX_NESTING} levels deep "
                "(counting through the blocks called)",
                u.span,
            )
        self.nesting += 1
        try:
            return self._unit_core(u, x, ctx)
        finally:
            self.nesting -= 1

    def _unit_core(self, u: A.Unit, x: str, ctx: Ctx) -> str:
        core = u.core
        if isinstance(core, A.Call):
            ref = ctx.file.blocks.get(core.name)
            if ref is not None:
                return self._block_call(u, core, ref, x, ctx)
            return self._layer(u, core, x, ctx)
        if isinstance(core, A.Repeat) and u.label is None:
            return self._repeat(core, x, ctx)
        scope, name = self._structure_scope(u, ctx, indexed=isinstance(core, (A.Group, A.Repeat)))
        sub = replace(ctx, scope=scope) if scope is not ctx.scope else ctx
        if isinstance(core, A.Group):
            out = self._seq(core.body.stmts, x, sub)
        elif isinstance(core, A.Repeat):
            out = self._repeat(core, x, sub)
        elif isinstance(core, (A.Concat, A.Add)):
            out = self._merge(core, x, sub)
        elif isinstance(core, A.Residual):
            out = self._residual(core, x, sub)
        else:  # pragma: no cover
            raise AssertionError(type(core).__name__)
        if name is not None:
            self.labels[name] = out
        return out

    def _structure_scope(self, u: A.Unit, ctx: Ctx, indexed: bool) -> tuple[Scope, str | None]:
        """The scope a structural unit's contents go in, and its full name if it has one."""
        if u.label is not None:
            name = ctx.scope.claim(u.label, u.label_span)
        elif ctx.scope.indexed:
            name = ctx.scope.index(u.span)
        else:
            return ctx.scope, None
        self.scopes.open(name, type(u.core).__name__.lower(), u.span)
        return ctx.scope.child(name, indexed), name

    def _layer(self, u: A.Unit, call: A.Call, x: str, ctx: Ctx) -> str:
        layer = O.LAYERS[call.name]  # resolve_names guarantees it exists
        ev = Evaluator(ctx.names, self._shape(ctx.block_in))
        given: dict[str, tuple[Any, Span]] = {}
        for k, (v, sp) in ctx.defaults.get(call.name, {}).items():
            given[k] = (v, sp)
        for name, arg in zip(layer.positional, call.args, strict=False):
            given[name] = (ev.eval(arg), arg.span)
        for kw in call.kwargs:
            if kw.name in layer.positional[: len(call.args)]:
                raise ArgumentCountError(
                    f"`{kw.name}` is given twice (positionally and by name)", kw.span
                )
            given[kw.name] = (ev.eval(kw.value), kw.span)
        values: dict[str, Any] = {}
        for opt, default in layer.options.items():
            if opt in given:
                v, sp = given[opt]
                check = layer.checks.get(opt)
                values[opt] = check(v, sp, f"{call.name} {opt}") if check else v
            elif default is REQUIRED:
                raise ArgumentCountError(
                    f"`{call.name}` needs `{opt}`",
                    call.span,
                    hint=f"write it as `{call.name} {' '.join(layer.positional)}`"
                    if opt in layer.positional
                    else f"add {opt}=VALUE",
                )
            else:
                check = layer.checks.get(opt)
                values[opt] = check(default, call.span, opt) if check else default
        defaults = {op: {k: v for k, (v, _) in kws.items()} for op, kws in ctx.defaults.items()}
        attrs = layer.build(values, BuildCtx(self._shape(x), defaults, call.span))
        if u.label is not None:
            name = ctx.scope.claim(u.label, u.label_span)
        elif ctx.scope.indexed:
            name = ctx.scope.index(u.span)
        else:
            name = ctx.scope.generated(call.name, u.span)
        assert layer.op is not None
        out = self._node(name, layer.op, attrs, (x,), call.span, ctx.aux)
        self.labels[name] = out
        return out

    def _block_call(self, u: A.Unit, call: A.Call, ref: BlockRef, x: str, ctx: Ctx) -> str:
        ev = Evaluator(ctx.names, self._shape(ctx.block_in))
        decl = ref.decl
        given: dict[str, tuple[Any, Span]] = {}
        for p, arg in zip(decl.params, call.args, strict=False):
            given[p.name] = (ev.eval(arg), arg.span)
        for kw in call.kwargs:
            if kw.name in given:
                raise ArgumentCountError(
                    f"`{kw.name}` is given twice (positionally and by name)", kw.span
                )
            given[kw.name] = (ev.eval(kw.value), kw.span)
        names: dict[str, Any] = {}
        inner = Evaluator(names, self._shape(x))
        for p in decl.params:
            if p.name in given:
                v, sp = given[p.name]
            elif p.default is not None:
                v, sp = inner.eval(p.default), p.default.span
            else:
                raise ArgumentCountError(
                    f"block `{decl.name}` needs parameter `{p.name}`",
                    call.span,
                    notes=[Note(f"`{p.name}` is declared here", p.span)],
                )
            names[p.name] = _typed(p, v, sp)
        if u.label is not None or ctx.scope.indexed:
            name = (
                ctx.scope.claim(u.label, u.label_span)
                if u.label is not None
                else ctx.scope.index(u.span)
            )
            scope = ctx.scope.child(name)
            self.scopes.open(name, "block", call.span, decl.name, names)
        else:
            name, scope = None, ctx.scope
            self.scopes.call(scope, decl.name, names)
        sub = Ctx(names, ctx.defaults, scope, x, ref.file, ctx.aux, ctx.depth + 1)
        try:
            out = self._seq(decl.body.stmts, x, sub)
        except SpecError as err:
            if not any(n.message.startswith("in block") for n in err.notes):
                err.notes = (*err.notes, Note(f"in block `{decl.name}` called here", call.span))
            raise
        if name is not None:
            self.labels[name] = out
        return out

    def _repeat(self, r: A.Repeat, x: str, ctx: Ctx) -> str:
        ev = Evaluator(ctx.names, self._shape(ctx.block_in))
        n = ev.eval(r.count)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise TypeMismatchError(
                f"`repeat` needs a count >= 0, got {format_value(n)}", r.count.span
            )
        if n > MAX_REPEAT:
            raise LimitError(f"`repeat {n}` exceeds the limit of {MAX_REPEAT:,}", r.count.span)
        for i in range(n):
            if r.pattern is not None:
                local = _pattern(r.pattern, i)
                name = ctx.scope.claim(local, r.pattern.span)
                self.scopes.open(name, "iteration", r.pattern.span)
                sub = replace(ctx, scope=ctx.scope.child(name))
                x = self._seq(r.body.stmts, x, sub)
                self.labels[name] = x
            else:
                x = self._seq(r.body.stmts, x, ctx)
        return x

    def _merge(self, m: A.Concat | A.Add, x: str, ctx: Ctx) -> str:
        outs: list[tuple[str, Span]] = []
        self._branches(m.body.stmts, x, ctx, outs)
        kind = "concat" if isinstance(m, A.Concat) else "add"
        if not outs:
            raise InvalidValueError(f"`{kind}` has no branches", m.span)
        d = O.MERGES[kind]
        name = ctx.scope.generated(kind, m.span)
        return self._node(
            name,
            d.op,
            d.attrs(),
            tuple(o for o, _ in outs),
            m.span,
            ctx.aux,
            src_spans=[s for _, s in outs],
        )

    def _residual(self, r: A.Residual, x: str, ctx: Ctx) -> str:
        ev = Evaluator(ctx.names, self._shape(ctx.block_in))
        scale, act = 1.0, None
        for kw in r.options:
            v = ev.eval(kw.value)
            if kw.name == "scale":
                scale = number(v, kw.value.span, "residual scale")
            elif kw.name == "act":
                act = O.activation(v, kw.value.span, "residual act")
            else:
                from .errors import UnknownOptionError

                raise UnknownOptionError(
                    f"`residual` has no option `{kw.name}`",
                    kw.span,
                    hint=did_you_mean(kw.name, ["scale", "act"]) or "its options: scale, act",
                )
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
                hint="end the branch with `conv in.channels 1x1` (and keep its stride 1), "
                "or give the shortcut a projection: `shortcut { conv C 1x1 stride=S }`",
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


def _pattern(p: A.String, i: int) -> str:
    """`repeat N as "block35_{n}"`: {i} is the 0-based iteration, {n} the 1-based one, and
    `{n+4}` / `{i+4}` add an offset (Xception's middle flow is block5 .. block12)."""
    if i > 0 and not _COUNTER.search(p.value):
        raise InvalidValueError(
            f"repeat name pattern {p.value!r} gives every copy the same name",
            p.span,
            hint=f'number the copies: "{p.value}_{{n}}" counts from 1, "{p.value}_{{i}}" from 0',
        )
    text = _COUNTER.sub(lambda m: str(i + (m.group(1) == "n") + int(m.group(2) or 0)), p.value)
    if "{" in text or "}" in text or not text or not all(c.isalnum() or c == "_" for c in text):
        raise InvalidValueError(
            f"repeat name pattern {p.value!r} must give names of letters, digits and _ "
            "using {i} (from 0), {n} (from 1) or an offset such as {n+4}",
            p.span,
        )
    return text


def lower(
    program: Program, overrides: Mapping[str, Any], override_span: Span | None = None
) -> Lowered:
    decl = network_decl(program)
    params = bind_network_params(decl, overrides, override_span)
    return Lowerer(program).network(decl, params)
