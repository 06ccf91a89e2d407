"""Compiled models behave like hand-written ones: every block and group is a module with its own
forward, so the tools that work on torchvision's models work on ours.

Forward hooks on blocks fire once per forward; torchvision's feature extractor returns a block's
output by its name; torchinfo lists block rows with shapes and parameters; torch.fx traces every
bundled spec and torch.export exports it, both keeping the module hierarchy; the emitted file
has one class per block kind, with the block's parameters as constructor arguments.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from conftest import bundled_specs, spec_id
from support.lazy import nn, torch
from support.torch_specs import example, randomize

import inceptdsl
from inceptdsl.backend import get

BACKEND = get("torch")
ROOT = Path(__file__).resolve().parent.parent


def _spec(name: str, **params: object) -> nx.DiGraph:
    return inceptdsl.load(str(ROOT / "specs" / f"{name}.incept"), **params).graph


def _blocks(g: nx.DiGraph) -> list[str]:
    """Every scope made by a block call or holding one (repeat iterations, aux heads)."""
    return [p for p, s in g.graph["scopes"].items() if s.block is not None or len(s.calls) == 1]


@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_a_hook_on_every_block_fires_once_per_forward(name: str) -> None:
    g = _spec(name)
    model = BACKEND.build(g)
    blocks = _blocks(g)
    assert len(blocks) >= 10
    calls: dict[str, int] = {}
    for path in blocks:
        model.get_submodule(path).register_forward_hook(
            lambda m, i, o, p=path: calls.__setitem__(p, calls.get(p, 0) + 1)
        )
    x = example(g, batch=2)
    model.train()(x)  # training runs the aux heads too
    assert calls == dict.fromkeys(blocks, 1)
    calls.clear()
    with torch.no_grad():
        model.eval()(x)
    trunk = [p for p in blocks if g.graph["scopes"][p].kind != "aux"]
    assert calls == dict.fromkeys(trunk, 1)


def test_block_outputs_are_the_blocks_outputs() -> None:
    """The hook sees what the block computes: the IR's output shape of the block's last node."""
    g = _spec("googlenet")
    model = BACKEND.build(g).eval()
    seen: dict[str, tuple[int, ...]] = {}
    for path in _blocks(g):
        model.get_submodule(path).register_forward_hook(
            lambda m, i, o, p=path: seen.__setitem__(p, tuple(o.shape[1:]))
        )
    with torch.no_grad():
        model(example(g, batch=1))
    assert seen["inception4a"] == (512, 14, 14)
    assert seen["inception5b"] == (1024, 7, 7)


def test_feature_extraction_by_block_name() -> None:
    from torchvision.models.feature_extraction import create_feature_extractor

    g = _spec("googlenet")
    model = randomize(BACKEND.build(g)).eval()
    extractor = create_feature_extractor(model, ["inception4a", "inception4a.branch2"])
    x = example(g, batch=2)
    with torch.no_grad():
        out = extractor(x)
        got = out["inception4a"]
        assert got.shape == (2, 512, 14, 14)
        assert out["inception4a.branch2"].shape == (2, 208, 14, 14)
        # the same tensor as a hook on the block sees
        seen: list[torch.Tensor] = []
        model.inception4a.register_forward_hook(lambda m, i, o: seen.append(o))
        model(x)
    torch.testing.assert_close(got, seen[0], rtol=0, atol=0)


def test_torchinfo_shows_block_rows() -> None:
    import torchinfo  # a dev dependency (pyproject.toml)

    g = _spec("googlenet", aux_logits=False)
    model = BACKEND.build(g)
    stats = torchinfo.summary(model, input_size=(1, 3, 224, 224), depth=1, verbose=0)
    rows = {(r.class_name, r.var_name): r for r in stats.summary_list if r.depth == 1}
    row = rows[("Inception", "inception4e")]
    assert row.output_size == [1, 832, 14, 14]
    want = sum(d["params"] for n, d in g.nodes(data=True) if n.startswith("inception4e."))
    assert row.num_params == want
    # the row torchvision's own GoogLeNet has for the same block
    import torchvision

    tv = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
    ref = torchinfo.summary(tv, input_size=(1, 3, 224, 224), depth=1, verbose=0)
    (tv_row,) = [r for r in ref.summary_list if r.var_name == "inception4e"]
    assert (row.output_size, row.num_params) == (tv_row.output_size, tv_row.num_params)


@pytest.mark.parametrize("spec", bundled_specs(), ids=spec_id)
def test_fx_trace_keeps_the_hierarchy_and_the_function(spec: Path) -> None:
    g = inceptdsl.load(str(spec)).graph
    model = randomize(BACKEND.build(g)).eval()
    traced = torch.fx.symbolic_trace(model)
    # modules are called; a parameter at a node's path (a layer scale's) is read
    targets = {n.target for n in traced.graph.nodes if n.op in ("call_module", "get_attr")}
    stateful = {n for n, d in g.nodes(data=True) if d["params"] and d["aux"] is None}
    # every layer is reached at its own path, through its block's
    assert all(any(t == n or t.startswith(n + ".") for t in targets) for n in stateful)
    x = example(g, batch=1)
    with torch.no_grad():
        torch.testing.assert_close(traced(x), model(x), rtol=0, atol=0)


@pytest.mark.parametrize("spec", bundled_specs(), ids=spec_id)
def test_torch_export_keeps_the_hierarchy_and_the_function(spec: Path) -> None:
    g = inceptdsl.load(str(spec)).graph
    model = randomize(BACKEND.build(g)).eval()
    x = example(g, batch=1)
    exported = torch.export.export(model, (x,))
    stacks = {
        path
        for n in exported.graph.nodes
        for path, _ in (n.meta.get("nn_module_stack") or {}).values()
    }
    trunk = [p for p, s in g.graph["scopes"].items() if s.kind != "aux"]
    missing = [p for p in trunk if any(n.startswith(p + ".") for n in g) and p not in stacks]
    assert not missing, missing
    with torch.no_grad():
        torch.testing.assert_close(exported.module()(x), model(x), rtol=1e-5, atol=1e-5)


def test_one_class_per_block_kind_with_its_parameters() -> None:
    source = BACKEND.emit(_spec("googlenet"))
    assert source.count("\nclass Inception(nn.Module):") == 1
    assert "        ch1x1: int,\n" in source  # the block's parameters are the class's
    assert "self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)" in source
    assert "self.branch2 = InceptionBranch2(in_channels, ch3x3red, ch3x3)" in source
    model = BACKEND.build(_spec("googlenet"))
    kinds = {type(m).__name__ for m in model.modules()}
    assert {"Inception", "InceptionBranch2", "InceptionAux", "ConvBN"} <= kinds
    assert isinstance(model.inception4a.branch1, nn.Module)
