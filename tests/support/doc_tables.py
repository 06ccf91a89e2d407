"""docs/ir.md's op table and docs/language.md's layer table, generated from the registry.

Each table follows a marker line (`GENERATED`); `pytest --update-golden tests/test_registry.py`
rewrites it and the registry checker reports a table that differs, naming the ops whose rows
differ. A new op therefore writes no doc row: its OpDef's `summary`, `state`, `output`, its
attribute model and its LayerDefs (`doc`, options and defaults, `notes`) are the rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from inceptdsl.ir.registry import REQUIRED, LayerDef, Op, OpDef

GENERATED = "<!-- generated from the registry: `pytest --update-golden tests/test_registry.py` -->"

OP_HEAD = (
    "| op | inputs | attributes | output shape | state a backend creates at the node's path |\n"
    "|---|---|---|---|---|\n"
)
LAYER_HEAD = "| layer | positional | options (default) |\n|---|---|---|\n"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        text = f"{v:g}"
        return re.sub(r"e([+-])0*(\d)", lambda m: f"e{'' if m[1] == '+' else '-'}{m[2]}", text)
    return str(v)


def _merge_rows(rows: Iterable[tuple[list[str], str]]) -> str:
    """Rows given as (names, rest of the row); consecutive rows with the same rest are one row
    listing all their names."""
    out: list[tuple[list[str], str]] = []
    for names, rest in rows:
        if out and out[-1][1] == rest:
            out[-1][0].extend(names)
        else:
            out.append((list(names), rest))
    return "".join(f"| {', '.join(f'`{n}`' for n in ns)} | {rest} |\n" for ns, rest in out)


def op_table(registry: Mapping[Op, OpDef], ops: Iterable[Op] = tuple(Op)) -> str:
    """The op table: one row per op (ops whose other columns agree share one), in `ops` order."""
    rows = []
    for op in ops:
        d = registry.get(op)
        if d is None:
            continue
        inputs = "n ≥ 1" if d.arity is None else str(d.arity)
        fields = list(d.attrs.model_fields)
        attrs = f"`{', '.join(fields)}`" if fields else "–"
        rows.append(([op.value], f"{inputs} | {attrs} | {d.output} | {d.state}"))
    return OP_HEAD + _merge_rows(rows)


def _options(layer: LayerDef) -> str:
    opts = [
        f"`{k}`" if v is None else f"`{k}` ({_value(v)})"
        for k, v in layer.options.items()
        if k not in layer.positional and v is not REQUIRED
    ]
    text = ", ".join(opts) or "–"
    if layer.notes:
        text += f" ; {layer.notes}" if not opts else f" — {layer.notes}"
    return text


def layer_table(registry: Mapping[Op, OpDef], ops: Iterable[Op] = tuple(Op)) -> str:
    """The layer table: one row per layer keyword (keywords whose columns agree share one)."""
    rows = []
    for op in ops:
        d = registry.get(op)
        for layer in d.layers if d is not None else ():
            positional = ", ".join(layer.positional) or "–"
            rows.append(([layer.name], f"{positional} | {_options(layer)}"))
    return LAYER_HEAD + _merge_rows(rows)


def table_after_marker(doc: str) -> tuple[int, int] | None:
    """The (start, end) offsets of the table right after the GENERATED marker, if any."""
    at = doc.find(GENERATED)
    if at < 0:
        return None
    start = doc.index("\n", at) + 1
    end = start
    for line in doc[start:].splitlines(keepends=True):
        if not line.startswith("|"):
            break
        end += len(line)
    return start, end


def replace_table(doc: str, table: str) -> str:
    """`doc` with the table after its GENERATED marker replaced by `table`."""
    span = table_after_marker(doc)
    if span is None:
        raise ValueError("no GENERATED marker")
    return doc[: span[0]] + table + doc[span[1] :]


def stale_rows(doc: str, table: str) -> list[str] | None:
    """The names in rows of `table` and of `doc`'s generated table that are not in both (None:
    the doc has no generated table)."""
    span = table_after_marker(doc)
    if span is None:
        return None
    have = set(doc[span[0] : span[1]].splitlines())
    want = set(table.splitlines())
    names = {
        n
        for row in have ^ want
        for n in re.findall(r"`([a-z0-9_]+)`", row.split("|")[1] if "|" in row else "")
    }
    return sorted(names) if names or have != want else []
