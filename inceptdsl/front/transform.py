"""Parse tree -> AST. Local, syntactic work only: no evaluation and no name lookup.

One method per grammar rule (lark's Transformer convention). Number literals are decoded here
(underscores, K/M/G/T suffixes) because that is lexical; everything with meaning is left to the
passes that follow.
"""

from __future__ import annotations

import math
import re
from typing import Any

from lark import Token, Transformer, Tree, v_args
from lark.exceptions import VisitError
from lark.tree import Meta

from ..errors import InvalidValueError, SpecError
from ..names import check_label
from . import ast as A
from .source import Span

_SUFFIX = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


MAX_NUMBER_CHARS = 40
"""Longest number literal (the tokenizer's bound, parse.MAX_TOKEN_CHARS, applies the same)."""

_NUMBER = re.compile(r"[0-9][0-9_]*(\.[0-9]+)?([eE][+-]?[0-9]+)?[KMGT]?")
"""The grammar's INT and FLOAT (underscores may follow any digit of the whole part)."""


def decode_number(text: str) -> int | float:
    """`27_161_264` -> 27161264, `5.7G` -> 5.7e9, `159K` -> 159000, `1e-3` -> 0.001.

    A suffixed value that is whole is an int (`1.5K` -> 1500), so it compares exactly. Only
    what the grammar's INT and FLOAT accept is a number: ASCII digits (not full-width ones,
    which int() would take), at most MAX_NUMBER_CHARS characters, and a finite value;
    anything else raises ValueError.
    """
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number of {len(text):,} characters; the limit is {MAX_NUMBER_CHARS}")
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"malformed number `{text}`")
    raw = text.replace("_", "")
    mult = 1
    if raw[-1] in _SUFFIX:
        mult = _SUFFIX[raw[-1]]
        raw = raw[:-1]
    if any(c in raw for c in ".eE"):
        value = float(raw) * mult
        if not math.isfinite(value):
            raise ValueError(f"the number {text} is too large")  # 1e999 is infinite
        if mult != 1 and value == int(value):
            return int(value)
        return value
    return int(raw) * mult


