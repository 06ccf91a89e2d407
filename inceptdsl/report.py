"""Reports: per-layer, per-block and total counts of a network, as text, JSON, Markdown or CSV.

Every figure comes from the IR node fields filled by cost.py; nothing is recomputed here.
Conventions are cost.py's (params, buffers, MACs, FLOPs = 2 x MACs); "activations" is the
number of output elements of every node on the inference path (one sample). The JSON layout is
a stable schema, `inceptdsl.report/1`, documented in docs/report-schema.md.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field

import networkx as nx

from .cost import FLOPS_PER_MAC
from .ir.ops import Op

SCHEMA = "inceptdsl.report/1"


@dataclass(frozen=True)
class Row:
    """One layer, or one block aggregated at some depth of the name hierarchy."""

    name: str
    op: str
    shape: tuple[int, ...]
    params: int
    buffers: int
    macs: int
    flops: int
    activations: int
    aux: str | None = None
    layers: int = 1


@dataclass
class Report:
    network: str
    input_shape: tuple[int, ...]
    parameters: dict[str, object]
    rows: list[Row]
    params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    activations: int = 0
    aux_params: int = 0
    aux_buffers: int = 0
    aux_macs: int = 0
    aux_heads: list[str] = field(default_factory=list)

    @property
    def variables(self) -> int:
        """params + buffers: every float a checkpoint stores (slim's "all variables" count)."""
        return self.params + self.buffers

    def totals(self) -> dict[str, int]:
        return {
            "params": self.params,
            "buffers": self.buffers,
            "variables": self.variables,
            "macs": self.macs,
            "flops": self.flops,
            "activations": self.activations,
            "aux_params": self.aux_params,
            "aux_buffers": self.aux_buffers,
            "aux_macs": self.aux_macs,
        }

    def blocks(self, depth: int) -> list[Row]:
        """Rows aggregated by the first `depth` segments of their names, in spec order."""
        groups: dict[str, list[Row]] = {}
        for r in self.rows:
            key = ".".join(r.name.split(".")[:depth])
            groups.setdefault(key, []).append(r)
        out = []
        for key, rows in groups.items():
            last = rows[-1]
            single = len(rows) == 1 and rows[0].name == key
            out.append(
                Row(
                    name=key,
                    op=rows[0].op if single else "block",
                    shape=last.shape,
                    params=sum(r.params for r in rows),
                    buffers=sum(r.buffers for r in rows),
                    macs=sum(r.macs for r in rows),
                    flops=sum(r.flops for r in rows),
                    activations=sum(r.activations for r in rows),
                    aux=last.aux,
                    layers=sum(r.layers for r in rows),
                )
            )
        return out

    def _rows(self, depth: int | None) -> list[Row]:
        return self.rows if depth is None else self.blocks(depth)

    # ---- formats ----

    def to_dict(self, depth: int | None = None) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "network": self.network,
            "input_shape": list(self.input_shape),
            "parameters": {k: _jsonable(v) for k, v in self.parameters.items()},
            "conventions": {
                "params": "trainable parameters",
                "buffers": "batch-norm running mean + variance elements",
                "macs": "conv and linear multiply-accumulates, inference path, one sample",
                "flops": "2 x macs",
                "activations": "output elements of every inference-path node, one sample",
            },
            "totals": self.totals(),
            "aux_heads": list(self.aux_heads),
            "depth": depth,
            "rows": [{**asdict(r), "shape": list(r.shape)} for r in self._rows(depth)],
        }

    def to_json(self, depth: int | None = None) -> str:
        return json.dumps(self.to_dict(depth), indent=2) + "\n"

    def to_csv(self, depth: int | None = None) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(
            ["name", "op", "shape", "params", "buffers", "macs", "flops", "activations", "aux"]
        )
        for r in self._rows(depth):
            w.writerow(
                [
                    r.name,
                    r.op,
                    _shape(r.shape),
                    r.params,
                    r.buffers,
                    r.macs,
                    r.flops,
                    r.activations,
                    r.aux or "",
                ]
            )
        w.writerow(
            [
                "TOTAL",
                "",
                "",
                self.params,
                self.buffers,
                self.macs,
                self.flops,
                self.activations,
                "",
            ]
        )
        return buf.getvalue()

    def to_markdown(self, depth: int | None = None) -> str:
        lines = [
            f"# {self.network}",
            "",
            f"input {_shape(self.input_shape)}; {_params_line(self)}",
            "",
            "| name | op | output | params | buffers | MACs |",
            "|---|---|---|---:|---:|---:|",
        ]
        for r in self._rows(depth):
            lines.append(
                f"| {r.name} | {r.op} | {_shape(r.shape)} | {r.params:,} | {r.buffers:,} | "
                f"{r.macs:,} |"
            )
        lines.append(
            f"| **total** | | | **{self.params:,}** | **{self.buffers:,}** | **{self.macs:,}** |"
        )
        lines += ["", _conventions_line()]
        return "\n".join(lines) + "\n"

    def to_table(self, depth: int | None = None) -> str:
        """The human table: aligned columns, aux rows marked, then the totals and conventions.

        Plain text, so it is stable in goldens and logs; `print_table` adds rich styling on a
        terminal. (rich's Table layout engine takes ~0.3 s for a few hundred rows, too slow for
        a command that must answer in well under half a second.)"""
        header = ("name", "op", "output", "params", "buffers", "MACs")
        body = []
        for r in self._rows(depth):
            name = r.name + (" (aux)" if r.aux and (depth is not None or r.name == r.aux) else "")
            body.append(
                (name, r.op, _shape(r.shape), f"{r.params:,}", f"{r.buffers:,}", f"{r.macs:,}")
            )
        footer = ("total", "", "", f"{self.params:,}", f"{self.buffers:,}", f"{self.macs:,}")
        rows = [header, *body, footer]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]

        def line(cells: tuple[str, ...]) -> str:
            left = [c.ljust(w) for c, w in zip(cells[:3], widths[:3], strict=True)]
            right = [c.rjust(w) for c, w in zip(cells[3:], widths[3:], strict=True)]
            return "  ".join(left + right).rstrip()

        title = f"{self.network}  (input {_shape(self.input_shape)})"
        out = [title, line(header), *(line(r) for r in body), line(footer), "", _summary(self)]
        return "\n".join(out) + "\n"

    def print_table(self, depth: int | None = None) -> None:
        """Print the table; on a terminal, with rich styling (bold header and totals)."""
        import sys

        text = self.to_table(depth)
        if not sys.stdout.isatty():
            sys.stdout.write(text)
            return
        from rich.console import Console
        from rich.text import Text

        lines = text.splitlines()
        n_rows = len(self._rows(depth))
        console = Console(highlight=False)
        for i, ln in enumerate(lines):
            bold = i in (0, 1, n_rows + 2)
            console.print(Text(ln, style="bold" if bold else ""), soft_wrap=True)


