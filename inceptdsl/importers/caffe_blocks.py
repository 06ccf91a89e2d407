"""Blocks of a Caffe file found by structure: residual units whose layers have no `/` prefix.

He et al.'s ResNet prototxts name a unit's layers `res2a_branch2a`, `bn2a_branch2a`,
`res2a_branch1`, ... and its sum `res2a`: no `/` gives the scope. Here each Eltwise sum whose
two inputs are chains of one-input layers back to one fork (the identity being an empty chain),
with the activation that alone reads it, is a scope named after the sum (`res2a`), its layers
named without that prefix (`branch2a`). Its class comes from the main path's convolutions:
1x1, kxk, 1x1 is He et al.'s `Bottleneck`, two kxk a `BasicBlock`, else the sum's name without
its index; the writer then makes one block of the instances (unify.py: the projection shortcut
of a stage's first unit is an `if`). A unit whose class occurs once is left as it was (its
layers keep their names). Linear in the number of layers.
"""

from __future__ import annotations

import re

from .model import Layer, Size
from .values import identifier

ACTS = ("relu", "sigmoid", "tanh")


def residual_scopes(
    layers: dict[str, Layer], names: dict[str, str]
) -> dict[str, tuple[str, str, str]]:
    """lid -> (scope, class, name within the scope) for the layers of each residual unit."""
    users: dict[str, list[str]] = {k: [] for k in layers}
    for layer in layers.values():
        for i in layer.inputs:
            if i in users:
                users[i].append(layer.id)
    out: dict[str, tuple[str, str, str]] = {}
    classes: dict[str, list[list[str]]] = {}
    for lid, add in layers.items():
        name = names.get(lid, "")
        if add.kind != "add" or len(add.inputs) != 2 or "/" in name or add.aux:
            continue
        chains = [_chain(layers, users, i) for i in add.inputs]
        if chains[0][1] != chains[1][1] or chains[0][1] is None:
            continue
        members = chains[0][0] + chains[1][0] + [lid]
        after = users[lid]
        if len(after) == 1 and layers[after[0]].kind in ACTS:
            members.append(after[0])
        if any("/" in names.get(m, "") or layers[m].aux or m in out for m in members):
            continue
        scope = identifier(name, "res")
        main = max(chains, key=lambda c: len(c[0]))[0]
        cls = _class(layers, main) or re.sub(r"_?\d+[a-z]?$", "", scope) or "Residual"
        classes.setdefault(cls, []).append(members)
        for m in members:
            full = names.get(m, "")
            rest = full[len(name) :].lstrip("_") if full.startswith(name) else full
            out[m] = (scope, cls, rest)
    for units in classes.values():  # a unit of its own class keeps its layers' names
        if len(units) == 1:
            for m in units[0]:
                del out[m]
    return out


def _chain(
    layers: dict[str, Layer], users: dict[str, list[str]], start: str
) -> tuple[list[str], str | None]:
    """The one-input layers read only along the chain from `start` back to the fork (the
    first tensor something else reads too), and the fork."""
    chain: list[str] = []
    x = start
    while len(users.get(x, [])) == 1 and x in layers and len(layers[x].inputs) == 1:
        chain.append(x)
        x = layers[x].inputs[0]
    return chain, x if len(users.get(x, [])) >= 2 else None


def _class(layers: dict[str, Layer], main: list[str]) -> str | None:
    """He et al.'s names for the two residual units, from the main path's kernels."""
    kernels = []
    for m in reversed(main):
        layer = layers[m]
        if layer.kind == "conv" and len(layer.args) > 1 and isinstance(layer.args[1], Size):
            kernels.append((layer.args[1].h, layer.args[1].w))
    if len(kernels) == 3 and kernels[0] == kernels[2] == (1, 1) and kernels[1] != (1, 1):
        return "Bottleneck"
    if len(kernels) == 2 and kernels[0] == kernels[1] != (1, 1):
        return "BasicBlock"
    return None
