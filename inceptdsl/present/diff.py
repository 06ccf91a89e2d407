"""A `Diff` (diff.py) as people and tools read it: the terminal table (fitted to a width),
Markdown, JSON and the HTML of a notebook; `FORMATS` maps `inceptdsl diff --format` to them."""

from __future__ import annotations

import json
from typing import Any

from ..diff import METRICS, BlockDiff, Diff, LayerDiff

# ---- formats ----------------------------------------------------------------------------------

_MARK = {"added": "+", "removed": "-", "changed": "~", "renamed": "="}


def _delta(a: int, b: int) -> str:
    d = b - a
    return f"{d:+,}" if d else "0"


def _pct(a: int, b: int) -> str:
    if a == b:
        return "0%"
    if a == 0:
        return "new"
    return f"{(b - a) / a * 100:+.2f}%"


def _shape(s: tuple[int, ...] | None) -> str:
    return "x".join(map(str, s)) if s else "–"


def _layer_text(la: LayerDiff) -> str:
    """A layer's difference: an added or removed layer with its output and params, a changed
    one with its fields and (when they changed) its params, or every count that changed."""
    if la.status == "added":
        return f"{la.op[1]} {_shape(la.shape[1])}, {la.b['params']:,} params (new)"
    if la.status == "removed":
        return f"{la.op[0]} {_shape(la.shape[0])}, {la.a['params']:,} params (removed)"
    parts = [f"{c.field} {c.a} -> {c.b}" for c in la.changes]
    if la.renamed_from is not None:
        parts.insert(0, f"renamed from {la.renamed_from}")
    parts += [
        f"{m} {la.a[m]:,} -> {la.b[m]:,}"
        for m in METRICS
        if la.a[m] != la.b[m] and (not la.changes or m == "params")
    ]
    return ", ".join(parts)


def _call_text(b: BlockDiff, arrow: str = "->") -> str | None:
    """`block Mod(c=16) -> Wide(c=16) (another block type)` when the call changed, else
    None."""
    a, c = b.call
    if a == c:
        return None
    if a is None or c is None:
        return f"block {a or c} ({'new' if a is None else 'removed'})"
    return f"block {a} {arrow} {c}" + (" (another block type)" if b.retyped else "")


def summary(d: Diff) -> str:
    if not d.blocks:
        return f"0 of {d.total_blocks} blocks differ (depth {d.depth})"
    counts = {s: sum(b.status == s for b in d.blocks) for s in ("added", "removed", "changed")}
    layers = sum(len(b.layers) for b in d.blocks)
    return (
        f"{len(d.blocks)} of {d.total_blocks} blocks differ (depth {d.depth}): "
        f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed; "
        f"{layers} layer{'s' if layers != 1 else ''} differ"
    )


def _cells(a: dict[str, int], b: dict[str, int]) -> list[str]:
    """The numbers of one row: params A, B, Δ, Δ%; Δ buffers; MACs A, B, Δ, Δ%."""
    p, m = "params", "macs"
    return [
        f"{a[p]:,}",
        f"{b[p]:,}",
        _delta(a[p], b[p]),
        _pct(a[p], b[p]),
        _delta(a["buffers"], b["buffers"]),
        f"{a[m]:,}",
        f"{b[m]:,}",
        _delta(a[m], b[m]),
        _pct(a[m], b[m]),
    ]


_WIDTHS = (13, 13, 12, 8, 10, 15, 15, 15, 8)
_HEADS = ("params A", "params B", "Δ params", "Δ%", "Δ buffers", "MACs A", "MACs B", "Δ MACs", "Δ%")


def _block_shape(b: BlockDiff, arrow: str) -> str:
    if b.shape[0] != b.shape[1]:
        return f"{_shape(b.shape[0])} {arrow} {_shape(b.shape[1])}"
    return _shape(b.shape[1])


_KEYS = ("pa", "pb", "dp", "dpp", "db", "ma", "mb", "dm", "dmp")

