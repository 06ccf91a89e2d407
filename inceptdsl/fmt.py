"""The canonical formatter behind `inceptdsl fmt`: AST + comments -> one canonical text.

Why a formatter over the AST (not over tokens): the AST is what the spec *means*, so printing
it guarantees that formatting never changes meaning (`to_ast(parse(fmt(t)))` equals
`to_ast(parse(t))` up to spans, see `strip_spans`), and that formatting twice changes nothing.
Layout the AST does not record is decided here, once, so that every spec reads the same.
Number literals, percentages and sizes keep their written text (`27_161_264`, `5.7G`, `15%`).

Canonical style (the house style of specs/lib/inception_v3.incept):

* 2-space indentation, one statement per line, a newline at the end of the file.
* Declarations are separated by exactly one blank line (consecutive imports may stay together);
  inside bodies, blank lines between statements are kept, at most one; none after `{` or
  before `}`.
* `label: layer args opts` with options written `name=value`. A layer call (a name in
  `ir.ops.LAYERS`) is written juxtaposed, `conv 64 3x3 stride=2`, when every positional
  argument is an atom (number, size literal, name, `in.x`, string, true/false/none) or an
  `a x b` size of atoms; otherwise everything goes in parentheses: `conv(2 * c, 3x3, pad=1)`.
  Any other call is a block call: `Name` without arguments, else `Name(args, name=value)`.
  Parameters are `name: type = default` (spaces around `=`, unlike options).
* `concat { }` and `add { }` always have one branch per line. A group, `residual`, `repeat`,
  `shortcut` or `aux` body holding one chain of plain calls (no nested body, no comment) is
  written inline, `{ a -> b }`, when it fits; other bodies, `if`/`else` bodies and
  declarations are multi-line. Empty bodies are `{}`.
* A chain that fits in LINE_LIMIT (100) columns stays on one line; otherwise (or when a comment
  sits between two of its units) it is broken before every `->`, each continuation line
  indented 2 more than the chain's first line.
* Parenthesised lists that do not fit (parameters, `defaults`, `import` names, call arguments)
  are broken into the fewest lines, split as evenly as possible, continuation lines aligned
  just after the `(`. A parameter too long for a line of its own (a long `choice[...]`) gets
  lines of its own, its type's items broken the same way, aligned after the type's `[`.
* A `let` or `fn` whose value is a list literal (or an item of one, `[...][i]`) that does not
  fit is broken after commas like an argument list, items aligned after the `[` (a stage
  table); another `fn` body that does not fit goes on the next line, indented 2.
* `expect` is one line if it fits; otherwise its `within` / `with` / `source` clauses are
  filled greedily onto continuation lines indented 2 more.
* Expressions get the fewest parentheses the grammar's precedence allows (loosest first:
  `x` sizes, `a if c else b`, `or`, `and`, `not`, comparisons, `+ -`, `* / //`, unary `-`,
  `**`, then atoms with their `[i]` and `[a:b]`); call keyword
  arguments follow the positional ones; `+x` is written `x` (the AST has no unary plus).

Comments: every comment is kept, in order. An own-line comment stays before the line it
precedes (before the statement, the `-> unit` continuation or the closing `}`), indented like
it; a trailing comment stays at the end of the line it follows. When lines are joined (a
multi-line argument list put on one line) the comments inside move to the nearest statement
boundary: all but the last one of a joined line go on their own lines just before it, the last
one trails it; own-line comments inside a joined line move to just after it. Trailing
whitespace of a comment is dropped.

The newlines printed are exactly those the post-lexer of parse.py keeps or drops by design
(inside `( )`, after `{ , -> =`, before `} -> else shortcut source with within`), so the
output re-parses.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lark import Token

from .front import ast as A
from .front.parse import parse
from .front.source import Span
from .front.transform import to_ast
from .ir.ops import LAYERS

LINE_LIMIT = 100
"""Lines are kept within this many columns where the style allows a break."""

INDENT = 2

Pos = tuple[int, int]

# Precedence levels, loosest first (grammar.lark section 4).
_SIZE, _COND, _OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _POW, _ATOM = range(11)
_BIN_LEVEL = {"or": _OR, "and": _AND, "+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "//": _MUL}

_LAYOUT_FIELDS = frozenset({"paren"})
"""AST fields that record layout only (`Call.paren`: whether `( )` were written)."""


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _name(label: str) -> str:
    """A label as written: bare when it lexes as a name, quoted otherwise (`"block1-0"`,
    `"3"`; `in` is the keyword of `in.channels`)."""
    return label if _PLAIN.match(label) and label != "in" else quote(label)


def _label(label: str) -> str:
    """A unit's label: `@...` labels are written bare (they lex as one token)."""
    return label if label.startswith("@") else _name(label)


