"""Structural differences between two networks (`inceptdsl diff A B`).

Layers are matched by IR name (after `--rename OLD=NEW`, which renames A's names at a path
prefix), and compared field by field: the op, the output shape, and every field of the op's
attribute model (nested models such as a conv's `bn` by their own fields), so a pool kind, an
activation, a kernel, a stride, a padding, groups or BN show up without code that knows any
op. Blocks are the names cut at `depth` segments, in the order of A then the blocks only B has;
each differing block shows its params / buffers / MACs deltas and the layers that differ.
The formats (table, Markdown, JSON, HTML) are inceptdsl/present/diff.py's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .errors import UsageError
from .ir import Node, info, nodes
from .ir.ops import Activation, Attrs, Init

METRICS = ("params", "buffers", "macs")


@dataclass(frozen=True)
class FieldChange:
    field: str
    a: str
    b: str


@dataclass
class LayerDiff:
    """One layer present in A, in B, or in both with a difference."""

    name: str  # B's name (A's after renaming, for a removed layer)
    status: str  # "added", "removed", "changed", "renamed"
    renamed_from: str | None
    op: tuple[str | None, str | None]
    changes: list[FieldChange]
    a: dict[str, int]
    b: dict[str, int]
    shape: tuple[tuple[int, ...] | None, tuple[int, ...] | None] = (None, None)


@dataclass
class BlockDiff:
    name: str
    status: str  # "added", "removed", "changed"
    a: dict[str, int]
    b: dict[str, int]
    shape: tuple[tuple[int, ...] | None, tuple[int, ...] | None]
    layers: list[LayerDiff] = field(default_factory=list)
    call: tuple[str | None, str | None] = (None, None)
    """The block call that made it in A and in B (`Mod(c=16)`), None where no call did."""

    @property
    def retyped(self) -> bool:
        """Whether A and B made it with different blocks (`Mod` -> `Wide`)."""
        a, b = self.call
        return a is not None and b is not None and a.split("(")[0] != b.split("(")[0]


@dataclass
class Diff:
    name_a: str
    name_b: str
    network_a: str
    network_b: str
    depth: int
    blocks: list[BlockDiff]
    total_blocks: int
    totals_a: dict[str, int]
    totals_b: dict[str, int]

    def __repr__(self) -> str:
        from .present.diff import summary

        a, b = self.totals_a, self.totals_b
        return (
            f"<Diff {self.network_a} -> {self.network_b}: {summary(self)}; "
            f"params {a['params']:,} -> {b['params']:,}, MACs {a['macs']:,} -> {b['macs']:,}>"
        )

    def _repr_html_(self) -> str:
        from .present.diff import to_html

        return to_html(self)


def parse_renames(items: Iterable[str] | None) -> dict[str, str]:
    """`--rename OLD=NEW` values (dotted IR paths)."""
    out: dict[str, str] = {}
    for item in items or ():
        old, sep, new = item.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise UsageError(f"--rename expects OLD=NEW (IR paths), got {item!r}")
        out[old] = new
    return out


def _renamed(name: str, renames: Mapping[str, str]) -> str:
    for old in sorted(renames, key=len, reverse=True):  # the longest prefix wins
        if name == old or name.startswith(old + "."):
            return renames[old] + name[len(old) :]
    return name


def _show(v: Any) -> str:
    if isinstance(v, Activation):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, tuple):
        sep = "x" if len(v) in (1, 2, 3) and all(isinstance(i, int) for i in v) else ","
        return ("{}" if sep == "x" else "({})").format(sep.join(map(str, v)))
    return str(v)


def _fields(attrs: Attrs, prefix: str = "") -> dict[str, str]:
    """The attribute model's fields as text, nested models flattened (`bn.eps`); a nested
    model that is absent on one side is compared as `none`. A weight initialiser (`init=`) is
    left out: it is how training starts, not the architecture (`inceptdsl ir` shows it)."""
    out: dict[str, str] = {}
    for name in sorted(type(attrs).model_fields):
        v = getattr(attrs, name)
        if isinstance(v, Init) or (name == "init" and v is None):
            continue
        if isinstance(v, Attrs) and not isinstance(v, Activation):
            out[prefix + name] = "yes"
            out.update(_fields(v, f"{prefix}{name}."))
        else:
            out[prefix + name] = _show(v)
    return out


def _call(g: nx.DiGraph, path: str) -> str | None:
    """The block call that made scope `path` of `g` (`Mod(c=16)`), None when none did."""
    scope = info(g).scopes.get(path)
    if scope is None:
        return None
    if scope.block:
        name, args = scope.block, scope.args
    elif len(scope.calls) == 1:
        name, args = scope.calls[0]
    else:
        return None
    return f"{name}({', '.join(f'{k}={_show(v)}' for k, v in args)})"


def _original(path: str, renames: Mapping[str, str]) -> str:
    """A's name of B's path `path` (the inverse of `--rename`)."""
    for old, new in sorted(renames.items(), key=lambda kv: len(kv[1]), reverse=True):
        if path == new or path.startswith(new + "."):
            return old + path[len(new) :]
    return path


def _describe(d: Node) -> dict[str, str]:
    return {"op": d.op.value, "shape": _show(tuple(d.shape)), **_fields(d.attrs)}


def _changes(da: Node, db: Node) -> list[FieldChange]:
    fa, fb = _describe(da), _describe(db)
    keys = list(fa) + [k for k in fb if k not in fa]
    return [
        FieldChange(k, fa.get(k, "–"), fb.get(k, "–"))
        for k in keys
        if fa.get(k, "–") != fb.get(k, "–")
    ]


def _costs(d: Node) -> dict[str, int]:
    return {m: int(getattr(d, m)) for m in METRICS}


def _zero() -> dict[str, int]:
    return dict.fromkeys(METRICS, 0)


def _merged_order(a: list[str], b: list[str]) -> list[str]:
    """A's names in order, each name only B has placed right after the B name before it."""
    out = list(a)
    where = {n: i for i, n in enumerate(out)}
    last = -1
    for n in b:
        if n in where:
            last = where[n]
            continue
        out.insert(last + 1, n)
        last += 1
        where = {m: i for i, m in enumerate(out)}
    return out