DIFF_LADDER = (
    ("drop", "db"),
    ("drop", "ma"),
    ("drop", "mb"),
    ("drop", "pa"),
    ("drop", "pb"),
    ("short", "dm"),
    ("short", "dp"),
    ("drop", "dpp"),
    ("drop", "shape"),
)
"""How the diff table narrows on a terminal (fit.py): A's and B's figures go before the
deltas, which are what a diff is read for."""


def to_table(d: Diff, width: int | None = None) -> str:
    """The block table with each block's differing layers under it; `width` fits it to a
    terminal (fit.py), None keeps every column (a pipe, a file, the goldens)."""
    if width is not None:
        return _fitted_table(d, width)

    def row(first: str, cells: list[str]) -> str:
        return f"{first:<28} " + " ".join(f"{c:>{w}}" for c, w in zip(cells, _WIDTHS, strict=True))

    lines = [
        f"--- {d.name_a} ({d.network_a})",
        f"+++ {d.name_b} ({d.network_b})",
        row("block", list(_HEADS)) + "  shape",
    ]
    for b in d.blocks:
        lines.append(
            row(f"{_MARK[b.status]} {b.name}", _cells(b.a, b.b)) + f"  {_block_shape(b, '->')}"
        )
        lines += _block_lines(b)
    if not d.blocks:
        lines.append("(no block differs)")
    lines.append(row("total", _cells(d.totals_a, d.totals_b)))
    lines.append(summary(d))
    return "\n".join(lines) + "\n"


def _block_lines(b: BlockDiff) -> list[str]:
    """The lines under a block's row: its call when that changed, then each differing layer."""
    call = _call_text(b)
    head = [f"    ~ {call}"] if call else []
    return head + [f"    {_MARK[la.status]} {la.name}: {_layer_text(la)}" for la in b.layers]


def _fitted_table(d: Diff, width: int) -> str:
    import textwrap

    from .. import fit

    rows = [(f"{_MARK[b.status]} {b.name}", b.a, b.b, _block_shape(b, "->")) for b in d.blocks]
    rows.append(("total", d.totals_a, d.totals_b, ""))
    cols = [fit.Col("block", "block", False, [r[0] for r in rows])]
    for i, (key, head) in enumerate(zip(_KEYS, _HEADS, strict=True)):
        cells = [_cells(a, b)[i] for _, a, b, _ in rows]
        short = None
        if key in ("dp", "dm"):
            m = "params" if key == "dp" else "macs"
            short = [fit.compact(b[m] - a[m], signed=True) for _, a, b, _ in rows]
        cols.append(fit.Col(key, head, True, cells, short))
    cols.append(fit.Col("shape", "shape", False, [r[3] for r in rows]))
    fitted = fit.fit(cols, width, DIFF_LADDER)
    table = fit.lines(fitted.cols)

    def wrap(text: str, indent: str = "", more: str = "") -> list[str]:
        return textwrap.wrap(
            text, width, initial_indent=indent, subsequent_indent=more, break_on_hyphens=False
        ) or [""]

    out = wrap(f"--- {d.name_a} ({d.network_a})", "", "    ")
    out += wrap(f"+++ {d.name_b} ({d.network_b})", "", "    ")
    out.append(table[0])
    for b, ln in zip(d.blocks, table[1:], strict=False):
        out.append(ln)
        for text in _block_lines(b):
            out += wrap(text.lstrip(), "    ", "        ")
    if not d.blocks:
        out.append("(no block differs)")
    out.append(table[-1])
    out += wrap(summary(d))
    note = fit.footnote(
        fitted, width, " to K/M/G" if fitted.shortened else "", "`--wide` shows every column."
    )
    out += wrap(note) if note else []
    return "\n".join(out) + "\n"


