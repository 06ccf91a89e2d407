"""What must exist for every op and activation of the registry, as one function that lists
what is missing (tests/test_registry.py runs it on the real registry, and on deliberately
incomplete ones to show that each kind of omission is named).

For each op: an attribute model, a shape and a cost function, a surface (a layer keyword, a
merge keyword, or a statement that makes it: see STATEMENT_OPS), a rule in every backend,
docs/ir.md's op table and docs/language.md's layer table as generated from the registry
(doc_tables.py: a stale table is named with the rows that differ; a merge keyword's row in the
unit table is written by hand), consistent traits (an eval identity is an alias; a
fresh tensor is not) and a test spec tests/ops/<op>.incept that uses each of its keywords.
For each activation: a rule in every backend, a row in docs/ir.md's activation table, a NumPy
oracle (tests/support/oracles.py) and a use in tests/ops/act.incept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from inceptdsl.ir.registry import ActDef, Attrs, Op, OpDef, Trait

from .doc_tables import GENERATED, layer_table, op_table, stale_rows

REGENERATE = "regenerate it with `pytest --update-golden tests/test_registry.py`"

STATEMENT_OPS = {Op.INPUT: "the `input` statement"}
"""Ops made by a statement rather than by a layer or merge keyword."""


@dataclass(frozen=True)
class BackendRules:
    """The ops and activations one backend has a rule for."""

    ops: Collection[Op]
    activations: Collection[str]


def doc_table(text: str, heading: str) -> set[str]:
    """The names in the first column of the first Markdown table after `heading` (each name in
    backticks, a cell may list several: `maxpool2d`, `avgpool2d`; a cell's first word counts,
    so `concat { ... }` lists `concat`)."""
    section = text.split(heading, 1)[1] if heading in text else ""
    names: set[str] = set()
    started = False
    for line in section.splitlines():
        if line.startswith("|"):
            started = True
            first = line.split("|")[1]
            names.update(re.findall(r"`([a-z0-9_]+)[^`]*`", first))
        elif started:
            break
    return names


def _stale(what: str, doc: str, table: str) -> list[str]:
    """A line if the generated table in `doc` is not `table` (the registry's), naming the rows
    that differ; the fix is to regenerate it, not to write a row."""
    names = stale_rows(doc, table)
    if names is None:
        return [f"{what}: no generated table (marker {GENERATED})"]
    if not names:
        return []
    return [f"{what} is not the registry's ({', '.join(names)}): {REGENERATE}"]


def _uses(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", text) is not None


def problems(
    registry: Mapping[Op, OpDef],
    activations: Mapping[str, ActDef],
    backends: Mapping[str, BackendRules],
    ir_doc: str,
    language_doc: str,
    spec_dir: Path,
    oracles: Mapping[str, Callable[..., object]],
    ops: Collection[Op] = tuple(Op),
) -> list[str]:
    out: list[str] = []
    for op in ops:
        d = registry.get(op)
        if d is None:
            out.append(f"op {op.value}: not in the registry")
            continue
        if not (isinstance(d.attrs, type) and issubclass(d.attrs, Attrs)):
            out.append(f"op {op.value}: no attribute model")
        if not callable(d.shape):
            out.append(f"op {op.value}: no shape function")
        if not callable(d.cost):
            out.append(f"op {op.value}: no cost function")
        if not d.layers and d.merge is None and op not in STATEMENT_OPS:
            out.append(f"op {op.value}: no layer keyword, merge keyword or statement makes it")
        for layer in d.layers:
            for name in layer.positional:
                if name not in layer.options:
                    out.append(f"layer {layer.name}: positional `{name}` is not an option")
            for name in layer.options:
                if name not in layer.checks:
                    out.append(f"layer {layer.name}: option `{name}` has no checker")
        for backend, rules in sorted(backends.items()):
            if op not in rules.ops:
                out.append(f"op {op.value}: backend {backend} has no rule")
    for op in registry:
        if op not in ops:
            out.append(f"op {op.value}: registered but not an Op member")

    out += _stale("docs/ir.md's op table", ir_doc, op_table(registry, ops))
    for op in ops:
        d = registry.get(op)
        if d is None:
            continue
        if d.state.startswith("none") != (d.tensors is None):
            if d.tensors is None:
                out.append(f"op {op.value}: it has state but declares no tensors (OpDef.tensors)")
            else:
                out.append(f"op {op.value}: its state is none but it declares tensors")
        if Trait.EVAL_IDENTITY in d.traits and Trait.ALIAS not in d.traits:
            out.append(f"op {op.value}: trait eval_identity without alias")
        if Trait.FRESH in d.traits and Trait.ALIAS in d.traits:
            out.append(f"op {op.value}: traits fresh and alias together")

    for op in ops:
        spec = spec_dir / f"{op.value}.incept"
        if not spec.is_file():
            out.append(f"op {op.value}: no test spec {op.value}.incept")
            continue
        text = spec.read_text(encoding="utf-8")
        d = registry.get(op)
        # (the act op's keywords are the activations, checked with them below)
        words = [layer.name for layer in d.layers] if d and op is not Op.ACT else []
        if d is not None and d.merge is not None:
            words.append(d.merge.keyword)
        for word in words:
            if not _uses(text, word):
                out.append(f"op {op.value}: its test spec does not use `{word}`")

    out += _stale("docs/language.md's layer table", language_doc, layer_table(registry, ops))
    merge_doc = doc_table(language_doc, "A chain is `unit -> unit -> ...`.")
    for d in registry.values():
        if d.merge is not None and d.merge.keyword not in merge_doc:
            out.append(f"merge {d.merge.keyword}: no row in docs/language.md's unit table")

    act_doc = doc_table(ir_doc, "## Activations")
    act_spec = spec_dir / f"{Op.ACT.value}.incept"
    act_text = act_spec.read_text(encoding="utf-8") if act_spec.is_file() else ""
    for name in activations:
        for backend, rules in sorted(backends.items()):
            if name not in rules.activations:
                out.append(f"activation {name}: backend {backend} has no rule")
        if name not in act_doc:
            out.append(f"activation {name}: no row in docs/ir.md's activation table")
        if name not in oracles:
            out.append(f"activation {name}: no NumPy oracle in tests/support/oracles.py")
        if not _uses(act_text, name):
            out.append(f"activation {name}: not used in act.incept")
    return out
