"""The report as one self-contained HTML page (`inceptdsl report FILE --format html`): the
summary, a bar chart of params and MACs per stage, the per-layer table (click a header to
sort), the verification results and the diagram. Inline styles and script, no network.

Every string from a spec goes through `esc` (svg.py); the diagram's data is a JSON island
escaped for <script> (draw/html.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..draw.svg import esc
from ..report import COLUMNS, Report, cell_text, check_columns, human
from .text import memory_line, params_line

if TYPE_CHECKING:
    import networkx as nx

    from ..expect import ExpectResult
    from ..network import Network

CSS = """
body{font-family:system-ui,sans-serif;margin:0 24px 40px;color:#223}
h1{font-size:22px} h2{font-size:17px;margin-top:28px}
table.rep{border-collapse:collapse;font:12px 'DejaVu Sans Mono',monospace}
table.rep th,table.rep td{padding:2px 6px;border-bottom:1px solid #eee;white-space:nowrap}
table.rep th{cursor:pointer;background:#f3f5f8;position:sticky;top:0}
table.rep td.num{text-align:right} tr.subtotal td,tr.total td{font-weight:bold}
table.rep td.wrap{white-space:normal;min-width:9em;max-width:16em} table.rep td.det{min-width:13em}
div.rep-wrap{max-width:100%;overflow-x:auto}
.bars{font:12px monospace} .bars .bar{height:10px;display:inline-block}
.bars .p{background:#3b64a8} .bars .m{background:#b7791f}
.ok{color:#17803d;font-weight:bold} .fail{color:#b42318;font-weight:bold} .skip{color:#667085}
.inceptdsl-graph{position:relative;height:900px;border:1px solid #ddd}
.inceptdsl-graph #bar{position:absolute} .inceptdsl-graph #view{top:35px}
"""

SORT_JS = """
document.querySelectorAll('table.rep').forEach(function (t) {
  t.querySelectorAll('th').forEach(function (th, i) {
    th.addEventListener('click', function () {
      var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir > 0 ? 'asc' : 'desc';
      rows.sort(function (a, b) {
        var x = a.cells[i].dataset.v, y = b.cells[i].dataset.v;
        var nx = parseFloat(x), ny = parseFloat(y);
        if (!isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
        return dir * String(x).localeCompare(String(y));
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def table_html(rep: Report, depth: int | None, columns: Sequence[str]) -> str:
    """The report table as an HTML <table> (rows in <tbody>, subtotals and total in <tfoot>),
    in a box that scrolls sideways rather than run off the page. Shapes and details wrap;
    details leave out the initialiser, shown on hover (the cell's title, and `data-v`)."""
    keys = check_columns(columns)
    cols = [COLUMNS[k] for k in keys]
    head = "".join(f"<th>{esc(c.header)}</th>" for c in cols)
    body: list[str] = []
    foot: list[str] = []
    for line, (kind, values) in zip(rep.lines(depth), rep.cells(depth, keys), strict=True):
        tds = []
        for c, v in zip(cols, values, strict=True):
            text, title = cell_text(v), ""
            if c.key == "details" and line.row.brief != line.row.details:
                text, title = line.row.brief, f' title="{esc(str(v))}"'
            css = "num" if c.numeric else "wrap" if c.key in WRAPPED else ""
            css += " det" if c.key == "details" else ""
            tds.append(f'<td class="{css}" data-v="{esc(str(v))}"{title}>{esc(text)}</td>')
        (body if kind == "row" else foot).append(f'<tr class="{kind}">{"".join(tds)}</tr>')
    return (
        f'<div class="rep-wrap"><table class="rep"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody><tfoot>{''.join(foot)}</tfoot></table></div>"
    )


WRAPPED = ("input", "details")
"""Text columns whose cells wrap (a concat's inputs, long details) so the table fits."""


def bars_html(rep: Report, depth: int = 1) -> str:
    """Params and MACs per stage (top-level block), as proportional bars."""
    rows = [r for r in rep.blocks(depth)]
    pmax = max((r.params for r in rows), default=0) or 1
    mmax = max((r.macs for r in rows), default=0) or 1
    out = ['<table class="bars"><tr><th>stage</th><th>params</th><th>MACs</th></tr>']
    for r in rows:
        pw, mw = 300 * r.params / pmax, 300 * r.macs / mmax
        name = r.name + (" (aux)" if r.aux else "")
        out.append(
            f"<tr><td>{esc(name)}</td>"
            f'<td><span class="bar p" style="width:{pw:.1f}px"></span> {human(r.params)}</td>'
            f'<td><span class="bar m" style="width:{mw:.1f}px"></span> {human(r.macs)}</td></tr>'
        )
    out.append("</table>")
    return "".join(out)


def verify_html(results: Sequence[ExpectResult]) -> str:
    if not results:
        return "<p>(no expect declarations)</p>"
    rows = []
    for r in results:
        if r.skipped:
            status, actual = '<span class="skip">skip</span>', r.skipped
        else:
            status = '<span class="ok">ok</span>' if r.ok else '<span class="fail">FAIL</span>'
            actual = (
                "x".join(map(str, r.actual)) if isinstance(r.actual, tuple) else f"{r.actual:,}"
            )
        rows.append(
            f"<tr><td>{status}</td><td>{esc(r.describe())}</td><td>{esc(actual)}</td>"
            f"<td>{esc(r.source)}</td></tr>"
        )
    return (
        '<table class="rep"><thead><tr><th></th><th>expectation</th><th>actual</th>'
        f"<th>source</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def report_page(
    rep: Report,
    results: Sequence[ExpectResult] | None,
    graph: nx.DiGraph | None,
    depth: int | None,
    columns: Sequence[str],
) -> str:
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'\">",
        f"<title>{esc(rep.network)} report</title><style>{CSS}</style></head><body>",
        f"<h1>{esc(rep.network)}</h1>",
        f'<p class="summary">input {"x".join(map(str, rep.input_shape))}; '
        f"{esc(params_line(rep))}</p>",
        f'<p class="memory">{esc(memory_line(rep))}</p>',
        "<h2>Params and MACs per stage</h2>",
        bars_html(rep),
        "<h2>Layers</h2>",
        table_html(rep, depth, columns),
    ]
    if results is not None:
        parts += ["<h2>Verification</h2>", verify_html(results)]
    if graph is not None:
        from ..draw.html import diagram_div
        from ..draw.model import build_model, default_depth

        model = build_model(graph)
        parts += ["<h2>Diagram</h2>", diagram_div(model, default_depth(model))]
    parts += [f"<script>{SORT_JS}</script></body></html>\n"]
    return "".join(parts)


def network_html(net: Network) -> str:
    """`Network._repr_html_`: the summary line, the depth-1 table and the SVG diagram."""
    from ..draw import render
    from ..report import DEFAULT_COLUMNS

    rep = net.report()
    shape = "x".join(map(str, net.input_shape))
    return (
        f"<div><b>{esc(net.name)}</b>: input {shape}, {rep.params:,} params, "
        f"{rep.macs:,} MACs<details><summary>layers</summary>"
        f"{table_html(rep, 1, DEFAULT_COLUMNS)}</details>"
        f"<details open><summary>diagram</summary>{render(net.graph, 'svg', 1)}</details></div>"
    )
