"""Property tests (hypothesis) of the parser, the AST builder and the formatter.

Why: hand-written parser tests only cover the inputs someone thought of. Here random ASTs are
printed by a deliberately naive printer (every compound expression parenthesised, every call
in parentheses, every optional newline taken: chains broken before `->`, `else`/`shortcut`/
`within`/`with`/`source` on their own lines, arguments one per line with trailing commas) and
by the formatter; both must parse back to the same AST. Random mutations of the bundled specs
must fail with a SpecError only (never a Lark or Python error), quickly, and whenever a
mutation still parses, the formatter must keep its meaning and be idempotent.
"""

from __future__ import annotations

import re
import string
import time
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inceptdsl import SpecError
from inceptdsl.fmt import format_module, format_source, quote, strip_spans
from inceptdsl.front import ast as A
from inceptdsl.front.parse import parse
from inceptdsl.front.source import Span
from inceptdsl.front.transform import decode_number, to_ast
from inceptdsl.ir.ops import LAYERS

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = {
    p.name + str(i): p.read_text(encoding="utf-8")
    for i, p in enumerate(sorted((ROOT / "specs").glob("**/*.incept")))
}
PATH = "gen.incept"
SP = Span(PATH, 1, 1, 1, 2)

# Every word the grammar spells out is a keyword (lark's lexer never reads it as a NAME).
KEYWORDS = frozenset(
    re.findall(r'"([A-Za-z_]\w*)"', (ROOT / "inceptdsl" / "front" / "grammar.lark").read_text())
)

# No hypothesis deadlines: they flake on a loaded CI machine. The time bound that matters (no
# input makes the parser blow up) is asserted explicitly, generously, in the fuzz test.
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def meaning(text: str) -> Any:
    tree, _ = parse(text, PATH)
    return strip_spans(to_ast(tree, PATH))


# ---- strategies: random ASTs ------------------------------------------------------------------

names = st.one_of(
    st.sampled_from(["a", "b", "c7", "k", "n", "_", "Mixed_6e", "num_classes", "xs", "ins"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True),
).filter(lambda s: s not in KEYWORDS)

callee = st.one_of(st.sampled_from(sorted(LAYERS)), names)

# Labels that need quotes: a `-`, a leading digit, the keyword `in`.
labels = st.one_of(
    st.sampled_from(["block1-0", "3", "in", "conv2_block1-1"]),
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,8}", fullmatch=True),
)

int_text = st.from_regex(r"[0-9][0-9_]{0,5}[KMGT]?", fullmatch=True)
float_text = st.from_regex(
    r"[0-9][0-9_]{0,3}\.[0-9]{1,3}([eE][+-]?[0-9]{1,2})?[KMGT]?|[0-9]{1,3}[eE][+-]?[0-9]{1,2}",
    fullmatch=True,
)
numbers = st.one_of(int_text, float_text).map(
    lambda t: A.Number(span=SP, value=decode_number(t), text=t)
)
size_lits = st.lists(st.integers(0, 999), min_size=2, max_size=3).map(
    lambda d: A.SizeLit(span=SP, dims=tuple(d))
)
string_values = st.text(
    alphabet=st.one_of(
        st.sampled_from(string.ascii_letters + string.digits + " {}()#,.:;=-><_%'\"\\\n\t"),
        st.sampled_from("éß→✓"),
    ),
    max_size=10,
)
strings = string_values.map(lambda v: A.String(span=SP, value=v))
variables = names.map(lambda n: A.Var(span=SP, name=n))
consts = st.sampled_from([True, False, None]).map(lambda v: A.Const(span=SP, value=v))
in_refs = st.builds(
    lambda n, b: A.InRef(span=SP, attr=n, base=b), names, st.sampled_from(["in", "prev"])
)

atoms = st.one_of(numbers, size_lits, strings, variables, consts, in_refs)

BINOPS = ["+", "-", "*", "/", "//", "**", "and", "or"]
CMPS = ["==", "!=", "~=", "<=", ">=", "<", ">"]


def _kwargs(values: st.SearchStrategy[Any], max_size: int = 2) -> st.SearchStrategy[Any]:
    return st.lists(
        st.builds(lambda n, v: A.KwArg(span=SP, name=n, value=v), names, values),
        max_size=max_size,
    ).map(tuple)


def _tuple_target(items: list[A.ForTarget]) -> A.ForTarget:
    return A.ForTarget(span=SP, name=None, items=tuple(items))


