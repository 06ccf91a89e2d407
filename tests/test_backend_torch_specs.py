"""Small specs that together use every IR op, shared by the torch backend tests.

The bundled specs only use the ops the reference models need; these exercise the rest (LRN,
separable convs, partial batch norm, TF `same` padding with the odd pixel bottom/right,
ceil-mode and count_pad pooling, residual scale/add, identity, aux heads, dotted and numbered
names). The tests in this file check that the small specs cover every op and that each builds
to a model whose state matches the IR's counts; the specs and helpers are in
tests/support/torch_specs.py.
"""

from __future__ import annotations

import pytest
from conftest import bundled_specs
from support.torch_specs import SPECS, example, load

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.ir import Op

BACKEND = get("torch")


def test_small_specs_use_the_ops_of_the_reference_models() -> None:
    """The small specs mix the ops the bundled reference models use (each op on its own is
    tests/ops/<op>.incept's, checked in every backend by tests/test_ops_backends.py)."""
    used = {data["op"] for name in SPECS for _, data in load(name).nodes(data=True)}
    bundled = {
        d["op"] for p in bundled_specs() for _, d in inceptdsl.load(str(p)).graph.nodes(data=True)
    }
    assert bundled <= used, f"ops no small spec uses: {sorted(bundled - used)}"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_state_matches_the_ir_counts(name: str) -> None:
    g = load(name)
    model = BACKEND.build(g)
    params = sum(p.numel() for p in model.parameters())
    stats = sum(b.numel() for n, b in model.named_buffers() if "num_batches" not in n)
    assert params == sum(d["params"] for _, d in g.nodes(data=True))
    assert stats == sum(d["buffers"] for _, d in g.nodes(data=True))
    # every tensor lives at the path of the IR node that owns it, and every owner has one
    stateful = {n for n, d in g.nodes(data=True) if d["params"] or d["buffers"]}
    # (a layer scale's parameter is at the node's path itself: `blk.gamma`)
    owners = {n for n in stateful for k in model.state_dict() if k == n or k.startswith(n + ".")}
    assert owners == stateful


@pytest.mark.parametrize("name", sorted(SPECS))
def test_module_outputs_have_the_ir_shapes(name: str) -> None:
    """Every module's output (before the unit's activation) has the shape the IR inferred."""
    g = load(name)
    model = BACKEND.build(g).train()  # training mode also runs the aux heads
    seen: dict[str, tuple[int, ...]] = {}
    for path, module in model.named_modules():
        if path in g.nodes:
            module.register_forward_hook(
                lambda m, i, o, path=path: seen.__setitem__(path, tuple(o.shape[1:]))
            )
    model(example(g))
    assert seen, "no module ran"
    assert seen == {p: tuple(g.nodes[p]["shape"]) for p in seen}
    # a layer scale is a parameter at its path, not a module with an output
    stateful = {n for n, d in g.nodes(data=True) if d["params"] or d["buffers"]}
    assert set(seen) == {n for n in stateful if g.nodes[n]["op"] is not Op.LAYER_SCALE}
