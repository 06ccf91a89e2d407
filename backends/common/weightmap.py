"""Where each IR node's weights live in the torch and the Keras model, and how layouts convert.

Both backends name their state after IR nodes (docs/ir.md), so one table, derived from the
graph alone, pairs every torch state_dict entry with a Keras variable (layer name, variable
name) and says how the array is laid out on each side:

| kind      | torch                              | Keras                          |
|-----------|------------------------------------|--------------------------------|
| conv      | OIHW `(out, in/groups, kh, kw)`    | HWIO `(kh, kw, in/groups, out)`|
| depthwise | `(in * mult, 1, kh, kw)` (conv1, or a conv with groups = in) | `(kh, kw, in, mult)` |
| dense     | `(out, in)`                        | `(in, out)`                    |
| vector    | bias, BN gamma/beta/mean/var, layer/group norm weight/bias, layer scale | the same |
| column    | a layer scale stored `(C, 1, 1)` (torchvision's CNBlock)                | `(C,)`   |

Output channel `c * mult + m` of torch's depthwise conv is Keras' `[..., c, m]`. Dense kernels
need no flatten permutation: the Keras backend flattens channel-major like the IR (a Permute
before Flatten), so a Linear after a Flatten sees the same feature order in both frameworks;
a per-position Linear is a Dense on the channels-last map, with the same kernel as any other.
BN's `num_batches_tracked` exists only in torch (Keras has no counter): `torch_only` lists it.
Everything here is NumPy; nothing imports a framework.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from inceptdsl.ir import Op, nodes
from inceptdsl.ir.ops import (
    BatchNormAttrs,
    ConvAttrs,
    GroupNormAttrs,
    LayerNormAttrs,
    LayerScaleAttrs,
    LinearAttrs,
    SepConvAttrs,
)


@dataclass(frozen=True)
class Entry:
    """One tensor: torch state_dict key <-> Keras variable `layer/var`, of layout `kind`."""

    node: str
    aux: str | None  # the aux head of the node, if any
    torch_key: str
    layer: str
    var: str
    kind: str  # "conv", "depthwise", "dense", "vector" or "column"
    multiplier: int = 1  # depthwise: channels per input channel

    @property
    def path(self) -> str:
        """The Keras variable's path, `layer/var`."""
        return f"{self.layer}/{self.var}"


@dataclass(frozen=True)
class WeightMap:
    entries: tuple[Entry, ...]
    torch_only: tuple[tuple[str, str | None], ...]  # (num_batches_tracked key, aux head)
    torch_order: tuple[str, ...]  # every torch key, in the torch backend's state_dict order


def to_keras(entry: Entry, array: np.ndarray) -> np.ndarray:
    """A torch-layout array as Keras lays it out."""
    if entry.kind == "conv":
        return array.transpose(2, 3, 1, 0)
    if entry.kind == "depthwise":
        channels, _, kh, kw = array.shape
        return array.reshape(channels // entry.multiplier, entry.multiplier, kh, kw).transpose(
            2, 3, 0, 1
        )
    if entry.kind == "dense":
        return array.T
    if entry.kind == "column":
        return array.reshape(-1)
    return array


def to_torch(entry: Entry, array: np.ndarray) -> np.ndarray:
    """A Keras-layout array as torch lays it out (the inverse of to_keras)."""
    if entry.kind == "conv":
        return array.transpose(3, 2, 0, 1)
    if entry.kind == "depthwise":
        kh, kw, channels, mult = array.shape
        return array.transpose(2, 3, 0, 1).reshape(channels * mult, 1, kh, kw)
    if entry.kind == "dense":
        return array.T
    if entry.kind == "column":
        return array.reshape(-1, 1, 1)
    return array


class _Builder:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.torch_only: list[tuple[str, str | None]] = []
        self.order: list[str] = []

    def add(self, node: str, aux: str | None, key: str, layer: str, var: str, kind: str,
            multiplier: int = 1) -> None:  # fmt: skip
        self.entries.append(Entry(node, aux, key, layer, var, kind, multiplier))
        self.order.append(key)

    def bn(self, node: str, aux: str | None, torch: str, layer: str, a: BatchNormAttrs) -> None:
        if a.scale:
            self.add(node, aux, f"{torch}.weight", layer, "gamma", "vector")
        if a.center:
            self.add(node, aux, f"{torch}.bias", layer, "beta", "vector")
        self.add(node, aux, f"{torch}.running_mean", layer, "moving_mean", "vector")
        self.add(node, aux, f"{torch}.running_var", layer, "moving_variance", "vector")
        self.torch_only.append((f"{torch}.num_batches_tracked", aux))
        self.order.append(f"{torch}.num_batches_tracked")