def _path(segs: Sequence[str]) -> str:
    """A dotted path as written: indices bare (`features.3`), other segments as labels. An
    index right after an index is quoted: `features.1.0` would lex as the number `1.0`."""
    out: list[str] = []
    for i, s in enumerate(segs):
        bare = s.isdigit() and not (i > 0 and segs[i - 1].isdigit())
        out.append(s if bare else _name(s))
    return ".".join(out)


def format_source(text: str, path: str) -> str:
    """Parse `text` and return it formatted. Raises the parser's SpecErrors unchanged."""
    tree, comments = parse(text, path)
    return format_module(to_ast(tree, path), comments)


def format_module(module: A.Module, comments: list[Token]) -> str:
    """The canonical text of `module`, with `comments` (from `parse`) put back in order."""
    return _Formatter(module, comments).run()


def strip_spans(node: Any) -> Any:
    """`node` as plain data without its spans (and without layout-only fields such as
    `Call.paren`): two ASTs mean the same spec exactly when their stripped forms are equal."""
    if isinstance(node, A.Node):
        out: dict[str, Any] = {"node": type(node).__name__}
        for name in type(node).model_fields:
            if name in _LAYOUT_FIELDS:
                continue
            value = getattr(node, name)
            if isinstance(value, Span) or (
                isinstance(value, tuple) and value and all(isinstance(v, Span) for v in value)
            ):
                continue
            if name == "name_spans":
                continue
            out[name] = strip_spans(value)
        return out
    if isinstance(node, (tuple, list)):
        return [strip_spans(v) for v in node]
    return node


# ---- expressions ------------------------------------------------------------------------------


def quote(value: str) -> str:
    """A string literal that the parser reads back as `value`."""
    esc = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{esc}"'


def format_expr(e: A.Expr, level: int = _SIZE) -> str:
    """`e` with the fewest parentheses, in a context that binds at least as loosely as `level`."""
    text, own = _expr(e)
    return f"({text})" if own < level else text


def _expr(e: A.Expr) -> tuple[str, int]:
    if isinstance(e, A.Number):
        return e.text, _ATOM
    if isinstance(e, A.SizeLit):
        return "x".join(str(d) for d in e.dims), _ATOM
    if isinstance(e, A.String):
        return quote(e.value), _ATOM
    if isinstance(e, A.Var):
        return e.name, _ATOM
    if isinstance(e, A.Const):
        return {True: "true", False: "false", None: "none"}[e.value], _ATOM
    if isinstance(e, A.InRef):
        return f"{e.base}.{e.attr}", _ATOM
    if isinstance(e, A.Func):
        return f"{e.name}({_args(e.args, e.kwargs)})", _ATOM
    if isinstance(e, A.TupleExpr):
        items = [format_expr(i) for i in e.items]
        return ("(" + items[0] + ",)" if len(items) == 1 else f"({', '.join(items)})"), _ATOM
    if isinstance(e, A.ListExpr):
        return "[" + ", ".join(format_expr(i) for i in e.items) + "]", _ATOM
    if isinstance(e, A.ListComp):
        text = f"[{format_expr(e.element)} for {_target(e.target, top=True)} in "
        text += format_expr(e.iter, _OR)
        if e.cond is not None:
            text += f" if {format_expr(e.cond, _OR)}"
        return text + "]", _ATOM
    if isinstance(e, A.Index):
        return f"{format_expr(e.target, _ATOM)}[{format_expr(e.index)}]", _ATOM
    if isinstance(e, A.Slice):
        lo = "" if e.start is None else format_expr(e.start)
        hi = "" if e.stop is None else format_expr(e.stop)
        return f"{format_expr(e.target, _ATOM)}[{lo}:{hi}]", _ATOM
    if isinstance(e, A.Cond):
        then, cond = format_expr(e.then, _OR), format_expr(e.cond, _OR)
        return f"{then} if {cond} else {format_expr(e.orelse, _COND)}", _COND
    if isinstance(e, A.BinOp) and e.op == "**":  # right associative, tighter than unary `-`
        return f"{format_expr(e.left, _ATOM)} ** {format_expr(e.right, _NEG)}", _POW
    if isinstance(e, A.BinOp):
        lvl = _BIN_LEVEL[e.op]
        left = format_expr(e.left, lvl)
        right = format_expr(e.right, lvl + 1)
        return f"{left} {e.op} {right}", lvl
    if isinstance(e, A.UnaryOp):
        if e.op == "not":
            return f"not {format_expr(e.operand, _NOT)}", _NOT
        operand = format_expr(e.operand, _NEG)
        return ("- " if operand.startswith("-") else "-") + operand, _NEG
    if isinstance(e, A.Compare):
        return f"{format_expr(e.left, _ADD)} {e.op} {format_expr(e.right, _ADD)}", _CMP
    if isinstance(e, A.SizeExpr):
        return " x ".join(format_expr(p, _OR) for p in e.parts), _SIZE
    raise TypeError(f"not an expression: {type(e).__name__}")


