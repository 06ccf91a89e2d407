"""What a weight transfer left out, told by spec path: the one error (and report) both backends
give when weights do not fit a network.

Transfers are strict by default, like torch's `load_state_dict`: a tensor the network has and
the weights lack (missing), one the weights have and the network lacks (unexpected), or one of
another shape is an error that lists them, grouped by the IR node (the spec's layer) they
belong to. With `strict=False` the tensors that fit are transferred and the rest are reported
(`Transfer`), as a warning and on the model.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from inceptdsl.errors import Note, UsageError
from inceptdsl.ir import info

SHOWN = 6
"""Layers listed per kind of problem before `(+N more)`."""


@dataclass(frozen=True)
class Transfer:
    """What a non-strict transfer did not transfer (tensor names, by kind)."""

    missing: tuple[str, ...] = ()  # in the network, not in the weights: left as initialised
    unexpected: tuple[str, ...] = ()  # in the weights, not in the network: dropped
    shape: tuple[str, ...] = ()  # in both, of different shapes: left as initialised
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.shape)


def _owner(g: nx.DiGraph, key: str) -> str:
    """The spec layer a tensor name belongs to: its longest IR node-name prefix, else (a tensor
    of another network) the name without its last part."""
    parts = key.split(".")
    for i in range(len(parts), 0, -1):
        head = ".".join(parts[:i])
        if head in g:
            return head
    return key.rsplit(".", 1)[0] if "." in key else ""


def grouped(g: nx.DiGraph, keys: Iterable[str]) -> str:
    """`aux1.conv (6 tensors), aux1.fc1 (weight, bias) (+3 more layers)`, by spec layer."""
    by_node: dict[str, list[str]] = {}
    for key in keys:
        node = _owner(g, key.split(" ", 1)[0])
        rest = key[len(node) + 1 :] if node else key
        by_node.setdefault(node, []).append(rest)
    parts = []
    for n, ks in by_node.items():
        inner = f"{len(ks)} tensors" if len(ks) > 3 else ", ".join(ks)
        parts.append(f"{n} ({inner})" if n else inner)
    more = len(parts) - SHOWN
    text = ", ".join(parts[:SHOWN])
    return text + (f" (+{more} more layers)" if more > 0 else "")


_LABELS = {
    "missing": "missing (in the network, not in the weights)",
    "unexpected": "unexpected (in the weights, not in the network)",
    "shape": "wrong shape (weights vs network)",
}


def _counts(t: Transfer) -> str:
    parts = [
        f"{len(keys)} {word}"
        for keys, word in (
            (t.missing, "missing"),
            (t.unexpected, "unexpected"),
            (t.shape, "with the wrong shape"),
        )  # fmt: skip
        if keys
    ]
    if not parts:
        return ""
    n = len(t.missing or t.unexpected or t.shape)
    parts[0] = parts[0].replace(" ", " tensor " if n == 1 else " tensors ", 1)
    return ", ".join(parts)


def mismatch(g: nx.DiGraph, t: Transfer, hint: str | None = None) -> UsageError:
    """The strict transfer's error: what does not fit, by spec layer."""
    notes = [
        Note(f"{_LABELS[kind]}: {grouped(g, keys)}")
        for kind, keys in (
            ("missing", t.missing),
            ("unexpected", t.unexpected),
            ("shape", t.shape),
        )  # fmt: skip
        if keys
    ]
    notes += [Note(n) for n in t.notes]
    counts = _counts(t)
    return UsageError(
        f"the weights do not fit the network `{info(g).name}`" + (f": {counts}" if counts else ""),
        notes=notes,
        hint=hint
        or "build the network with the parameters the weights were made with, or pass "
        "strict=False to transfer the tensors that fit (the others are reported)",
    )


def report(g: nx.DiGraph, t: Transfer) -> None:
    """Warn about what a non-strict transfer left out (nothing if it transferred everything)."""
    if t:
        err = mismatch(g, t, hint="strict=False: these tensors were not transferred")
        warnings.warn(err.render(), UserWarning, stacklevel=4)
