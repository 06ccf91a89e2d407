"""The typed AST: frozen pydantic models, one per construct of grammar.lark, each with a span.

The AST is syntax only: no evaluation, no name lookup, no defaults applied. Meaning is given
by the passes in check/ and by lower/. Class names are the grammar's rule names in CamelCase.
"""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict

from .source import Span


class Node(BaseModel):
    """Base of every AST node. The transformer builds nodes with `model_construct` (its output
    is well-typed by construction), and validation schemas are built only if something asks
    for them (`defer_build`): building them for ~35 recursive models costs ~0.2 s per process,
    which a command-line tool pays on every run."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, defer_build=True
    )
    span: Span


# ---- expressions ------------------------------------------------------------------------------


class Number(Node):
    kind: Literal["number"] = "number"
    value: int | float
    text: str


class SizeLit(Node):
    """A literal size token such as `3x3` or `3x299x299`."""

    kind: Literal["size_lit"] = "size_lit"
    dims: tuple[int, ...]


class String(Node):
    kind: Literal["string"] = "string"
    value: str


class Var(Node):
    kind: Literal["var"] = "var"
    name: str


class Const(Node):
    """`true`, `false` or `none`."""

    kind: Literal["const"] = "const"
    value: bool | None


class InRef(Node):
    """`in.channels`, `in.height`, `in.width`: the shape of the enclosing block's input; with
    `base="prev"`, `prev.channels`: the shape of the tensor the current unit receives."""

    kind: Literal["in_ref"] = "in_ref"
    attr: str
    base: Literal["in", "prev"] = "in"


class KwArg(Node):
    kind: Literal["kwarg"] = "kwarg"
    name: str
    value: Expr


class Func(Node):
    """A call inside an expression: a built-in function (`max(a, b)`) or a record (`bn(...)`)."""

    kind: Literal["func"] = "func"
    name: str
    args: tuple[Expr, ...]
    kwargs: tuple[KwArg, ...]


class BinOp(Node):
    kind: Literal["binop"] = "binop"
    op: Literal["+", "-", "*", "/", "//", "**", "and", "or"]
    left: Expr
    right: Expr


class UnaryOp(Node):
    kind: Literal["unary"] = "unary"
    op: Literal["-", "not"]
    operand: Expr


class Compare(Node):
    kind: Literal["compare"] = "compare"
    op: str
    left: Expr
    right: Expr


class SizeExpr(Node):
    """`a x b [x c]`: a size built from expressions."""

    kind: Literal["size"] = "size"
    parts: tuple[Expr, ...]


class TupleExpr(Node):
    kind: Literal["tuple"] = "tuple"
    items: tuple[Expr, ...]


class ListExpr(Node):
    """`[a, b, c]`: a list literal (a stage table is a list of tuples)."""

    kind: Literal["list"] = "list"
    items: tuple[Expr, ...]


class ListComp(Node):
    """`[f(x) for x in xs if c]`: a list built from another, as in Python (one `for`)."""

    kind: Literal["listcomp"] = "listcomp"
    element: Expr
    target: ForTarget
    iter: Expr
    cond: Expr | None


class Index(Node):
    """`xs[i]`: an item of a list or tuple; a negative index counts from the end."""

    kind: Literal["index"] = "index"
    target: Expr
    index: Expr


class Slice(Node):
    """`xs[a:b]`, `xs[:b]`, `xs[a:]`: a part of a list or tuple (no step), as in Python."""

    kind: Literal["slice"] = "slice"
    target: Expr
    start: Expr | None
    stop: Expr | None


class Cond(Node):
    """`a if cond else b`: only the chosen side is evaluated."""

    kind: Literal["cond"] = "cond"
    then: Expr
    cond: Expr
    orelse: Expr


Expr = Union[  # noqa: UP007 (pydantic forward refs read better as a Union here)
    Number,
    SizeLit,
    String,
    Var,
    Const,
    InRef,
    Func,
    BinOp,
    UnaryOp,
    Compare,
    SizeExpr,
    TupleExpr,
    ListExpr,
    ListComp,
    Index,
    Slice,
    Cond,
]


# ---- units ------------------------------------------------------------------------------------


class Call(Node):
    """A layer (`conv 64 3x3 stride=2`) or a block (`InceptionA(32)`).

    Positional arguments from `( )` and those written after the name are merged in order;
    `paren` records whether `( )` were written (for the formatter only).
    """

    kind: Literal["call"] = "call"
    name: str
    name_span: Span
    args: tuple[Expr, ...]
    kwargs: tuple[KwArg, ...]
    paren: bool = False


class Body(Node):
    kind: Literal["body"] = "body"
    stmts: tuple[Stmt, ...]


class Group(Node):
    kind: Literal["group"] = "group"
    body: Body


class Merge(Node):
    """Branches merged by an op: `concat { }`, `add split=2 { }` (`name` is the keyword; the op
    registry's MergeDefs say which keywords exist and which options they take)."""

    kind: Literal["merge"] = "merge"
    name: str
    name_span: Span
    args: tuple[Expr, ...]  # none in a valid spec (resolve_names says so, located)
    options: tuple[KwArg, ...]
    body: Body


class Residual(Node):
    kind: Literal["residual"] = "residual"
    options: tuple[KwArg, ...]
    body: Body
    shortcut: Body | None


class Repeat(Node):
    kind: Literal["repeat"] = "repeat"
    count: Expr
    pattern: String | None
    body: Body


Core = Union[Call, Group, Merge, Residual, Repeat]  # noqa: UP007


class Unit(Node):
    """A labelled or unlabelled core. A label starting with `@` is the caller's label followed
    by the rest (`@_bn`, in a block); `splice` (`*Stage(64)`) puts a block call's units in the
    caller's scope, continuing its numbering."""

    kind: Literal["unit"] = "unit"
    label: str | None
    label_span: Span | None
    core: Core
    splice: bool = False


# ---- statements -------------------------------------------------------------------------------


class Chain(Node):
    kind: Literal["chain"] = "chain"
    units: tuple[Unit, ...]


class InputStmt(Node):
    kind: Literal["input_stmt"] = "input_stmt"
    shape: Expr


class DefaultsStmt(Node):
    kind: Literal["defaults_stmt"] = "defaults_stmt"
    op: str
    op_span: Span
    kwargs: tuple[KwArg, ...]


class LetStmt(Node):
    kind: Literal["let_stmt"] = "let_stmt"
    name: str
    value: Expr


class IfStmt(Node):
    kind: Literal["if_stmt"] = "if_stmt"
    cond: Expr
    then: Body
    orelse: Body | IfStmt | None


class ForTarget(Node):
    """What a `for` binds: a name, or a tuple of targets the item is unpacked into
    (`i, (t, c)`; several targets at the top are a tuple too)."""

    kind: Literal["for_target"] = "for_target"
    name: str | None
    items: tuple[ForTarget, ...] = ()


class ForStmt(Node):
    """`for TARGET in EXPR [as "pattern"] { body }`: the body once per item (section 2c)."""

    kind: Literal["for_stmt"] = "for_stmt"
    target: ForTarget
    iter: Expr
    pattern: String | None
    body: Body


class AuxStmt(Node):
    kind: Literal["aux_stmt"] = "aux_stmt"
    name: str
    tap: tuple[str, ...]
    tap_span: Span
    options: tuple[KwArg, ...]
    body: Body


class Tolerance(Node):
    kind: Literal["tolerance"] = "tolerance"
    value: Expr | None
    percent: float | None
    text: str


class ExpectStmt(Node):
    kind: Literal["expect_stmt"] = "expect_stmt"
    target: tuple[str, ...]
    target_span: Span
    cmp: str
    value: Expr
    tolerance: Tolerance | None
    with_: tuple[KwArg, ...]
    source: str


class ReplaceStmt(Node):
    """`replace PATH with UNIT` in a variant: the unit at PATH of the parent becomes UNIT
    (named as PATH unless UNIT has a label of its own)."""

    kind: Literal["replace_stmt"] = "replace_stmt"
    target: tuple[str, ...]
    target_span: Span
    unit: Unit


class InsertStmt(Node):
    """`insert LABEL: UNIT before|after PATH` in a variant."""

    kind: Literal["insert_stmt"] = "insert_stmt"
    unit: Unit
    where: Literal["before", "after"]
    target: tuple[str, ...]
    target_span: Span


class RemoveStmt(Node):
    """`remove PATH, PATH, ...` in a variant: the units (or aux heads) at those paths go."""

    kind: Literal["remove_stmt"] = "remove_stmt"
    targets: tuple[tuple[str, ...], ...]
    target_spans: tuple[Span, ...]


EditStmt = Union[ReplaceStmt, InsertStmt, RemoveStmt]  # noqa: UP007

Stmt = Union[  # noqa: UP007
    InputStmt,
    DefaultsStmt,
    LetStmt,
    IfStmt,
    ForStmt,
    AuxStmt,
    ExpectStmt,
    Chain,
    ReplaceStmt,
    InsertStmt,
    RemoveStmt,
]


# ---- declarations -----------------------------------------------------------------------------


class Param(Node):
    kind: Literal["param"] = "param"
    name: str
    type: str
    type_span: Span
    default: Expr | None


class ImportDecl(Node):
    kind: Literal["import_decl"] = "import_decl"
    path: str
    path_span: Span
    names: tuple[str, ...] | None
    name_spans: tuple[Span, ...]


class Extends(Node):
    """`extends parent(args)`: the network this one edits, and the arguments it is built with."""

    kind: Literal["extends"] = "extends"
    name: str
    name_span: Span
    args: tuple[Expr, ...]
    kwargs: tuple[KwArg, ...]


class NetworkDecl(Node):
    kind: Literal["network_decl"] = "network_decl"
    name: str
    params: tuple[Param, ...]
    body: Body
    extends: Extends | None = None


class BlockDecl(Node):
    kind: Literal["block_decl"] = "block_decl"
    name: str
    params: tuple[Param, ...]
    body: Body


class FnDecl(Node):
    """`fn NAME(params) [-> TYPE] = EXPR`: a pure function of its parameters (section 4c)."""

    kind: Literal["fn_decl"] = "fn_decl"
    name: str
    params: tuple[Param, ...]
    returns: str | None
    returns_span: Span | None
    body: Expr


class Module(Node):
    """One parsed file."""

    kind: Literal["module"] = "module"
    path: str
    decls: tuple[ImportDecl | NetworkDecl | BlockDecl | FnDecl, ...]

    @property
    def imports(self) -> tuple[ImportDecl, ...]:
        return tuple(d for d in self.decls if isinstance(d, ImportDecl))

    @property
    def networks(self) -> tuple[NetworkDecl, ...]:
        return tuple(d for d in self.decls if isinstance(d, NetworkDecl))

    @property
    def blocks(self) -> tuple[BlockDecl, ...]:
        return tuple(d for d in self.decls if isinstance(d, BlockDecl))

    @property
    def functions(self) -> tuple[FnDecl, ...]:
        return tuple(d for d in self.decls if isinstance(d, FnDecl))
