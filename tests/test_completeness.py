"""Tables that must cover their whole domain: a new op, terminal or AST node that is not
registered everywhere fails here, not in a user's hands.

- (the op registry's completeness is tests/test_registry.py's);
- every grammar terminal that can appear in a syntax error has plain words in
  `parse.TERMINAL_NAMES` (exemptions: see test_every_terminal_has_plain_words);
- every grammar rule that reaches the transformer has a method, and every AST node kind is
  produced by the transformer, with the types its model declares.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.resources import files

from conftest import SPECS
from lark import Tree
from pydantic import BaseModel

from inceptdsl.front import ast as A
from inceptdsl.front import parse
from inceptdsl.front.transform import ToAst, to_ast

# ---- terminals -------------------------------------------------------------------------------


def _named_in_grammar() -> set[str]:
    """Terminals the grammar defines by name (`NAME: ...`), as opposed to literals in rules."""
    text = files("inceptdsl.front").joinpath("grammar.lark").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Z_][A-Z0-9_]*)(?:\.\d+)?\s*:", text, flags=re.M))


def test_every_terminal_has_plain_words() -> None:
    """Exempt: (1) anonymous terminals for a literal string in a rule (`"network"`, `"->"`):
    syntax errors show them as the quoted literal (`'network'`, via parse._anon_word), which
    is already plain words; (2) ignored whitespace, which can be neither expected nor
    unexpected. Every other terminal (regex patterns, and terminals the grammar names) needs
    an entry."""
    parser = parse._parser()
    ignored_ws = {n for n in parser.lexer_conf.ignore if n.startswith("__IGNORE")}
    named = _named_in_grammar()
    missing = []
    for t in parser.terminals:
        if t.name in ignored_ws:
            continue
        anonymous_literal = t.pattern.type == "str" and t.name not in named
        if anonymous_literal:
            assert parse._anon_word(t.name) == f"'{t.pattern.value}'"
            continue
        if t.name not in parse.TERMINAL_NAMES:
            missing.append(t.name)
    assert missing == []
    assert named <= set(parse.TERMINAL_NAMES)


def test_terminal_names_has_no_stale_entries() -> None:
    terminals = {t.name for t in parse._parser().terminals} | parse.POSTLEX_TERMINALS | {"$END"}
    assert set(parse.TERMINAL_NAMES) - terminals == set()
    assert all(v.strip() for v in parse.TERMINAL_NAMES.values())


# ---- AST and transformer ---------------------------------------------------------------------


def _tree_names(tree: Tree) -> Iterator[str]:
    for sub in tree.iter_subtrees():
        yield str(sub.data)


def test_every_rule_reaching_the_transformer_has_a_method() -> None:
    """Rules named `_x` are inlined and `?x` rules pass their single child through unless an
    alternative has an alias (`-> name`); everything else arrives as a tree named after the
    rule or its alias."""
    names = set()
    for r in parse._parser().rules:
        origin = str(r.origin.name)
        if origin.startswith("_"):
            continue
        if r.alias:
            names.add(str(r.alias))
        elif not r.options.expand1:
            names.add(origin)
    missing = sorted(n for n in names if not callable(getattr(ToAst, n, None)))
    assert missing == []
    assert "start" in names and "size" in names


def _all_node_classes() -> set[type[A.Node]]:
    out = set()
    todo = [A.Node]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            out.add(sub)
            todo.append(sub)
    return {c for c in out if "kind" in c.model_fields}


def _walk(v: object) -> Iterator[A.Node]:
    if isinstance(v, A.Node):
        yield v
        for name in type(v).model_fields:
            yield from _walk(getattr(v, name))
    elif isinstance(v, (tuple, list)):
        for x in v:
            yield from _walk(x)


# Constructs the bundled specs may not use, so the corpus reaches every AST node.
EXTRA = """
import "lib/x.incept" (A, B)

fn half(v: float, d: int = 2) -> int = int(v / d)

block Rare(n: int = 2, s: str = "x", on: bool = true) {
  let t = (1, 2)
  let u = not on or (n > 1 and n <= 3)
  let v = -n + +n * 2 // 1 / 1
  let z = [a * 2 for i, a in enumerate([1, 2]) if i > 0]
  let w = [n, 2][0] + [1, 2, 3][1:][0] ** 2 if on else 0
  for i, (a, b) in enumerate([(1, 2)]) as "it{i}" { relu }
  if n == 1 {
    conv n 3x3
  } else if in.channels != 3 {
    relu
  } else {
    identity
  }
  a: add {
    conv(2 * n, 1x1, stride=1)
    conv n x n 1x1
  }
  residual scale=0.2 act=relu { conv 3 1x1 } shortcut { identity }
  g: { relu }
  repeat 2 as "r{i}" { conv none 1x1 bias=false }
}

network n(k: int = 3) {
  input 3 x 8 x 8
  h: aux from g.r0 weight=0.4 { flatten }
  expect a.params ~= 10 within 5% with k=2 source "x"
  expect params == 1 within 1K source "y"
}

block P(c: int) { @: conv (prev.channels + c) 1x1 -> @_bn: bn }

network v extends n(k=2) {
  replace g with { *P(1) }
  insert x: relu after a
  remove h, g.r0
}
"""


def _corpus() -> list[A.Module]:
    modules = []
    for path in sorted(SPECS.rglob("*.incept")):
        text = path.read_text(encoding="utf-8")
        tree, _ = parse.parse(text, str(path))
        modules.append(to_ast(tree, str(path)))
    tree, _ = parse.parse(EXTRA, "extra.incept")
    modules.append(to_ast(tree, "extra.incept"))
    return modules


def test_every_ast_node_kind_is_produced_with_its_declared_types() -> None:
    seen: dict[type[A.Node], int] = {}
    for module in _corpus():
        for node in _walk(module):
            cls = type(node)
            seen[cls] = seen.get(cls, 0) + 1
            # The transformer builds nodes without validation (model_construct): check the
            # fields against the model's declared types here.
            fields = {k: getattr(node, k) for k in cls.model_fields}
            assert cls.model_validate(fields) == node
    assert set(seen) == _all_node_classes()
    # Every kind names a transformer method, or comes from the methods listed here.
    produced_by = {
        "binop": ["or_", "and_", "add_", "sub", "mul", "div", "floordiv", "pow_"],
        "unary": ["not_", "neg"],
        "module": ["start"],
    }
    for cls in _all_node_classes():
        kind = cls.model_fields["kind"].default
        methods = produced_by.get(kind, [kind])
        assert all(callable(getattr(ToAst, m, None)) for m in methods), kind


def test_corpus_trees_only_use_transformed_rules() -> None:
    tree, _ = parse.parse(EXTRA, "extra.incept")
    names = set(_tree_names(tree))
    assert {"tuple", "not_", "or_", "and_", "neg", "compare", "floordiv", "div"} <= names
    assert all(callable(getattr(ToAst, n, None)) for n in names)


def test_ast_nodes_are_pydantic_and_frozen() -> None:
    for cls in _all_node_classes():
        assert issubclass(cls, BaseModel)
        assert cls.model_config.get("frozen") is True, cls.__name__