# A name, or a tuple of two or more targets (`i, (t, c)`; `(a)` is just `a`).
for_targets = st.recursive(
    names.map(lambda n: A.ForTarget(span=SP, name=n)),
    lambda inner: st.lists(inner, min_size=2, max_size=3).map(_tuple_target),
    max_leaves=5,
)


def _extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(
            lambda op, a, b: A.BinOp(span=SP, op=op, left=a, right=b),
            st.sampled_from(BINOPS),
            inner,
            inner,
        ),
        st.builds(
            lambda op, a: A.UnaryOp(span=SP, op=op, operand=a), st.sampled_from(["-", "not"]), inner
        ),
        st.builds(
            lambda op, a, b: A.Compare(span=SP, op=op, left=a, right=b),
            st.sampled_from(CMPS),
            inner,
            inner,
        ),
        st.lists(inner, min_size=2, max_size=3).map(lambda p: A.SizeExpr(span=SP, parts=tuple(p))),
        st.lists(inner, min_size=1, max_size=3).map(lambda i: A.TupleExpr(span=SP, items=tuple(i))),
        st.builds(
            lambda n, a, k: A.Func(span=SP, name=n, args=tuple(a), kwargs=k),
            names,
            st.lists(inner, max_size=2),
            _kwargs(inner),
        ),
        st.lists(inner, max_size=3).map(lambda i: A.ListExpr(span=SP, items=tuple(i))),
        st.builds(lambda t, i: A.Index(span=SP, target=t, index=i), inner, inner),
        st.builds(
            lambda el, t, it, c: A.ListComp(span=SP, element=el, target=t, iter=it, cond=c),
            inner,
            for_targets,
            inner,
            st.none() | inner,
        ),
        st.builds(
            lambda t, a, b: A.Slice(span=SP, target=t, start=a, stop=b),
            inner,
            st.none() | inner,
            st.none() | inner,
        ),
        st.builds(lambda a, c, b: A.Cond(span=SP, then=a, cond=c, orelse=b), inner, inner, inner),
    )


exprs = st.recursive(atoms, _extend, max_leaves=8)
posarg_sizes = st.lists(atoms, min_size=2, max_size=3).map(
    lambda p: A.SizeExpr(span=SP, parts=tuple(p))
)
call_args = st.lists(st.one_of(atoms, atoms, posarg_sizes, exprs), max_size=3).map(tuple)


def _path(min_size: int = 1) -> st.SearchStrategy[tuple[str, ...]]:
    # An INT segment can only come last: `a.0.b` does not lex (see the report).
    tail = st.one_of(st.just(()), st.integers(0, 99).map(lambda i: (str(i),)))
    return st.builds(
        lambda segs, t: tuple(segs) + t, st.lists(names, min_size=min_size, max_size=3), tail
    )


calls = st.builds(
    lambda n, a, k: A.Call(span=SP, name=n, name_span=SP, args=a, kwargs=k),
    callee,
    call_args,
    _kwargs(exprs),
)


@cache
def bodies(depth: int) -> st.SearchStrategy[A.Body]:
    return st.lists(stmts(depth), max_size=3).map(lambda s: A.Body(span=SP, stmts=tuple(s)))


