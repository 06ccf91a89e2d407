"""The report as people read it: the terminal table (fitted to a width, with rich styling on a
terminal), Markdown, and the summary lines the HTML page shares (present/html.py). Each renders
a `Report` (report.py), which it reads only through public names; `Report.to_table()` and
friends reach these through deferred imports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..report import (
    COLUMNS,
    DEFAULT_COLUMNS,
    Report,
    Row,
    cell_text,
    check_columns,
    human,
    human_bytes,
    shape_text,
)

FIT_LADDER = (
    ("short", "input"),
    ("drop", "activation_bytes"),
    ("drop", "buffers"),
    ("drop", "activations"),
    ("short", "macs"),
    ("drop", "params_pct"),
    ("drop", "input"),
    ("short", "flops"),
    ("drop", "details"),
    ("drop", "macs_pct"),
    ("short", "params"),
    ("drop", "op"),
)
"""How a terminal table narrows, step by step, until it fits (fit.py): the least read
columns go first; name, output, params and MACs stay."""


def _wrapper(width: int) -> Callable[[str], list[str]]:
    import textwrap

    def wrap(text: str) -> list[str]:
        return textwrap.wrap(text, width, break_on_hyphens=False) or [""]

    return wrap


_MD_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+!|~"} | {"\n": " "})


def _md(text: str) -> str:
    """Text from a spec, made inert in Markdown (no emphasis, links, HTML or table breaks)."""
    return text.translate(_MD_ESCAPES).replace("&", "&amp;")


def params_line(rep: Report, esc: Callable[[str], str] = str) -> str:
    aux = (
        f" (aux heads {esc(', '.join(rep.aux_heads))}: {rep.aux_params:,} params, "
        f"{rep.aux_buffers:,} buffers)"
        if rep.aux_heads
        else ""
    )
    return (
        f"params {rep.params:,}{aux}; buffers {rep.buffers:,}; MACs {rep.macs:,} "
        f"({human(rep.macs)}); FLOPs {rep.flops:,}"
    )


def memory_line(rep: Report, esc: Callable[[str], str] = str) -> str:
    m = rep.memory
    if m is None:
        return ""
    return (
        f"memory at batch {m.batch}, {m.dtype}: params {human_bytes(m.params_bytes)}, "
        f"buffers {human_bytes(m.buffers_bytes)}, activations of one forward "
        f"{human_bytes(m.activations_bytes)}; inference peak {human_bytes(m.peak_bytes)} "
        f"(activations {human_bytes(m.peak_activations_bytes)}, at {esc(m.peak_node)})"
    )


def _conventions_line() -> str:
    return (
        "params: trainable parameters. buffers: BN running mean + variance. "
        "MACs: conv + linear multiply-accumulates, one sample; the MACs total above is the "
        "inference path (aux heads excluded). FLOPs = 2 x MACs. % of the total row."
    )


def _summary(rep: Report) -> str:
    return params_line(rep) + "\n" + memory_line(rep) + "\n" + _conventions_line()


def markdown(rep, depth: int | None = None, columns: Sequence[str] = DEFAULT_COLUMNS) -> str:
    cols = [COLUMNS[k] for k in check_columns(columns)]
    lines = [
        f"# {_md(rep.network)}",
        "",
        f"input {shape_text(rep.input_shape)}; {params_line(rep, _md)}",
        "",
        "| " + " | ".join(c.header for c in cols) + " |",
        "|" + "|".join("---:" if c.numeric else "---" for c in cols) + "|",
    ]
    for kind, values in rep.cells(depth, columns):
        texts = [_md(cell_text(v)) for v in values]
        if kind != "row":
            texts = [f"**{t}**" if t else "" for t in texts]
        lines.append("| " + " | ".join(texts) + " |")
    lines += ["", memory_line(rep, _md), "", _conventions_line()]
    return "\n".join(lines) + "\n"


def table(
    rep: Report,
    depth: int | None = None,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    width: int | None = None,
) -> str:
    """The human table: aligned columns, then the summary, memory and conventions.

    `width` fits it to a terminal of that many columns (fit.py: details without
    initialisers, columns shortened, then dropped, and a note saying which and how to see
    them); None keeps every column in full (a pipe, a file, the goldens). Plain text, so
    it is stable in goldens and logs; `print_table` adds rich styling on a terminal.
    (rich's Table layout engine takes ~0.3 s for a few hundred rows, too slow for a
    command that must answer in well under half a second.)"""
    return "\n".join(text for _, text in table_lines(rep, depth, columns, width)) + "\n"


def table_lines(
    rep, depth: int | None, columns: Sequence[str], width: int | None
) -> list[tuple[str, str]]:
    """(kind, text) per line of the table: title, header, row/subtotal/total, note, ""."""
    from .. import fit

    keys = check_columns(columns)
    cells = rep.cells(depth, keys)
    cols = [
        fit.Col(k, COLUMNS[k].header, COLUMNS[k].numeric, [cell_text(v[i]) for _, v in cells])
        for i, k in enumerate(keys)
    ]
    title = f"{rep.network}  (input {shape_text(rep.input_shape)})"
    summary = _summary(rep).splitlines()
    if width is None:
        body = fit.lines(cols)
        kinds = ["header", *(kind for kind, _ in cells)]
        return [
            ("title", title),
            *zip(kinds, body, strict=True),
            ("", ""),
            *(("summary", ln) for ln in summary),
        ]
    rows = [ln.row if ln.kind == "row" else None for ln in rep.lines(depth)]
    briefed = False
    for c in cols:
        short = _short_cells(rep, c.key, rows, [v for _, v in cells], keys.index(c.key))
        if c.key == "details":
            briefed = short != c.cells
            c.cells = short
        elif short != c.cells:
            c.short = short
    fitted = fit.fit(cols, width, FIT_LADDER)
    body = fit.lines(fitted.cols)
    kinds = ["header", *(kind for kind, _ in cells)]
    how = " (counts in K/M/G, several inputs as the first and `+N`)"
    note = fit.footnote(fitted, width, how if "input" in fitted.shortened else " to K/M/G")
    if briefed and any(c.key == "details" for c in fitted.cols):
        note = "details without initialisers (`--wide` or `--format csv` show them). " + note
    wrap = _wrapper(width)
    out = [("title", ln) for ln in wrap(title)]
    out += list(zip(kinds, body, strict=True))
    out += [("note", ln) for ln in wrap(note.strip())] if note.strip() else []
    out.append(("", ""))
    out += [("summary", ln) for s in summary for ln in wrap(s)]
    return out


def _short_cells(
    rep, key: str, rows: list[Row | None], values: list[list[object]], i: int
) -> list[str]:
    """The column `key` in its short form: details without initialisers, the first input
    and a count of the others, counts in K/M/G."""
    from ..fit import compact

    out = []
    for r, v in zip(rows, values, strict=True):
        cell = v[i]
        if key == "details" and r is not None:
            out.append(r.brief)
        elif key == "input" and r is not None and len(r.input_shapes) > 1:
            out.append(f"{shape_text(r.input_shapes[0])} +{len(r.input_shapes) - 1}")
        elif isinstance(cell, int) and not isinstance(cell, bool):
            out.append(compact(cell))
        else:
            out.append(cell_text(cell))
    return out


def print_table(
    rep: Report,
    depth: int | None = None,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    width: int | None = None,
) -> None:
    """Print the table (fitted to `width` when given); on a terminal, with rich styling
    (bold header and totals)."""
    import sys

    lines = table_lines(rep, depth, columns, width)
    if not sys.stdout.isatty():
        sys.stdout.write("\n".join(text for _, text in lines) + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    for kind, ln in lines:
        bold = kind in ("header", "subtotal", "total")
        style = "bold" if bold else "dim" if kind == "note" else ""
        console.print(Text(ln, style=style), soft_wrap=True)
