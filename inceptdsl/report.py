"""Reports: per-layer, per-block and total counts of a network, as text, JSON, Markdown, CSV.

Every figure comes from the IR node fields filled by cost.py; nothing is recomputed here.
Conventions are cost.py's (params, buffers, MACs, FLOPs = 2 x MACs); "activations" is the
number of output elements of every node on the inference path (one sample); memory figures
come from memory.py. The JSON layout is a stable schema, `inceptdsl.report/1`, documented in
docs/report-schema.md.

Every format shows the same columns (COLUMNS, chosen with `columns=`), in the same order: the
inference-path rows in spec order, then (when the network has aux heads) an `inference`
subtotal, the aux heads' rows and an `aux heads` subtotal, and a `total` row that is the sum
of the rows above it. Percentages are of that total.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import networkx as nx

from .ir import Op, info, nodes, shape_of
from .middle.cost import FLOPS_PER_MAC
from .middle.details import details as layer_details
from .middle.memory import DTYPES, Memory, estimate

SCHEMA = "inceptdsl.report/1"

BRIEF_SKIP = frozenset({"init"})
"""Attribute fields the terminal table's details leave out (`--wide` shows them)."""


Shape = tuple[int, ...]


@dataclass(frozen=True)
class Row:
    """One layer, or one block aggregated at some depth of the name hierarchy."""

    name: str
    op: str
    shape: Shape
    params: int
    buffers: int
    macs: int
    flops: int
    activations: int
    aux: str | None = None
    layers: int = 1
    input_shapes: tuple[Shape, ...] = ()
    """Shapes of the row's inputs from outside it (a block: what enters the block)."""
    inputs: tuple[str, ...] = ()
    """Names of the nodes those inputs come from."""
    details: str = ""
    """A layer's attributes in a few words (details.py); empty for a block."""
    brief: str = ""
    """`details` without the weight initialiser (the terminal table's column; not in JSON)."""


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    numeric: bool
    value: Callable[[Row, Report], object]
    """The cell's value: an int, a float (percentages), or a string."""


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _inputs_text(r: Row, rep: Report) -> str:
    return " + ".join(shape_text(s) for s in r.input_shapes)


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("name", "name", False, lambda r, rep: r.name + (" (aux)" if r.aux else "")),
        Column("op", "op", False, lambda r, rep: r.op),
        Column("input", "input", False, _inputs_text),
        Column("output", "output", False, lambda r, rep: shape_text(r.shape)),
        Column("details", "details", False, lambda r, rep: r.details),
        Column("params", "params", True, lambda r, rep: r.params),
        Column("params_pct", "% params", True, lambda r, rep: _pct(r.params, rep.total.params)),
        Column("buffers", "buffers", True, lambda r, rep: r.buffers),
        Column("macs", "MACs", True, lambda r, rep: r.macs),
        Column("macs_pct", "% MACs", True, lambda r, rep: _pct(r.macs, rep.total.macs)),
        Column("flops", "FLOPs", True, lambda r, rep: r.flops),
        Column("activations", "activations", True, lambda r, rep: r.activations * rep.batch),
        Column(
            "activation_bytes",
            "act. bytes",
            True,
            lambda r, rep: r.activations * rep.batch * DTYPES[rep.dtype],
        ),
        Column("layers", "layers", True, lambda r, rep: r.layers),
    )
}
"""Every column a report can show, by key (`--columns name,output,params`)."""

DEFAULT_COLUMNS = (
    "name",
    "op",
    "input",
    "output",
    "details",
    "params",
    "params_pct",
    "buffers",
    "macs",
    "macs_pct",
    "activations",
    "activation_bytes",
)


def check_columns(keys: Sequence[str]) -> tuple[str, ...]:
    """The column keys, validated (a ValueError names the unknown ones and the choices)."""
    bad = [k for k in keys if k not in COLUMNS]
    if bad or not keys:
        raise ValueError(
            f"unknown column{'s' if len(bad) > 1 else ''} {', '.join(bad) or '(none given)'}; "
            f"columns are: {', '.join(COLUMNS)}"
        )
    return tuple(keys)


