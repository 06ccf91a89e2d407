"""Per-block differences between two networks' reports (`inceptdsl diff A B`).

Blocks are matched by name at the chosen depth, in the order of A then the blocks only B has,
so a variant's diff against its parent shows exactly the blocks that changed.
"""

from __future__ import annotations

from .report import Report, Row


def _fmt_delta(a: int, b: int) -> str:
    d = b - a
    return f"{d:+,}" if d else "0"


def diff_reports(a: Report, b: Report, depth: int, name_a: str, name_b: str) -> str:
    rows_a = {r.name: r for r in a.blocks(depth)}
    rows_b = {r.name: r for r in b.blocks(depth)}
    names = list(rows_a) + [n for n in rows_b if n not in rows_a]
    empty = Row("", "", (), 0, 0, 0, 0, 0)
    lines = [
        f"--- {name_a} ({a.network})",
        f"+++ {name_b} ({b.network})",
        f"{'block':<28} {'params A':>13} {'params B':>13} {'Δ params':>12} {'MACs A':>15} "
        f"{'MACs B':>15} {'Δ MACs':>15}  shape",
    ]
    changed = 0
    for n in names:
        ra, rb = rows_a.get(n, empty), rows_b.get(n, empty)
        same = (ra.params, ra.buffers, ra.macs, ra.shape) == (
            rb.params,
            rb.buffers,
            rb.macs,
            rb.shape,
        )
        if same:
            continue
        changed += 1
        mark = "+" if n not in rows_a else "-" if n not in rows_b else "~"
        shape = (
            "x".join(map(str, ra.shape)) + " -> " + "x".join(map(str, rb.shape))
            if ra.shape != rb.shape
            else "x".join(map(str, rb.shape))
        )
        dp, dm = _fmt_delta(ra.params, rb.params), _fmt_delta(ra.macs, rb.macs)
        lines.append(
            f"{mark} {n:<26} {ra.params:>13,} {rb.params:>13,} {dp:>12}"
            f" {ra.macs:>15,} {rb.macs:>15,} {dm:>15}  {shape}"
        )
    if not changed:
        lines.append("(no block differs)")
    lines.append(
        f"{'total':<28} {a.params:>13,} {b.params:>13,} {_fmt_delta(a.params, b.params):>12} "
        f"{a.macs:>15,} {b.macs:>15,} {_fmt_delta(a.macs, b.macs):>15}"
    )
    lines.append(
        f"{changed} of {len(names)} blocks differ (depth {depth}); "
        f"{len(names) - changed} identical blocks not shown"
    )
    return "\n".join(lines) + "\n"
