"""The diagram as one self-contained HTML page: pan (drag), zoom (wheel, +/-), hover for every
figure, click a block to expand or collapse it. No network access: the script and styles are
inline, the data is a JSON island.

The page lays the drawing out again whenever a block is expanded, with layout.js: a port of
layout.py's placement (series stacked, branches side by side, shortcut lanes, orthogonal edges,
aux columns) over the same series-parallel trees, which Python computes and embeds. The port is
checked against layout.py in Chromium (tests/test_draw_browser.py): same boxes, same places.

The JSON island is escaped for a <script> element (`<`, `>`, `&` and U+2028/9 as \\u escapes),
so no spec string can close it; the script inserts spec text with textContent only.
"""

from __future__ import annotations

import json
from importlib.resources import files

from ..ir import aux_of, info, op_of, shape_of
from . import layout as L
from .model import ENTRY, EXIT, Model, Par, Series, frame_title, label, shape_text
from .svg import STYLE, esc


def _tree(s: Series) -> dict[str, object]:
    return {
        "s": [
            {"p": [_tree(b) for b in it.branches], "sc": it.shortcut} if isinstance(it, Par) else it
            for it in s.items
        ]
    }


def _edge_label(model: Model, srcs: list[str]) -> str:
    return " + ".join(dict.fromkeys(shape_text(shape_of(model.g, s)) for s in srcs))


def model_json(model: Model, depth: int) -> dict[str, object]:
    units = {}
    for key, u in model.units.items():
        if not u.path:
            continue
        parent = model.units[".".join(u.path[:-1])]
        lab = label(model, u, parent)
        node_op = op_of(model.g, u.node) if u.node else None
        kind = (
            "input"
            if node_op is not None and node_op.value == "input"
            else "aux"
            if aux_of(model.g, u.nodes[0])
            else "block"
            if u.is_scope
            else "layer"
        )
        units[key] = {
            "lines": list(lab.lines),
            "title": lab.title,
            "kind": kind,
            "scope": u.is_scope,
            "name": ".".join(u.path[len(parent.path) :]),
            "frame": frame_title(model, u, parent) if u.is_scope else "",
            "depth": len(u.path),
        }
    scopes = {}
    for key, sc in model.scopes.items():
        scopes[key] = {
            "tree": _tree(sc.tree),
            "edges": [
                [a, b, _edge_label(model, srcs) if a not in (ENTRY,) and b != EXIT else ""]
                for (a, b), srcs in sc.edges.items()
            ],
            "extra": [list(e) for e in sc.extra],
        }
    aux = []
    for key, tap in model.aux:
        holders = [k for k, u in model.units.items() if u.path and tap in u.nodes]
        aux.append({"key": key, "holders": holders, "shape": shape_text(shape_of(model.g, tap))})
    consts = {
        k: getattr(L, k)
        for k in (
            "FONT",
            "CHAR_W",
            "LINE_H",
            "PAD_X",
            "PAD_Y",
            "GAP_Y",
            "GAP_X",
            "LANE_W",
            "FRAME_PAD",
            "TITLE_H",
            "MIN_W",
        )
    }
    return {
        "name": str(info(model.g).name),
        "depth": depth,
        "maxDepth": model.max_depth(),
        "entry": ENTRY,
        "exit": EXIT,
        "consts": consts,
        "units": units,
        "scopes": scopes,
        "aux": aux,
    }


def script_json(data: object) -> str:
    """JSON that is safe inside a <script> element (nothing in it can end the element)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    for ch, rep in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, rep)
    return text


def asset(name: str) -> str:
    return (files("inceptdsl.draw") / name).read_text(encoding="utf-8")


PAGE_CSS = """
html,body{margin:0;height:100%;font-family:system-ui,sans-serif}
#bar{position:fixed;top:0;left:0;right:0;height:34px;display:flex;gap:8px;align-items:center;
 padding:0 10px;background:#fff;border-bottom:1px solid #ddd;z-index:2;font-size:13px}
#bar button{font-size:12px}
#view{position:absolute;top:35px;left:0;right:0;bottom:0;overflow:hidden;cursor:grab}
#tip{position:fixed;pointer-events:none;background:#223;color:#fff;padding:6px 8px;
 border-radius:4px;font:11px monospace;white-space:pre;display:none;z-index:3}
"""


def diagram_div(model: Model, depth: int, element_id: str = "diagram") -> str:
    """The diagram's markup and script, to embed in a page (the report embeds it too)."""
    data = script_json(model_json(model, depth))
    return (
        f'<div class="inceptdsl-graph" id="{esc(element_id)}">'
        '<div id="bar"><b class="gname"></b>'
        '<button data-act="collapse">collapse all</button>'
        '<button data-act="expand">expand one level</button>'
        '<button data-act="fit">fit</button>'
        '<span class="hint">click a block to expand or collapse it · drag to pan · '
        "wheel to zoom</span></div>"
        '<div id="view"></div><div id="tip"></div>'
        f'<script type="application/json" class="inceptdsl-model">{data}</script>'
        f"<style>{STYLE}</style>"
        f"<script>{asset('layout.js')}</script></div>"
    )


def page(model: Model, depth: int) -> str:
    title = esc(str(info(model.g).name))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{title}</title><style>{PAGE_CSS}</style></head><body>"
        f"{diagram_div(model, depth)}</body></html>\n"
    )
