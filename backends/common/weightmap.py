"""Where each IR node's weights live in the torch and the Keras model, and how layouts convert.

Both backends name their state after IR nodes (docs/ir.md), so one table, derived from the
graph and each op's declared tensors (`OpDef.tensors`, inceptdsl/ir/state.py), pairs every
torch state_dict entry with a Keras variable (layer name, variable name) and says how the array
is laid out on each side:

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

from inceptdsl.ir import REGISTRY, nodes, shape_of
from inceptdsl.ir.state import at


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
    shape: tuple[int, ...] = ()  # torch's layout
    fan_in: int = 0  # torch's default initialisation: U(+-1/sqrt(fan_in)), else `fill`
    fill: float = 0.0

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


def weight_map(g: nx.DiGraph) -> WeightMap:
    """Every weight of the network built from `g`, in IR (= torch state_dict) order: each op's
    tensors as its OpDef declares them (inceptdsl/ir/state.py)."""
    entries: list[Entry] = []
    torch_only: list[tuple[str, str | None]] = []
    order: list[str] = []
    for n in nodes(g):
        make = REGISTRY[n.op].tensors
        if make is None:
            continue
        cin = shape_of(g, n.inputs[0])[0] if n.inputs else 0
        for t in make(n.attrs, cin, n.shape[0]):
            key = at(n.name, t.key)
            order.append(key)
            if t.counter:
                torch_only.append((key, n.aux))
                continue
            entries.append(
                Entry(n.name, n.aux, key, at(n.name, t.layer), t.var, t.kind, t.multiplier,
                      t.shape, t.fan_in, t.fill)
            )  # fmt: skip
    return WeightMap(tuple(entries), tuple(torch_only), state_dict_order(order))


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
