"""A new op with weights, registered in a scratch registry: what it takes, and that every
missing piece is named.

The toy op `toy_bias` adds a learnable per-channel bias. Its OpDef declares its tensors and
traits; from that alone the weight map (torch key <-> Keras variable, layouts), the optimizer's
state keys and the ONNX seeding spec follow, with no code in weightmap.py, optimize/weights.py
or onnx/weights.py; docs/ir.md's op row and docs/language.md's layer row are generated from it
(`pytest --update-golden tests/test_registry.py`). What is written by hand is six places: the
`Op` member, the OpDef, a rule in each of the three backends and the test spec. The test removes
each one in turn and sees the registry checker name it, alone.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from pathlib import Path

import pytest
from conftest import ROOT
from support.doc_tables import layer_table, op_table, replace_table
from support.oracles import ORACLES
from support.registry_check import REGENERATE, BackendRules, problems

import inceptdsl
from inceptdsl.backends.common.weightmap import to_keras, weight_map
from inceptdsl.ir.options import number
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
        LayerDef(
            "toy_bias", (), {"init": 0.0}, {"init": number}, lambda v, ctx: ToyAttrs(**v), "a bias"
        ),
    ),
    traits=frozenset({Trait.FRESH}),
    tensors=_toy_tensors,
)

PLACES = ("member", "opdef", "keras", "onnx", "torch", "spec")
"""The places written by hand for a new op with weights (the target is at most six)."""


def _check(tmp_path: Path, missing: frozenset[str] = frozenset(), docs: bool = True) -> list[str]:
    """The registry checker on the real registry plus the toy, with the places in `missing`
    left out; with `docs`, the doc tables regenerated from that registry (as --update-golden
    does), else the committed ones."""
    ops = (*Op, Toy.TOY_BIAS) if "member" not in missing else tuple(Op)
    registry = {**REGISTRY, Toy.TOY_BIAS: TOY} if "opdef" not in missing else dict(REGISTRY)
    ir_doc = (ROOT / "docs" / "ir.md").read_text(encoding="utf-8")
    language_doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    if docs:
        ir_doc = replace_table(ir_doc, op_table(registry, ops))  # type: ignore[arg-type]
        language_doc = replace_table(language_doc, layer_table(registry, ops))  # type: ignore[arg-type]
    spec_dir = tmp_path / "ops"
    spec_dir.mkdir(exist_ok=True)
    for f in (ROOT / "tests" / "ops").glob("*.incept"):
        (spec_dir / f.name).write_bytes(f.read_bytes())
    (spec_dir / "toy_bias.incept").unlink(missing_ok=True)
    if "spec" not in missing:
        (spec_dir / "toy_bias.incept").write_text("network t { input 2 x 3 x 3 toy_bias }\n")
    backends = {
        n: BackendRules({*Op} | ({Toy.TOY_BIAS} if n not in missing else set()), ACTIVATION_DEFS)  # type: ignore[arg-type]
        for n in ("keras", "onnx", "torch")
    }
    return problems(
        registry=registry,  # type: ignore[arg-type]
        activations=ACTIVATION_DEFS,
        backends=backends,
        ir_doc=ir_doc,
        language_doc=language_doc,
        spec_dir=spec_dir,
        oracles=ORACLES,
        ops=ops,  # type: ignore[arg-type]
    )


def test_all_six_places_filled_is_clean(tmp_path: Path) -> None:
    assert len(PLACES) <= 6
    assert _check(tmp_path) == []


@pytest.mark.parametrize(
    ("place", "line"),
    [
        ("member", "op toy_bias: registered but not an Op member"),
        ("opdef", "op toy_bias: not in the registry"),
        ("keras", "op toy_bias: backend keras has no rule"),
        ("onnx", "op toy_bias: backend onnx has no rule"),
        ("torch", "op toy_bias: backend torch has no rule"),
        ("spec", "op toy_bias: no test spec toy_bias.incept"),
    ],
)
def test_each_place_left_out_is_named_alone(tmp_path: Path, place: str, line: str) -> None:
    assert place in PLACES
    assert _check(tmp_path, frozenset({place})) == [line]


def test_the_doc_rows_are_regenerated_not_written(tmp_path: Path) -> None:
    """With the committed docs (not regenerated), the stale tables are named with the toy's
    rows and the command that rewrites them: nothing to write by hand."""
    assert _check(tmp_path, docs=False) == [
        f"docs/ir.md's op table is not the registry's (toy_bias): {REGENERATE}",
        f"docs/language.md's layer table is not the registry's (toy_bias): {REGENERATE}",
    ]
    ir_doc = replace_table(
        (ROOT / "docs" / "ir.md").read_text(encoding="utf-8"),
        op_table({**REGISTRY, Toy.TOY_BIAS: TOY}, (*Op, Toy.TOY_BIAS)),  # type: ignore[dict-item, arg-type]
    )
    assert "| `toy_bias` | 1 | `init` | same | a per-channel `bias` |\n" in ir_doc


def test_a_toy_op_whose_state_has_no_tensors_is_named(tmp_path: Path) -> None:
    global TOY
    saved = TOY
    TOY = dataclasses.replace(saved, tensors=None)
    try:
        found = _check(tmp_path)
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
