"""Expansion: the network's statements and units (blocks, repeats, loops, groups, merges,
residuals, aux heads) lowered into IR nodes, each shaped and costed as it is made, with a
variant's edits applied where their paths are reached and the work counted against limits.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx

from ..check import budget
from ..check.placement import parent_network, uses_prefix
from ..errors import (
    CONV_DEFAULTS_NOT_SEPCONV,
    ArgumentCountError,
    InvalidValueError,
    NestingTooDeepError,
    Note,
    PrefixLabelError,
    SpecError,
    SpecWarning,
    TensorTooLargeError,
    TooManyNodesError,
    TypeMismatchError,
    UnknownNameError,
)
from ..front import ast as A
from ..front.loader import BlockRef, Program, SpecFile
from ..front.source import Span
from ..ir import aux_of, finish, shape_of
from ..ir import ops as O
from ..ir.graph import AuxHead, Shape, add_node, new_graph
from ..ir.options import number
from ..ir.registry import REQUIRED, BuildCtx, ShapeCtx
from ..middle import variant_errors
from ..middle.evaluate import Evaluator, Work
from ..middle.layer_params import activation_call
from ..middle.loops import bind, expand_pattern, items_of
from ..middle.values import format_value, type_name
from ..names import did_you_mean
from . import limits
from .binding import (
    bind_network_params,
    bind_params,
    call_args,
    extends_args,
    network_params,
)
from .context import Ctx, Defaults, Expectation, Lowered, choose_static
from .copies import Copies
from .edits import Editing, Edits
from .memo import BlockMemo, Memoising, NodeRec
from .scopes import Scope, ScopeLog
from .structures import Structures
from .trace import NAMES_SEEN
from .work import WorkBudget

Figures = tuple[Shape, int, int, int]
"""A node's output shape, params, buffers and MACs."""


@dataclass(frozen=True)
class PlainLayer:
    """A layer call without arguments as lowered once: the mappings its key holds by id are
    kept, so the ids are not reused while it is cached."""

    call: A.Call
    defaults: Any
    forced: Any
    attrs: O.Attrs
    figures: Figures