def _target(t: A.ForTarget, top: bool = False) -> str:
    """A `for` target: names, tuples in parentheses but at the top (`i, (t, c)`)."""
    if t.name is not None:
        return t.name
    inner = ", ".join(_target(i) for i in t.items)
    return inner if top else f"({inner})"


def _kwarg(k: A.KwArg) -> str:
    return f"{k.name}={format_expr(k.value)}"


def _args(args: tuple[A.Expr, ...], kwargs: tuple[A.KwArg, ...]) -> str:
    return ", ".join([format_expr(a) for a in args] + [_kwarg(k) for k in kwargs])


_ATOMS = (A.Number, A.SizeLit, A.String, A.Var, A.Const, A.InRef)


def _is_posarg(e: A.Expr) -> bool:
    """Can `e` be written after a layer name without parentheses?"""
    if isinstance(e, A.SizeExpr):
        return all(isinstance(p, _ATOMS) for p in e.parts)
    return isinstance(e, _ATOMS)


# ---- lines ------------------------------------------------------------------------------------


@dataclass
class _Line:
    """One output line before comments are merged in.

    `pos` is the source position of the line's first token (None when unknown): comments are
    placed relative to it. `kind` is "stmt" / "decl" for a line that starts a statement /
    declaration, "close" for a line starting with `}`, "" otherwise; `prev_end` is the source
    end line of the previous sibling (blank-line keeping), None for a first one.
    """

    indent: int
    text: str
    pos: Pos | None = None
    kind: str = ""
    prev_end: int | None = None
    comment_indent: int | None = None
    force_blank: bool = False
    leading: list[tuple[int, str]] = field(default_factory=list)
    trailing: list[tuple[int, str]] = field(default_factory=list)


def _copy(lines: list[_Line]) -> list[_Line]:
    return [replace(ln, leading=[], trailing=[]) for ln in lines]


def _start(span: Span) -> Pos:
    return (span.line, span.column)


def _end(span: Span) -> Pos:
    return (span.end_line, max(span.end_column - 1, 1))


def _fits(col: int, text: str) -> bool:
    return col + len(text) <= LINE_LIMIT


def _stmt_end_line(s: A.Node) -> int:
    if isinstance(s, (A.AuxStmt, A.NetworkDecl, A.BlockDecl, A.FnDecl)):
        return s.body.span.end_line
    return s.span.end_line


def _stmt_start(s: A.Node) -> Pos:
    return _start(s.span)