def weight_map(g: nx.DiGraph) -> WeightMap:
    """Every weight of the network built from `g`, in IR (= torch state_dict) order."""
    b = _Builder()
    for n in nodes(g):
        a, aux = n.attrs, n.aux
        if n.op is Op.CONV2D:
            assert isinstance(a, ConvAttrs)
            torch, layer = (f"{n.name}.conv", f"{n.name}.conv") if a.bn else (n.name, n.name)
            cin = g.nodes[n.inputs[0]]["shape"][0]
            if a.groups > 1 and a.groups == cin:  # Keras' DepthwiseConv2D (ops.is_depthwise)
                mult = a.out_channels // cin
                b.add(n.name, aux, f"{torch}.weight", layer, "kernel", "depthwise", mult)
            else:
                b.add(n.name, aux, f"{torch}.weight", layer, "kernel", "conv")
            if a.bias:
                b.add(n.name, aux, f"{torch}.bias", layer, "bias", "vector")
            if a.bn:
                b.bn(n.name, aux, f"{n.name}.bn", f"{n.name}.bn", a.bn)
        elif n.op is Op.SEPCONV2D:
            assert isinstance(a, SepConvAttrs)
            torch, layer = (f"{n.name}.conv", f"{n.name}.conv") if a.bn else (n.name, n.name)
            mult = a.depth_multiplier
            b.add(
                n.name, aux, f"{torch}.conv1.weight", layer, "depthwise_kernel", "depthwise", mult
            )
            b.add(n.name, aux, f"{torch}.pointwise.weight", layer, "pointwise_kernel", "conv")
            if a.bias:
                b.add(n.name, aux, f"{torch}.pointwise.bias", layer, "bias", "vector")
            if a.bn:
                b.bn(n.name, aux, f"{n.name}.bn", f"{n.name}.bn", a.bn)
        elif n.op is Op.BATCHNORM:
            assert isinstance(a, BatchNormAttrs)
            b.bn(n.name, aux, n.name, n.name, a)
        elif n.op is Op.LINEAR:
            assert isinstance(a, LinearAttrs)
            b.add(n.name, aux, f"{n.name}.weight", n.name, "kernel", "dense")
            if a.bias:
                b.add(n.name, aux, f"{n.name}.bias", n.name, "bias", "vector")
        elif n.op in (Op.LAYERNORM, Op.GROUPNORM):
            assert isinstance(a, LayerNormAttrs | GroupNormAttrs)
            if a.affine:
                b.add(n.name, aux, f"{n.name}.weight", n.name, "gamma", "vector")
                b.add(n.name, aux, f"{n.name}.bias", n.name, "beta", "vector")
        elif n.op is Op.LAYER_SCALE:  # the parameter sits at the node's own path
            assert isinstance(a, LayerScaleAttrs)
            b.add(n.name, aux, n.name, n.name, "gamma", "column" if a.dims == 3 else "vector")
    return WeightMap(tuple(b.entries), tuple(b.torch_only), state_dict_order(b.order))


def state_dict_order(keys: list[str]) -> tuple[str, ...]:
    """`keys` (in IR order) in the order torch's state_dict lists them: each module's own
    parameters and buffers first, then its children, in registration order. The two orders
    differ only where a module holds a parameter beside children (a layer scale's `gamma`
    on its block)."""
    tree: dict[str, tuple[list[str], list[str]]] = {"": ([], [])}  # module -> (attrs, children)
    for key in keys:
        module, _, _ = key.rpartition(".")
        parts = module.split(".") if module else []
        for i in range(len(parts)):
            parent, child = ".".join(parts[:i]), ".".join(parts[: i + 1])
            if child not in tree:
                tree[child] = ([], [])
                tree[parent][1].append(child)
        tree[module][0].append(key)
    out: list[str] = []
    stack = [""]
    while stack:
        module = stack.pop()
        attrs, children = tree[module]
        out.extend(attrs)
        stack.extend(reversed(children))
    return tuple(out)