def diff_graphs(
    ga: nx.DiGraph,
    gb: nx.DiGraph,
    depth: int,
    name_a: str,
    name_b: str,
    renames: Mapping[str, str] | None = None,
) -> Diff:
    renames = renames or {}
    na = {_renamed(d.name, renames): (d.name, d) for d in nodes(ga)}
    nb = {d.name: d for d in nodes(gb)}
    order = _merged_order(list(na), list(nb))

    def key(n: str) -> str:
        return ".".join(n.split(".")[:depth])

    blocks: dict[str, BlockDiff] = {}
    for n in order:
        k = key(n)
        blk = blocks.get(k)
        if blk is None:
            blk = blocks[k] = BlockDiff(k, "", _zero(), _zero(), (None, None))
        ia, ib = na.get(n), nb.get(n)
        ca = _costs(ia[1]) if ia else _zero()
        cb = _costs(ib) if ib is not None else _zero()
        for m in METRICS:
            blk.a[m] += ca[m]
            blk.b[m] += cb[m]
        blk.shape = (
            tuple(ia[1].shape) if ia else blk.shape[0],
            tuple(ib.shape) if ib is not None else blk.shape[1],
        )
        old = ia[0] if ia and ia[0] != n else None
        changes: list[FieldChange] = []
        if ia is None:
            status = "added"
        elif ib is None:
            status = "removed"
        else:
            changes = _changes(ia[1], ib)
            if not changes and ca == cb:
                if old is None:
                    continue
                status = "renamed"
            else:
                status = "changed"
        blk.layers.append(
            LayerDiff(
                n,
                status,
                old,
                (ia[1].op.value if ia else None, ib.op.value if ib is not None else None),
                changes,
                ca,
                cb,
                (
                    tuple(ia[1].shape) if ia else None,
                    tuple(ib.shape) if ib is not None else None,
                ),
            )
        )
    out = []
    for blk in blocks.values():
        blk.call = (_call(ga, _original(blk.name, renames)), _call(gb, blk.name))
        if not blk.layers and blk.a == blk.b and blk.call[0] == blk.call[1]:
            continue
        statuses = {la.status for la in blk.layers}
        blk.status = (
            "added"
            if statuses == {"added"}
            else "removed"
            if statuses == {"removed"}
            else "changed"
        )
        out.append(blk)
    totals_a = {m: sum(int(getattr(d, m)) for d in nodes(ga)) for m in METRICS}
    totals_b = {m: sum(int(getattr(d, m)) for d in nodes(gb)) for m in METRICS}
    # Inference MACs exclude aux heads (docs/language.md, conventions of the figures).
    totals_a["macs"] = sum(int(d.macs) for d in nodes(ga) if not d.aux)
    totals_b["macs"] = sum(int(d.macs) for d in nodes(gb) if not d.aux)
    return Diff(
        name_a,
        name_b,
        info(ga).name,
        info(gb).name,
        depth,
        out,
        len(blocks),
        totals_a,
        totals_b,
    )