class _Formatter:
    def __init__(self, module: A.Module, comments: list[Token]) -> None:
        self.module = module
        firsts = _first_token_cols(module)
        self.comments: list[tuple[Pos, str, bool]] = []
        for tok in comments:
            line, col = tok.line or 1, tok.column or 1
            trailing = firsts.get(line, col) < col
            self.comments.append(((line, col), str(tok).rstrip(), trailing))
        self.occupied = set(firsts) | {c[0][0] for c in self.comments}
        self.comments.sort(key=lambda c: c[0])
        self._cpos = [c[0] for c in self.comments]
        self._memo: dict[tuple[int, int, bool], list[_Line]] = {}

    # -- comment queries --
    def _comment_between(self, a: Pos, b: Pos) -> bool:
        """Is there a comment strictly between positions a and b?"""
        i = bisect.bisect_right(self._cpos, a)
        return i < len(self._cpos) and self._cpos[i] < b

    def _comment_in(self, span: Span) -> bool:
        return self._comment_between(_start(span), _end(span))

    # -- declarations --
    def run(self) -> str:
        lines: list[_Line] = []
        prev: A.Node | None = None
        for decl in self.module.decls:
            dl = self._decl(decl)
            dl[0].kind = "decl"
            dl[0].pos = _start(decl.span)
            dl[0].prev_end = _stmt_end_line(prev) if prev is not None else None
            dl[0].force_blank = prev is not None and not (
                isinstance(prev, A.ImportDecl)
                and isinstance(decl, A.ImportDecl)
                or isinstance(prev, A.FnDecl)
                and isinstance(decl, A.FnDecl)
            )
            lines.extend(dl)
            prev = decl
        eof_prev = _stmt_end_line(prev) if prev is not None else None
        return _merge(lines, self.comments, eof_prev, self.occupied)

    def _decl(self, d: A.Node) -> list[_Line]:
        if isinstance(d, A.ImportDecl):
            words = f"import {quote(d.path)}"
            if d.names is None:
                return [_Line(0, words)]
            spans: list[Pos | None] = [_start(s) for s in d.name_spans]
            spans += [None] * (len(d.names) - len(spans))
            return self._fill(words + " (", list(zip(d.names, spans, strict=False)), ")", 0, 0)
        if isinstance(d, A.FnDecl):
            return self._fn(d)
        assert isinstance(d, (A.NetworkDecl, A.BlockDecl))
        word = "network" if isinstance(d, A.NetworkDecl) else "block"
        if d.params:
            head = self._params(f"{word} {d.name}(", d.params, ") {")
            head[-1].text = head[-1].text[:-1]  # the block below writes the `{`
        else:
            head = [_Line(0, f"{word} {d.name} ")]
        if isinstance(d, A.NetworkDecl) and d.extends is not None:
            head = self._extends(head, d.extends)
        return self._attach_block(head, d.body, 0, inline_ok=False, flat=False)

    def _fn(self, d: A.FnDecl) -> list[_Line]:
        """`fn name(params) -> T = expr`; the expression goes on the next line, indented 2,
        when it does not fit (a newline after `=` does not end the declaration)."""
        tail = ")" + (f" -> {d.returns}" if d.returns is not None else "") + " ="
        head = self._params(f"fn {d.name}(", d.params, tail)
        body = format_expr(d.body)
        last = head[-1]
        if _fits(last.indent + len(last.text), " " + body):
            last.text += " " + body
            return head
        table = self._value("", d.body, INDENT)
        if table is not None:
            table[0].pos = _start(d.body.span)
            return head + table
        return [*head, _Line(INDENT, body, pos=_start(d.body.span))]

    def _value(self, head: str, e: A.Expr, indent: int) -> list[_Line] | None:
        """`head` and a list literal (or an item of one: `[...][i]`) that does not fit on one
        line, broken after commas with the items aligned after the `[` (a table); None when
        `e` is no such list or fits (newlines inside `[ ]` do not end a statement)."""
        if _fits(indent, head + format_expr(e)):
            return None
        suffix = "]"
        if isinstance(e, A.Index) and isinstance(e.target, A.ListExpr):
            suffix += f"[{format_expr(e.index)}]"
            e = e.target
        if not isinstance(e, A.ListExpr) or not e.items:
            return None
        items = [(format_expr(i), _start(i.span)) for i in e.items]
        return self._fill(head + "[", items, suffix, indent, indent)

    def _extends(self, head: list[_Line], e: A.Extends) -> list[_Line]:
        """`extends parent(args) ` after the head, or on its own line (indented 2) when the
        head's last line would not fit; a newline before `extends` does not end a statement."""
        last = head[-1]
        if not e.args and not e.kwargs:
            text = f"extends {e.name} "
            if _fits(last.indent + len(last.text), text + "{"):
                last.text += text
                return head
            return [*head, _Line(INDENT, text, pos=_start(e.span))]
        items = [(format_expr(a), _start(a.span)) for a in e.args]
        items += [(_kwarg(k), _start(k.span)) for k in e.kwargs]
        col = last.indent + len(last.text)
        one = f"extends {e.name}({', '.join(t for t, _ in items)}) {{"
        if _fits(col, one):
            last.text += one[:-1]
            return head
        lines = self._fill(f"extends {e.name}(", items, ") {", INDENT, INDENT)
        lines[0].pos = _start(e.span)
        lines[-1].text = lines[-1].text[:-1]
        return head + lines

    def _param(self, p: A.Param) -> str:
        text = f"{p.name}: {p.type}"
        return text if p.default is None else f"{text} = {format_expr(p.default)}"

    def _params(self, prefix: str, params: tuple[A.Param, ...], suffix: str) -> list[_Line]:
        """A declaration's `prefix(params)suffix`, filled like any list (`_fill`); a parameter
        too long for a line of its own (`variant: choice["b0", ..., "b7"] = "b0"`) gets lines
        of its own, its type's items broken like a list and aligned after the type's `[`. The
        items have no source positions: the first line takes the parameter's start, the others
        its end, so a comment after the parameter trails its last line (as after any item) and
        one inside its type stays inside (trailing the first line, or before the second)."""
        items = [(self._param(p), _start(p.span)) for p in params]
        align = len(prefix)
        long = [
            i
            for i, (p, (text, _)) in enumerate(zip(params, items, strict=True))
            if not _fits(align, text + ("," if i < len(items) - 1 else suffix.rstrip()))
            and _type_items(p.type) is not None
        ]
        if not long:
            return self._fill(prefix, items, suffix, 0, 0)
        lines: list[_Line] = []
        runs: list[tuple[int, int]] = []  # [i, j) of items, a long one alone
        start = 0
        for i in long:
            runs += [(start, i)] if start < i else []
            runs.append((i, i + 1))
            start = i + 1
        runs += [(start, len(items))] if start < len(items) else []
        for i, j in runs:
            lead, col = (prefix, 0) if i == 0 else ("", align)
            end = suffix if j == len(items) else ","
            if i in long:
                p = params[i]
                base, args = _type_items(p.type) or ("", [])
                default = "" if p.default is None else f" = {format_expr(p.default)}"
                pos = [(a, None) for a in args]
                got = self._fill(f"{lead}{p.name}: {base}[", pos, f"]{default}{end}", col, col)
            else:
                got = self._fill(lead, items[i:j], end, col, col)
            got[0].pos = items[i][1]
            if i in long:  # a comment after it trails its last line
                p = params[i]
                last = _end(p.type_span if p.default is None else p.default.span)
                for ln in got[1:]:
                    ln.pos = last
            lines += got
        return lines

    # -- bodies --
    def _stmts(self, stmts: tuple[A.Stmt, ...], indent: int) -> list[_Line]:
        out: list[_Line] = []
        prev_end: int | None = None
        for s in stmts:
            lines = self._stmt(s, indent)
            lines[0].kind = "stmt"
            lines[0].pos = _stmt_start(s)
            lines[0].prev_end = prev_end
            out.extend(lines)
            prev_end = _stmt_end_line(s)
        return out

    def _attach_block(
        self, head: list[_Line], body: A.Body, indent: int, *, inline_ok: bool, flat: bool
    ) -> list[_Line]:
        """Append `{ body }` to the last of `head`'s lines (whose text ends with a space)."""
        last = head[-1]
        col = last.indent + len(last.text)
        lines = self._block(body, indent, col, inline_ok=inline_ok, flat=flat)
        last.text += lines[0].text
        return head + lines[1:]

    def _block(
        self, body: A.Body, indent: int, col: int, *, inline_ok: bool, flat: bool
    ) -> list[_Line]:
        """`{ ... }` starting at column `col` of a line indented `indent`."""
        has_comment = self._comment_in(body.span)
        if not body.stmts and not has_comment:
            return [_Line(indent, "{}")]
        if inline_ok and len(body.stmts) == 1 and not has_comment:
            stmt = body.stmts[0]
            if isinstance(stmt, A.Chain) and all(isinstance(u.core, A.Call) for u in stmt.units):
                text = "{ " + self._chain_flat(stmt, indent)[0].text + " }"
                if flat or _fits(col, text):
                    return [_Line(indent, text)]
        lines = [_Line(indent, "{")]
        lines.extend(self._stmts(body.stmts, indent + INDENT))
        lines.append(
            _Line(
                indent,
                "}",
                pos=_end(body.span),
                kind="close",
                prev_end=_stmt_end_line(body.stmts[-1]) if body.stmts else None,
                comment_indent=indent + INDENT,
            )
        )
        return lines

    # -- statements --
    def _stmt(self, s: A.Stmt, indent: int) -> list[_Line]:
        if isinstance(s, A.Chain):
            return self._chain(s, indent)
        if isinstance(s, A.InputStmt):
            return [_Line(indent, f"input {format_expr(s.shape)}")]
        if isinstance(s, A.LetStmt):
            head = f"let {s.name} = "
            return self._value(head, s.value, indent) or [
                _Line(indent, head + format_expr(s.value))
            ]
        if isinstance(s, A.DefaultsStmt):
            items = [(_kwarg(k), _start(k.span)) for k in s.kwargs]
            return self._fill(f"defaults {s.op}(", items, ")", indent, indent)
        if isinstance(s, A.IfStmt):
            return self._if(s, indent)
        if isinstance(s, A.ForStmt):
            head = f"for {_target(s.target, top=True)} in {format_expr(s.iter)} "
            if s.pattern is not None:
                head += f"as {quote(s.pattern.value)} "
            return self._attach_block(
                [_Line(indent, head)], s.body, indent, inline_ok=False, flat=False
            )
        if isinstance(s, A.AuxStmt):
            head = f"{s.name}: aux from {_path(s.tap)} "
            head += "".join(_kwarg(o) + " " for o in s.options)
            return self._attach_block(
                [_Line(indent, head)], s.body, indent, inline_ok=True, flat=False
            )
        if isinstance(s, A.ExpectStmt):
            return self._expect(s, indent)
        if isinstance(s, A.ReplaceStmt):
            head = f"replace {_path(s.target)} with "
            lines = self._unit(s.unit, indent, indent + len(head), flat=False)
            lines[0].text = head + lines[0].text
            return lines
        if isinstance(s, A.InsertStmt):
            lines = self._unit(s.unit, indent, indent + len("insert "), flat=False)
            lines[0].text = "insert " + lines[0].text
            lines[-1].text += f" {s.where} {_path(s.target)}"
            return lines
        if isinstance(s, A.RemoveStmt):
            paths: list[tuple[str, Pos | None]] = [
                (_path(t), _start(sp)) for t, sp in zip(s.targets, s.target_spans, strict=False)
            ]
            paths += [(_path(t), None) for t in s.targets[len(s.target_spans) :]]
            return self._fill_plain("remove ", paths, indent)
        raise TypeError(f"not a statement: {type(s).__name__}")

    def _fill_plain(
        self, prefix: str, items: list[tuple[str, Pos | None]], indent: int
    ) -> list[_Line]:
        """`prefix a, b, c` broken after commas (a newline after `,` does not end a line)."""
        lines = [_Line(indent, prefix + items[0][0])]
        for text, pos in items[1:]:
            last = lines[-1]
            if _fits(last.indent, last.text + ", " + text + ","):
                last.text += ", " + text
            else:
                last.text += ","
                lines.append(_Line(indent + INDENT, text, pos=pos))
        return lines

    def _if(self, s: A.IfStmt, indent: int) -> list[_Line]:
        lines = self._attach_block(
            [_Line(indent, f"if {format_expr(s.cond)} ")],
            s.then,
            indent,
            inline_ok=False,
            flat=False,
        )
        if s.orelse is None:
            return lines
        last = lines[-1]
        if isinstance(s.orelse, A.IfStmt):
            rest = self._if(s.orelse, indent)
            last.text += " else " + rest[0].text
            return lines + rest[1:]
        last.text += " else "
        return self._attach_block(lines, s.orelse, indent, inline_ok=False, flat=False)

    def _expect(self, s: A.ExpectStmt, indent: int) -> list[_Line]:
        target = _path(s.target)
        clauses: list[tuple[str, Pos | None]] = [
            (f"expect {target} {s.cmp} {format_expr(s.value)}", None)
        ]
        if s.tolerance is not None:
            tol = s.tolerance
            text = tol.text if tol.value is None else format_expr(tol.value)
            clauses.append((f"within {text}", _start(tol.span)))
        if s.with_:
            clauses.append(
                ("with " + ", ".join(_kwarg(k) for k in s.with_), _start(s.with_[0].span))
            )
        clauses.append((f"source {quote(s.source)}", (s.span.end_line, 0)))
        lines = [_Line(indent, clauses[0][0])]
        for text, pos in clauses[1:]:
            last = lines[-1]
            if _fits(last.indent, last.text + " " + text):
                last.text += " " + text
            else:
                lines.append(_Line(indent + INDENT, text, pos=pos))
        return lines

    # -- chains and units --
    def _chain_flat(self, chain: A.Chain, indent: int) -> list[_Line]:
        key = (id(chain), indent, True)
        if key not in self._memo:
            self._memo[key] = self._chain_flat_uncached(chain, indent)
        return _copy(self._memo[key])

    def _chain_flat_uncached(self, chain: A.Chain, indent: int) -> list[_Line]:
        lines = self._unit(chain.units[0], indent, indent, flat=True)
        for u in chain.units[1:]:
            last = lines[-1]
            sub = self._unit(u, indent, last.indent + len(last.text) + 4, flat=True)
            last.text += " -> " + sub[0].text
            lines.extend(sub[1:])
        return lines

    def _chain(self, chain: A.Chain, indent: int) -> list[_Line]:
        # Memoised: deciding flat/broken and inline bodies renders nested chains several
        # times, which would be exponential in the nesting depth.
        key = (id(chain), indent, False)
        if key not in self._memo:
            self._memo[key] = self._chain_uncached(chain, indent)
        return _copy(self._memo[key])

    def _chain_uncached(self, chain: A.Chain, indent: int) -> list[_Line]:
        units = chain.units
        forced = any(
            self._comment_between(_end(a.span), _start(b.span))
            for a, b in zip(units, units[1:], strict=False)
        )
        if not forced:
            lines = self._chain_flat(chain, indent)
            if all(_fits(ln.indent, ln.text) for ln in lines if ln.indent == indent):
                return lines
        lines = self._unit(units[0], indent, indent, flat=False)
        for u in units[1:]:
            sub = self._unit(u, indent + INDENT, indent + INDENT + 3, flat=False)
            sub[0].text = "-> " + sub[0].text
            sub[0].pos = _start(u.span)
            lines.extend(sub)
        return lines

    def _unit(self, u: A.Unit, indent: int, col: int, *, flat: bool) -> list[_Line]:
        lead = f"{_label(u.label)}: " if u.label is not None else ""
        lead += "*" if u.splice else ""
        lines = self._core(u.core, indent, col + len(lead), flat=flat)
        lines[0].text = lead + lines[0].text
        return lines

    def _core(self, c: A.Core, indent: int, col: int, *, flat: bool) -> list[_Line]:
        if isinstance(c, A.Call):
            return self._call(c, indent, col, flat=flat)
        if isinstance(c, A.Group):
            return self._block(c.body, indent, col, inline_ok=True, flat=flat)
        if isinstance(c, A.Merge):
            # positional arguments are an error later (resolve_names), but fmt keeps them
            args = "".join(format_expr(a, _ATOM) + " " for a in c.args)
            word = c.name + " " + args + "".join(_kwarg(o) + " " for o in c.options)
            block = self._block(c.body, indent, col + len(word), inline_ok=False, flat=flat)
            block[0].text = word + block[0].text
            return block
        if isinstance(c, A.Residual):
            head = "residual " + "".join(_kwarg(o) + " " for o in c.options)
            lines = self._block(c.body, indent, col + len(head), inline_ok=True, flat=flat)
            lines[0].text = head + lines[0].text
            if c.shortcut is not None:
                last = lines[-1]
                last.text += " shortcut "
                sc_col = (col if len(lines) == 1 else indent) + len(last.text)
                sc = self._block(c.shortcut, indent, sc_col, inline_ok=True, flat=flat)
                last.text += sc[0].text
                lines.extend(sc[1:])
            return lines
        if isinstance(c, A.Repeat):
            count = format_expr(c.count, _ATOM)
            if count.startswith("["):  # `[...]` is no positional atom: `repeat ([2][0])`
                count = f"({count})"
            head = f"repeat {count} "
            if c.pattern is not None:
                head += f"as {quote(c.pattern.value)} "
            lines = self._block(c.body, indent, col + len(head), inline_ok=True, flat=flat)
            lines[0].text = head + lines[0].text
            return lines
        raise TypeError(f"not a unit: {type(c).__name__}")

    def _call(self, c: A.Call, indent: int, col: int, *, flat: bool) -> list[_Line]:
        if c.name in LAYERS and all(_is_posarg(a) for a in c.args):
            parts = [c.name] + [format_expr(a) for a in c.args] + [_kwarg(k) for k in c.kwargs]
            return [_Line(indent, " ".join(parts))]
        if not c.args and not c.kwargs:
            return [_Line(indent, c.name)]
        items: list[tuple[str, Pos | None]] = [(format_expr(a), _start(a.span)) for a in c.args]
        items += [(_kwarg(k), _start(k.span)) for k in c.kwargs]
        if flat:
            return [_Line(indent, f"{c.name}({', '.join(t for t, _ in items)})")]
        lines = self._fill(f"{c.name}(", items, ")", indent, col)
        return lines

    def _fill(
        self,
        prefix: str,
        items: Sequence[tuple[str, Pos | None]],
        suffix: str,
        indent: int,
        col: int,
    ) -> list[_Line]:
        """`prefix item, item, ...suffix` from column `col`, within LINE_LIMIT columns where
        possible: the fewest lines, then the narrowest widest line, then earlier lines as
        short as possible. Continuation lines are aligned just after the prefix (its `(`)."""
        one = prefix + ", ".join(t for t, _ in items) + suffix
        if not items or _fits(col, one.rstrip()):
            return [_Line(indent, one)]
        breaks = _balanced_breaks([t for t, _ in items], suffix.rstrip(), col + len(prefix))
        lines: list[_Line] = []
        for i, j in zip(breaks, breaks[1:], strict=False):
            text = ", ".join(t for t, _ in items[i:j]) + ("," if j < len(items) else suffix)
            if i == 0:
                lines.append(_Line(indent, prefix + text))
            else:
                lines.append(_Line(col + len(prefix), text, pos=items[i][1]))
        return lines