def _jsonable(v: object) -> object:
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def _human(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.3f}{unit}"
    return str(n)


def _params_line(rep: Report) -> str:
    aux = (
        f" (aux heads {', '.join(rep.aux_heads)}: {rep.aux_params:,} params, "
        f"{rep.aux_buffers:,} buffers)"
        if rep.aux_heads
        else ""
    )
    return (
        f"params {rep.params:,}{aux}; buffers {rep.buffers:,}; MACs {rep.macs:,} "
        f"({_human(rep.macs)}); FLOPs {rep.flops:,}"
    )


def _conventions_line() -> str:
    return (
        "params: trainable parameters. buffers: BN running mean + variance. "
        "MACs: conv + linear multiply-accumulates, inference path, one sample. FLOPs = 2 x MACs."
    )


def _summary(rep: Report) -> str:
    return _params_line(rep) + "\n" + _conventions_line()


def build_report(g: nx.DiGraph) -> Report:
    rows: list[Row] = []
    rep = Report(
        network=g.graph["name"],
        input_shape=tuple(g.graph["input_shape"]),
        parameters=dict(g.graph["params"]),
        rows=rows,
        aux_heads=[h.name for h in g.graph["aux_heads"]],
    )
    for name, d in g.nodes(data=True):
        op = d["op"]
        if op is Op.INPUT:
            continue
        acts = math.prod(d["shape"])
        rows.append(
            Row(
                name,
                op.value,
                d["shape"],
                d["params"],
                d["buffers"],
                d["macs"],
                d["macs"] * FLOPS_PER_MAC,
                acts,
                d["aux"],
            )
        )
        rep.params += d["params"]
        rep.buffers += d["buffers"]
        if d["aux"] is None:
            rep.macs += d["macs"]
            rep.activations += acts
        else:
            rep.aux_params += d["params"]
            rep.aux_buffers += d["buffers"]
            rep.aux_macs += d["macs"]
    rep.flops = rep.macs * FLOPS_PER_MAC
    return rep