@v_args(meta=True, inline=True)
class ToAst(Transformer):
    """Builds ast.Module from the tree of one file."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._file = path

    # -- helpers --
    def _span(self, meta: Meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self._file, 1, 1, 1, 2)
        return Span(self._file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, tok: Token) -> Span:
        line = tok.line or 1
        col = tok.column or 1
        end_col = tok.end_column if tok.end_column is not None else col + len(tok)
        return Span(self._file, line, col, tok.end_line or line, end_col)

    def _join(self, a: Span, b: Span) -> Span:
        return Span(self._file, a.line, a.column, b.end_line, b.end_column)

    # -- files --
    def start(self, meta: Meta, *decls: Any) -> A.Module:
        return A.Module.model_construct(span=self._span(meta), path=self._file, decls=tuple(decls))

    def import_decl(self, meta: Meta, path: Token, names: Any) -> A.ImportDecl:
        toks = names or ()
        return A.ImportDecl.model_construct(
            span=self._span(meta),
            path=_unquote(path),
            path_span=self._tok(path),
            names=tuple(str(t) for t in toks) if names is not None else None,
            name_spans=tuple(self._tok(t) for t in toks),
        )

    def import_names(self, meta: Meta, *names: Token) -> tuple[Token, ...]:
        return names

    def network_decl(
        self, meta: Meta, name: Token, params: Any, extends: Any, body: A.Body
    ) -> A.NetworkDecl:
        return A.NetworkDecl.model_construct(
            span=self._tok(name), name=str(name), params=params or (), body=body, extends=extends
        )

    def extends(self, meta: Meta, name: Token, arglist: Any) -> A.Extends:
        items = arglist or ()
        return A.Extends.model_construct(
            span=self._span(meta),
            name=str(name),
            name_span=self._tok(name),
            args=tuple(a for a in items if not isinstance(a, A.KwArg)),
            kwargs=tuple(a for a in items if isinstance(a, A.KwArg)),
        )

    # -- variant edits --
    def replace_stmt(self, meta: Meta, target: Any, unit: A.Unit) -> A.ReplaceStmt:
        segs, tspan = target
        return A.ReplaceStmt.model_construct(
            span=self._span(meta), target=segs, target_span=tspan, unit=unit
        )

    def insert_stmt(self, meta: Meta, unit: A.Unit, where: Token, target: Any) -> A.InsertStmt:
        segs, tspan = target
        return A.InsertStmt.model_construct(
            span=self._span(meta), unit=unit, where=str(where), target=segs, target_span=tspan
        )

    def remove_stmt(self, meta: Meta, *targets: Any) -> A.RemoveStmt:
        return A.RemoveStmt.model_construct(
            span=self._span(meta),
            targets=tuple(segs for segs, _ in targets),
            target_spans=tuple(sp for _, sp in targets),
        )

    def block_decl(self, meta: Meta, name: Token, params: Any, body: A.Body) -> A.BlockDecl:
        return A.BlockDecl.model_construct(
            span=self._tok(name), name=str(name), params=params or (), body=body
        )

    def fn_decl(self, meta: Meta, name: Token, params: Any, returns: Any, body: A.Expr) -> A.FnDecl:
        return A.FnDecl.model_construct(
            span=self._tok(name),
            name=str(name),
            params=params or (),
            returns=returns[0] if returns is not None else None,
            returns_span=returns[1] if returns is not None else None,
            body=body,
        )

    def param_list(self, meta: Meta, *params: Any) -> tuple[A.Param, ...]:
        return tuple(p for p in params if p is not None)

    def param(self, meta: Meta, name: Token, typ: Any, default: Any) -> A.Param:
        text, span = typ
        return A.Param.model_construct(
            span=self._tok(name), name=str(name), type=text, type_span=span, default=default
        )

    def type_ref(self, meta: Meta, name: Token, *args: Any) -> tuple[str, Span]:
        """A type as its canonical text (`list[tuple[int, int]]`) and its span."""
        inner = [_type_arg(a) for a in args if a is not None]
        text = str(name) + (f"[{', '.join(inner)}]" if inner else "")
        return text, self._span(meta)

    # -- bodies and statements --
    def body(self, meta: Meta, *stmts: Any) -> A.Body:
        return A.Body.model_construct(
            span=self._span(meta), stmts=tuple(s for s in stmts if s is not None)
        )

    def input_stmt(self, meta: Meta, shape: A.Expr) -> A.InputStmt:
        return A.InputStmt.model_construct(span=self._span(meta), shape=shape)

    def defaults_stmt(self, meta: Meta, op: Token, *kwargs: Any) -> A.DefaultsStmt:
        return A.DefaultsStmt.model_construct(
            span=self._span(meta),
            op=str(op),
            op_span=self._tok(op),
            kwargs=tuple(k for k in kwargs if k is not None),
        )

    def let_stmt(self, meta: Meta, name: Token, value: A.Expr) -> A.LetStmt:
        return A.LetStmt.model_construct(span=self._span(meta), name=str(name), value=value)

    def if_stmt(self, meta: Meta, cond: A.Expr, then: A.Body, orelse: Any) -> A.IfStmt:
        return A.IfStmt.model_construct(span=self._span(meta), cond=cond, then=then, orelse=orelse)

    def for_stmt(
        self, meta: Meta, target: A.ForTarget, it: A.Expr, pattern: Any, body: A.Body
    ) -> A.ForStmt:
        pat = None
        if pattern is not None:
            pat = A.String.model_construct(span=self._tok(pattern), value=_unquote(pattern))
        return A.ForStmt.model_construct(
            span=self._span(meta), target=target, iter=it, pattern=pat, body=body
        )

    def for_targets(self, meta: Meta, *targets: A.ForTarget) -> A.ForTarget:
        if len(targets) == 1:
            return targets[0]
        return A.ForTarget.model_construct(span=self._span(meta), name=None, items=targets)

    def for_target(self, meta: Meta, *children: Any) -> A.ForTarget:
        if len(children) == 1 and isinstance(children[0], Token):
            return A.ForTarget.model_construct(
                span=self._tok(children[0]), name=str(children[0]), items=()
            )
        items = tuple(c for c in children if isinstance(c, A.ForTarget))
        return A.ForTarget.model_construct(span=self._span(meta), name=None, items=items)

    def aux_stmt(self, meta: Meta, name: Token, tap: Any, *rest: Any) -> A.AuxStmt:
        *options, body = rest
        segs, tap_span = tap
        return A.AuxStmt.model_construct(
            span=self._tok(name),
            name=str(name),
            tap=segs,
            tap_span=tap_span,
            options=tuple(options),
            body=body,
        )

    def path(self, meta: Meta, *segs: Token) -> tuple[tuple[str, ...], Span]:
        return tuple(_unquote(s) if s.type == "STRING" else str(s) for s in segs), self._span(meta)

    def expect_stmt(
        self,
        meta: Meta,
        target: Any,
        cmp: Token,
        value: A.Expr,
        tol: Any,
        with_: Any,
        source: Token,
    ) -> A.ExpectStmt:
        segs, tspan = target
        return A.ExpectStmt.model_construct(
            span=self._span(meta),
            target=segs,
            target_span=tspan,
            cmp=str(cmp),
            value=value,
            tolerance=tol,
            with_=with_ or (),
            source=_unquote(source),
        )

    def tolerance(self, meta: Meta, value: Any) -> A.Tolerance:
        span = self._span(meta)
        if isinstance(value, Token) and value.type == "PERCENT":
            try:
                pct = decode_number(str(value)[:-1])
            except ValueError as exc:
                raise InvalidValueError(str(exc), self._tok(value)) from None
            return A.Tolerance.model_construct(
                span=span, value=None, percent=float(pct), text=str(value)
            )
        return A.Tolerance.model_construct(span=span, value=value, percent=None, text="")

    def with_clause(self, meta: Meta, *kwargs: A.KwArg) -> tuple[A.KwArg, ...]:
        return kwargs

    # -- chains and units --
    def chain(self, meta: Meta, *units: A.Unit) -> A.Chain:
        return A.Chain.model_construct(span=self._span(meta), units=units)

    def unit(self, meta: Meta, *children: Any) -> A.Unit:
        if len(children) == 1 and isinstance(children[0], A.Unit):  # a splice
            return children[0]
        label, core = children if len(children) == 2 else (None, children[0])
        text = None
        if label is not None:
            text = _unquote(label) if label.type == "STRING" else str(label)
            # `@_bn`: the rest is checked as a label would be (`@` alone is the caller's label)
            check_label("x" + text[1:] if label.type == "PREFIX_LABEL" else text, self._tok(label))
        return A.Unit.model_construct(
            span=self._span(meta),
            label=text,
            label_span=self._tok(label) if label is not None else None,
            core=core,
        )

    def splice(self, meta: Meta, call: A.Call) -> A.Unit:
        return A.Unit.model_construct(
            span=self._span(meta), label=None, label_span=None, core=call, splice=True
        )

    def group(self, meta: Meta, body: A.Body) -> A.Group:
        return A.Group.model_construct(span=self._span(meta), body=body)

    def merge(self, meta: Meta, head: A.Call, body: A.Body) -> A.Merge:
        return A.Merge.model_construct(
            span=self._span(meta),
            name=head.name,
            name_span=head.name_span,
            args=head.args,
            options=head.kwargs,
            body=body,
        )

    def residual(self, meta: Meta, *rest: Any) -> A.Residual:
        *options, body, shortcut = rest
        return A.Residual.model_construct(
            span=self._span(meta), options=tuple(options), body=body, shortcut=shortcut
        )

    def repeat(self, meta: Meta, count: Any, pattern: Any, body: A.Body) -> A.Repeat:
        pat = None
        if pattern is not None:
            pat = A.String.model_construct(span=self._tok(pattern), value=_unquote(pattern))
        return A.Repeat.model_construct(
            span=self._span(meta), count=self._atom(count), pattern=pat, body=body
        )

    def call(self, meta: Meta, name: Token, *rest: Any) -> A.Call:
        # `conv 64 3x3` (a NAME) or `conv(64, 3x3)` (a CALLNAME: an argument list follows)
        arglist = rest[0] if name.type == "CALLNAME" else None
        rest = rest[1:] if name.type == "CALLNAME" else rest
        args: list[A.Expr] = []
        kwargs: list[A.KwArg] = []
        for a in arglist or ():
            (kwargs if isinstance(a, A.KwArg) else args).append(a)
        for r in rest:
            if isinstance(r, A.KwArg):
                kwargs.append(r)
            else:
                if (
                    kwargs
                    and not isinstance(r, A.KwArg)
                    and any(
                        k.span.line < r.span.line
                        or (k.span.line == r.span.line and k.span.column < r.span.column)
                        for k in kwargs
                    )
                ):
                    raise InvalidValueError(
                        "a positional argument follows a named option",
                        r.span,
                        hint="write positional values first: `conv 64 3x3 stride=2`",
                    )
                args.append(r)
        return A.Call.model_construct(
            span=self._span(meta),
            name=str(name),
            name_span=self._tok(name),
            args=tuple(args),
            kwargs=tuple(kwargs),
            paren=arglist is not None,
        )

    def arglist(self, meta: Meta, *args: Any) -> tuple[Any, ...]:
        return tuple(a for a in args if a is not None)

    def kwarg(self, meta: Meta, name: Token, value: A.Expr) -> A.KwArg:
        return A.KwArg.model_construct(
            span=self._join(self._tok(name), value.span), name=str(name), value=value
        )

    option = kwarg

    def posarg(self, meta: Meta, *parts: Any) -> A.Expr:
        atoms = [self._atom(p) for p in parts]
        if len(atoms) == 1:
            return atoms[0]
        return A.SizeExpr.model_construct(span=self._span(meta), parts=tuple(atoms))

    def _atom(self, p: Any) -> A.Expr:
        if isinstance(p, Token):  # SIZE or STRING tokens reach posarg unwrapped
            if p.type == "SIZE":
                return self.size_lit(None, p)  # type: ignore[arg-type]
            if p.type == "STRING":
                return A.String.model_construct(span=self._tok(p), value=_unquote(p))
            raise AssertionError(p.type)
        return p

    # -- expressions --
    def size(self, meta: Meta, *parts: A.Expr) -> A.SizeExpr:
        return A.SizeExpr.model_construct(span=self._span(meta), parts=tuple(parts))

    def _bin(self, op: str, meta: Meta, left: A.Expr, right: A.Expr) -> A.BinOp:
        return A.BinOp.model_construct(span=self._span(meta), op=op, left=left, right=right)  # type: ignore[arg-type]

    def or_(self, meta: Meta, a: A.Expr, b: A.Expr) -> A.BinOp:
        return self._bin("or", meta, a, b)

    def and_(self, meta: Meta, a: A.Expr, b: A.Expr) -> A.BinOp:
        return self._bin("and", meta, a, b)

    def add_(self, meta: Meta, a: A.Expr, b: A.Expr) -> A.BinOp:
        return self._bin("+", meta, a, b)

    def sub(self, meta: Meta, a: A.Expr, b: A.Expr) -> A.BinOp:
        return self._bin("-", meta, a, b)

    def mul(self, meta: Meta, a: A.Expr, b: A.Expr) -> A.BinOp:
        return self._bin("*", meta, a, b)

    def div(self, meta: Meta, a: A.Expr, b: A.Expr) -> A.BinOp:
        return self._bin("/", meta, a, b)

    def floordiv(self, meta: Meta, a: A.Expr, b: A.Expr) -> A.BinOp:
        return self._bin("//", meta, a, b)

    def pow_(self, meta: Meta, a: A.Expr, b: A.Expr) -> A.BinOp:
        return self._bin("**", meta, a, b)

    def cond(self, meta: Meta, then: A.Expr, cond: A.Expr, orelse: A.Expr) -> A.Cond:
        return A.Cond.model_construct(span=self._span(meta), then=then, cond=cond, orelse=orelse)

    def list(self, meta: Meta, *items: Any) -> A.ListExpr:
        return A.ListExpr.model_construct(
            span=self._span(meta), items=tuple(i for i in items if i is not None)
        )

    def listcomp(
        self, meta: Meta, element: A.Expr, target: A.ForTarget, it: A.Expr, cond: Any
    ) -> A.ListComp:
        return A.ListComp.model_construct(
            span=self._span(meta), element=element, target=target, iter=it, cond=cond
        )

    def index(self, meta: Meta, target: Any, index: A.Expr) -> A.Index:
        return A.Index.model_construct(
            span=self._span(meta), target=self._atom(target), index=index
        )

    def slice(self, meta: Meta, target: Any, start: Any, stop: Any) -> A.Slice:
        return A.Slice.model_construct(
            span=self._span(meta), target=self._atom(target), start=start, stop=stop
        )

    pindex = index  # `conv widths[i] 3x3`: an indexed atom as a positional argument
    pslice = slice

    def not_(self, meta: Meta, a: A.Expr) -> A.UnaryOp:
        return A.UnaryOp.model_construct(span=self._span(meta), op="not", operand=a)

    def neg(self, meta: Meta, a: A.Expr) -> A.UnaryOp:
        return A.UnaryOp.model_construct(span=self._span(meta), op="-", operand=a)

    def factor(self, meta: Meta, a: A.Expr) -> A.Expr:  # unary plus
        return a

    def compare(self, meta: Meta, a: A.Expr, op: Token, b: A.Expr) -> A.Compare:
        return A.Compare.model_construct(span=self._span(meta), op=str(op), left=a, right=b)

    def number(self, meta: Meta, tok: Token) -> A.Number:
        try:
            value = decode_number(str(tok))
        except ValueError as exc:  # `1__0`, `1e999` (infinite)
            raise InvalidValueError(str(exc), self._tok(tok)) from None
        return A.Number.model_construct(span=self._tok(tok), value=value, text=str(tok))

    def size_lit(self, meta: Meta, tok: Token) -> A.SizeLit:
        dims = tuple(int(d) for d in str(tok).split("x"))
        return A.SizeLit.model_construct(span=self._tok(tok), dims=dims)

    def string(self, meta: Meta, tok: Token) -> A.String:
        return A.String.model_construct(span=self._tok(tok), value=_unquote(tok))

    def var(self, meta: Meta, tok: Token) -> A.Var:
        return A.Var.model_construct(span=self._tok(tok), name=str(tok))

    def const(self, meta: Meta, tok: Token) -> A.Const:
        value = {"TRUE": True, "FALSE": False, "NONE": None}[tok.type]
        return A.Const.model_construct(span=self._tok(tok), value=value)

    def in_ref(self, meta: Meta, attr: Token) -> A.InRef:
        return A.InRef.model_construct(span=self._span(meta), attr=str(attr))

    def prev_ref(self, meta: Meta, attr: Token) -> A.InRef:
        return A.InRef.model_construct(span=self._span(meta), attr=str(attr), base="prev")

    def func(self, meta: Meta, name: Token, *args: Any) -> A.Func:
        pos = tuple(a for a in args if a is not None and not isinstance(a, A.KwArg))
        kws = tuple(a for a in args if isinstance(a, A.KwArg))
        return A.Func.model_construct(span=self._span(meta), name=str(name), args=pos, kwargs=kws)

    pfunc = func  # a function call written as a positional argument: `conv int(c * r) 1x1`

    def tuple(self, meta: Meta, *items: Any) -> A.TupleExpr:
        return A.TupleExpr.model_construct(
            span=self._span(meta), items=tuple(i for i in items if i is not None)
        )

    ptuple = tuple  # a tuple written as a positional argument: `zeropad ((0, 1), (1, 0))`


def _type_arg(arg: tuple[str, Span] | Token) -> str:
    """A type's argument as canonical text: a type, or a member of `choice[...]` as written."""
    return str(arg) if isinstance(arg, Token) else arg[0]


def _unquote(tok: Token | str) -> str:
    s = str(tok)[1:-1]
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def to_ast(tree: Tree, path: str) -> A.Module:
    """Transform a parse tree; errors raised in rules arrive unwrapped as SpecErrors."""
    try:
        return ToAst(path).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, SpecError):
            raise exc.orig_exc from None
        raise