@cache
def cores(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return calls
    body = bodies(depth - 1)
    return st.one_of(
        calls,
        calls,
        body.map(lambda b: A.Group(span=SP, body=b)),
        st.builds(
            lambda n, o, b: A.Merge(span=SP, name=n, name_span=SP, args=(), options=o, body=b),
            st.sampled_from(["concat", "add"]) | names,
            _kwargs(exprs),
            body,
        ),
        st.builds(
            lambda o, b, s: A.Residual(span=SP, options=o, body=b, shortcut=s),
            _kwargs(exprs),
            body,
            st.none() | body,
        ),
        st.builds(
            lambda c, p, b: A.Repeat(span=SP, count=c, pattern=p, body=b),
            atoms,
            st.none() | strings,
            body,
        ),
    )


# `@` labels: the caller's label followed by the rest (flat, Caffe-style names).
prefix_labels = st.from_regex(r"@[A-Za-z0-9_-]{0,6}", fullmatch=True)


@cache
def units(depth: int, labelled: bool = False) -> st.SearchStrategy[A.Unit]:
    label = names | labels | prefix_labels
    plain = st.builds(
        lambda lbl, c: A.Unit(span=SP, label=lbl, label_span=SP if lbl else None, core=c),
        label if labelled else st.none() | label,
        cores(depth),
    )
    if labelled:
        return plain
    splices = calls.map(lambda c: A.Unit(span=SP, label=None, label_span=None, core=c, splice=True))
    return plain | splices


@cache
def chains(depth: int) -> st.SearchStrategy[A.Chain]:
    return st.lists(units(depth), min_size=1, max_size=3).map(
        lambda u: A.Chain(span=SP, units=tuple(u))
    )


@cache
def edits(depth: int) -> st.SearchStrategy[Any]:
    """A variant's `replace`, `insert` and `remove` statements."""
    return st.one_of(
        st.builds(
            lambda t, u: A.ReplaceStmt(span=SP, target=t, target_span=SP, unit=u),
            _path(),
            units(depth),
        ),
        st.builds(
            lambda u, w, t: A.InsertStmt(span=SP, unit=u, where=w, target=t, target_span=SP),
            units(depth, labelled=True),
            st.sampled_from(["before", "after"]),
            _path(),
        ),
        st.lists(_path(), min_size=1, max_size=3).map(
            lambda ts: A.RemoveStmt(span=SP, targets=tuple(ts), target_spans=tuple(SP for _ in ts))
        ),
    )


def _tolerance(v: Any) -> A.Tolerance:
    if isinstance(v, str):
        return A.Tolerance(span=SP, value=None, percent=float(decode_number(v[:-1])), text=v)
    return A.Tolerance(span=SP, value=v, percent=None, text="")


expects = st.builds(
    lambda t, c, v, tol, w, s: A.ExpectStmt(
        span=SP, target=t, target_span=SP, cmp=c, value=v, tolerance=tol, with_=w, source=s
    ),
    _path(),
    st.sampled_from(CMPS),
    exprs,
    st.none()
    | st.one_of(exprs, st.from_regex(r"[0-9][0-9_]{0,2}(\.[0-9]{1,2})?%", fullmatch=True)).map(
        _tolerance
    ),
    _kwargs(exprs, max_size=3),
    string_values,
)


@cache
def stmts(depth: int) -> st.SearchStrategy[Any]:
    simple = [
        exprs.map(lambda e: A.InputStmt(span=SP, shape=e)),
        st.builds(
            lambda op, k: A.DefaultsStmt(span=SP, op=op, op_span=SP, kwargs=k),
            callee,
            _kwargs(exprs, 3),
        ),
        st.builds(lambda n, v: A.LetStmt(span=SP, name=n, value=v), names, exprs),
        expects,
        chains(depth),
        chains(depth),
        edits(depth),
    ]
    if depth == 0:
        return st.one_of(*simple)
    body = bodies(depth - 1)
    ifs = st.deferred(
        lambda: st.builds(
            lambda c, t, e: A.IfStmt(span=SP, cond=c, then=t, orelse=e),
            exprs,
            body,
            st.none() | body | ifs,
        )
    )
    aux = st.builds(
        lambda n, t, o, b: A.AuxStmt(span=SP, name=n, tap=t, tap_span=SP, options=o, body=b),
        names,
        _path(),
        _kwargs(exprs),
        body,
    )
    loops = st.builds(
        lambda t, it, p, b: A.ForStmt(span=SP, target=t, iter=it, pattern=p, body=b),
        for_targets,
        exprs,
        st.none() | string_values.map(lambda v: A.String(span=SP, value=v)),
        body,
    )
    return st.one_of(*simple, ifs, aux, loops)


types = st.recursive(
    names,
    lambda inner: st.one_of(
        inner.map(lambda t: f"list[{t}]"),
        st.lists(inner, min_size=1, max_size=3).map(lambda ts: f"tuple[{', '.join(ts)}]"),
    ),
    max_leaves=4,
)
params = st.builds(
    lambda n, t, d: A.Param(span=SP, name=n, type=t, type_span=SP, default=d),
    names,
    types,
    st.none() | exprs,
)
decls = st.one_of(
    st.builds(
        lambda p, n: A.ImportDecl(
            span=SP,
            path=p,
            path_span=SP,
            names=None if n is None else tuple(n),
            name_spans=() if n is None else tuple(SP for _ in n),
        ),
        string_values,
        st.none() | st.lists(names, min_size=1, max_size=3),
    ),
    st.builds(
        lambda n, p, e, b: A.NetworkDecl(span=SP, name=n, params=tuple(p), body=b, extends=e),
        names,
        st.lists(params, max_size=3),
        st.none()
        | st.builds(
            lambda n, a, k: A.Extends(span=SP, name=n, name_span=SP, args=tuple(a), kwargs=k),
            names,
            st.lists(exprs, max_size=2),
            _kwargs(exprs),
        ),
        bodies(2),
    ),
    st.builds(
        lambda n, p, b: A.BlockDecl(span=SP, name=n, params=tuple(p), body=b),
        names,
        st.lists(params, max_size=3),
        bodies(2),
    ),
    st.builds(
        lambda n, p, r, b: A.FnDecl(
            span=SP,
            name=n,
            params=tuple(p),
            returns=r,
            returns_span=None if r is None else SP,
            body=b,
        ),
        names,
        st.lists(params, max_size=3),
        st.none() | types,
        exprs,
    ),
)
modules = st.lists(decls, min_size=1, max_size=3).map(
    lambda d: A.Module(span=SP, path=PATH, decls=tuple(d))
)


# ---- an independent, naive printer ------------------------------------------------------------


def naive_expr(e: Any) -> str:
    if isinstance(e, A.Number):
        return e.text
    if isinstance(e, A.SizeLit):
        return "x".join(map(str, e.dims))
    if isinstance(e, A.String):
        return quote(e.value)
    if isinstance(e, A.Var):
        return e.name
    if isinstance(e, A.Const):
        return {True: "true", False: "false", None: "none"}[e.value]
    if isinstance(e, A.InRef):
        return f"{e.base} . {e.attr}"
    if isinstance(e, A.BinOp):
        return f"({naive_expr(e.left)} {e.op} {naive_expr(e.right)})"
    if isinstance(e, A.UnaryOp):
        return f"({e.op} {naive_expr(e.operand)})"
    if isinstance(e, A.Compare):
        return f"({naive_expr(e.left)} {e.op} {naive_expr(e.right)})"
    if isinstance(e, A.SizeExpr):
        return "(" + " x ".join(naive_expr(p) for p in e.parts) + ")"
    if isinstance(e, A.TupleExpr):
        return "(" + "".join(naive_expr(i) + ", " for i in e.items) + ")"
    if isinstance(e, A.Func):
        return f"{e.name}({naive_args(e.args, e.kwargs)})"
    if isinstance(e, A.ListExpr):
        return "[" + "".join(naive_expr(i) + ",\n" for i in e.items) + "]"
    if isinstance(e, A.ListComp):
        cond = "" if e.cond is None else f" if {naive_expr(e.cond)}"
        return (
            f"[{naive_expr(e.element)} for {naive_target(e.target)} in {naive_expr(e.iter)}{cond}]"
        )
    if isinstance(e, A.Index):
        return f"({naive_expr(e.target)}[{naive_expr(e.index)}])"
    if isinstance(e, A.Slice):
        lo = "" if e.start is None else naive_expr(e.start)
        hi = "" if e.stop is None else naive_expr(e.stop)
        return f"({naive_expr(e.target)}[{lo}:{hi}])"
    if isinstance(e, A.Cond):
        return f"({naive_expr(e.then)} if {naive_expr(e.cond)} else {naive_expr(e.orelse)})"
    raise AssertionError(e)


def naive_args(args: Any, kwargs: Any) -> str:
    items = [naive_expr(a) for a in args] + [f"{k.name} =\n{naive_expr(k.value)}" for k in kwargs]
    return "\n" + "".join(i + ",\n" for i in items)


def naive_opts(opts: Any) -> str:
    return "".join(f" {o.name}={naive_expr(o.value)}" for o in opts)


def naive_body(b: A.Body) -> str:
    return "{\n" + "\n".join(naive_stmt(s) for s in b.stmts) + "\n}"


def naive_core(c: Any) -> str:
    if isinstance(c, A.Call):
        return f"{c.name}({naive_args(c.args, c.kwargs)})"
    if isinstance(c, A.Group):
        return naive_body(c.body)
    if isinstance(c, A.Merge):
        return c.name + naive_opts(c.options) + " " + naive_body(c.body)
    if isinstance(c, A.Residual):
        text = "residual" + naive_opts(c.options) + " " + naive_body(c.body)
        return text + ("" if c.shortcut is None else "\nshortcut " + naive_body(c.shortcut))
    if isinstance(c, A.Repeat):
        pattern = "" if c.pattern is None else f" as {quote(c.pattern.value)}"
        return f"repeat {naive_expr(c.count)}{pattern} " + naive_body(c.body)
    raise AssertionError(c)


def naive_unit(u: A.Unit) -> str:
    if u.splice:
        return "*" + naive_core(u.core)
    if u.label is None:
        return naive_core(u.core)
    label = u.label if u.label.startswith("@") else quote(u.label)
    return f"{label} : {naive_core(u.core)}"


def naive_stmt(s: Any) -> str:
    if isinstance(s, A.Chain):
        return "\n-> ".join(naive_unit(u) for u in s.units)
    if isinstance(s, A.ReplaceStmt):
        return f"replace {'.'.join(s.target)}\nwith {naive_unit(s.unit)}"
    if isinstance(s, A.InsertStmt):
        return f"insert {naive_unit(s.unit)} {s.where} {'.'.join(s.target)}"
    if isinstance(s, A.RemoveStmt):
        return "remove " + ",\n".join(".".join(t) for t in s.targets)
    if isinstance(s, A.InputStmt):
        return f"input {naive_expr(s.shape)}"
    if isinstance(s, A.DefaultsStmt):
        return f"defaults {s.op}({naive_args((), s.kwargs)})"
    if isinstance(s, A.LetStmt):
        return f"let {s.name} =\n{naive_expr(s.value)}"
    if isinstance(s, A.IfStmt):
        text = f"if {naive_expr(s.cond)} {naive_body(s.then)}"
        if isinstance(s.orelse, A.IfStmt):
            return text + "\nelse " + naive_stmt(s.orelse)
        return text + ("" if s.orelse is None else "\nelse " + naive_body(s.orelse))
    if isinstance(s, A.ForStmt):
        pattern = "" if s.pattern is None else f" as {quote(s.pattern.value)}"
        return f"for {naive_target(s.target)} in {naive_expr(s.iter)}{pattern} {naive_body(s.body)}"
    if isinstance(s, A.AuxStmt):
        return f"{s.name}: aux from {'.'.join(s.tap)}{naive_opts(s.options)} {naive_body(s.body)}"
    if isinstance(s, A.ExpectStmt):
        text = f"expect {'.'.join(s.target)} {s.cmp} {naive_expr(s.value)}"
        if s.tolerance is not None:
            tol = s.tolerance
            text += "\nwithin " + (tol.text if tol.value is None else naive_expr(tol.value))
        if s.with_:
            text += "\nwith " + ",\n".join(f"{k.name}={naive_expr(k.value)}" for k in s.with_)
        return text + f"\nsource {quote(s.source)}"
    raise AssertionError(s)


def naive_target(t: A.ForTarget) -> str:
    if t.name is not None:
        return t.name
    return "(" + ",\n".join(naive_target(i) for i in t.items) + ",)"


def naive_module(m: A.Module) -> str:
    out = []
    for d in m.decls:
        if isinstance(d, A.ImportDecl):
            names = "" if d.names is None else " (" + ",\n".join(d.names) + ",)"
            out.append(f"import {quote(d.path)}{names}")
            continue
        if isinstance(d, A.FnDecl):
            ps = [
                f"{p.name}: {p.type}" + ("" if p.default is None else f" = {naive_expr(p.default)}")
                for p in d.params
            ]
            ret = "" if d.returns is None else f" -> {d.returns}"
            out.append(f"fn {d.name}(\n" + ",\n".join(ps) + f"){ret} =\n{naive_expr(d.body)}")
            continue
        word = "network" if isinstance(d, A.NetworkDecl) else "block"
        ps = [
            f"{p.name}: {p.type}" + ("" if p.default is None else f" = {naive_expr(p.default)}")
            for p in d.params
        ]
        ext = ""
        if isinstance(d, A.NetworkDecl) and d.extends is not None:
            ext = f"\nextends {d.extends.name}({naive_args(d.extends.args, d.extends.kwargs)})"
        out.append(f"{word} {d.name}(\n" + ",\n".join(ps) + f"){ext} {naive_body(d.body)}")
    return "\n".join(out)


# ---- properties: printing and parsing ---------------------------------------------------------


@FAST
@given(modules)
def test_naive_print_parses_back_to_the_same_ast(m: A.Module) -> None:
    assert meaning(naive_module(m)) == strip_spans(m)


@FAST
@given(modules)
def test_formatter_output_parses_back_and_is_a_fixed_point(m: A.Module) -> None:
    out = format_module(m, [])
    assert meaning(out) == strip_spans(m)
    assert format_source(out, PATH) == out
    # Layout is a function of the meaning alone (no comments or blank lines here).
    assert format_source(naive_module(m), PATH) == out


def _comment_every_line(text: str) -> str:
    """An own-line comment before, and a trailing comment after, every line."""
    out = []
    for i, line in enumerate(text.splitlines()):
        indent = line[: len(line) - len(line.lstrip())]
        out += [f"{indent}# own {i}", f"{line}  # tail {i}"]
    return "\n".join(out) + "\n"


@FAST
@given(modules)
def test_comments_on_every_line_survive_formatting(m: A.Module) -> None:
    """The naive printer breaks lines inside arguments, chains and expects: a comment on each
    of them must survive (moved to a statement boundary at worst), and fmt stays idempotent."""
    text = _comment_every_line(naive_module(m))
    out = format_source(text, PATH)
    assert meaning(out) == strip_spans(m)
    assert format_source(out, PATH) == out
    want = Counter(str(c).rstrip() for c in parse(text, PATH)[1])
    assert Counter(str(c).rstrip() for c in parse(out, PATH)[1]) == want


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        int_text, float_text, st.from_regex(r"[0-9]{1,400}(e[0-9]{3})?[KMGT]?", fullmatch=True)
    )
)
def test_number_literals_decode_or_fail_cleanly(text: str) -> None:
    try:
        m = to_ast(parse(f"network n {{ let a = {text} }}", PATH)[0], PATH)
    except SpecError:
        return
    (net,) = m.networks
    (let,) = net.body.stmts
    assert isinstance(let, A.LetStmt)
    value = let.value
    assert isinstance(value, A.Number) and value.text == text
    assert value.value == decode_number(text)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["-", "not ", "(", "-(", "{ ", "a: concat { ", "else if a {} "]),
    st.integers(1, 400),
)
def test_deep_input_fails_with_a_spec_error(opener: str, depth: int) -> None:
    if opener in ("(", "-("):
        text = "network n { let b = " + opener * depth + "a" + ")" * depth + " }"
    elif opener.endswith("{ "):
        text = "network n { " + opener * depth + "relu" + " }" * depth + " }"
    elif opener.startswith("else"):
        text = "network n { if a {} " + opener * depth + " }"
    else:
        text = "network n { let b = " + opener * depth + "a }"
    try:
        tree, comments = parse(text, PATH)
        module = to_ast(tree, PATH)
    except SpecError:
        return
    out = format_module(module, comments)
    assert meaning(out) == meaning(text)


