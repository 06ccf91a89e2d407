"""Variants (`extends` with `replace` / `insert` / `remove` / `defaults`), flat `@` names,
spliced block calls and `prev.*`: their semantics on small specs written to tmp_path, each
stating the expected IR names and attributes exactly. The bundled variants' figures are
checked by their own `expect`s (tests/test_expect.py) and goldens (tests/test_report.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SPECS

import inceptdsl
from inceptdsl import errors as E
from inceptdsl.cli import main
from inceptdsl.ir import Op, inputs

PARENT = """\
block Mod(c: int) {
  concat {
    b1: conv c 1x1
    b2: { conv c 1x1 -> conv c 3x3 pad=1 }
    pool: { maxpool 3x3 stride=1 pad=1 -> conv c 1x1 }
  }
}

network parent(num_classes: int = 10, with_aux: bool = true) {
  input 3 x 16 x 16
  defaults conv(bias=false, bn=true, act=relu)
  stem: conv 8 3x3 pad=1
  conv 8 1x1
  conv 8 1x1
  m1: Mod(8)
  if with_aux {
    head: aux from m1 weight=0.3 { global_avgpool -> flatten -> linear num_classes }
  }
  features: { conv 8 1x1 -> relu -> conv 8 1x1 }
  gap: global_avgpool
  flatten
  fc: linear num_classes
}
"""


@pytest.fixture
def variant(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "parent.incept").write_text(PARENT, encoding="utf-8")

    def load(body: str, head: str = "network v extends parent", **params: object):  # type: ignore[no-untyped-def]
        text = f'import "parent.incept" (parent, Mod)\n\n{head} {{\n{body}\n}}\n'
        path = tmp_path / "v.incept"
        path.write_text(text, encoding="utf-8")
        return inceptdsl.load(str(path), **params)

    return load


def test_an_empty_variant_is_its_parent(variant) -> None:  # type: ignore[no-untyped-def]
    v = variant("")
    p = inceptdsl.load(str(Path(v.path).parent / "parent.incept"))
    assert list(v.graph.nodes) == list(p.graph.nodes)
    assert [d["attrs"] for _, d in v.graph.nodes(data=True)] == [
        d["attrs"] for _, d in p.graph.nodes(data=True)
    ]
    assert v.name == "v" and v.params == {"num_classes": 10, "with_aux": True}


def test_replace_a_layer_inside_a_block_call_keeps_every_other_name(variant) -> None:  # type: ignore[no-untyped-def]
    v = variant("  replace m1.b2.1 with conv 16 5x5 pad=2")
    a = v.graph.nodes["m1.b2.1"]["attrs"]
    assert (a.out_channels, a.kernel, a.pads) == (16, (5, 5), (2, 2, 2, 2))
    assert a.bn is not None and str(a.act) == "relu"  # the parent's defaults apply
    assert v.graph.nodes["m1.concat"]["shape"] == (32, 16, 16)


def test_replace_a_generated_name_and_remove_keep_the_others(variant) -> None:  # type: ignore[no-untyped-def]
    v = variant("  replace conv with maxpool 3x3 stride=1 pad=1\n  remove features.1")
    assert v.graph.nodes["conv"]["op"] is Op.MAXPOOL2D
    assert v.graph.nodes["conv_1"]["op"] is Op.CONV2D  # not renamed to `conv`
    assert "features.1" not in v.graph and inputs(v.graph, "features.2") == ("features.0",)


def test_insert_before_and_after(variant) -> None:  # type: ignore[no-untyped-def]
    v = variant("  insert m2: Mod(4) after m1\n  insert drop: dropout 0.1 before fc")
    assert inputs(v.graph, "m2.b1") == ("m1.concat",)
    assert inputs(v.graph, "features.0") == ("m2.concat",)
    assert inputs(v.graph, "drop") == ("flatten",) and inputs(v.graph, "fc") == ("drop",)


def test_remove_a_branch_and_the_aux_head(variant) -> None:  # type: ignore[no-untyped-def]
    v = variant("  remove head, m1.pool")
    assert v.graph.graph["aux_heads"] == ()
    assert inputs(v.graph, "m1.concat") == ("m1.b1", "m1.b2.1")
    assert not any(n.startswith(("head.", "m1.pool.")) for n in v.graph)


def test_replace_an_aux_head_keeps_its_tap_and_weight(variant) -> None:  # type: ignore[no-untyped-def]
    v = variant("  replace head with { global_avgpool -> flatten -> dropout 0.5 -> linear 3 }")
    (h,) = v.graph.graph["aux_heads"]
    assert (h.tap, h.weight, h.output) == ("m1.concat", 0.3, "head.linear")


def test_defaults_of_a_variant_win_over_the_parents(variant) -> None:  # type: ignore[no-untyped-def]
    v = variant("  defaults conv(act=gelu, bn=none)")
    convs = [d["attrs"] for _, d in v.graph.nodes(data=True) if d["op"] is Op.CONV2D]
    assert convs and all(str(a.act) == "gelu" and a.bn is None for a in convs)


def test_parameters(variant) -> None:  # type: ignore[no-untyped-def]
    # inherited, with the extends arguments as new defaults; overridable like any parameter
    v = variant("", head="network v extends parent(num_classes=5)")
    assert v.graph.nodes["fc"]["shape"] == (5,)
    assert variant("", head="network v extends parent(num_classes=5)", num_classes=7).graph.nodes[
        "fc"
    ]["shape"] == (7,)
    # declared by the variant and passed on
    v = variant("", head="network v(k: int = 3, a: bool = false) extends parent(k, with_aux=a)")
    assert v.params == {"k": 3, "a": False} and v.graph.graph["aux_heads"] == ()


def test_edits_in_an_if_and_lets(variant) -> None:  # type: ignore[no-untyped-def]
    body = "  let w = 2 * num_classes\n  if num_classes > 5 {\n    replace fc with linear w\n  }"
    assert variant(body).graph.nodes["fc"]["shape"] == (20,)
    assert variant(body, num_classes=3).graph.nodes["fc"]["shape"] == (3,)


def test_a_variant_of_a_variant(variant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    variant("  remove head\n  replace fc with linear 4")
    (tmp_path / "w.incept").write_text(
        'import "v.incept" (v)\nnetwork w extends v {\n  replace fc with linear 6\n'
        "  insert d: dropout 0.1 before gap\n}\n",
        encoding="utf-8",
    )
    w = inceptdsl.load(str(tmp_path / "w.incept"))
    assert w.graph.nodes["fc"]["shape"] == (6,) and "d" in w.graph
    assert w.graph.graph["aux_heads"] == ()


def test_an_edit_that_matches_nothing_is_an_error_even_when_others_match(variant) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(E.EditPathError) as exc:
        variant("  remove fc\n  remove m1.b9")
    assert exc.value.message.startswith("`remove m1.b9`")
    assert exc.value.hint == "did you mean `m1.b2`?"
    with pytest.raises(E.EditPathError) as exc:
        variant("  remove head", with_aux=False)  # not built with with_aux=false
    with pytest.raises(E.EditPathError) as exc:
        variant("  replace m1 with conv 32 1x1\n  remove m1.b1")
    assert exc.value.hint == "it is inside `m1`, which `replace m1` edits"


def test_an_edit_that_breaks_shapes_is_reported_at_the_edit(variant) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(E.ConcatShapeError) as exc:
        variant("  replace m1.b1 with conv 8 1x1 stride=2")
    err = exc.value
    assert err.span is not None and err.span.path.endswith("v.incept") and err.span.line == 4
    assert err.notes[0].message == "where the parent's layers no longer fit"
    assert err.notes[0].span is not None and err.notes[0].span.path.endswith("parent.incept")


@pytest.mark.backend
def test_parent_state_dict_names_and_shapes_survive_except_the_edit() -> None:
    parent = inceptdsl.load(str(SPECS / "googlenet.incept")).to_torch().state_dict()
    child = inceptdsl.load(str(SPECS / "variants" / "googlenet_5x5.incept")).to_torch().state_dict()
    assert list(parent) == list(child)
    differ = sorted(k for k in parent if parent[k].shape != child[k].shape)
    assert differ == sorted(
        f"inception{m}.branch3.1.conv.weight"
        for m in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")
    )


# ---- flat names, splices, prev ---------------------------------------------------------------


def test_prefix_labels_make_flat_names() -> None:
    net = inceptdsl.loads(
        "block U(c: int) { @: conv c 1x1 -> @_bn: bn -> relu }\n"
        "block M { concat {\n @_a: U(4)\n @_b: U(4) -> @_b2: U(2)\n } }\n"
        "network n {\n  input 3 x 8 x 8\n  conv1: U(8)\n  inc: M\n}\n",
        filename="t.incept",
    )
    assert list(net.graph.nodes) == [
        "input", "conv1", "conv1_bn", "relu", "inc_a", "inc_a_bn", "relu_1",
        "inc_b", "inc_b_bn", "relu_2", "inc_b2", "inc_b2_bn", "relu_3", "concat",
    ]  # fmt: skip


def test_a_spliced_call_continues_the_numbering() -> None:
    net = inceptdsl.loads(
        "block S(c: int) { conv c 3x3 pad=1 -> relu -> maxpool 2x2 }\n"
        "network n {\n  input 3 x 8 x 8\n  features: { conv 4 1x1\n *S(4)\n *S(8) }\n}\n",
        filename="t.incept",
    )
    assert list(net.graph.nodes)[1:] == [f"features.{i}" for i in range(7)]
    plain = inceptdsl.loads(
        "block S(c: int) { conv c 3x3 pad=1 -> relu }\n"
        "network n {\n  input 3 x 8 x 8\n  features: { conv 4 1x1\n S(4) }\n}\n",
        filename="t.incept",
    )
    assert list(plain.graph.nodes)[2:] == ["features.1.conv", "features.1.relu"]


def test_prev_is_the_tensor_the_unit_receives() -> None:
    net = inceptdsl.loads(
        "block B { conv 8 1x1 -> conv (prev.channels * 2) 1x1 -> conv in.channels 1x1 }\n"
        "network n {\n  input 3 x 8 x 8\n  B\n}\n",
        filename="t.incept",
    )
    assert [d["shape"][0] for _, d in net.graph.nodes(data=True)] == [3, 8, 16, 3]


def test_conv_defaults_do_not_reach_sepconv_and_say_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "sep.incept"
    spec.write_text(
        "network n {\n  input 3 x 8 x 8\n  defaults conv(bias=false, bn=true, act=relu)\n"
        "  sepconv 16 3x3 pad=1 bias=false\n  conv 8 1x1\n}\n",
        encoding="utf-8",
    )
    assert main(["check", str(spec)]) == 0
    err = capsys.readouterr().err
    assert err == (
        f"{spec}:4:3: warning[W001]: `defaults conv(bn=true, act=relu)` does not apply to this "
        "sepconv, which keeps bn=none, act=none\n"
        " 4 |   sepconv 16 3x3 pad=1 bias=false\n"
        "   |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "  hint: add `defaults sepconv(bn=true, act=relu)`, or write the options on the sepconv\n"
    )
    spec.write_text(
        spec.read_text().replace("  sepconv", "  defaults sepconv(bn=true, act=relu)\n  sepconv")
    )
    assert main(["check", str(spec)]) == 0
    assert capsys.readouterr().err == ""
    assert inceptdsl.load(str(SPECS / "googlenet_paper.incept")).warnings == []


# ---- command line ----------------------------------------------------------------------------


def test_check_dir_checks_networks_and_libraries(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SPECS)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any("lib/inception_v3.incept: ok (library: " in ln for ln in out)
    n = len(list(SPECS.rglob("*.incept")))
    assert out[-1] == f"{n} specs checked, 0 failed"


def test_check_dir_reports_every_bad_spec(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a.incept").write_text("network a {\n  input 3 x 8 x 8\n  cnv 4 1x1\n}\n")
    (tmp_path / "b.incept").write_text("block B { conv 4 1x1 strde=2 }\n")
    (tmp_path / "c.incept").write_text("network c {\n  input 3 x 8 x 8\n  conv 4 1x1\n}\n")
    assert main(["check", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "error[E201]" in err and "error[E302]" in err
    assert out.splitlines()[-1] == "3 specs checked, 2 failed"


def test_new_writes_a_starter_that_loads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = SPECS / "variants" / "starter_for_test.incept"
    try:
        assert main(["new", "my_v3", "--from", "inception_v3", "-o", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        assert 'import "../inception_v3.incept" (inception_v3)' in text
        assert "network my_v3 extends inception_v3 {" in text
        net = inceptdsl.load(str(out))
        assert (
            net.report().params
            == inceptdsl.load(str(SPECS / "inception_v3.incept")).report().params
        )
        assert main(["new", "my_v3", "--from", "inception_v3", "-o", str(out)]) == 2  # exists
        assert main(["new", "x", "--from", "inception_v9"]) == 2
        assert "did you mean `inception_v4`?" in capsys.readouterr().err
    finally:
        out.unlink(missing_ok=True)


# ---- the documentation's examples are true ---------------------------------------------------


def _code_after(doc: Path, heading: str, marker: str) -> str:
    text = doc.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    for block in section.split("```")[1::2]:
        if marker in block:
            lines = block.split("\n")[1:]
            indent = min(len(ln) - len(ln.lstrip()) for ln in lines if ln.strip())
            return "\n".join(ln[indent:] for ln in lines).strip() + "\n"
    raise AssertionError(f"no code block with {marker!r} after {heading!r} in {doc}")


@pytest.mark.parametrize(
    ("doc", "heading", "name"),
    [
        ("README.md", "## Authoring a variant", "inception_v3_c10"),
        ("docs/language.md", "## 2b. Variants", "inception_v3_plus"),
    ],
)
def test_documented_variants_load_and_report_their_edits(
    doc: str, heading: str, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = SPECS.parent
    spec = _code_after(root / doc, heading, "extends")
    path = SPECS / "variants" / f"{name}.incept"
    assert not path.exists(), "the documented variant is not a bundled spec"
    try:
        path.write_text(spec, encoding="utf-8")
        net = inceptdsl.load(str(path))
        assert net.name == name
        if name == "inception_v3_c10":
            assert net.input_shape == (3, 32, 32) and net.graph.nodes["fc"]["shape"] == (10,)
            assert "maxpool1" not in net.graph and net.graph.graph["aux_heads"] == ()
            bad = spec.replace(
                "  remove maxpool1, maxpool2\n",
                "  remove maxpool1, maxpool2\n"
                "  replace Mixed_5b.branch5x5_2 with conv 64 5x5 pad=1\n",
            )
            path.write_text(bad, encoding="utf-8")
            assert main(["check", str(path.relative_to(root))]) == 1
            err = capsys.readouterr().err.splitlines()
            readme = (root / doc).read_text(encoding="utf-8")
            for line in err[:4]:
                assert line.strip() in readme, line
        else:
            assert "Mixed_7d.branch1x1" in net.graph and "AuxLogits" not in net.graph
    finally:
        path.unlink(missing_ok=True)


def test_the_editor_builds_the_parent_with_the_arguments_lowering_gives(variant) -> None:  # type: ignore[no-untyped-def]
    """The LSP's parent (lsp/variants.py) binds `extends` through lower/binding.py's
    `extends_args`, as lowering does: the variant's own functions are callable there."""
    from inceptdsl.front.loader import load_program
    from inceptdsl.lsp.variants import build_parent

    head = "fn twice(n: int) -> int = 2 * n\n\nnetwork v(k: int = 3) extends parent(twice(k))"
    v = variant("", head=head)
    assert v.graph.nodes["fc"]["shape"] == (6,)
    parent = build_parent(load_program(v.path))
    assert parent is not None and parent.graph.nodes["fc"]["shape"] == (6,)
    inherited = build_parent(load_program(variant("", head="network v extends parent(7)").path))
    assert inherited is not None and inherited.graph.nodes["fc"]["shape"] == (7,)
