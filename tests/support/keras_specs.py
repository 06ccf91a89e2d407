"""Helpers the Keras backend, fidelity and cross-framework tests build and feed Keras models of
the small specs (tests/support/torch_specs.py) with; Keras is imported on first use."""

from __future__ import annotations

import networkx as nx
import numpy as np

from .lazy import keras
from .torch_specs import SPECS, load

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
