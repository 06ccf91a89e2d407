"""Families as the tools see them: a `choice[...]` parameter declares the members (checked at
bind time), a member is loaded by name (`efficientnet_b3`) by every command through the one
resolver (members.with_member), `diff` takes a member per side, and `new` refuses a variant
that would extend itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import inceptdsl
from inceptdsl import SpecError
from inceptdsl.cli import main
from inceptdsl.fmt import format_source
from inceptdsl.middle.members import family_of, resolve_member, with_member

FAMILY = """\
block Stem(width: int, kind: choice["plain", "wide"]) {
  conv (width * 2 if kind == "wide" else width) 3x3
}
network fam(variant: choice["small", "large"] = "small", num_classes: int = 10) {
  input 3 x 16 x 16
  stem: Stem(8 if variant == "small" else 16, "plain")
  global_avgpool -> flatten
  head: linear num_classes
}
"""


def _params(net: inceptdsl.Network) -> int:
    return net.report().params


def test_a_choice_parameter_takes_its_members_and_nothing_else() -> None:
    small, large = (inceptdsl.loads(FAMILY, variant=v) for v in ("small", "large"))
    assert _params(small) == 3 * 9 * 8 + 8 + 8 * 10 + 10  # conv 8 3x3 (bias), linear 10
    assert _params(large) == 3 * 9 * 16 + 16 + 16 * 10 + 10
    assert _params(inceptdsl.loads(FAMILY)) == _params(small)  # the default
    with pytest.raises(SpecError) as e:
        inceptdsl.loads(FAMILY, variant="smal")
    assert e.value.code == "E301"
    assert 'declared choice["small", "large"]: the value is "smal"' in e.value.message
    assert e.value.hint == "did you mean `small`?"
    assert (e.value.span.line, e.value.span.column) == (4, 13)  # the parameter, as --set is
    with pytest.raises(SpecError) as e:
        inceptdsl.loads(FAMILY, variant="medium")  # nothing close: every member is listed
    assert e.value.hint == 'its members are: "small", "large"'
    with pytest.raises(SpecError) as e:
        inceptdsl.loads(FAMILY, variant=2)
    assert "the value is int 2, not one of its members" in e.value.message


def test_a_block_call_and_a_default_are_checked_too() -> None:
    with pytest.raises(SpecError) as e:
        inceptdsl.loads(FAMILY.replace('"plain")', '"plane")'))
    assert e.value.code == "E301" and (e.value.span.line, e.value.hint) == (
        6,
        "did you mean `plain`?",
    )
    with pytest.raises(SpecError) as e:  # a default that is no member: wrong for every call
        inceptdsl.loads(FAMILY.replace('= "small"', '= "tiny"'))
    assert e.value.code == "E301"


@pytest.mark.parametrize(
    "typ",
    ["choice[int]", 'choice["a", "a"]', "choice", 'choice["a", 3]', 'choise["a"]'],
)
def test_a_malformed_choice_is_an_unknown_type(typ: str) -> None:
    with pytest.raises(SpecError) as e:
        inceptdsl.loads(f"network n(v: {typ}) {{\n  input 3 x 8 x 8\n}}\n")
    assert e.value.code in ("E201", "E101"), e.value.message
    if e.value.code == "E201":
        assert e.value.message == f"unknown type `{typ}`"


def test_fmt_keeps_a_choice_and_is_idempotent() -> None:
    messy = FAMILY.replace('choice["small", "large"]', 'choice[ "small" ,"large" ]')
    once = format_source(messy, "fam.incept")
    assert 'variant: choice["small", "large"] = "small"' in once
    assert format_source(once, "fam.incept") == once


def test_a_family_declares_its_members() -> None:
    fam = family_of(str(Path(inceptdsl.__file__).parent.parent / "specs" / "efficientnet.incept"))
    assert fam is not None
    assert (fam.param, fam.members, fam.default) == (
        "variant",
        tuple(f"b{i}" for i in range(8)),
        "b0",
    )


def test_a_member_is_loaded_by_name() -> None:
    m = resolve_member("regnet_y_1_6gf")
    assert m is not None and (m.spec, m.param, m.member) == ("regnet", "variant", "y_1_6gf")
    assert resolve_member("inception_v3") is None  # a bundled spec of that name
    assert resolve_member("googlenet_paper") is None
    assert with_member("convnext_small", {"num_classes": 10}) == (
        "convnext",
        {"variant": "small", "num_classes": 10},
    )


def test_a_file_of_the_members_name_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "efficientnet_b3").write_text(FAMILY, encoding="utf-8")
    assert resolve_member("efficientnet_b3") is None


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_report_by_name_equals_report_with_set(capsys: pytest.CaptureFixture[str]) -> None:
    by_name = _json(capsys, "report", "efficientnet_b3", "--format", "json")
    by_set = _json(capsys, "report", "efficientnet", "--set", "variant=b3", "--format", "json")
    assert by_name == by_set
    assert by_name["totals"]["params"] == 12_233_232  # torchvision's efficientnet_b3
    b2 = _json(capsys, "report", "efficientnet_b2", "--format", "json")
    assert b2["totals"]["params"] == 9_109_994  # control: the name chooses the member


def test_every_command_that_loads_a_spec_takes_a_members_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["check", "convnext_small"]) == 0
    assert "convnext_small: ok (convnext: " in capsys.readouterr().out
    assert main(["verify", "regnet_x_400mf"]) == 0
    capsys.readouterr()
    assert main(["ir", "regnet_x_400mf"]) == 0
    x400 = capsys.readouterr().out
    assert main(["ir", "regnet", "--set", "variant=x_400mf"]) == 0
    assert capsys.readouterr().out == x400
    out = tmp_path / "g.dot"
    assert main(["graph", "convnext_tiny", "--format", "dot", "-o", str(out)]) == 0
    assert "digraph" in out.read_text(encoding="utf-8")


def test_a_commands_spec_argument_is_resolved_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """cli._load leaves a member's name to `inceptdsl.load`, which resolves it: the resolver
    runs once per command, on the argument as given, for `report` and `verify` alike."""
    import inceptdsl.middle.members as members

    seen: list[str] = []
    real = members.resolve_member

    def counting(arg: str) -> members.Member | None:
        seen.append(arg)
        return real(arg)

    monkeypatch.setattr(members, "resolve_member", counting)
    for command in ("report", "verify"):
        seen.clear()
        assert main([command, "regnet_x_400mf"]) == 0
        assert seen == ["regnet_x_400mf"], command
    capsys.readouterr()


def test_a_member_and_a_set_of_its_parameter_contradict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["report", "efficientnet_b3", "--set", "variant=b3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error[E004]: efficientnet_b3 is efficientnet with variant=b3: setting variant as well "
        "contradicts it"
    )


def test_the_python_api_loads_a_member_by_name() -> None:
    """`inceptdsl.load` resolves a member's name as the command line does (members.with_member):
    the same network as the family with the member set, the same errors."""
    by_name = inceptdsl.load("efficientnet_b3", num_classes=10)
    by_param = inceptdsl.load("efficientnet", variant="b3", num_classes=10)
    assert by_name.overrides == {"variant": "b3", "num_classes": 10}
    # torchvision efficientnet_b3 12,233,232 with a 10-class head: - 1536 x 990 - 990
    assert by_name.report().params == by_param.report().params == 10_711_602
    assert inceptdsl.load("efficientnet_b2").report().params == 9_109_994  # control: b2 != b3
    assert inceptdsl.load("efficientnet_b3").report().params == 12_233_232  # torchvision's
    with pytest.raises(SpecError) as e:
        inceptdsl.load("efficientnet_b9")
    assert e.value.code == "E002"
    assert e.value.hint is not None and e.value.hint.startswith("did you mean `efficientnet_b7`?")
    with pytest.raises(SpecError) as e:
        inceptdsl.load("efficientnet_b3", variant="b2")
    assert e.value.code == "E004" and "setting variant as well contradicts it" in e.value.message


def test_an_unknown_member_names_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "efficientnet_b9"]) == 2
    assert capsys.readouterr().err == (
        "efficientnet_b9: error[E002]: no such file or bundled network: efficientnet_b9\n"
        "  hint: did you mean `efficientnet_b7`? efficientnet's members: b0, b1, b2, b3, b4, "
        "b5, b6, b7\n"
    )
    assert main(["report", "googlenet_x"]) == 2  # googlenet is no family: the usual E002
    assert "no such file: googlenet_x" in capsys.readouterr().err


def test_a_sweep_takes_a_member_parameter_alone_as_every_member() -> None:
    from inceptdsl.errors import TypeMismatchError
    from inceptdsl.sweep import sweep

    spec = "convnext"
    r = sweep(spec, ["variant"], fixed={"image_size": 32})
    assert [p.params for p in r.points] == [{"variant": "tiny"}, {"variant": "small"}]
    assert [p.metrics["params"] for p in r.points] == [28_589_128, 50_223_688]
    with pytest.raises(TypeMismatchError) as e:
        sweep(spec, ["variant=tiny,smal"])
    assert e.value.hint == "did you mean `small`?"
    with pytest.raises(SpecError, match="NAME=RANGE"):
        sweep(spec, ["image_size"])  # not a choice: a range or values are needed


def _diff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["diff", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_diff_of_two_members_by_name(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    from support.golden import assert_golden

    rc, out, err = _diff(capsys, "convnext_tiny", "convnext_small", "--format", "markdown")
    assert (rc, err) == (0, "")
    assert_golden(request, "diff/convnext_tiny_small.md", out)
    # the same two members by --set-a/--set-b: the same rows, under the labels given
    rc, by_set, _ = _diff(
        capsys,
        *("convnext", "convnext", "--set-a", "variant=tiny", "--set-b", "variant=small"),
        *("--format", "markdown"),
    )
    assert rc == 0 and by_set.splitlines()[2:] == out.splitlines()[2:]
    assert "convnext variant=tiny" in by_set and "convnext variant=small" in by_set
    rc, same, _ = _diff(capsys, "convnext_tiny", "convnext", "--format", "json")
    assert rc == 0 and json.loads(same)["totals"]["params"]["delta"] == 0  # tiny: the default


def test_diff_sets_one_side_or_both(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _diff(
        capsys, "efficientnet", "efficientnet", "--set-b", "variant=b1", "--format", "json"
    )
    d = json.loads(out)
    assert (rc, d["totals"]["params"]["a"], d["totals"]["params"]["b"]) == (
        0,
        5_288_548,
        7_794_184,
    )
    assert (d["a"]["path"], d["b"]["path"]) == ("efficientnet", "efficientnet variant=b1")
    # --set holds for both sides: 10 classes on each
    rc, out, err = _diff(
        capsys,
        *("efficientnet_b0", "efficientnet_b1", "--set", "num_classes=10", "--format", "json"),
    )
    d = json.loads(out)
    assert d["totals"]["params"]["a"] == 5_288_548 - 1280 * 990 - 990
    assert d["totals"]["params"]["b"] == 7_794_184 - 1280 * 990 - 990


def test_diff_refuses_a_parameter_set_twice_for_one_side(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # before: the last --set won for both sides, and b3 was compared with b3
    rc, out, err = _diff(
        capsys, "efficientnet", "--set", "variant=b0", "efficientnet", "--set", "variant=b3"
    )
    assert (rc, out) == (2, "")
    assert err.startswith(
        "error[E004]: `variant` is set twice for A (--set and --set); --set holds for both "
        "sides of a diff\n  hint: set a side's own value with --set-a or --set-b"
    )
    rc, out, err = _diff(
        capsys, "efficientnet", "efficientnet", "--set", "variant=b0", "--set-b", "variant=b3"
    )
    assert rc == 2 and "`variant` is set twice for B (--set and --set-b)" in err
    rc, out, err = _diff(capsys, "efficientnet_b0", "efficientnet", "--set-a", "variant=b0")
    assert rc == 2 and "efficientnet_b0 is efficientnet with variant=b0" in err


def test_new_refuses_the_parents_own_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # before: it wrote `network googlenet extends googlenet`, two networks of one name
    assert main(["new", "googlenet", "--from", "googlenet"]) == 2
    assert capsys.readouterr().err == (
        "error[E004]: NAME 'googlenet' is the parent's own name: a variant needs a name of its "
        "own\n  hint: e.g. inceptdsl new my_googlenet --from googlenet\n"
    )
    assert not (tmp_path / "googlenet.incept").exists()
    assert main(["new", "efficientnet", "--from", "efficientnet_b3"]) == 2
    assert "'efficientnet' is the parent's own name" in capsys.readouterr().err
    assert main(["new", "googlenet2", "--from", "googlenet"]) == 0  # control
    assert (tmp_path / "googlenet2.incept").is_file()


def test_new_from_a_family_and_from_a_member_loads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # before: the variant did not load (E201 unknown function `member`, in the parent's
    # parameter defaults): inherited defaults were evaluated with the variant's functions
    assert main(["new", "my_regnet", "--from", "regnet"]) == 0
    assert inceptdsl.load("my_regnet.incept").report().params == 4_344_144
    assert inceptdsl.load("my_regnet.incept", variant="x_800mf").report().params == 7_259_656
    assert main(["new", "my_b3", "--from", "efficientnet_b3"]) == 0
    text = (tmp_path / "my_b3.incept").read_text(encoding="utf-8")
    assert 'network my_b3 extends efficientnet(variant="b3") {' in text
    assert 'import "@inceptdsl/efficientnet.incept" (efficientnet)\n' in text
    assert inceptdsl.load("my_b3.incept").report().params == 12_233_232
    capsys.readouterr()
    assert main(["new", "x", "--from", "efficientnet_b9"]) == 2
    assert "did you mean `efficientnet_b7`?" in capsys.readouterr().err


def test_the_languages_example_of_an_unknown_member_is_the_real_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "language.md").read_text(encoding="utf-8")
    assert main(["report", "specs/efficientnet.incept", "--set", "variant=b9"]) == 1
    err = capsys.readouterr().err
    assert "$ inceptdsl report efficientnet --set variant=b9\n" in doc
    for line in err.splitlines():
        assert line in doc, line


def test_list_fits_an_80_column_terminal() -> None:
    from support.terminal import _pipe, _tty

    lines = _tty(80, "list")
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert lines[0].split() == ["spec", "network", "params", "MACs"]
    row = next(line for line in lines if line.startswith("efficientnet_b3 "))
    assert row.split() == ["efficientnet_b3", "efficientnet", "variant=b3", "12.2M", "1.83G"]
    assert "not shown at 80 columns: buffers; MACs, params shortened. `--wide` shows all." in lines
    # a pipe keeps every column in full (the control: wider than 80)
    piped = _pipe("list").splitlines()
    assert piped[0].split() == ["spec", "network", "params", "buffers", "MACs"]
    assert max(len(line) for line in piped) > 80
    assert _tty(200, "list")[0].split() == piped[0].split()


def test_a_hand_written_variant_of_a_family_inherits_its_parameters(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "v.incept"
    spec.write_text(
        'import "@inceptdsl/efficientnet.incept" (efficientnet)\n\n'
        "network v extends efficientnet {\n  remove classifier\n}\n",
        encoding="utf-8",
    )
    head = 1280 * 1000 + 1000  # classifier.1: linear 1280 -> 1000
    assert inceptdsl.load(str(spec)).report().params == 5_288_548 - head
    assert inceptdsl.load(str(spec), variant="b3").report().params == 12_233_232 - (
        1536 * 1000 + 1000
    )
