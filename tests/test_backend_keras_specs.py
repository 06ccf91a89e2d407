"""The Keras backend on the small specs that together use every IR op (helpers in
tests/support/keras_specs.py).

The small specs are the torch backend's (tests/support/torch_specs.py: LRN, separable convs,
partial BN, TF `same` on even sizes, ceil-mode and count_pad pooling, residuals, identity, aux
heads, numbered names), so both backends are tested on the same graphs. Here: every small
spec builds to a model whose weights match the IR's counts and live at the IR's names, and
whose layers output the IR's shapes.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from support.keras_specs import SPECS, load
from support.lazy import keras

from inceptdsl.backends.keras import BACKEND
from inceptdsl.backends.keras.names import CHILDREN
from inceptdsl.ir import Op


def _owner(g: nx.DiGraph, layer: str) -> str:
    """The IR node a layer belongs to: its own name, or its parent's for a child layer."""
    if layer in g.nodes:
        return layer
    parent, _, child = layer.rpartition(".")
    assert child in CHILDREN and parent in g.nodes, f"layer {layer} belongs to no IR node"
    return parent


@pytest.mark.parametrize("name", sorted(SPECS))
def test_weights_match_the_ir_counts_and_names(name: str) -> None:
    g = load(name)
    model = BACKEND.build(g, training=True)
    params = sum(d["params"] for _, d in g.nodes(data=True))
    buffers = sum(d["buffers"] for _, d in g.nodes(data=True))
    assert model.count_params() == params + buffers
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == params
    owners = {_owner(g, v.path.rsplit("/", 1)[0]) for v in model.weights}
    assert owners == {n for n, d in g.nodes(data=True) if d["params"] or d["buffers"]}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_node_outputs_have_the_ir_shapes(name: str) -> None:
    """The last layer of each node (its output) has the node's shape, channels last."""
    g = load(name)
    model = BACKEND.build(g, training=True)
    last: dict[str, keras.Layer] = {}
    for layer in model.layers:  # deepest first, so a node's output layer comes last
        last[_owner(g, layer.name)] = layer
    expected = {n for n, d in g.nodes(data=True) if d["op"] is not Op.IDENTITY}
    assert set(last) == expected
    for node, layer in last.items():
        shape = tuple(g.nodes[node]["shape"])
        hwc = (*shape[1:], shape[0]) if len(shape) == 3 else shape
        assert tuple(layer.output.shape[1:]) == hwc, node