@dataclass(frozen=True)
class Line:
    """A line of a rendered table: a row, or a subtotal/total (`kind`) whose cells are sums."""

    kind: str  # "row", "subtotal", "total"
    row: Row


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
    batch: int = 1
    dtype: str = "float32"
    depth: int | None = 1
    """The depth `str()` and a notebook show (`net.report(depth=2)`); None: every layer."""
    graph: nx.DiGraph | None = field(default=None, repr=False, compare=False)
    _memory: Memory | None = field(default=None, repr=False, compare=False)

    @property
    def memory(self) -> Memory | None:
        """The memory estimate at `batch` and `dtype` (memory.py), computed on first use."""
        if self._memory is None and self.graph is not None:
            self._memory = estimate(self.graph, self.batch, self.dtype)
        return self._memory

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

    @property
    def total(self) -> Row:
        """The sum of every row, aux heads included (the `total` line of the tables)."""
        return _sum_rows("total", self.rows)

    def blocks(self, depth: int) -> list[Row]:
        """Rows aggregated by the first `depth` segments of their names, in spec order."""
        groups: dict[str, list[Row]] = {}
        for r in self.rows:
            key = ".".join(r.name.split(".")[:depth])
            groups.setdefault(key, []).append(r)
        shapes = {r.name: r.shape for r in self.rows}
        shapes["input"] = self.input_shape
        out = []
        for key, rows in groups.items():
            last = rows[-1]
            single = len(rows) == 1 and rows[0].name == key
            if single:
                out.append(rows[0])
                continue
            inside = {r.name for r in rows}
            ins = tuple(dict.fromkeys(i for r in rows for i in r.inputs if i not in inside))
            out.append(
                replace(
                    _sum_rows(key, rows),
                    op=self._block_type(key),
                    shape=last.shape,
                    aux=last.aux,
                    inputs=ins,
                    input_shapes=tuple(shapes[i] for i in ins if i in shapes),
                )
            )
        return out

    def _block_type(self, path: str) -> str:
        """What made the scope `path`: the block's name (`InceptionA`) for a block call or an
        aux head of one call, else the construct (`group`, `repeat`...), else `block`."""
        scopes = info(self.graph).scopes if self.graph is not None else {}
        scope = scopes.get(path)
        if scope is None:
            return "block"
        if scope.block:
            return str(scope.block)
        if len(scope.calls) == 1:
            return str(scope.calls[0][0])
        return str(scope.kind)

    def _rows(self, depth: int | None) -> list[Row]:
        return self.rows if depth is None else self.blocks(depth)

    def lines(self, depth: int | None = None) -> list[Line]:
        """The table's lines: inference rows, [inference subtotal, aux rows, aux subtotal],
        total."""
        rows = self._rows(depth)
        main = [r for r in rows if r.aux is None]
        aux = [r for r in rows if r.aux is not None]
        out = [Line("row", r) for r in main]
        if aux:
            out.append(Line("subtotal", _sum_rows("inference", main)))
            out += [Line("row", r) for r in aux]
            out.append(Line("subtotal", _sum_rows("aux heads", aux)))
        out.append(Line("total", _sum_rows("total", rows)))
        return out

    def cells(
        self, depth: int | None = None, columns: Sequence[str] = DEFAULT_COLUMNS
    ) -> list[tuple[str, list[object]]]:
        """(kind, raw cell values) per line; subtotal and total lines leave shapes and op
        blank."""
        cols = [COLUMNS[k] for k in check_columns(columns)]
        out = []
        for ln in self.lines(depth):
            values: list[object] = []
            for c in cols:
                if ln.kind != "row" and c.key in ("op", "input", "output", "details", "layers"):
                    values.append("")
                elif ln.kind != "row" and c.key == "name":
                    values.append(ln.row.name)
                else:
                    values.append(c.value(ln.row, self))
            out.append((ln.kind, values))
        return out

    # ---- formats ----

    def to_dict(self, depth: int | None = None) -> dict[str, object]:
        def sums(r: Row) -> dict[str, int]:
            return {
                "params": r.params,
                "buffers": r.buffers,
                "macs": r.macs,
                "flops": r.flops,
                "activations": r.activations,
            }

        subtotals = {ln.row.name: sums(ln.row) for ln in self.lines(depth) if ln.kind != "row"}
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
                "percentages": "of the total row (every row, aux heads included)",
                "memory": "bytes at `batch` and `dtype`; peak from liveness (docs/report.md)",
            },
            "totals": self.totals(),
            "subtotals": subtotals,
            "aux_heads": list(self.aux_heads),
            "depth": depth,
            "memory": self.memory.to_dict() if self.memory else None,
            "columns": list(DEFAULT_COLUMNS),
            "rows": [self._row_dict(r) for r in self._rows(depth)],
        }

    def _row_dict(self, r: Row) -> dict[str, object]:
        d: dict[str, object] = {
            **{k: v for k, v in asdict(r).items() if k != "brief"},
            "shape": list(r.shape),
            "input_shapes": [list(s) for s in r.input_shapes],
            "inputs": list(r.inputs),
        }
        for key in ("params_pct", "macs_pct", "activation_bytes"):
            d[key] = COLUMNS[key].value(r, self)
        return d

    def to_json(self, depth: int | None = None) -> str:
        return json.dumps(self.to_dict(depth), indent=2) + "\n"

    def to_csv(self, depth: int | None = None, columns: Sequence[str] = DEFAULT_COLUMNS) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([COLUMNS[k].header for k in check_columns(columns)])
        for _, values in self.cells(depth, columns):
            w.writerow([f"{v:.2f}" if isinstance(v, float) else v for v in values])
        return buf.getvalue()

    def to_markdown(
        self, depth: int | None = None, columns: Sequence[str] = DEFAULT_COLUMNS
    ) -> str:
        """The report as Markdown (present/text.py)."""
        from .present.text import markdown

        return markdown(self, depth, columns)

    def to_table(
        self,
        depth: int | None = None,
        columns: Sequence[str] = DEFAULT_COLUMNS,
        width: int | None = None,
    ) -> str:
        """The human table, fitted to `width` columns when given (present/text.py)."""
        from .present.text import table

        return table(self, depth, columns, width)

    def print_table(
        self,
        depth: int | None = None,
        columns: Sequence[str] = DEFAULT_COLUMNS,
        width: int | None = None,
    ) -> None:
        """Print the table; on a terminal, with rich styling (present/text.py)."""
        from .present.text import print_table

        print_table(self, depth, columns, width)

    def to_html(self, depth: int | None = None, columns: Sequence[str] = DEFAULT_COLUMNS) -> str:
        """A self-contained HTML page (present/html.py) without verification results."""
        from .present.html import report_page

        return report_page(self, None, None, depth, columns)

    # ---- notebooks ----

    def __repr__(self) -> str:
        return (
            f"<Report {self.network}: input {shape_text(self.input_shape)}, "
            f"{self.params:,} params, {self.macs:,} MACs, {len(self.rows)} rows>"
        )

    def __str__(self) -> str:
        return self.to_table(self.depth)

    def _repr_html_(self) -> str:
        from .present.html import table_html

        return table_html(self, self.depth, DEFAULT_COLUMNS)

    def to_pandas(self, depth: int | None = None, columns: Sequence[str] = DEFAULT_COLUMNS):  # type: ignore[no-untyped-def]
        """The rows (no total lines) as a pandas DataFrame, one column per report column
        (needs pandas: `pip install 'inceptdsl[pandas]'`)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "Report.to_pandas needs pandas: pip install 'inceptdsl[pandas]'"
            ) from None
        keys = check_columns(columns)
        data = [values for kind, values in self.cells(depth, keys) if kind == "row"]
        return pd.DataFrame(data, columns=[COLUMNS[k].header for k in keys])


def _sum_rows(name: str, rows: Sequence[Row]) -> Row:
    return Row(
        name=name,
        op="",
        shape=(),
        params=sum(r.params for r in rows),
        buffers=sum(r.buffers for r in rows),
        macs=sum(r.macs for r in rows),
        flops=sum(r.flops for r in rows),
        activations=sum(r.activations for r in rows),
        layers=sum(r.layers for r in rows),
    )


def _jsonable(v: object) -> object:
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def cell_text(v: object) -> str:
    """A cell as the table, Markdown and HTML show it."""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:.2f}%"
    return str(v)


def human(n: int | float) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.3f}{unit}"
    return str(n)


def human_bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def build_report(g: nx.DiGraph, batch: int = 1, dtype: str = "float32") -> Report:
    """The report of graph `g`; memory figures at `batch` samples of `dtype`."""
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    rows: list[Row] = []
    rep = Report(
        network=info(g).name,
        input_shape=tuple(info(g).input_shape),
        parameters=dict(info(g).params),
        rows=rows,
        aux_heads=[h.name for h in info(g).aux_heads],
        batch=batch,
        graph=g,
        dtype=dtype,
    )
    for d in nodes(g):
        name, op = d.name, d.op
        if op is Op.INPUT:
            continue
        acts = math.prod(d.shape)
        ins = d.inputs
        rows.append(
            Row(
                name,
                op.value,
                d.shape,
                d.params,
                d.buffers,
                d.macs,
                d.macs * FLOPS_PER_MAC,
                acts,
                d.aux,
                input_shapes=tuple(shape_of(g, i) for i in ins),
                inputs=ins,
                details=layer_details(d.attrs),
                brief=layer_details(d.attrs, BRIEF_SKIP),
            )
        )
        rep.params += d.params
        rep.buffers += d.buffers
        if d.aux is None:
            rep.macs += d.macs
            rep.activations += acts
        else:
            rep.aux_params += d.params
            rep.aux_buffers += d.buffers
            rep.aux_macs += d.macs
    rep.flops = rep.macs * FLOPS_PER_MAC
    return rep