def _type_items(text: str) -> tuple[str, list[str]] | None:
    """A parameter type's text split at its outer brackets: (`choice`, [`"a"`, `"b"`]) for
    `choice["a", "b"]`, the items split at top-level commas (not inside a nested `[ ]` or a
    string); None for a type without items (`int`)."""
    if not text.endswith("]") or "[" not in text:
        return None
    base, inner = text[: text.index("[")], text[text.index("[") + 1 : -1]
    items: list[str] = []
    depth, quoted, escaped, start = 0, False, False, 0
    for k, c in enumerate(inner):
        if quoted:
            escaped, quoted = (not escaped and c == "\\"), quoted and (escaped or c != '"')
        elif c == '"':
            quoted = True
        elif c in "[]":
            depth += 1 if c == "[" else -1
        elif c == "," and depth == 0:
            items.append(inner[start:k].strip())
            start = k + 1
    items.append(inner[start:].strip())
    return base, items


def _balanced_breaks(texts: list[str], suffix: str, align: int) -> list[int]:
    """Item indices where the lines of `_Formatter._fill` start (plus the end index)."""
    k = len(texts)

    def end_col(i: int, j: int) -> int:  # a line holding items i..j-1
        return align + len(", ".join(texts[i:j])) + (1 if j < k else len(suffix))

    def count(i: int, width: int) -> int:  # greedy, at least one item a line
        n = 0
        while i < k:
            j = i + 1
            while j < k and end_col(i, j + 1) <= width:
                j += 1
            i, n = j, n + 1
        return n

    n = count(0, LINE_LIMIT)
    width = LINE_LIMIT
    while width > align and count(0, width - 1) <= n:
        width -= 1
    breaks, i, left = [0], 0, n
    while i < k:
        j = i + 1
        while j < k and count(j, width) > left - 1:
            j += 1
        breaks.append(j)
        i, left = j, left - 1
    return breaks


