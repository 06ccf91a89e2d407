"""A finished sweep: its points, constraint, objectives and front, and its views (a terminal
table, CSV, JSON, an HTML page, a notebook repr, a pandas DataFrame)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import textwrap
from dataclasses import dataclass, field
from typing import Any

from ..front.source import printable
from .measure import Point
from .pareto import Objective
from .space import Space, set_line

SCHEMA = "inceptdsl.sweep/1"
TABLE_METRICS = ("params", "macs", "memory", "layers", "buffers", "activations", "nodes")
"""Metric columns of the table, most wanted first: on a narrow terminal the last go."""


@dataclass
class SweepResult:
    spec: str
    network: str
    space: Space
    points: list[Point]
    objectives: list[Objective]
    where: str | None = None
    batch: int = 1
    dtype: str = "float32"
    mode: str = "grid"
    seed: int | None = None
    interrupted: bool = False
    planned: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    unit = "point"
    """What a row is, in the page's words (a search's rows are trials)."""
    failed_title = "Failed points"

    @property
    def title(self) -> str:
        """The page's title and heading."""
        return f"sweep of {self.network}"

    @property
    def ok(self) -> list[Point]:
        return [p for p in self.points if p.error is None]

    @property
    def failed(self) -> list[Point]:
        return [p for p in self.points if p.error is not None]

    @property
    def front(self) -> list[Point]:
        return [p for p in self.points if p.front]

    def set_line(self, point: Point) -> str:
        """The `--set` arguments that rebuild `point`: its swept values and the fixed ones."""
        return set_line({**point.params, **self.meta.get("fixed", {})})

    @property
    def timed(self) -> bool:
        """Whether some point has a measured latency."""
        return any("latency" in p.metrics for p in self.points)

    @property
    def metric_names(self) -> list[str]:
        from .where import LATENCY_METRICS, METRICS

        return [*METRICS, *(LATENCY_METRICS if self.timed else ())]

    @property
    def param_names(self) -> list[str]:
        return [d.name for d in self.space.dims]

    # -- rows ----------------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per point: index, parameters, metrics (exact), feasible, front,
        error code and the `--set` line."""
        out = []
        for p in self.points:
            row: dict[str, Any] = {"index": p.index}
            row.update(p.params)
            for m in self.metric_names:
                row[m] = p.metrics.get(m)
            row.update(
                feasible=p.error is None and p.feasible,
                front=p.front,
                error=p.code,
                set=self.set_line(p),
            )
            out.append(row)
        return out

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame indexed by point (pandas is imported only here)."""
        import pandas as pd

        return pd.DataFrame(self.rows()).set_index("index")

    def to_csv(self) -> str:
        buf = io.StringIO()
        rows = self.rows()
        fields = list(rows[0]) if rows else ["index", *self.param_names]
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: _csv_value(v) for k, v in r.items()})
        return buf.getvalue()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "spec": self.spec,
            "network": self.network,
            "space": [d.describe() for d in self.space.dims],
            "mode": self.mode,
            "seed": self.seed,
            "where": self.where,
            "objectives": [str(o) for o in self.objectives],
            "batch": self.batch,
            "dtype": self.dtype,
            "planned": self.planned,
            "interrupted": self.interrupted,
            "points": [
                {**{k: _json_value(v) for k, v in r.items()}, "message": p.error}
                for r, p in zip(self.rows(), self.points, strict=True)
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_html(self) -> str:
        from .html import page

        return page(self)

    def _repr_html_(self) -> str:
        from .html import notebook_table

        return notebook_table(self)

    def summary(self) -> str:
        ok, failed = len(self.ok), len(self.failed)
        feasible = sum(1 for p in self.ok if p.feasible)
        text = (
            f"{self.network}: {len(self.points)} of {self.planned} points measured"
            f" ({ok} built, {failed} failed); {feasible} meet"
            f" {('`' + self.where + '`') if self.where else 'no constraint'}; "
            f"{len(self.front)} on the front of {', '.join(map(str, self.objectives))}"
        )
        if self.interrupted:
            text += " (interrupted: the points above are what was measured)"
        return text

    def to_table(self, width: int | None = None, only_front: bool = False) -> str:
        """The points (or the front) as a table no wider than `width` (default: the
        terminal's): metric columns that do not fit are left out, and the table says so."""
        width = width or shutil.get_terminal_size((100, 24)).columns
        shown = [p for p in self.points if p.front or not only_front]
        head = ["#", *self.param_names]
        cells = [
            [str(p.index), *(_fmt_param(p.params[n]) for n in self.param_names)] for p in shown
        ]
        cols = self.table_columns()
        dropped: list[str] = []
        while True:
            table = _layout(head, cells, cols, shown)
            if max(map(len, table), default=0) <= width or not cols:
                break
            dropped.insert(0, cols.pop())
        lines = [*table, "", *textwrap.wrap(self.summary(), width, break_long_words=False)]
        if dropped:
            note = f"(columns left out to fit {width} characters: {', '.join(dropped)})"
            lines += textwrap.wrap(note, width, break_long_words=False)
        lines += self._failures()
        return "\n".join(lines) + "\n"

    def table_columns(self) -> list[str]:
        """The metric columns of the table, most wanted first."""
        cols = list(TABLE_METRICS)
        if self.timed:
            cols[2:2] = ["latency"]
        return cols

    def _failures(self) -> list[str]:
        """Failed points grouped by their diagnostic: each shown once, with the points."""
        groups: dict[str, list[Point]] = {}
        for p in self.failed:
            groups.setdefault(p.error or "", []).append(p)
        lines = []
        for error, pts in groups.items():
            shown = ", ".join(f"#{p.index}" for p in pts[:20]) + (", ..." if len(pts) > 20 else "")
            lines.append(f"{len(pts)} point{'s' if len(pts) > 1 else ''} failed ({shown}), e.g.")
            lines.append(f"  {self.set_line(pts[0])}:")
            lines += ["  " + printable(x) for x in error.splitlines()]
        return lines


def _layout(
    head: list[str], cells: list[list[str]], cols: list[str], pts: list[Point]
) -> list[str]:
    rows = [
        [*c, *(human(p.metrics[m], m) if m in p.metrics else "-" for m in cols), _mark(p)]
        for c, p in zip(cells, pts, strict=True)
    ]
    header = [*head, *cols, ""]
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    lines = []
    for r in [header, *rows]:
        parts = [
            v.rjust(w) if i else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
    return lines


def _mark(p: Point) -> str:
    if p.error is not None:
        return f"error {p.code}"
    if p.front:
        return "front"
    return "" if p.feasible else "excluded"


def human(v: float, metric: str) -> str:
    """A metric for the table: counts with K/M/G, bytes in KiB/MiB/GiB, milliseconds with 3
    significant digits, small numbers as is."""
    if metric.startswith("latency"):
        return f"{v:.3g}ms"
    if metric in ("memory", "activations"):
        for unit, f in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if v >= f:
                return f"{v / f:.2f}{unit}"
        return f"{v}B"
    for unit, f in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if v >= f:
            return f"{v / f:.3f}{unit}"
    if isinstance(v, float) and not v.is_integer():  # a measured score: accuracy 0.9844
        return f"{v:.4g}"
    return str(v)


def _fmt_param(v: Any) -> str:
    from .space import shown

    return printable(shown(v))


def _csv_value(v: Any) -> Any:
    from .space import shown

    if v is None:
        return ""
    if isinstance(v, (bool, tuple, float)) or not isinstance(v, (int, str)):
        return shown(v)
    return v


def _json_value(v: Any) -> Any:
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    return str(v)
