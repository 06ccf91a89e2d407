"""The Keras backend on the small specs that together use every IR op, and helpers for the
other test_backend_keras*, fidelity and cross-framework tests.

The small specs are the torch backend's (test_backend_torch_specs.SPECS: LRN, separable convs,
partial BN, TF `same` on even sizes, ceil-mode and count_pad pooling, residuals, identity, aux
heads, numbered names), so both backends are tested on the same graphs. Here: every small
spec builds to a model whose weights match the IR's counts and live at the IR's names, and
whose layers output the IR's shapes.
"""

from __future__ import annotations

import keras
import networkx as nx
import numpy as np
import pytest
from test_backend_torch_specs import SPECS, load

from inceptdsl.backends.keras import BACKEND
from inceptdsl.backends.keras.names import CHILDREN
from inceptdsl.ir import Op

__all__ = ["SPECS", "example", "keras_output", "load", "randomize_keras", "to_nchw"]


def randomize_keras(model: keras.Model, seed: int = 0) -> keras.Model:
    """Random values for every weight, BN statistics included (so BN handling is tested):
    He-scaled kernels, biases and betas in [-0.5, 0.5), gammas and variances in [0.5, 1.5)."""
    rng = np.random.default_rng(seed)
    values = []
    for v in model.weights:
        shape, kind = tuple(v.shape), v.path.rsplit("/", 1)[-1]
        if kind in ("gamma", "moving_variance"):
            a = rng.uniform(0.5, 1.5, shape)
        elif kind in ("beta", "moving_mean", "bias"):
            a = rng.uniform(-0.5, 0.5, shape)
        else:
            a = rng.normal(0.0, np.sqrt(2.0 / max(1, int(np.prod(shape[:-1])))), shape)
        values.append(a.astype("float32"))
    model.set_weights(values)
    return model


def example(g: nx.DiGraph, batch: int = 2, seed: int = 0) -> np.ndarray:
    """A random NCHW float32 batch for graph `g` (the IR's and torch's layout)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, *g.graph["input_shape"])).astype("float32")


def to_nchw(y: np.ndarray) -> np.ndarray:
    return y.transpose(0, 3, 1, 2) if y.ndim == 4 else y


def keras_output(model: keras.Model, x_nchw: np.ndarray, key: str | None = None) -> np.ndarray:
    """The inference output (or dict entry `key`) of `model` on an NCHW batch, as NCHW."""
    y = model(x_nchw.transpose(0, 2, 3, 1), training=False)
    if isinstance(y, dict):
        y = y[key or "logits"]
    return to_nchw(np.asarray(y))


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