def _first_token_cols(module: A.Module) -> dict[int, int]:
    """For each source line holding a token, the smallest column where a node starts or ends.

    A comment is a trailing one when some token stands before it on its line; a line missing
    from the result is blank (or holds only a comment, or punctuation inside parentheses).
    """
    firsts: dict[int, int] = {}

    def note(line: int, col: int) -> None:
        if col < firsts.get(line, 1 << 30):
            firsts[line] = col

    stack: list[Any] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, Span):
            note(node.line, node.column)
            note(node.end_line, max(node.end_column - 1, 1))
        elif isinstance(node, A.Node):
            stack.extend(getattr(node, name) for name in type(node).model_fields)
        elif isinstance(node, tuple):
            stack.extend(node)
    return firsts


def _merge(
    lines: list[_Line],
    comments: list[tuple[Pos, str, bool]],
    eof_prev: int | None,
    occupied: set[int],
) -> str:
    """Put the comments onto the lines and render the file (see the module docstring)."""
    top = max(occupied, default=0) + 2
    blanks_upto = [0] * (top + 1)  # blanks_upto[n]: blank source lines among 1..n
    for n in range(1, top + 1):
        blanks_upto[n] = blanks_upto[n - 1] + (n not in occupied)

    def blank_between(a: int | None, b: int) -> bool:
        """Is a source line strictly between lines a and b blank?"""
        if a is None or b - a < 2:
            return False
        return blanks_upto[min(b - 1, top)] - blanks_upto[min(a, top)] > 0

    # Positions are made monotone so that every comment has one place.
    last: Pos | None = None
    for ln in lines:
        if ln.pos is not None:
            if last is not None and ln.pos < last:
                ln.pos = last
            last = ln.pos
    placed = [(ln.pos, i) for i, ln in enumerate(lines) if ln.pos is not None]
    keys = [p for p, _ in placed]
    eof: list[tuple[int, str]] = []
    for pos, text, trailing in comments:
        if trailing:
            k = bisect.bisect_right(keys, pos) - 1
            if k >= 0:
                lines[placed[k][1]].trailing.append((pos[0], text))
                continue
        k = bisect.bisect_right(keys, pos)
        if k < len(placed):
            lines[placed[k][1]].leading.append((pos[0], text))
        else:
            eof.append((pos[0], text))

    out: list[str] = []

    def emit_group(
        items: list[tuple[int, str]], indent: int, prev_end: int | None, force: bool
    ) -> int | None:
        running = prev_end
        for n, (line, text) in enumerate(items):
            blank = (n == 0 and force) or blank_between(running, line)
            if blank and out and out[-1] != "":
                out.append("")
            out.append(" " * indent + text)
            running = line if running is None else max(running, line)
        return running

    for ln in lines:
        ci = ln.comment_indent if ln.comment_indent is not None else ln.indent
        if ln.kind in ("stmt", "decl"):
            running = emit_group(ln.leading, ci, ln.prev_end, ln.force_blank)
            start = ln.pos[0] if ln.pos is not None else 0
            if ln.force_blank and not ln.leading:
                if out and out[-1] != "":
                    out.append("")
            elif blank_between(running, start) and out and out[-1] != "":
                out.append("")
        elif ln.kind == "close":
            emit_group(ln.leading, ci, ln.prev_end, False)
        else:
            for _, text in ln.leading:
                out.append(" " * ci + text)
        for _, text in ln.trailing[:-1]:
            out.append(" " * ci + text)
        body = " " * ln.indent + ln.text.rstrip()
        if ln.trailing:
            body += "  " + ln.trailing[-1][1]
        out.append(body)
    emit_group(eof, 0, eof_prev, False)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n" if out else ""
