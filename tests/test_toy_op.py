"""A new op with weights, registered in a scratch registry: what it takes, and that every
missing piece is named.

The toy op `toy_bias` adds a learnable per-channel bias. Its OpDef declares its tensors and
traits; from that alone the weight map (torch key <-> Keras variable, layouts), the optimizer's
state keys and the ONNX seeding spec follow, with no code in weightmap.py, optimize/weights.py
or onnx/weights.py. What remains to write is listed by the registry checker, one line per place:
a rule in each backend (3), a docs/ir.md row, a docs/language.md row and a test spec — plus the
OpDef itself and its `Op` member (docs/contributing.md). The test shows each of those lines for a
bare toy op, and none once every place is filled.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from pathlib import Path

import pytest
from conftest import ROOT
from oracles import ORACLES
from registry_check import BackendRules, problems

import inceptdsl
from inceptdsl.backends.common.weightmap import to_keras, weight_map
from inceptdsl.ir.registry import ACTIVATION_DEFS, REGISTRY, Attrs, LayerDef, Op, OpDef, Trait
from inceptdsl.ir.state import TensorDef
from inceptdsl.optimize.weights import node_keys


class Toy(StrEnum):
    TOY_BIAS = "toy_bias"


@dataclasses.dataclass(frozen=True)
class ToyAttrs(Attrs):
    init: float = 0.0


def _toy_tensors(a: ToyAttrs, cin: int, cout: int) -> tuple[TensorDef, ...]:
    return (TensorDef("bias", "", "bias", "vector", (cout,), 0, a.init),)


TOY = OpDef(
    Toy.TOY_BIAS,  # type: ignore[arg-type]
    ToyAttrs,
    1,
    lambda a, ins, ctx: ins[0],
    lambda a, ins, out: (out[0], 0, 0),
    "add a learnable per-channel bias",
    state="a per-channel `bias`",
    layers=(
        LayerDef("toy_bias", (), {}, {}, lambda v, ctx: ToyAttrs(init=0.0), "a learnable bias"),
    ),
    traits=frozenset({Trait.FRESH}),
    tensors=_toy_tensors,
)

IR_ROW = "| `toy_bias` | 1 | `init` | same | a per-channel `bias` |\n"
LANGUAGE_ROW = "| `toy_bias` | a learnable bias |\n"


def _add_row(doc: str, heading: str, row: str) -> str:
    """`doc` with `row` added as the first row of the table after `heading`."""
    head, section = doc.split(heading, 1)
    lines = section.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("| `"))
    return head + heading + "".join(lines[:first] + [row] + lines[first:])


def _check(tmp_path: Path, rules: bool, ir_row: bool, language_row: bool, spec: bool) -> list[str]:
    ir_doc = (ROOT / "docs" / "ir.md").read_text(encoding="utf-8")
    language_doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    if ir_row:
        ir_doc = _add_row(ir_doc, "## Ops", IR_ROW)
    if language_row:
        language_doc = _add_row(language_doc, "### Layers", LANGUAGE_ROW)
    spec_dir = tmp_path / "ops"
    spec_dir.mkdir(exist_ok=True)
    for f in (ROOT / "tests" / "ops").glob("*.incept"):
        (spec_dir / f.name).write_bytes(f.read_bytes())
    (spec_dir / "toy_bias.incept").unlink(missing_ok=True)
    if spec:
        (spec_dir / "toy_bias.incept").write_text("network t { input 2 x 3 x 3 toy_bias }\n")
    real = {n: BackendRules(set(Op), set(ACTIVATION_DEFS)) for n in ("keras", "onnx", "torch")}
    backends = {
        n: BackendRules({*r.ops, Toy.TOY_BIAS} if rules else r.ops, r.activations)  # type: ignore[arg-type]
        for n, r in real.items()
    }
    return problems(
        registry={**REGISTRY, Toy.TOY_BIAS: TOY},  # type: ignore[dict-item]
        activations=ACTIVATION_DEFS,
        backends=backends,
        ir_doc=ir_doc,
        language_doc=language_doc,
        spec_dir=spec_dir,
        oracles=ORACLES,
        ops=(*Op, Toy.TOY_BIAS),  # type: ignore[arg-type]
    )


def test_a_bare_toy_op_lists_every_place_left_to_fill(tmp_path: Path) -> None:
    assert _check(tmp_path, rules=False, ir_row=False, language_row=False, spec=False) == [
        "op toy_bias: backend keras has no rule",
        "op toy_bias: backend onnx has no rule",
        "op toy_bias: backend torch has no rule",
        "op toy_bias: no row in docs/ir.md's op table",
        "op toy_bias: no test spec toy_bias.incept",
        "layer toy_bias: no row in docs/language.md's layer table",
    ]


def test_each_place_filled_removes_its_line_and_all_filled_is_clean(tmp_path: Path) -> None:
    assert _check(tmp_path, rules=True, ir_row=True, language_row=True, spec=True) == []
    assert _check(tmp_path, rules=True, ir_row=True, language_row=True, spec=False) == [
        "op toy_bias: no test spec toy_bias.incept"
    ]


def test_a_toy_op_whose_state_has_no_tensors_is_named(tmp_path: Path) -> None:
    global TOY
    saved = TOY
    TOY = dataclasses.replace(saved, tensors=None)
    try:
        found = _check(tmp_path, rules=True, ir_row=True, language_row=True, spec=True)
    finally:
        TOY = saved
    assert found == ["op toy_bias: it has state but declares no tensors (OpDef.tensors)"]


def test_the_weight_pieces_follow_from_the_declared_tensors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A layer_scale node turned into the toy op: the weight map, the Keras layout and the
    optimizer's keys come from the toy's declaration, with no other code."""
    g = inceptdsl.load(str(ROOT / "tests" / "ops" / "layer_scale.incept")).graph
    monkeypatch.setitem(REGISTRY, Toy.TOY_BIAS, TOY)  # type: ignore[index]
    g.nodes["v"]["op"] = Toy.TOY_BIAS
    g.nodes["v"]["attrs"] = ToyAttrs(init=0.5)
    (entry,) = [e for e in weight_map(g).entries if e.node == "v"]
    assert (entry.torch_key, entry.path, entry.kind, entry.shape, entry.fill) == (
        "v.bias",
        "v/bias",
        "vector",
        (4,),
        0.5,
    )
    assert node_keys("v", Toy.TOY_BIAS, ToyAttrs(init=0.5)) == ["v.bias"]  # type: ignore[arg-type]
    import numpy as np

    assert to_keras(entry, np.arange(4.0)).shape == (4,)