# ---- fuzzing: mutations of the bundled specs --------------------------------------------------

INSERTS = [
    "{", "}", "(", ")", ",", ".", ":", "=", "->", "-", "#", '"', "\n", " ", "x", "3x3", "0",
    "1e9", "5%", "conv", "concat {", "else", "shortcut", "within", "source", "in.", "==",
    "\\", "\t", "\r\n", "\x00", "é", "'", "[", "]", "//", "not", "and", ")" * 70, "(" * 70,
]  # fmt: skip


@st.composite
def mutated_specs(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(sorted(BUNDLED.values())))
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        i = draw(st.integers(0, n))
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "swap"]))
        if kind == "delete":
            j = draw(st.integers(i, min(n, i + 12)))
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + draw(st.sampled_from(INSERTS)) + text[i:]
        elif kind == "duplicate":
            j = draw(st.integers(i, min(n, i + 40)))
            text = text[:j] + text[i:j] + text[j:]
        else:
            j = draw(st.integers(i, min(n, i + 40)))
            k = draw(st.integers(j, min(n, j + 40)))
            text = text[:i] + text[j:k] + text[i:j] + text[k:]
    return text


@settings(max_examples=200, deadline=None)
@given(mutated_specs())
def test_mutated_specs_fail_only_with_spec_errors(text: str) -> None:
    start = time.process_time()  # CPU time: the machine may be loaded
    try:
        tree, comments = parse(text, PATH)
        module = to_ast(tree, PATH)
    except SpecError:
        assert time.process_time() - start < 2.0
        return
    assert time.process_time() - start < 2.0
    # Still a valid spec: the formatter must keep its meaning and its comments.
    out = format_module(module, comments)
    assert meaning(out) == strip_spans(module)
    assert format_source(out, PATH) == out
    assert sorted(str(c).rstrip() for c in parse(out, PATH)[1]) == sorted(
        str(c).rstrip() for c in comments
    )
