"""The sweep as one self-contained HTML page: an SVG scatter plot drawn by inline script (no
external file, a Content-Security-Policy that forbids any), axes chosen among the objectives
and metrics, the front highlighted, a tooltip with the point's parameters, a click that copies
its `--set` line; then the failed points with their diagnostics. Every text from the spec or
the command line is escaped: HTML-escaped in markup, and `<` `>` `&` as \\u escapes in the
embedded JSON, so no `</script>` can end the data block."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .result import SweepResult

_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"


def _data(res: SweepResult) -> str:
    axes = [*res.metric_names] + [
        n for n in res.param_names if all(isinstance(p.params[n], (int, float)) for p in res.points)
    ]
    pts = [
        {
            "i": p.index,
            "params": {k: _plain(v) for k, v in p.params.items()},
            "m": p.metrics,
            "front": p.front,
            "feasible": p.feasible,
            "set": res.set_line(p),
        }
        for p in res.ok
    ]
    objs = [o.name for o in res.objectives]
    data = {
        "axes": axes,
        "x": objs[0],
        "y": objs[1] if len(objs) > 1 else "params",
        "points": pts,
        "spec": res.spec,
        "unit": res.unit,
        # what a search's trials measured (accuracy): first in the tooltip
        "extra": list(getattr(res, "extra_metrics", None) or ()),
    }
    text = json.dumps(data, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _plain(v: Any) -> Any:
    if isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, tuple):
        return "x".join(map(str, v))
    return str(v)


def page(res: SweepResult) -> str:
    e = html.escape
    failed = "".join(
        f"<li><code>{e(res.set_line(p))}</code><pre>{e(p.error or '')}</pre></li>"
        for p in res.failed
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>{e(res.title)}</title>
<style>
body{{font:14px system-ui,sans-serif;margin:1.5em;color:#222}}
svg{{border:1px solid #ccc;background:#fff}} .axis text{{font-size:11px}}
circle{{cursor:pointer}} circle.front{{fill:#d62728;stroke:#700}}
circle.other{{fill:#1f77b4;opacity:.55}}
circle.excluded{{fill:#bbb;opacity:.5}} #tip{{position:fixed;pointer-events:none;background:#fffbe6;
border:1px solid #aaa;padding:4px 8px;font:12px monospace;white-space:pre;display:none}}
#copied{{color:#2a7;margin-left:1em}} pre{{background:#f6f6f6;padding:6px;overflow:auto}}
</style></head><body>
<h1>{e(res.title)}</h1>
<p id="summary">{e(res.summary())}</p>
<p>spec <code>{e(res.spec)}</code>; objectives {e(", ".join(map(str, res.objectives)))};
memory at batch {res.batch}, {e(res.dtype)}.</p>
<p><label>x <select id="x"></select></label> <label>y <select id="y"></select></label>
<label><input type="checkbox" id="logx"> log x</label>
<label><input type="checkbox" id="logy"> log y</label>
<br><span>red: the front; grey: excluded by the constraint;
click a point to copy its --set line</span>
<span id="copied"></span> <span id="note"></span></p>
<svg id="plot" width="820" height="520" role="img" aria-label="scatter plot: {e(res.title)}"></svg>
<div id="tip"></div>
<h2>{e(res.failed_title)} ({len(res.failed)})</h2>
<ul id="failed">{failed}</ul>
<script type="application/json" id="data">{_data(res)}</script>
<script>{_SCRIPT}</script>
</body></html>
"""


_SCRIPT = (Path(__file__).parent / "plot.js").read_text(encoding="utf-8")


def notebook_table(res: SweepResult) -> str:
    """The notebook repr: the summary and the front as an HTML table (escaped)."""
    e = html.escape
    head = "".join(
        f"<th>{e(h)}</th>" for h in ["#", *res.param_names, "params", "macs", "memory", "layers"]
    )
    body = "".join(
        "<tr>"
        + f"<td>{p.index}</td>"
        + "".join(f"<td>{e(str(_plain(p.params[n])))}</td>" for n in res.param_names)
        + "".join(f"<td>{p.metrics[m]:,}</td>" for m in ("params", "macs", "memory", "layers"))
        + "</tr>"
        for p in res.front
    )
    return (
        f"<p>{e(res.summary())}</p><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )
