"""Diagrams of a network, drawn as the papers draw them: `render(graph, fmt, depth)`.

model.py finds the structure (scopes, series-parallel trees), layout.py the geometry, svg.py,
html.py and text_formats.py write SVG, an interactive HTML page, DOT and Mermaid.
"""

from __future__ import annotations

import networkx as nx

from . import layout as geometry
from .model import build_model, default_depth

FORMATS = {
    ".svg": "svg",
    ".html": "html",
    ".htm": "html",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
}
"""Diagram format by output file suffix."""


def render(g: nx.DiGraph, fmt: str, depth: int | None = None) -> str:
    """`g` drawn as `fmt` (svg, html, dot, mermaid), scopes collapsed below `depth` (default:
    the shallowest depth that shows at least 8 boxes)."""
    model = build_model(g)
    d = depth if depth is not None else default_depth(model)
    expanded = geometry.expanded_at(model, d)
    if fmt == "svg":
        from .svg import svg

        return svg(geometry.layout(model, expanded))
    if fmt == "html":
        from .html import page

        return page(model, d)
    if fmt in ("dot", "mermaid"):
        from . import text_formats

        return getattr(text_formats, fmt)(model, expanded)
    raise ValueError(f"unknown diagram format {fmt!r}; choose svg, html, dot or mermaid")


__all__ = ["FORMATS", "render"]
