"""A diagram as DOT (Graphviz) and Mermaid text, for other tools to lay out.

Both show the same boxes as the SVG at the same depth: an expanded scope is a cluster
(`subgraph`), a collapsed one a node; edges carry the shape of the tensor they carry. Node ids
are generated (`n0`, `n1`, ...), never taken from the spec; every label from a spec is quoted
and escaped for the target language (DOT: backslash and quote escapes inside a quoted string;
Mermaid: HTML entity codes inside a quoted label, `#quot;`-style, which Mermaid decodes), so
a name cannot end a statement, open a subgraph or inject markup.
"""

from __future__ import annotations

import networkx as nx

from ..ir import info, shape_of
from .model import Model, Unit, label, shape_text


def _visible_units(model: Model, expanded: set[str]) -> tuple[dict[str, str], list[str]]:
    """(IR node -> the key of the box that shows it, keys of drawn boxes in spec order)."""
    owner: dict[str, str] = {}
    boxes: list[str] = []

    def walk(u: Unit) -> None:
        for c in u.children:
            cu = model.units[".".join(c)]
            if cu.is_scope and cu.key in expanded:
                walk(cu)
            else:
                boxes.append(cu.key)
                for n in cu.nodes:
                    owner[n] = cu.key

    walk(model.root)
    return owner, boxes


def _edges(model: Model, owner: dict[str, str]) -> dict[tuple[str, str], str]:
    g: nx.DiGraph = model.g
    out: dict[tuple[str, str], str] = {}
    for a, b in g.edges:
        ka, kb = owner[a], owner[b]
        if ka != kb and (ka, kb) not in out:
            out[(ka, kb)] = shape_text(shape_of(g, a))
    return out


def _parent(model: Model, key: str) -> Unit:
    return model.units[".".join(model.units[key].path[:-1])]


def _dot_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot(model: Model, expanded: set[str]) -> str:
    owner, boxes = _visible_units(model, expanded)
    ids = {k: f"n{i}" for i, k in enumerate(boxes)}
    lines = [
        f"digraph {_dot_str(str(info(model.g).name))} {{",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="monospace"];',
        '  edge [fontname="monospace", fontsize=9];',
    ]
    clusters = iter(range(10**9))

    def walk(u: Unit, indent: str) -> None:
        for c in u.children:
            cu = model.units[".".join(c)]
            if cu.is_scope and cu.key in expanded:
                lines.append(f"{indent}subgraph cluster_{next(clusters)} {{")
                lines.append(f"{indent}  label={_dot_str(cu.path[-1])}; style=dashed;")
                walk(cu, indent + "  ")
                lines.append(f"{indent}}}")
            else:
                lab = label(model, cu, u)
                fill = ", fillcolor=lightsteelblue" if cu.is_scope else ""
                lines.append(
                    f"{indent}{ids[cu.key]} [label={_dot_str(chr(10).join(lab.lines))}, "
                    f"tooltip={_dot_str(lab.title)}{fill}];"
                )

    walk(model.root, "  ")
    for (a, b), shape in _edges(model, owner).items():
        lines.append(f"  {ids[a]} -> {ids[b]} [label={_dot_str(shape)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mm(s: str) -> str:
    """Text inside a Mermaid quoted label: every character that could end the label, start
    markup or an entity is written as a Mermaid entity code (`#35;` for `#`)."""
    out = []
    for ch in s:
        if ch.isalnum() or ch in " .,:+-_/=()x·%":
            out.append(ch)
        else:
            out.append(f"#{ord(ch)};")
    return "".join(out)


def mermaid(model: Model, expanded: set[str]) -> str:
    owner, boxes = _visible_units(model, expanded)
    ids = {k: f"n{i}" for i, k in enumerate(boxes)}
    lines = ["flowchart TB"]
    clusters = iter(range(10**9))

    def walk(u: Unit, indent: str) -> None:
        for c in u.children:
            cu = model.units[".".join(c)]
            if cu.is_scope and cu.key in expanded:
                lines.append(f'{indent}subgraph s{next(clusters)}["{_mm(cu.path[-1])}"]')
                walk(cu, indent + "  ")
                lines.append(f"{indent}end")
            else:
                lab = label(model, cu, u)
                text = "<br/>".join(_mm(t) for t in lab.lines)
                cls = ":::block" if cu.is_scope else ""
                lines.append(f'{indent}{ids[cu.key]}["{text}"]{cls}')

    walk(model.root, "  ")
    for (a, b), shape in _edges(model, owner).items():
        lines.append(f'  {ids[a]} -->|"{_mm(shape)}"| {ids[b]}')
    lines.append("  classDef block fill:#e3ecfa,stroke:#3b64a8")
    return "\n".join(lines) + "\n"
