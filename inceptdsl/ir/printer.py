"""The IR as text: one line per node, fixed order, sorted attributes (a golden artifact).

    %Mixed_5b.branch5x5_2 : 64x35x35 = conv2d[act=relu, bias=false, ...](%Mixed_5b.branch5x5_1)
        # params=76,928 buffers=128 macs=94,080,000 @ lib/inception_v3.incept:10:34

Paths in the `@` locations are shown relative to the root spec's directory, so the text does
not depend on where the repository lives. An attribute added to an op after its first release
is marked `quiet` (registry.quiet) and shown only where it differs from its default, so that
the text of every network that does not use it stays as it was.
"""

from __future__ import annotations

import os
from typing import Any

import networkx as nx

from .graph import inputs
from .ops import Activation, Attrs
from .registry import is_quiet


def _value(v: Any) -> str:
    if isinstance(v, Activation):  # as the spec writes it: `relu`, `leaky_relu(slope=0.2)`
        return str(v)
    if isinstance(v, Attrs):
        return "{" + _attrs(v) + "}"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, tuple):
        if len(v) == 2 or len(v) == 3:
            return "x".join(str(x) for x in v)
        return "(" + ",".join(str(x) for x in v) + ")"
    return str(v)


def _attrs(a: Attrs) -> str:
    fields = type(a).model_fields
    shown = [
        k
        for k in sorted(fields)
        if not (is_quiet(fields[k]) and getattr(a, k) == fields[k].default)
    ]
    return ", ".join(f"{k}={_value(getattr(a, k))}" for k in shown)


def print_graph(g: nx.DiGraph, base_dir: str | None = None) -> str:
    lines = [
        f"network {g.graph['name']} input={_value(tuple(g.graph['input_shape']))} "
        f"output=%{g.graph['output']}"
    ]
    for h in g.graph["aux_heads"]:
        lines.append(f"aux {h.name} tap=%{h.tap} output=%{h.output} weight={h.weight}")
    for name, d in g.nodes(data=True):
        srcs = ", ".join(f"%{s}" for s in inputs(g, name))
        shape = "x".join(str(x) for x in d["shape"])
        attrs = _attrs(d["attrs"])
        line = f"%{name} : {shape} = {d['op'].value}[{attrs}]({srcs})"
        cost = f"params={d['params']:,} buffers={d['buffers']:,} macs={d['macs']:,}"
        where = ""
        if d["span"] is not None:
            path = d["span"].path
            if base_dir is not None:
                path = os.path.relpath(path, base_dir) if not os.path.isabs(path) else path
            where = f" @ {path}:{d['span'].line}:{d['span'].column}"
        aux = f" aux={d['aux']}" if d["aux"] else ""
        lines.append(f"{line}  # {cost}{aux}{where}")
    return "\n".join(lines) + "\n"
