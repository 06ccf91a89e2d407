"""lower.py: the semantics of expansion, on small inline specs.

Naming rules, `defaults`, `let`, `if`, `in.*`, arithmetic, residuals, aux heads, imports,
network parameters, edge order and node order. Each test states the expected IR exactly
(names, ops, attributes, inputs) rather than re-deriving it.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from conftest import bundled_specs, spec_id

import inceptdsl
from inceptdsl import errors as E
from inceptdsl.ir import Op, inputs


def lower(text: str, **params: object) -> inceptdsl.Network:
    return inceptdsl.loads(text, filename="t.incept", **params)


def names(net: inceptdsl.Network) -> list[str]:
    return list(net.graph.nodes)


def attrs(net: inceptdsl.Network, name: str):  # type: ignore[no-untyped-def]
    return net.graph.nodes[name]["attrs"]


def net_of(body: str, blocks: str = "", params: str = "") -> str:
    """A network around `body` (one statement per line), input 3x8x8."""
    head = f"network n({params})" if params else "network n"
    return f"{blocks}\n{head} {{\n  input 3 x 8 x 8\n{body}\n}}\n"


BLOCK_B = """
block B(c: int) {
  conv c 1x1 -> relu
  conv c 3x3 pad=1
}
"""

# ---- naming ----------------------------------------------------------------------------------


def test_unlabelled_layers_get_their_layer_name_numbered() -> None:
    net = lower(net_of("  conv 4 1x1\n  conv 4 1x1 -> relu\n  relu\n  conv 4 1x1"))
    assert names(net) == ["input", "conv", "conv_1", "relu", "relu_1", "conv_2"]


def test_labels_name_layers_and_generated_names_skip_taken_ones() -> None:
    net = lower(net_of("  conv 4 1x1\n  conv_1: conv 4 1x1\n  conv 4 1x1\n  stem: relu"))
    assert names(net) == ["input", "conv", "conv_1", "conv_2", "stem"]
    assert net.labels["conv_1"] == "conv_1" and net.labels["stem"] == "stem"


def test_unlabelled_block_call_adds_no_level() -> None:
    net = lower(net_of("  conv 4 1x1\n  B(5)\n  B(6)", BLOCK_B))
    assert names(net) == [
        "input",
        "conv",
        "conv_1",
        "relu",
        "conv_2",
        "conv_3",
        "relu_1",
        "conv_4",
    ]
    assert net.graph.nodes["conv_4"]["shape"] == (6, 8, 8)


def test_labelled_block_call_makes_a_scope() -> None:
    net = lower(net_of("  stem: B(5)\n  body: B(6)", BLOCK_B))
    assert names(net)[1:] == [
        "stem.conv",
        "stem.relu",
        "stem.conv_1",
        "body.conv",
        "body.relu",
        "body.conv_1",
    ]
    # The label names the block's output node.
    assert net.labels["stem"] == "stem.conv_1"
    assert net.labels["body"] == "body.conv_1"


def test_labelled_group_numbers_its_members() -> None:
    net = lower(
        net_of(
            "  f: {\n    conv 4 1x1\n    B(6)\n    named: conv 4 1x1\n"
            "    { conv 4 1x1 -> conv 4 1x1 }\n    relu\n  }",
            BLOCK_B,
        )
    )
    assert names(net)[1:] == [
        "f.0",
        "f.1.conv",  # an unlabelled block call in a numbered scope becomes scope N
        "f.1.relu",
        "f.1.conv_1",
        "f.named",  # labelled members keep their label and take no number
        "f.2.0",  # an unlabelled group there is numbered, and numbers its own members
        "f.2.1",
        "f.3",
    ]
    assert net.labels["f"] == "f.3"
    assert net.labels["f.1"] == "f.1.conv_1"


def test_labelled_repeat_numbers_members_across_iterations() -> None:
    net = lower(net_of("  r: repeat 2 { conv 4 1x1 -> relu }"))
    assert names(net)[1:] == ["r.0", "r.1", "r.2", "r.3"]
    assert list(inputs(net.graph, "r.2")) == ["r.1"]


def test_labelled_repeat_of_block_calls() -> None:
    net = lower(net_of("  layers: repeat 3 { B(4) }", BLOCK_B))
    assert [n for n in names(net) if n.endswith(".conv_1")] == [
        "layers.0.conv_1",
        "layers.1.conv_1",
        "layers.2.conv_1",
    ]


def test_unlabelled_repeat_adds_no_level() -> None:
    net = lower(net_of("  repeat 3 { conv 4 1x1 }\n  repeat 0 { relu }"))
    assert names(net) == ["input", "conv", "conv_1", "conv_2"]


@pytest.mark.parametrize(
    "pattern,expected",
    [
        ("b{n}", ["b1.conv", "b2.conv", "b3.conv"]),
        ("block_{i}", ["block_0.conv", "block_1.conv", "block_2.conv"]),
    ],
)
def test_repeat_as_pattern(pattern: str, expected: list[str]) -> None:
    net = lower(net_of(f'  repeat 3 as "{pattern}" {{ conv 4 1x1 }}'))
    assert names(net)[1:] == expected
    assert net.labels[expected[1].split(".")[0]] == expected[1]


def test_repeat_pattern_in_a_labelled_scope() -> None:
    net = lower(net_of('  g: repeat 2 as "u{i}" { conv 3 1x1 }'))
    assert names(net)[1:] == ["g.u0.conv", "g.u1.conv"]


def test_unlabelled_group_concat_residual_add_no_level() -> None:
    net = lower(
        net_of(
            "  { conv 4 1x1 }\n"
            "  concat {\n    conv 2 1x1\n    conv 3 1x1\n  }\n"
            "  residual { conv 5 1x1 }"
        )
    )
    assert names(net) == ["input", "conv", "conv_1", "conv_2", "concat", "conv_3", "add"]


def test_labelled_concat_makes_a_scope() -> None:
    net = lower(net_of("  M: concat {\n    a: conv 2 1x1\n    b: { conv 2 1x1 -> relu }\n  }"))
    assert names(net)[1:] == ["M.a", "M.b.0", "M.b.1", "M.concat"]
    assert net.labels["M"] == "M.concat"


def test_unlabelled_concat_in_a_numbered_scope_is_numbered() -> None:
    net = lower(net_of("  f: {\n    concat {\n      conv 2 1x1\n      conv 3 1x1\n    }\n  }"))
    assert names(net)[1:] == ["f.0.conv", "f.0.conv_1", "f.0.concat"]


def test_duplicate_label_is_an_error() -> None:
    with pytest.raises(E.DuplicateNameError) as exc:
        lower(net_of("  a: conv 4 1x1\n  a: conv 4 1x1"))
    assert exc.value.code == "E202"
    assert exc.value.message == "the name `a` is used twice"
    assert (exc.value.line, exc.value.column) == (5, 3)
    assert exc.value.notes[0].span is not None and exc.value.notes[0].span.line == 4


def test_block_with_labels_called_twice_unlabelled_is_a_duplicate() -> None:
    blocks = "block L {\n  one: conv 4 1x1\n}\n"
    with pytest.raises(E.DuplicateNameError) as exc:
        lower(net_of("  L\n  L", blocks))
    assert exc.value.message == "the name `one` is used twice"
    # Labelling the calls fixes it.
    assert names(lower(net_of("  x1: L\n  x2: L", blocks)))[1:] == ["x1.one", "x2.one"]


def test_duplicate_in_a_scope() -> None:
    with pytest.raises(E.DuplicateNameError) as exc:
        lower(net_of("  s: {\n    a: conv 4 1x1\n    a: relu\n  }"))
    assert exc.value.message == "the name `s.a` is used twice"


# ---- defaults --------------------------------------------------------------------------------


def test_defaults_reach_into_called_blocks_and_explicit_options_win() -> None:
    blocks = "block U {\n  a: conv 4 1x1\n  b: conv 4 1x1 act=none bias=true\n}\n"
    net = lower(net_of("  defaults conv(act=relu, bias=false)\n  u: U\n  c: conv 4 1x1", blocks))
    assert (str(attrs(net, "u.a").act), attrs(net, "u.a").bias) == ("relu", False)
    assert (attrs(net, "u.b").act, attrs(net, "u.b").bias) == (None, True)
    assert (str(attrs(net, "c").act), attrs(net, "c").bias) == ("relu", False)


def test_defaults_apply_from_their_statement_on() -> None:
    net = lower(net_of("  a: conv 4 1x1\n  defaults conv(stride=2)\n  b: conv 4 1x1"))
    assert attrs(net, "a").stride == (1, 1)
    assert attrs(net, "b").stride == (2, 2)
    assert net.graph.nodes["b"]["shape"] == (4, 4, 4)


def test_defaults_do_not_leak_out_of_blocks_or_groups() -> None:
    blocks = "block D {\n  defaults conv(act=tanh)\n  a: conv 4 1x1\n}\n"
    net = lower(
        net_of(
            "  d: D\n  g: {\n    defaults conv(act=sigmoid)\n    conv 4 1x1\n  }\n  c: conv 4 1x1",
            blocks,
        )
    )
    assert str(attrs(net, "d.a").act) == "tanh"
    assert str(attrs(net, "g.0").act) == "sigmoid"
    assert attrs(net, "c").act is None


def test_block_defaults_override_the_callers() -> None:
    blocks = "block D {\n  defaults conv(act=tanh)\n  a: conv 4 1x1\n}\n"
    net = lower(net_of("  defaults conv(act=relu, bias=false)\n  d: D", blocks))
    # act from the block's own defaults, bias still from the caller's.
    assert (str(attrs(net, "d.a").act), attrs(net, "d.a").bias) == ("tanh", False)


def test_defaults_bn_feed_bn_true_and_bn_records() -> None:
    net = lower(
        net_of(
            "  defaults bn(eps=0.01)\n"
            "  a: conv 4 1x1 bn=true\n"
            "  b: conv 4 1x1 bn=bn(momentum=0.2)\n"
            "  c: conv 4 1x1 bn=bn(eps=0.5)\n"
            "  d: conv 4 1x1\n"
            "  e: bn\n"
            "  f: bn eps=0.25 affine=false"
        )
    )
    bn = {n: attrs(net, n).bn for n in "abcd"}
    assert (bn["a"].eps, bn["a"].momentum, bn["a"].scale, bn["a"].center) == (0.01, 0.1, True, True)
    assert (bn["b"].eps, bn["b"].momentum) == (0.01, 0.2)
    assert bn["c"].eps == 0.5
    assert bn["d"] is None
    assert (attrs(net, "e").eps, attrs(net, "e").scale) == (0.01, True)
    f = attrs(net, "f")
    assert (f.eps, f.scale, f.center) == (0.25, False, False)
    assert net.graph.nodes["f"]["params"] == 0 and net.graph.nodes["f"]["buffers"] == 8


def test_defaults_conv_bn_record() -> None:
    net = lower(net_of("  defaults conv(bn=bn(eps=0.001, scale=false), act=relu)\n  a: conv 4 1x1"))
    a = attrs(net, "a")
    assert (a.bn.eps, a.bn.scale, a.bn.center, str(a.act)) == (0.001, False, True, "relu")
    assert net.graph.nodes["a"]["params"] == 4 * 3 + 4 + 4  # weights, bias, beta


def test_pool_stride_defaults_to_kernel() -> None:
    net = lower(net_of("  p: maxpool 2x2\n  q: avgpool 3x3 stride=1 pad=1 count_pad=false"))
    assert attrs(net, "p").stride == (2, 2)
    assert net.graph.nodes["p"]["shape"] == (3, 4, 4)
    q = attrs(net, "q")
    assert (q.stride, q.pads, q.count_include_pad) == ((1, 1), (1, 1, 1, 1), False)


def test_same_padding_is_resolved_per_side() -> None:
    net = lower(net_of("  a: conv 4 3x3 stride=2 pad=same\n  b: maxpool 2x2 stride=1 pad=same"))
    a = attrs(net, "a")
    assert (a.pads, a.same) == ((0, 1, 0, 1), True)
    assert net.graph.nodes["a"]["shape"] == (4, 4, 4)
    assert (attrs(net, "b").pads, net.graph.nodes["b"]["shape"]) == ((0, 1, 0, 1), (4, 4, 4))


def test_explicit_padding_forms() -> None:
    net = lower(
        net_of("  a: conv 4 3x3 pad=(1, 2)\n  b: conv 4 1x1 pad=((0, 1), (2, 3))\n  c: conv 4 1x1")
    )
    assert attrs(net, "a").pads == (1, 1, 2, 2)
    assert net.graph.nodes["a"]["shape"] == (4, 8, 10)
    assert attrs(net, "b").pads == (0, 1, 2, 3)
    assert net.graph.nodes["b"]["shape"] == (4, 9, 15)


# ---- let, if, in, arithmetic -----------------------------------------------------------------


def test_let_binds_values() -> None:
    blocks = "block L(c: int) {\n  let half = c // 2\n  let dbl = half * 2 + 1\n  conv dbl 1x1\n}\n"
    net = lower(net_of("  let w = 6\n  L(w)\n  L(w + 3)", blocks))
    assert net.graph.nodes["conv"]["shape"][0] == 7
    assert net.graph.nodes["conv_1"]["shape"][0] == 9


def test_if_else_chooses_by_parameter() -> None:
    text = net_of(
        "  if mode == 1 {\n    one: conv 1 1x1\n  } else if mode == 2 {\n    two: conv 2 1x1\n"
        "  } else {\n    other: conv 3 1x1\n  }",
        params="mode: int = 1",
    )
    assert names(lower(text))[1:] == ["one"]
    assert names(lower(text, mode=2))[1:] == ["two"]
    assert names(lower(text, mode=7))[1:] == ["other"]


def test_if_without_else_may_add_nothing() -> None:
    text = net_of("  if on {\n    a: conv 1 1x1\n  }\n  b: relu", params="on: bool = false")
    net = lower(text)
    assert names(net) == ["input", "b"]
    assert list(inputs(net.graph, "b")) == ["input"]
    assert names(lower(text, on=True)) == ["input", "a", "b"]


def test_if_as_concat_branches() -> None:
    text = net_of(
        "  M: concat {\n    a: conv 2 1x1\n    if wide {\n      b: conv 3 1x1\n"
        "      c: conv 4 1x1\n    } else {\n      d: conv 5 1x1\n    }\n  }",
        params="wide: bool = true",
    )
    net = lower(text)
    assert list(inputs(net.graph, "M.concat")) == ["M.a", "M.b", "M.c"]
    assert net.graph.nodes["M.concat"]["shape"] == (9, 8, 8)
    net = lower(text, wide=False)
    assert list(inputs(net.graph, "M.concat")) == ["M.a", "M.d"]
    assert net.graph.nodes["M.concat"]["shape"] == (7, 8, 8)


def test_if_needs_a_bool() -> None:
    with pytest.raises(E.TypeMismatchError) as exc:
        lower(net_of("  if k {\n    relu\n  }", params="k: int = 1"))
    assert exc.value.message == "`if` needs true or false, got int 1"


def test_in_refers_to_the_block_input() -> None:
    blocks = (
        "block Keep {\n  a: conv 16 1x1\n  b: conv in.channels 1x1\n"
        "  c: conv (in.height * 10 + in.width) 1x1\n}\n"
    )
    net = lower(net_of("  s: conv 5 3x3\n  k: Keep", blocks))
    # Keep's input is s: 5 x 6 x 6.
    assert net.graph.nodes["k.b"]["shape"] == (5, 6, 6)
    assert net.graph.nodes["k.c"]["shape"] == (66, 6, 6)


def test_in_in_the_network_body_is_the_network_input() -> None:
    net = lower(net_of("  a: conv 9 1x1\n  b: conv (in.channels + in.width) 1x1"))
    assert net.graph.nodes["b"]["shape"] == (11, 8, 8)


def test_in_features_after_flatten() -> None:
    blocks = "block Head {\n  fc: linear (in.features // 2)\n}\n"
    net = lower(net_of("  global_avgpool\n  flatten\n  h: Head", blocks))
    assert net.graph.nodes["h.fc"]["shape"] == (1,)


@pytest.mark.parametrize(
    "expr,value",
    [
        ("7 // 2", 3),
        ("-7 // 2 + 10", 6),
        ("int(7 / 2)", 3),
        ("max(2, 9 - 4, 3)", 5),
        ("min(8, 3 * 3)", 8),
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4", 20),
        ("int(2.5 * 4)", 10),
        ("c // 3 + max(2, c - 10) * 2", 17),
        ("round(5 / 2) + ceil(0.5) + floor(1.5)", 4),
    ],
)
def test_arithmetic(expr: str, value: int) -> None:
    blocks = f"block A(c: int) {{\n  conv({expr}, 1x1)\n}}\n"
    net = lower(net_of("  A(16)", blocks))
    assert net.graph.nodes["conv"]["shape"][0] == value


def test_non_integer_channels_are_rejected() -> None:
    with pytest.raises(E.ArithmeticSpecError) as exc:
        lower(net_of("  conv(7 / 2, 1x1)"))
    assert exc.value.message == "conv channels must be a whole number, got 3.5"


# ---- residuals -------------------------------------------------------------------------------


def test_residual_scale_then_add_with_shortcut_first_then_act() -> None:
    blocks = "block R {\n  residual scale=0.17 act=relu {\n    conv in.channels 1x1\n  }\n}\n"
    net = lower(net_of("  s: conv 4 1x1\n  r: R", blocks))
    g = net.graph
    assert names(net)[2:] == ["r.conv", "r.scale", "r.add", "r.relu"]
    assert attrs(net, "r.scale").factor == 0.17
    assert list(inputs(g, "r.scale")) == ["r.conv"]
    assert list(inputs(g, "r.add")) == ["s", "r.scale"]  # the shortcut is input 0
    assert g.edges["s", "r.add"]["index"] == 0 and g.edges["r.scale", "r.add"]["index"] == 1
    assert g.nodes["r.relu"]["op"] is Op.ACT and str(attrs(net, "r.relu").fn) == "relu"
    assert list(inputs(g, "r.relu")) == ["r.add"]
    assert net.labels["r"] == "r.relu"


def test_residual_without_scale_or_act() -> None:
    net = lower(net_of("  s: conv 4 1x1\n  r: residual { conv 4 1x1 }\n  t: relu"))
    assert names(net)[2:] == ["r.conv", "r.add", "t"]
    assert list(inputs(net.graph, "r.add")) == ["s", "r.conv"]
    assert list(inputs(net.graph, "t")) == ["r.add"]


def test_residual_shortcut_clause() -> None:
    net = lower(
        net_of(
            "  r: residual act=relu {\n    main: conv 8 3x3 stride=2 pad=1\n  } shortcut {\n"
            "    proj: conv 8 1x1 stride=2\n  }"
        )
    )
    g = net.graph
    assert names(net)[1:] == ["r.main", "r.proj", "r.add", "r.relu"]
    assert list(inputs(g, "r.add")) == ["r.proj", "r.main"]
    assert list(inputs(g, "r.proj")) == ["input"]
    assert g.nodes["r.add"]["shape"] == (8, 4, 4)


def test_residual_shape_mismatch() -> None:
    with pytest.raises(E.AddShapeError) as exc:
        lower(net_of("  r: residual { conv 5 1x1 }"))
    assert exc.value.message == (
        "residual shapes differ: the branch gives 5x8x8, the input (identity shortcut) is 3x8x8"
    )


def test_add_merges_branches_in_order() -> None:
    net = lower(net_of("  m: add {\n    a: conv 4 1x1\n    b: conv 4 3x3 pad=1\n  }"))
    assert list(inputs(net.graph, "m.add")) == ["m.a", "m.b"]
    assert net.graph.nodes["m.add"]["op"] is Op.ADD


# ---- aux heads -------------------------------------------------------------------------------

AUX = """
block Body(c: int) {
  conv c 3x3 pad=1
}
network n(with_aux: bool = true) {
  input 3 x 8 x 8
  s: conv 4 1x1
  m: Body(6)
  if with_aux {
    head: aux from m weight=0.25 {
      global_avgpool -> flatten
      fc: linear 10
    }
  }
  t: conv 8 1x1
  global_avgpool
  flatten
  fc: linear 10
}
"""


def test_aux_head() -> None:
    net = lower(AUX)
    g = net.graph
    aux_nodes = [n for n in g if g.nodes[n]["aux"] is not None]
    assert aux_nodes == ["head.global_avgpool", "head.flatten", "head.fc"]
    assert all(g.nodes[n]["aux"] == "head" for n in aux_nodes)
    assert list(inputs(g, "head.global_avgpool")) == ["m.conv"]  # the tap is m's output
    (h,) = g.graph["aux_heads"]
    assert (h.name, h.tap, h.output, h.weight) == ("head", "m.conv", "head.fc", 0.25)
    assert g.graph["output"] == "fc"
    # The main path continues from m, not from the head.
    assert list(inputs(g, "t")) == ["m.conv"]
    assert list(inputs(g, "fc")) == ["flatten"]

    rep = net.report()
    no_aux = lower(AUX, with_aux=False).report()
    assert rep.aux_params == 6 * 10 + 10
    assert rep.params == no_aux.params + 70  # aux included in params ...
    assert rep.macs == no_aux.macs  # ... but not in MACs
    assert rep.aux_macs == 60
    assert rep.aux_heads == ["head"]
    assert no_aux.aux_heads == [] and lower(AUX, with_aux=False).graph.graph["aux_heads"] == ()


def test_aux_default_weight_and_tap_by_node_path() -> None:
    net = lower(net_of("  s: conv 4 1x1\n  t: conv 4 1x1\n  h: aux from s { flatten }"))
    (h,) = net.graph.graph["aux_heads"]
    assert (h.tap, h.output, h.weight) == ("s", "h.flatten", 1.0)
    assert net.graph.graph["output"] == "t"


def test_aux_tap_must_exist_before() -> None:
    with pytest.raises(E.UnknownNameError):
        lower(net_of("  h: aux from later { flatten }\n  later: conv 4 1x1"))


# ---- imports ---------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_relative_import(tmp_path: Path) -> None:
    write(tmp_path / "lib" / "blocks.incept", 'import "more.incept"\nblock A {\n  a: M\n}\n')
    write(tmp_path / "lib" / "more.incept", "block M {\n  conv 7 1x1\n}\n")
    root = write(tmp_path / "net.incept", 'import "lib/blocks.incept"\n' + net_of("  x1: A"))
    net = inceptdsl.load(str(root))
    assert names(net)[1:] == ["x1.a.conv"]
    # loads() anchors relative imports at `filename`.
    net = inceptdsl.loads(
        'import "lib/blocks.incept"\n' + net_of("  x1: A"), filename=str(tmp_path / "t.incept")
    )
    assert names(net)[1:] == ["x1.a.conv"]


def test_selective_import(tmp_path: Path) -> None:
    write(tmp_path / "lib.incept", "block A {\n  conv 1 1x1\n}\nblock B {\n  conv 2 1x1\n}\n")
    ok = write(tmp_path / "ok.incept", 'import "lib.incept" (A)\n' + net_of("  A"))
    assert inceptdsl.load(str(ok)).graph.nodes["conv"]["shape"][0] == 1
    bad = write(tmp_path / "bad.incept", 'import "lib.incept" (A)\n' + net_of("  B"))
    with pytest.raises(E.UnknownNameError) as exc:
        inceptdsl.load(str(bad))
    assert exc.value.message == "unknown layer or block `B`"
    missing = write(tmp_path / "missing.incept", 'import "lib.incept" (C)\n' + net_of("  A"))
    with pytest.raises(E.UnknownNameError):
        inceptdsl.load(str(missing))


def test_blocks_see_their_own_files_imports(tmp_path: Path) -> None:
    # A imports Inner privately (selectively imported A only): A still uses Inner.
    write(tmp_path / "inner.incept", "block Inner {\n  conv 3 1x1\n}\n")
    write(tmp_path / "a.incept", 'import "inner.incept"\nblock A {\n  i: Inner\n}\n')
    root = write(tmp_path / "n.incept", 'import "a.incept" (A)\n' + net_of("  a: A"))
    assert names(inceptdsl.load(str(root)))[1:] == ["a.i.conv"]


def test_diamond_import(tmp_path: Path) -> None:
    write(tmp_path / "d.incept", "block D {\n  conv 2 1x1\n}\n")
    write(tmp_path / "b.incept", 'import "d.incept"\nblock Bb {\n  D\n}\n')
    write(tmp_path / "c.incept", 'import "d.incept"\nblock Cc {\n  D\n}\n')
    root = write(
        tmp_path / "a.incept",
        'import "b.incept"\nimport "c.incept"\nimport "d.incept"\n'
        + net_of("  b: Bb\n  c: Cc\n  d: D"),
    )
    net = inceptdsl.load(str(root))
    assert names(net)[1:] == ["b.conv", "c.conv", "d.conv"]
    assert len(net.program.files) == 4


def test_import_relative_to_the_importing_file_up_a_level(tmp_path: Path) -> None:
    write(tmp_path / "common.incept", "block Cm {\n  conv 5 1x1\n}\n")
    write(tmp_path / "lib" / "x.incept", 'import "../common.incept"\nblock X {\n  Cm\n}\n')
    root = write(tmp_path / "n.incept", 'import "lib/x.incept"\n' + net_of("  X"))
    assert names(inceptdsl.load(str(root)))[1:] == ["conv"]


# ---- network parameters ----------------------------------------------------------------------

PARAMS = """
network p(num_classes: int = 1000, image_size: int = 16, half: int = image_size // 2,
          rate: float = 0.5, flag: bool = true) {
  input 3 x image_size x half
  global_avgpool
  flatten
  drop: dropout rate
  fc: linear num_classes
}
"""


def test_network_parameters_defaults_and_overrides() -> None:
    net = lower(PARAMS)
    assert net.graph.graph["params"] == {
        "num_classes": 1000,
        "image_size": 16,
        "half": 8,
        "rate": 0.5,
        "flag": True,
    }
    assert net.input_shape == (3, 16, 8)
    assert net.graph.nodes["fc"]["shape"] == (1000,)
    net = lower(PARAMS, num_classes=10, image_size=32)
    assert net.graph.nodes["fc"]["shape"] == (10,)
    assert net.input_shape == (3, 32, 16)  # later defaults see earlier overrides
    # An int given for a float parameter becomes a float.
    net = lower(PARAMS, rate=0)
    assert net.graph.graph["params"]["rate"] == 0.0
    assert isinstance(net.graph.graph["params"]["rate"], float)


@pytest.mark.parametrize(
    "override,message",
    [
        ({"num_classes": "ten"}, 'parameter `num_classes` is declared int, got string "ten"'),
        ({"num_classes": 2.5}, "parameter `num_classes` is declared int, got float 2.5"),
        ({"num_classes": True}, "parameter `num_classes` is declared int, got bool true"),
        ({"flag": 1}, "parameter `flag` is declared bool, got int 1"),
    ],
)
def test_network_parameter_type_errors(override: dict[str, object], message: str) -> None:
    with pytest.raises(E.TypeMismatchError) as exc:
        lower(PARAMS, **override)
    assert exc.value.message == message


def test_unknown_network_parameter() -> None:
    with pytest.raises(E.UnknownParameterError) as exc:
        lower(PARAMS, num_clases=10)
    assert exc.value.message == "network `p` has no parameter `num_clases`"
    assert exc.value.hint is not None and "num_classes" in exc.value.hint


def test_required_network_parameter() -> None:
    text = "network q(width: int) {\n  input 3 x 8 x 8\n  conv width 1x1\n}\n"
    with pytest.raises(E.ArgumentCountError):
        lower(text)
    assert lower(text, width=4).graph.nodes["conv"]["shape"] == (4, 8, 8)


def test_bundled_spec_num_classes_override() -> None:
    net = inceptdsl.load("specs/inception_v3.incept", num_classes=10)
    assert net.graph.nodes["fc"]["shape"] == (10,)
    assert net.graph.nodes["AuxLogits.fc"]["shape"] == (10,)
    assert net.graph.graph["params"]["num_classes"] == 10


# ---- edges and order -------------------------------------------------------------------------


def test_concat_input_index_follows_branch_order() -> None:
    net = lower(
        net_of(
            "  M: concat {\n    zz: conv 1 1x1\n    aa: conv 2 1x1 -> relu\n    mm: conv 3 1x1\n"
            "    { conv 4 1x1 }\n  }"
        )
    )
    g = net.graph
    expected = ["M.zz", "M.relu", "M.mm", "M.conv"]
    assert list(inputs(g, "M.concat")) == expected
    assert [g.edges[src, "M.concat"]["index"] for src in expected] == [0, 1, 2, 3]
    assert g.nodes["M.concat"]["shape"] == (10, 8, 8)


def test_node_attributes_complete() -> None:
    net = lower(net_of("  a: conv 4 3x3"))
    d = net.graph.nodes["a"]
    assert set(d) == {"op", "attrs", "shape", "params", "buffers", "macs", "span", "aux"}
    assert (d["span"].path, d["span"].line, d["span"].column) == ("t.incept", 4, 6)
    assert net.graph.graph["input_shape"] == (3, 8, 8)
    assert net.graph.graph["name"] == "n"


def assert_topological(g: nx.DiGraph) -> None:
    pos = {n: i for i, n in enumerate(g.nodes)}
    for u, v in g.edges:
        assert pos[u] < pos[v], (u, v)
    assert nx.is_directed_acyclic_graph(g)
    roots = [n for n in g if g.in_degree(n) == 0]
    assert roots == ["input"]
    # Edge indices of every node are exactly 0..n-1.
    for n in g:
        assert sorted(d["index"] for _, _, d in g.in_edges(n, data=True)) == list(
            range(g.in_degree(n))
        )


def test_nodes_in_topological_order_small() -> None:
    net = lower(AUX)
    assert_topological(net.graph)
    assert names(net)[0] == "input"


@pytest.mark.parametrize("path", bundled_specs(), ids=spec_id)
def test_bundled_specs_graph_invariants(path: Path) -> None:
    g = inceptdsl.load(str(path)).graph
    assert_topological(g)
    # A name is a node or a scope, never both.
    node_names = set(g)
    for n in g:
        parts = n.split(".")
        for i in range(1, len(parts)):
            assert ".".join(parts[:i]) not in node_names, n
    # The output is the last inference node; aux nodes are exactly the heads' scopes.
    assert g.graph["output"] in g and g.nodes[g.graph["output"]]["aux"] is None
    heads = {h.name for h in g.graph["aux_heads"]}
    for n, d in g.nodes(data=True):
        assert (d["aux"] is not None) == (n.split(".")[0] in heads), n


# ---- width multiplier and networks used as blocks --------------------------------------------


def test_width_multiplier_follows_slim_depth_rule() -> None:
    net = lower(net_of("  defaults conv(width=0.5)\n  a: conv 64 1x1\n  b: conv 20 1x1"))
    assert net.graph.nodes["a"]["shape"][0] == 32  # int(64 * 0.5)
    assert net.graph.nodes["b"]["shape"][0] == 16  # max(int(20 * 0.5), min_channels=16)
    net = lower(net_of("  c: conv 64 1x1 width=0.25 min_channels=8"))
    assert net.graph.nodes["c"]["shape"][0] == 16


def test_imported_network_is_a_block_keeping_its_names(tmp_path: Path) -> None:
    (tmp_path / "parent.incept").write_text(
        "network parent(n: int = 10) {\n  input 3 x 8 x 8\n  stem: conv 32 3x3 pad=1\n"
        "  fc: { global_avgpool -> flatten -> linear n }\n"
        '  expect params == 1 source "only about the parent"\n}\n'
    )
    (tmp_path / "child.incept").write_text(
        'import "parent.incept" (parent)\n'
        "network child(n: int = 5) {\n  input 3 x 8 x 8\n  defaults conv(width=0.5)\n"
        "  parent(n=n)\n}\n"
    )
    child = inceptdsl.load(str(tmp_path / "child.incept"))
    parent = inceptdsl.load(str(tmp_path / "parent.incept"))
    assert [n for n in child.graph.nodes] == [n for n in parent.graph.nodes]
    assert child.graph.nodes["stem"]["shape"] == (16, 8, 8)
    assert child.graph.nodes["fc.2"]["shape"] == (5,)
    assert child.verify() == []  # the parent's expects do not travel with it
