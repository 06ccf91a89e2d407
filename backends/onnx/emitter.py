"""The ONNX graph under construction: nodes named by block path, initialisers, constants.

Rules (rules.py) add nodes through `Emitter.op`: the node of an IR node's part is named
`<path>/<OpType>` (`inception4a.branch2.0.conv/Conv`, `inception4a.branch2.0/Relu`), where the
path is the module path the torch backend builds for that part, so Netron groups the graph by
block and a name leads back to the spec. Intermediate tensors are named after their node
(`<node name>:0`); the builder renames the last one of each IR node to the node's own path
(unless an initialiser has that name: a layer scale's gamma sits at its node's path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
from onnx import NodeProto, TensorProto, helper, numpy_helper

from inceptdsl.ir import Node, shape_of


class Emitter:
    """Collects the nodes and initialisers of one ONNX graph, in the order rules add them."""

    def __init__(self, g: nx.DiGraph, weights: Mapping[str, np.ndarray]) -> None:
        self.g = g
        self.weights = weights
        self.nodes: list[NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._names: set[str] = set()
        self._tensors: set[str] = set()

    def in_shape(self, node: Node, i: int = 0) -> tuple[int, ...]:
        """The IR shape (one sample) of input `i` of `node`."""
        return tuple(shape_of(self.g, node.inputs[i]))

    def op(self, scope: str, op_type: str, inputs: Sequence[str], **attrs: Any) -> str:
        """Add node `<scope>/<op_type>` (numbered if the name is taken); its output's name."""
        name = f"{scope}/{op_type}"
        k = 1
        while name in self._names:
            name = f"{scope}/{op_type}_{k}"
            k += 1
        self._names.add(name)
        out = f"{name}:0"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=name, **attrs))
        return out

    def weight(self, key: str, shape: tuple[int, ...] | None = None) -> str:
        """The initialiser of torch state_dict entry `key` (named `key`), optionally reshaped
        (a layer scale's `(C,)` as `(C, 1, 1)`, to broadcast over a map)."""
        if key not in self._tensors:
            array = np.ascontiguousarray(self.weights[key], dtype=np.float32)
            if shape is not None:
                array = array.reshape(shape)
            self._add(numpy_helper.from_array(array, key))
        return key

    def const(self, scope: str, name: str, value: Any, dtype: type = np.float32) -> str:
        """A constant initialiser `<scope>/<name>` (pads, axes, absent BN gamma/beta, ...)."""
        key = f"{scope}/{name}"
        if key not in self._tensors:
            self._add(numpy_helper.from_array(np.asarray(value, dtype=dtype), key))
        return key

    def ints(self, scope: str, name: str, values: Sequence[int]) -> str:
        """An int64 vector constant (Slice starts, Pad pads, Reshape shapes, axes)."""
        return self.const(scope, name, list(values), np.int64)

    def has_tensor(self, name: str) -> bool:
        """Whether an initialiser is called `name`."""
        return name in self._tensors

    def _add(self, tensor: TensorProto) -> None:
        self._tensors.add(tensor.name)
        self.initializers.append(tensor)
