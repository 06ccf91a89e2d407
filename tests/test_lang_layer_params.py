"""Parameters of type `act` standing as layers in a chain (docs/language.md section 3): the same
graph as the activation written out, `none` builds nothing, and misuse is a located error."""

from __future__ import annotations

import pytest

import inceptdsl
from inceptdsl import SpecError
from inceptdsl.cli import parse_literal
from inceptdsl.fmt import format_source


def _ir(text: str) -> list[tuple[str, str, str]]:
    net = inceptdsl.loads(text)
    return [(n, d["op"].value, str(d["attrs"])) for n, d in net.graph.nodes(data=True)]


def _spec(unit: str, value: str) -> str:
    return (
        f"block B(a: act = relu) {{\n  conv 8 1x1 -> {unit} -> conv 8 1x1\n}}\n\n"
        f"network n {{\n  input 3 x 16 x 16\n  B({value})\n}}\n"
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("relu", "relu"),
        ("hardswish", "hardswish"),
        ("leaky_relu(slope=0.2)", "leaky_relu slope=0.2"),
    ],
)
def test_an_act_parameter_lowers_as_the_activation_written_out(value: str, written: str) -> None:
    assert _ir(_spec("a", value)) == _ir(_spec(written, value))


def test_none_builds_nothing() -> None:
    ops = [op for _, op, _ in _ir(_spec("a", "none"))]
    assert ops == ["input", "conv2d", "conv2d"]


def test_network_act_parameter_from_set_and_fmt_keeps_it() -> None:
    text = "network n(h: act = relu) {\n  input 3 x 8 x 8\n  conv 4 1x1 -> h\n}\n"
    assert format_source(text, "n.incept") == text
    assert "relu" in inceptdsl.loads(text).graph
    net = inceptdsl.loads(text, h=parse_literal("hardswish"))  # as `--set h=hardswish`
    assert "hardswish" in net.graph and "relu" not in net.graph


@pytest.mark.parametrize(
    ("params", "unit", "code", "words"),
    [
        ("a: int = 1", "a", "E201", "a parameter of type int"),
        ("a: act = relu", "a slope=0.2", "E303", "takes no arguments"),
        ("a: act = relu", "b", "E201", "unknown layer or block `b`"),
    ],
)
def test_misuse_is_located(params: str, unit: str, code: str, words: str) -> None:
    text = f"block B({params}) {{\n  conv 8 1x1 -> {unit}\n}}\n"
    text += "network n {\n  input 3 x 8 x 8\n  B\n}\n"
    with pytest.raises(SpecError) as info:
        inceptdsl.loads(text)
    assert info.value.code == code, info.value.render()
    assert words in info.value.render()
    assert info.value.span is not None and info.value.span.line == 2
