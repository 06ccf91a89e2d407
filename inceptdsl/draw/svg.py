"""A drawing as SVG: boxes, frames, orthogonal edges with shape labels, hover titles.

Every string from a spec (names, details, source locations) goes through `esc`, which escapes
the five XML metacharacters, so a name cannot close an element or open a script. Numbers are
written with one decimal: the same spec always gives the same bytes.
"""

from __future__ import annotations

from .layout import FONT, LINE_H, PAD_X, PAD_Y, TITLE_H, Drawing

STYLE = """
.frame rect{fill:#f6f8fb;stroke:#9aa7b8;stroke-dasharray:4 3}
.frame text{font-weight:bold;fill:#445}
.node rect{stroke:#556;stroke-width:1}
.layer rect{fill:#fff}
.block rect{fill:#e3ecfa;stroke:#3b64a8}
.aux rect{fill:#fdf0dc;stroke:#b7791f}
.input rect{fill:#e8f5e9}
.node text.name{font-weight:bold}
.edge{fill:none;stroke:#667;stroke-width:1.2}
.edge.shortcut{stroke:#2f7d4a;stroke-width:1.6}
.edge.aux{stroke:#b7791f;stroke-dasharray:5 3}
.edge.extra{stroke:#a33;stroke-dasharray:2 2}
.elabel{fill:#556;font-size:9.5px}
text{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:11px;fill:#223}
"""


def esc(s: str) -> str:
    """Escape text for XML character data and double-quoted attributes."""
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def svg(d: Drawing, *, interactive: bool = False) -> str:
    """The drawing as a standalone SVG document (`interactive`: ids for the HTML page)."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(d.width)}" height="{_n(d.height)}" '
        f'viewBox="0 0 {_n(d.width)} {_n(d.height)}" class="inceptdsl-diagram">',
        f"<title>{esc(d.title)}</title>",
        f"<style>{STYLE}</style>",
    ]
    for f in d.frames:
        out.append(
            f'<g class="frame" data-key="{esc(f.key)}"><title>{esc(f.tooltip)}</title>'
            f'<rect x="{_n(f.x)}" y="{_n(f.y)}" width="{_n(f.w)}" height="{_n(f.h)}" rx="6"/>'
            f'<text x="{_n(f.x + 8)}" y="{_n(f.y + TITLE_H - 5)}">{esc(f.title)}</text></g>'
        )
    for e in d.edges:
        pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in e.points)
        out.append(f'<polyline class="edge {e.kind}" points="{pts}"/>')
        if e.label:
            x, y = e.label_at
            out.append(f'<text class="elabel" x="{_n(x)}" y="{_n(y)}">{esc(e.label)}</text>')
    for b in d.boxes:
        attrs = f' data-key="{esc(b.key)}"'
        if b.scope and interactive:
            attrs += ' style="cursor:pointer"'
        out.append(f'<g class="node {b.kind}"{attrs}><title>{esc(b.label.title)}</title>')
        out.append(
            f'<rect x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" height="{_n(b.h)}" rx="3"/>'
        )
        for i, line in enumerate(b.label.lines):
            y = b.y + PAD_Y + (i + 1) * LINE_H - (LINE_H - FONT) / 2 - 1
            cls = ' class="name"' if i == 0 else ""
            out.append(f'<text{cls} x="{_n(b.x + PAD_X)}" y="{_n(y)}">{esc(line)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