def to_markdown(d: Diff) -> str:
    lines = [
        f"Diff of `{d.name_a}` ({d.network_a}) and `{d.name_b}` ({d.network_b}), depth {d.depth}",
        "",
        "| | block | " + " | ".join(_HEADS) + " | shape |",
        "|---|---|" + "---:|" * len(_HEADS) + "---|",
    ]
    for b in d.blocks:
        cells = " | ".join(_cells(b.a, b.b))
        lines.append(f"| {_MARK[b.status]} | `{b.name}` | {cells} | {_block_shape(b, '→')} |")
    lines.append(f"| | **total** | {' | '.join(_cells(d.totals_a, d.totals_b))} | |")
    if any(b.layers or _call_text(b) for b in d.blocks):
        lines += ["", "| | layer | difference |", "|---|---|---|"]
        for b in d.blocks:
            if (call := _call_text(b, "→")) is not None:
                text = call.replace("|", "\\|")
                lines.append(f"| ~ | `{b.name}` | {text} |")
            for la in b.layers:
                text = _layer_text(la).replace("|", "\\|")
                lines.append(f"| {_MARK[la.status]} | `{la.name}` | {text} |")
    lines += ["", summary(d)]
    return "\n".join(lines) + "\n"


def to_json(d: Diff) -> str:
    def metrics(a: dict[str, int], b: dict[str, int]) -> dict[str, Any]:
        return {
            m: {"a": a[m], "b": b[m], "delta": b[m] - a[m], "pct": _pct(a[m], b[m])}
            for m in METRICS
        }

    doc = {
        "schema": "inceptdsl.diff/1",
        "a": {"path": d.name_a, "network": d.network_a},
        "b": {"path": d.name_b, "network": d.network_b},
        "depth": d.depth,
        "blocks": [
            {
                "name": b.name,
                "status": b.status,
                "shape": {"a": b.shape[0], "b": b.shape[1]},
                "call": {"a": b.call[0], "b": b.call[1]},
                **metrics(b.a, b.b),
                "layers": [
                    {
                        "name": la.name,
                        "status": la.status,
                        "renamed_from": la.renamed_from,
                        "op": {"a": la.op[0], "b": la.op[1]},
                        "changes": [{"field": c.field, "a": c.a, "b": c.b} for c in la.changes],
                        **metrics(la.a, la.b),
                    }
                    for la in b.layers
                ],
            }
            for b in d.blocks
        ],
        "totals": metrics(d.totals_a, d.totals_b),
        "summary": summary(d),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_html(d: Diff) -> str:
    """The block table as HTML (notebooks): one row per differing block, its call change and
    layers folded under it (a <details> row: open one to see them), every spec name escaped.
    No script: a notebook shows it as it is."""
    from html import escape

    def row(mark: str, name: str, cells: list[str], shape: str) -> str:
        tds = "".join(f'<td style="text-align:right">{escape(c)}</td>' for c in cells)
        return (
            f"<tr><td>{escape(mark)}</td><td>{escape(name)}</td>{tds}<td>{escape(shape)}</td></tr>"
        )

    width = len(_HEADS) + 3
    head = "".join(f"<th>{escape(h)}</th>" for h in ("", "block", *_HEADS, "shape"))
    rows = []
    for b in d.blocks:
        rows.append(row(_MARK[b.status], b.name, _cells(b.a, b.b), _block_shape(b, "→")))
        call = _call_text(b, "→")
        items = [f"<tr><td>~</td><td colspan=2>{escape(call)}</td></tr>"] if call else []
        items += [
            f"<tr><td>{escape(_MARK[la.status])}</td><td><code>{escape(la.name)}</code></td>"
            f"<td>{escape(_layer_text(la))}</td></tr>"
            for la in b.layers
        ]
        if items:
            n = len(b.layers)
            what = (f"{call}; " if call else "") + f"{n} layer{'s' if n != 1 else ''} differ"
            rows.append(
                f'<tr class="layers"><td></td><td colspan="{width - 1}"><details>'
                f"<summary>{escape(what)}</summary><table>{''.join(items)}</table>"
                "</details></td></tr>"
            )
    rows.append(row("", "total", _cells(d.totals_a, d.totals_b), ""))
    return (
        f"<p>{escape(d.name_a)} ({escape(d.network_a)}) → {escape(d.name_b)} "
        f"({escape(d.network_b)}): {escape(summary(d))}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


FORMATS = {"table": to_table, "markdown": to_markdown, "json": to_json}