class Lowerer(Structures, Editing, WorkBudget, Memoising, Copies):
    """One lowering of one program: its graph, names, edits and work, built as it goes."""

    def __init__(self, program: Program, memo: BlockMemo | None = None) -> None:
        self.program = program
        self.memo = memo if memo is not None and memo.program is program else None
        self._log: list[NodeRec] | None = None  # nodes made while a block call is recorded
        self._recording = 0
        self._peak = 0  # deepest nesting reached while recording
        self._warn_events = 0  # conv-defaults warnings due (made or not): a record needs none
        self._defaults_seen: dict[tuple[int, int], tuple[Any, Any, dict[str, Any]]] = {}
        self._frozen: dict[int, tuple[Any, tuple[Any, ...]]] = {}  # memo.py's key parts
        self._plain: dict[tuple[int, Shape, int, int], PlainLayer] = {}  # see _plain_layer
        self._figures: Figures = ((), 0, 0, 0)  # of the last node made
        self.g: nx.DiGraph | None = None
        self.expects: list[Expectation] = []
        self.labels: dict[str, str] = {}  # full label path -> its output node
        self.aux_heads: list[AuxHead] = []
        self.nesting = 0
        self.scopes = ScopeLog()
        self.edits = Edits()
        self.seen: list[str] = []  # every unit path reached (for an edit's did-you-mean)
        self.kept = 0  # units lowered, and units removed by edits (a branch all removed goes)
        self.removed = 0
        self.collect_expects = True
        self.warnings: list[SpecWarning] = []
        self._warned: set[Span] = set()
        self.steps = 0
        self.estimate = (
            self.memo.estimate if self.memo is not None else budget.Estimate(limits.MAX_REPEAT)
        )
        self.work = Work()  # list items and calls made by this lowering's expressions
        self.names_seen = NAMES_SEEN.get()  # the language server's hover (trace.py)

    # ---- entry ----

    def network(self, decl: A.NetworkDecl, params: dict[str, Any]) -> Lowered:
        if decl.extends is not None:
            return self._variant(decl, params)
        self._body(decl, params, self.program.root, decl.name, params, {})
        return Lowered(self.g, self.expects, self.labels, self.warnings)

    def _body(
        self,
        decl: A.NetworkDecl,
        params: dict[str, Any],
        file: SpecFile,
        name: str,
        graph_params: dict[str, Any],
        forced: Defaults,
    ) -> None:
        """Lower a network's body (`input` first) into self.g, named `name`."""
        stmts = decl.body.stmts
        if not stmts or not isinstance(stmts[0], A.InputStmt):
            raise InvalidValueError(  # the placement pass says so first; kept for lower() alone
                f"network `{decl.name}` must start with `input C x H x W`",
                stmts[0].span if stmts else decl.span,
                hint="for example `input 3 x image_size x image_size`",
            )
        inp = stmts[0]
        shape = Evaluator(params, functions=file.functions).eval(inp.shape)
        if not (isinstance(shape, tuple) and len(shape) == 3):
            raise TypeMismatchError(
                f"`input` needs C x H x W, got {format_value(shape)}", inp.shape.span
            )
        shape = tuple(_dimension(d, shape, inp.shape) for d in shape)
        # (the span: where backends point when the name does not suit them)
        self.g = new_graph(name, shape, dict(graph_params), span=decl.span)
        root = Scope("")
        root.claim("input", inp.span)
        self._node("input", O.Op.INPUT, O.InputAttrs(shape=shape), (), inp.span, None)
        ctx = Ctx(params, {}, root, "input", file, forced=forced)
        out = self._seq(stmts[1:], "input", ctx, network=True)
        finish(
            self.g,
            output=out,
            aux_heads=tuple(self.aux_heads),
            scopes=self.scopes.infos(),
            residual_adds=frozenset(self.scopes.residual_adds),
        )

    # ---- variants ----

    def _variant(self, decl: A.NetworkDecl, params: dict[str, Any]) -> Lowered:
        """A network that `extends` another: the parent's body (its parent's, ...) lowered with
        the edits of every level applied where their paths are reached; the variant's
        `defaults` win over the parent's, its `expect`s replace the parent's."""
        levels: list[tuple[A.NetworkDecl, dict[str, Any], SpecFile]] = []
        d, p, f = decl, params, self.program.root
        while d.extends is not None:
            levels.append((d, p, f))
            ext = d.extends
            ref = f.blocks.get(ext.name)
            parent = parent_network(ref) if ref is not None else None
            if ref is None or parent is None:  # resolve_names reports it first
                raise UnknownNameError(f"`extends {ext.name}`: no such network", ext.name_span)
            pparams = network_params(parent, ref.file)
            given = extends_args(d, p, pparams, f.functions)
            d, p, f = (
                parent,
                bind_network_params(parent, given, ext.span, pparams, ref.file.functions),
                ref.file,
            )
        forced: dict[str, dict[str, tuple[Any, Span]]] = {}
        for vd, vp, vf in reversed(levels):  # the parent's edits first: the child's win
            self._collect(vd.body.stmts, vp, vf, forced, top=vd is decl, parent=d.name)
        self.collect_expects = False  # the base's own expectations describe the base
        try:
            self._body(d, p, f, decl.name, params, forced)
        except SpecError as err:
            extends = levels[-1][0].extends
            assert extends is not None
            raise variant_errors.locate(
                err,
                self.program.root.source.path,
                self.edits.applied,
                lambda: _error_of(lambda: Lowerer(self.program)._body(d, p, f, d.name, p, {})),
                d,
                p,
                extends,
            ) from None
        self._check_edits_used()
        return Lowered(self.g, self.expects, self.labels, self.warnings)

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
        figures: Figures | None = None,
    ) -> str:
        """Add a node; `figures`: its shape and cost as computed for the same op, attributes
        and input shapes before (which passed the limits then)."""
        g = self.g
        assert g is not None
        if g.number_of_nodes() >= limits.MAX_NODES:
            raise TooManyNodesError(
                f"the network expands to more than {limits.MAX_NODES:,} nodes",
                span,
                hint="check repeat counts and blocks that call blocks many times",
            )
        if figures is None:
            figures = self._node_figures(op, attrs, srcs, span, src_spans)
        self._figures = figures
        shape, params, buffers, macs = figures
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
        if self._log is not None:
            self._log.append((name, op, attrs, srcs, shape, params, buffers, macs, span, aux))
        return name

    def _node_figures(
        self,
        op: O.Op,
        attrs: O.Attrs,
        srcs: tuple[str, ...],
        span: Span | None,
        src_spans: list[Span | None] | None,
    ) -> Figures:
        g = self.g
        assert g is not None
        d = O.REGISTRY[op]
        assert d.arity is None or d.arity == len(srcs), (op, srcs)
        ins = [shape_of(g, s) for s in srcs]
        shape = d.shape(attrs, ins, ShapeCtx(span, tuple(src_spans or ())))
        params, buffers, macs = d.cost(attrs, ins, shape)
        if math.prod(shape) > limits.MAX_TENSOR_ELEMENTS or params > limits.MAX_TENSOR_ELEMENTS:
            raise TensorTooLargeError(
                f"this layer makes a tensor of {max(math.prod(shape), params):,} elements per "
                f"sample (output {'x'.join(map(str, shape))}); the limit is "
                f"{limits.MAX_TENSOR_ELEMENTS:,}",
                span,
            )
        return shape, params, buffers, macs

    def _shape(self, node: str) -> tuple[int, ...]:
        assert self.g is not None
        return shape_of(self.g, node)

    # ---- statements ----

    def _seq(self, stmts: tuple[A.Stmt, ...], x: str, ctx: Ctx, network: bool = False) -> str:
        for s in stmts:
            self._tick(s.span)
            if isinstance(s, A.Chain):
                for u in s.units:
                    x = self._unit(u, x, ctx)
            elif isinstance(s, (A.DefaultsStmt, A.LetStmt)):
                ctx = self._binding(s, x, ctx)
            elif isinstance(s, A.IfStmt):
                body = self._choose(s, x, ctx)
                if body is not None:
                    x = self._seq(body.stmts, x, ctx, network)
            elif isinstance(s, A.ForStmt):
                for sub, name in self._iterations(s, x, ctx):
                    x = self._seq(s.body.stmts, x, sub)
                    if name is not None:
                        self.labels[name] = x
            elif isinstance(s, A.AuxStmt):
                self._aux(s, x, ctx)
            elif isinstance(s, A.ExpectStmt):
                if network and self.collect_expects:  # elsewhere: reported by check/placement
                    self.expects.append(Expectation(s, ctx.names))
            else:  # pragma: no cover - check/placement reports every other statement here
                raise AssertionError(type(s).__name__)
            if self.names_seen is not None:
                self.names_seen.setdefault(s.span, []).append(ctx.names)
        return x

    def _ev(self, ctx: Ctx, x: str) -> Evaluator:
        """An evaluator for what a unit at tensor `x` writes: `in.*` is the enclosing block's
        input, `prev.*` is `x`."""
        return Evaluator(
            ctx.names, self._shape(ctx.block_in), self._shape(x), self.work, ctx.file.functions
        )

    def _binding(self, s: A.DefaultsStmt | A.LetStmt, x: str, ctx: Ctx) -> Ctx:
        self._tick(s.span, budget.BINDING)  # a new context costs like a block call
        ev = self._ev(ctx, x)
        if isinstance(s, A.LetStmt):
            return replace(ctx, names={**ctx.names, s.name: ev.eval(s.value)})
        current = dict(ctx.defaults.get(s.op, {}))
        for kw in s.kwargs:
            current[kw.name] = (ev.eval(kw.value), kw.span)
        return replace(ctx, defaults={**ctx.defaults, s.op: current})

    def _iterations(self, s: A.ForStmt, x: str, ctx: Ctx) -> Iterator[tuple[Ctx, str | None]]:
        """The context of each iteration of a `for`: its names bound and, with `as`, the
        scope named by the pattern (and that scope's full name)."""
        items = items_of(self._ev(ctx, x).eval(s.iter), s.iter)
        self._precharge_loop(s, items, ctx)
        outer = self._enter("for", f"the `for` at line {s.span.line}")
        for k, item in enumerate(items):
            self._tick(s.span, budget.BLOCK_CALL)  # a new context, like a block call
            names = dict(ctx.names)
            bind(s.target, item, k, names)
            sub = replace(ctx, names=names)
            if s.pattern is None:
                yield sub, None
                continue
            name = ctx.scope.claim(expand_pattern(s.pattern, names), s.pattern.span)
            self.scopes.open(name, "iteration", s.pattern.span)
            yield replace(sub, scope=ctx.scope.child(name)), name
        self.inside = outer

    def _choose(self, s: A.IfStmt, x: str, ctx: Ctx) -> A.Body | None:
        return choose_static(s, self._ev(ctx, x))

    def _aux(self, s: A.AuxStmt, x: str, ctx: Ctx) -> None:
        if ctx.aux is not None:
            raise InvalidValueError(
                f"aux head `{s.name}` is inside aux head `{ctx.aux}`; aux heads tap the main "
                "network",
                s.span,
            )
        full = ctx.scope.prefix + s.name
        body: A.Unit | None = None
        if self.edits.every:
            self.seen.append(full)
            if full in self.edits.remove:
                self.edits.use(self.edits.remove.pop(full))
                return
            if full in self.edits.replace:
                e = self.edits.use(self.edits.replace.pop(full))
                assert isinstance(e.stmt, A.ReplaceStmt)
                body, ctx = e.stmt.unit, replace(ctx, names=e.names, file=e.file)
        tap = self._resolve_label(s.tap, s.tap_span, ctx)
        assert self.g is not None
        head = aux_of(self.g, tap)
        if head is not None:
            raise InvalidValueError(
                f"`aux from {'.'.join(s.tap)}` taps aux head `{head}`; an aux head taps the main "
                "network",
                s.tap_span,
                hint="tap the layer of the main network that the other head taps",
            )
        ev = self._ev(ctx, x)
        weight = 1.0
        for kw in s.options:  # check/placement allows only `weight`
            weight = number(ev.eval(kw.value), kw.value.span, "aux weight")
        name = ctx.scope.claim(s.name, s.span)
        self.scopes.open(name, "aux", s.span)
        sub = replace(ctx, scope=ctx.scope.child(name), aux=name)
        if body is not None:
            out = self._unit(body, tap, replace(sub, block_in=tap))
        else:
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
        if self.nesting >= limits.MAX_NESTING:
            raise NestingTooDeepError(
                f"blocks, groups and branches nest more than {limits.MAX_NESTING} levels deep "
                "(counting through the blocks called)",
                u.span,
            )
        self._tick(u.span)
        self.nesting += 1
        if self.nesting > self._peak:
            self._peak = self.nesting
        try:
            if self.edits.every:
                return self._edited_unit(u, x, ctx)
            return self._unit_core(u, x, ctx)
        finally:
            self.nesting -= 1

    def _label(self, u: A.Unit, ctx: Ctx) -> str:
        """The unit's label as a name: `@...` becomes the caller's label followed by the rest."""
        label = u.label
        assert label is not None
        if not label.startswith("@"):
            return label
        if ctx.stem is None:
            raise PrefixLabelError(
                f"`{label}` names a unit after the label of the block's call, and this call "
                "has no label",
                u.label_span,
                hint="label the call (`conv1: Block(...)`): `@` stands for that label",
            )
        return ctx.stem + label[1:]

    def _unit_core(self, u: A.Unit, x: str, ctx: Ctx) -> str:
        self.kept += 1
        core = u.core
        if isinstance(core, A.Call):
            ref = ctx.file.blocks.get(core.name)
            if ref is not None:
                self._tick(u.span, budget.BLOCK_CALL)
                return self._block_call(u, core, ref, x, ctx)
            if core.name not in O.LAYERS and core.name in ctx.names:  # `-> a ->`, a: act
                act = activation_call(core, ctx.names[core.name])
                if act is None:  # `none`: the unit is the identity and makes nothing
                    return x
                return self._layer(u, act, x, ctx)
            return self._layer(u, core, x, ctx)
        if isinstance(core, A.Repeat) and u.label is None:
            return self._repeat(core, x, ctx)
        scope, name = self._structure_scope(u, ctx, indexed=isinstance(core, (A.Group, A.Repeat)))
        sub = replace(ctx, scope=scope) if scope is not ctx.scope else ctx
        if isinstance(core, A.Group):
            out = self._seq(core.body.stmts, x, sub)
        elif isinstance(core, A.Repeat):
            out = self._repeat(core, x, sub)
        elif isinstance(core, A.Merge):
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
            name = ctx.scope.claim(self._label(u, ctx), u.label_span)
        elif ctx.scope.indexed:
            name = ctx.scope.index(u.span)
        else:
            return ctx.scope, None
        self.scopes.open(name, type(u.core).__name__.lower(), u.span)
        return ctx.scope.child(name, indexed), name

    def _layer(self, u: A.Unit, call: A.Call, x: str, ctx: Ctx) -> str:
        layer = O.LAYERS[call.name]  # resolve_names guarantees it exists
        plain = self._plain_layer(call, self._shape(x), ctx)
        if plain is not None:
            return self._named(u, call, ctx, layer.op, plain.attrs, x, plain.figures)
        ev = self._ev(ctx, x)
        given: dict[str, tuple[Any, Span]] = {}
        for k, (v, sp) in ctx.defaults.get(call.name, {}).items():
            given[k] = (v, sp)
        given.update(ctx.forced.get(call.name, {}))
        if call.name in ("sepconv", "dwconv"):
            self._warn_conv_defaults(call, given, layer.options, ctx)
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
        attrs = layer.build(values, BuildCtx(self._shape(x), self._build_defaults(ctx), call.span))
        out = self._named(u, call, ctx, layer.op, attrs, x, None)
        if not call.args and not call.kwargs and call.name not in ("sepconv", "dwconv"):
            key = (id(call), self._shape(x), id(ctx.defaults), id(ctx.forced))
            self._plain[key] = PlainLayer(call, ctx.defaults, ctx.forced, attrs, self._figures)
        return out

    def _plain_layer(self, call: A.Call, shape: Shape, ctx: Ctx) -> PlainLayer | None:
        """What an earlier lowering of this very call without arguments made on an input of
        `shape` under these defaults (the copies of `repeat 99990 { relu }`): its attributes,
        shape and cost depend on nothing else, so they are reused, not rebuilt (the same values;
        attributes are immutable). sepconv and dwconv are left out: they may warn."""
        if call.args or call.kwargs:
            return None
        hit = self._plain.get((id(call), shape, id(ctx.defaults), id(ctx.forced)))
        if hit is None or hit.call is not call:
            return None
        if hit.defaults is not ctx.defaults or hit.forced is not ctx.forced:
            return None
        return hit

    def _named(
        self,
        u: A.Unit,
        call: A.Call,
        ctx: Ctx,
        op: O.Op | None,
        attrs: O.Attrs,
        x: str,
        figures: Figures | None,
    ) -> str:
        """The layer's node, under its label, index or generated name."""
        if u.label is not None:
            name = ctx.scope.claim(self._label(u, ctx), u.label_span)
        elif ctx.scope.indexed:
            name = ctx.scope.index(u.span)
        else:
            name = ctx.scope.generated(call.name, u.span)
        assert op is not None
        out = self._node(name, op, attrs, (x,), call.span, ctx.aux, figures=figures)
        self.labels[name] = out
        return out

    def _build_defaults(self, ctx: Ctx) -> dict[str, dict[str, Any]]:
        """The option defaults a layer's builder sees (values only, a variant's winning), made
        once per pair of defaults mappings: every layer under one `defaults` shares them."""
        key = (id(ctx.defaults), id(ctx.forced))
        hit = self._defaults_seen.get(key)
        if hit is not None and hit[0] is ctx.defaults and hit[1] is ctx.forced:
            return hit[2]
        made = {
            op: {
                k: v for k, (v, _) in {**ctx.defaults.get(op, {}), **ctx.forced.get(op, {})}.items()
            }
            for op in {*ctx.defaults, *ctx.forced}
        }
        # the mappings are kept with it, so their ids are not reused while it is here
        self._defaults_seen[key] = (ctx.defaults, ctx.forced, made)
        return made

    def _warn_conv_defaults(
        self, call: A.Call, given: Mapping[str, tuple[Any, Span]], options: Any, ctx: Ctx
    ) -> None:
        """`defaults conv(...)` does not apply to sepconv or dwconv (docs/language.md): say so
        where one takes, from its own default, an option that the conv defaults set otherwise."""
        conv = {**ctx.defaults.get("conv", {}), **ctx.forced.get("conv", {})}
        written = {kw.name for kw in call.kwargs}
        differ = [
            k
            for k, (v, _) in conv.items()
            if k in options and k not in given and k not in written and v != options[k]
        ]
        if differ:
            self._warn_events += 1
        if not differ or call.span in self._warned:
            return
        self._warned.add(call.span)
        shown = ", ".join(f"{k}={format_value(conv[k][0])}" for k in differ)
        self.warnings.append(
            SpecWarning(
                CONV_DEFAULTS_NOT_SEPCONV,
                f"`defaults conv({shown})` does not apply to this {call.name}, which keeps "
                + ", ".join(f"{k}={format_value(options[k])}" for k in differ),
                call.span,
                hint=f"add `defaults {call.name}({shown})`, or write the options on the "
                f"{call.name}",
            )
        )

    def _block_call(self, u: A.Unit, call: A.Call, ref: BlockRef, x: str, ctx: Ctx) -> str:
        ev = self._ev(ctx, x)
        decl = ref.decl
        given = call_args(decl.params, call.args, call.kwargs, ev)
        names = bind_params(
            decl.params,
            given,
            lambda bound: Evaluator(
                bound, self._shape(x), work=self.work, functions=ref.file.functions
            ),
            lambda p: ArgumentCountError(
                f"block `{decl.name}` needs parameter `{p.name}`",
                call.span,
                notes=[Note(f"`{p.name}` is declared here", p.span)],
            ),
        )
        stem = None
        if uses_prefix(decl):  # flat: the block's `@` labels extend the call's label
            if u.label is None:
                raise PrefixLabelError(
                    f"block `{decl.name}` names its units after the call's label (`@...`), "
                    "and this call has none",
                    call.span,
                    hint=f"label the call: `name: {decl.name}(...)`",
                )
            name, scope, stem = None, ctx.scope, self._label(u, ctx)
            self.scopes.call(scope, decl.name, names)
        elif u.splice:  # `*Block`: its units join the caller's scope and numbering
            name, scope = None, ctx.scope
            self.scopes.call(scope, decl.name, names)
        elif u.label is not None or ctx.scope.indexed:
            name = (
                ctx.scope.claim(self._label(u, ctx), u.label_span)
                if u.label is not None
                else ctx.scope.index(u.span)
            )
            scope = ctx.scope.child(name)
            self.scopes.open(name, "block", call.span, decl.name, names)
        else:
            name, scope = None, ctx.scope
            self.scopes.call(scope, decl.name, names)
        sub = Ctx(names, ctx.defaults, scope, x, ref.file, ctx.aux, ctx.depth + 1, ctx.forced, stem)
        key = self._memo_key(ref, sub, x) if self.memo is not None and stem is None else None
        if key is not None:
            out = self._memoised(key, scope, x, lambda: self._call_body(decl, call, x, sub))
        else:
            out = self._call_body(decl, call, x, sub)
        if name is not None:
            self.labels[name] = out
        return out

    def _call_body(self, decl: A.BlockDecl, call: A.Call, x: str, sub: Ctx) -> str:
        what = f"this call of `{decl.name}`"
        self._precharge(decl.body.stmts, sub, 1, call.span, what, kind="block")
        try:
            return self._seq(decl.body.stmts, x, sub)
        except SpecError as err:
            if not any(n.message.startswith("in block") for n in err.notes):
                err.notes = (*err.notes, Note(f"in block `{decl.name}` called here", call.span))
            raise


def _error_of(work: Callable[[], object]) -> SpecError | None:
    """The SpecError `work` raises, or None."""
    try:
        work()
    except SpecError as err:
        return err
    return None


def _dimension(d: Any, shape: tuple[Any, ...], e: A.Expr) -> int:
    """One `input` size: a positive whole number (a tuple's items can be anything)."""
    if isinstance(d, float) and d.is_integer():
        d = int(d)
    if isinstance(d, bool) or not isinstance(d, int):
        kind, shown = type_name(d), format_value(d)
        what = shown if kind == shown else f"{kind} {shown}"
        raise TypeMismatchError(
            f"`input` sizes must be whole numbers, got {what} in {format_value(shape)}", e.span
        )
    if d <= 0:
        raise InvalidValueError(f"input sizes must be positive, got {format_value(shape)}", e.span)
    return d
