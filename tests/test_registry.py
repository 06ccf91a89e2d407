"""The op registry is complete: every op and activation has everything
support/registry_check.py lists (shape, cost, surface, a rule in each backend: torch, keras and
onnx, the doc tables generated from it, a test spec, an oracle) — and an omission of any one of
them is named, shown on deliberately incomplete registries.

Also: each test spec in tests/ops/ lowers to its op, passes its own `expect`s, and the tables
derived from the registry (layers, merges, activations, the evaluator's words) agree with it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import ROOT
from support.doc_tables import layer_table, op_table, replace_table
from support.oracles import ORACLES
from support.registry_check import REGENERATE, BackendRules, problems

import inceptdsl
from inceptdsl.ir import ops as O
from inceptdsl.ir.registry import ACTIVATION_DEFS, REGISTRY, Op
from inceptdsl.middle import evaluate

SPEC_DIR = ROOT / "tests" / "ops"
IR_DOC = (ROOT / "docs" / "ir.md").read_text(encoding="utf-8")
LANGUAGE_DOC = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")


def _backends() -> dict[str, BackendRules]:
    """Every registered backend's dispatch tables (its declared `ops` and `activations`), once
    per table: a backend that compiles through another's rules (openvino: onnx's, tflite:
    keras') shares that backend's table object and needs no rule of its own for a new op."""
    from inceptdsl.backend import available, get

    out: dict[str, BackendRules] = {}
    seen: set[int] = set()
    for name in available():
        b = get(name)
        if id(b.ops) not in seen:
            seen.add(id(b.ops))
            out[name] = BackendRules(set(b.ops), set(b.activations))
    return out


def _shared_tables() -> dict[str, str]:
    """Backend -> the backend whose rule tables it uses (the same objects)."""
    from inceptdsl.backend import available, get

    owner: dict[int, str] = {}
    out = {}
    for name in available():
        ops = get(name).ops
        if id(ops) in owner:
            out[name] = owner[id(ops)]
        else:
            owner[id(ops)] = name
    return out


def _problems(**changes: object) -> list[str]:
    args: dict[str, object] = {
        "registry": REGISTRY,
        "activations": ACTIVATION_DEFS,
        "backends": _backends(),
        "ir_doc": IR_DOC,
        "language_doc": LANGUAGE_DOC,
        "spec_dir": SPEC_DIR,
        "oracles": ORACLES,
    }
    args.update(changes)
    return problems(**args)  # type: ignore[arg-type]


def test_the_registry_is_complete() -> None:
    assert _problems() == []


def test_the_checked_backends_are_the_registered_ones() -> None:
    """The checker sees every backend the entry points register, built-ins included."""
    from inceptdsl.backend import BUILT_IN, available

    assert set(BUILT_IN) <= set(_backends()) | set(_shared_tables()) == set(available())
    assert _shared_tables() == {"openvino": "onnx", "tflite": "keras"}


# ---- each kind of omission is named ------------------------------------------------------------


def test_a_missing_shape_or_cost_function_is_named() -> None:
    broken = dict(REGISTRY)
    broken[Op.CONV2D] = dataclasses.replace(REGISTRY[Op.CONV2D], shape=None)  # type: ignore[arg-type]
    broken[Op.LINEAR] = dataclasses.replace(REGISTRY[Op.LINEAR], cost=None)  # type: ignore[arg-type]
    assert _problems(registry=broken) == [
        "op conv2d: no shape function",
        "op linear: no cost function",
    ]


def test_an_unregistered_op_and_a_surfaceless_op_are_named() -> None:
    broken = {op: d for op, d in REGISTRY.items() if op is not Op.LRN}
    broken[Op.SCALE] = dataclasses.replace(REGISTRY[Op.SCALE], layers=())
    found = _problems(registry=broken)
    assert "op lrn: not in the registry" in found
    assert "op scale: no layer keyword, merge keyword or statement makes it" in found


def test_a_missing_backend_rule_is_named_with_its_backend() -> None:
    backends = _backends()
    torch_rules = backends["torch"]
    backends["torch"] = BackendRules(set(torch_rules.ops) - {Op.AVGPOOL2D}, torch_rules.activations)
    keras_rules = backends["keras"]
    backends["keras"] = BackendRules(keras_rules.ops, set(keras_rules.activations) - {"mish"})
    onnx_rules = backends["onnx"]
    backends["onnx"] = BackendRules(
        set(onnx_rules.ops) - {Op.CHANNEL_SHUFFLE}, set(onnx_rules.activations) - {"gelu"}
    )
    assert _problems(backends=backends) == [
        "op avgpool2d: backend torch has no rule",
        "op channel_shuffle: backend onnx has no rule",
        "activation gelu: backend onnx has no rule",
        "activation mish: backend keras has no rule",
    ]


def test_the_generated_doc_tables_are_the_registry_s(request: pytest.FixtureRequest) -> None:
    """docs/ir.md's op table and docs/language.md's layer table are the registry's; under
    --update-golden they are rewritten from it."""
    docs = {ROOT / "docs" / "ir.md": op_table, ROOT / "docs" / "language.md": layer_table}
    for path, table in docs.items():
        text = path.read_text(encoding="utf-8")
        fresh = replace_table(text, table(REGISTRY))
        if request.config.getoption("--update-golden"):
            path.write_text(fresh, encoding="utf-8")
        else:
            assert text == fresh, f"{path} is stale: {REGENERATE}"


def test_a_stale_or_missing_doc_row_is_named() -> None:
    doc = IR_DOC.replace("| `lrn` |", "| lrn |").replace("| `elu` |", "| elu |")
    language = LANGUAGE_DOC.replace("| `shuffle` |", "| shuffle |").replace(
        "| `multiply { ... }` |", "| multiply |"
    )
    assert _problems(ir_doc=doc, language_doc=language) == [
        f"docs/ir.md's op table is not the registry's (lrn): {REGENERATE}",
        f"docs/language.md's layer table is not the registry's (shuffle): {REGENERATE}",
        "merge multiply: no row in docs/language.md's unit table",
        "activation elu: no row in docs/ir.md's activation table",
    ]


def test_a_doc_without_its_generated_table_is_named() -> None:
    doc = IR_DOC.replace("<!-- generated", "<!-- written")
    assert _problems(ir_doc=doc) == [
        "docs/ir.md's op table: no generated table (marker <!-- generated from the registry: "
        "`pytest --update-golden tests/test_registry.py` -->)"
    ]


def test_a_missing_test_spec_or_oracle_is_named(tmp_path: Path) -> None:
    for spec in SPEC_DIR.glob("*.incept"):
        if spec.name != "dropout.incept":
            (tmp_path / spec.name).write_text(spec.read_text(encoding="utf-8"))
    act = (tmp_path / "act.incept").read_text(encoding="utf-8")
    (tmp_path / "act.incept").write_text(act.replace("softplus", "tanh"))
    oracles = {k: v for k, v in ORACLES.items() if k != "gelu"}
    assert _problems(spec_dir=tmp_path, oracles=oracles) == [
        "op dropout: no test spec dropout.incept",
        "activation gelu: no NumPy oracle in tests/support/oracles.py",
        "activation softplus: not used in act.incept",
    ]


def test_a_registry_change_not_regenerated_into_the_docs_is_named() -> None:
    broken = dict(REGISTRY)
    broken[Op.LINEAR] = dataclasses.replace(REGISTRY[Op.LINEAR], state="a linear layer")
    layer = dataclasses.replace(REGISTRY[Op.LRN].layers[0], notes="")
    broken[Op.LRN] = dataclasses.replace(REGISTRY[Op.LRN], layers=(layer,))
    assert _problems(registry=broken) == [
        f"docs/ir.md's op table is not the registry's (linear): {REGENERATE}",
        f"docs/language.md's layer table is not the registry's (lrn): {REGENERATE}",
    ]


def test_inconsistent_traits_are_named() -> None:
    broken = dict(REGISTRY)
    broken[Op.DROP_PATH] = dataclasses.replace(
        REGISTRY[Op.DROP_PATH], traits=frozenset({O.Trait.EVAL_IDENTITY})
    )
    broken[Op.FLATTEN] = dataclasses.replace(
        REGISTRY[Op.FLATTEN], traits=frozenset({O.Trait.ALIAS, O.Trait.FRESH})
    )
    assert sorted(_problems(registry=broken)) == [
        "op drop_path: trait eval_identity without alias",
        "op flatten: traits fresh and alias together",
    ]


def test_an_op_with_only_its_registry_entry_is_named_everywhere() -> None:
    """An op registered with no surface, no backend rules: each missing place is listed."""
    bare = dataclasses.replace(REGISTRY[Op.SCALE], layers=())
    backends = {
        name: BackendRules(set(r.ops) - {Op.SCALE}, r.activations)
        for name, r in _backends().items()
    }
    found = _problems(registry={**REGISTRY, Op.SCALE: bare}, backends=backends)
    assert found == [
        "op scale: no layer keyword, merge keyword or statement makes it",
        "op scale: backend keras has no rule",
        "op scale: backend onnx has no rule",
        "op scale: backend torch has no rule",
        f"docs/language.md's layer table is not the registry's (scale): {REGENERATE}",
    ]


# ---- the test specs --------------------------------------------------------------------------


@pytest.mark.parametrize("op", sorted(Op, key=lambda o: o.value), ids=lambda o: o.value)
def test_each_test_spec_makes_its_op_and_meets_its_expectations(op: Op) -> None:
    net = inceptdsl.load(str(SPEC_DIR / f"{op.value}.incept"))
    made = {d["op"] for _, d in net.graph.nodes(data=True)}
    assert op in made
    for _, d in net.graph.nodes(data=True):
        assert type(d["attrs"]) is REGISTRY[d["op"]].attrs
    results = net.verify()
    assert all(r.ok for r in results), [r.describe() for r in results if not r.ok]


# ---- derived tables --------------------------------------------------------------------------


def test_derived_tables_agree_with_the_registry() -> None:
    assert set(O.ATTRS) == set(Op) == set(REGISTRY)
    assert O.VARIADIC == {op for op, d in REGISTRY.items() if d.arity is None}
    assert {layer.op for layer in O.LAYERS.values()} | {Op.INPUT} | {
        d.op for d in O.MERGES.values()
    } == set(Op)
    assert all(O.LAYERS[layer.name] is layer for d in REGISTRY.values() for layer in d.layers)
    assert set(O.ACTIVATIONS) == set(ACTIVATION_DEFS) <= evaluate.SYMBOLS
    parameterised = {n for n, d in ACTIVATION_DEFS.items() if d.params}
    assert parameterised <= evaluate.RECORDS
    # every activation is also a layer keyword of the act op
    assert {n for n, layer in O.LAYERS.items() if layer.op is Op.ACT} == set(ACTIVATION_DEFS)
