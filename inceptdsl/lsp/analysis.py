"""What the language server knows about one document, computed with the public API only
(`inceptdsl.loads`, `Network.verify`, the loader's Program, `fmt.format_source`), so a new check
pass or language feature shows up in the editor without a change here.

Imports are parsed once and kept: the loader memoises every parse on (path, text), so a change
to the open file re-parses that file alone (bench/bench_lsp.py measures it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError
from ..loader import Program, load_program
from ..network import Network, loads
from ..source import Span

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LABEL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*:(?!=)")


@dataclass(frozen=True)
class Diagnostic:
    path: str  # absolute
    span: Span | None
    message: str
    code: str
    hint: str | None
    severity: str  # "error" or "warning"


@dataclass
class Analysis:
    path: str
    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    net: Network | None = None
    program: Program | None = None


def _diag(err: SpecError, fallback: str, severity: str = "error") -> list[Diagnostic]:
    out = []
    for e in err.errors:
        path = os.path.abspath(e.span.path) if e.span else os.path.abspath(e.path or fallback)
        notes = "".join(f"\nnote: {n.message}" for n in e.notes)
        message = e.message + notes + (f"\nhint: {e.hint}" if e.hint else "")
        out.append(Diagnostic(path, e.span, message, e.code, e.hint, severity))
    return out


def analyze(path: str, text: str) -> Analysis:
    """Load the document (unsaved text, imports from disk), check it and its expectations."""
    path = os.path.abspath(path)
    a = Analysis(path, text)
    try:
        a.program = load_program(path, text)
    except SpecError as err:
        a.diagnostics += _diag(err, path)
        return a
    if not a.program.root.module.networks:
        return a  # a library of blocks: parsed and resolved is all there is to check
    try:
        a.net = loads(text, filename=path)
        for r in a.net.verify():
            if not r.ok:
                a.diagnostics.append(
                    Diagnostic(
                        path,
                        r.span,
                        f"expectation failed: {r.describe()}, actual {_value(r.actual)}",
                        "E501",
                        None,
                        "warning",
                    )
                )
    except SpecError as err:
        a.diagnostics += _diag(err, path)
    return a


def _value(v: Any) -> str:
    return "x".join(map(str, v)) if isinstance(v, tuple) else f"{v:,}"


def word_at(text: str, line: int, col: int) -> str | None:
    """The identifier at 0-based (line, col)."""
    lines = text.splitlines()
    if line >= len(lines):
        return None
    for m in WORD.finditer(lines[line]):
        if m.start() <= col <= m.end():
            return m.group()
    return None


def hover(a: Analysis, line: int, col: int) -> str | None:
    """Output shape, params and MACs of the layer or block at 0-based (line, col)."""
    net = a.net
    if net is None:
        return None
    g = net.graph
    lines = a.text.splitlines()
    here = lines[line] if line < len(lines) else ""
    names = []
    m = LABEL.match(here)
    if m:
        names.append(m.group(1))
    w = word_at(a.text, line, col)
    if w:
        names.append(w)
    for name in names:
        nodes = _scope_nodes(net, name)
        if nodes:
            return _describe(net, name, nodes)
    # A line inside a block body: every node made from it, in every instance of the block.
    made = [
        n
        for n, d in g.nodes(data=True)
        if d["span"] is not None
        and os.path.abspath(d["span"].path) == a.path
        and d["span"].line == line + 1
    ]
    if made:
        return _describe(net, made[0], [made[0]]) + (
            f"\n\n({len(made)} nodes made from this line)" if len(made) > 1 else ""
        )
    return None


def _scope_nodes(net: Network, name: str) -> list[str]:
    g = net.graph
    if name in g:
        return [name]
    prefix = name + "."
    inside = [n for n in g.nodes if n.startswith(prefix)]
    if inside:
        return inside
    return [net.labels[name]] if net.labels.get(name) in g else []


def _describe(net: Network, name: str, nodes: list[str]) -> str:
    g = net.graph
    from ..details import details

    last = g.nodes[nodes[-1]]
    params = sum(g.nodes[n]["params"] for n in nodes)
    buffers = sum(g.nodes[n]["buffers"] for n in nodes)
    macs = sum(g.nodes[n]["macs"] for n in nodes)
    shape = "x".join(map(str, last["shape"]))
    head = (
        f"**{name}** — {last['op'].value} {details(last['attrs'])}"
        if len(nodes) == 1
        else f"**{name}** — block, {len(nodes)} layers"
    )
    return f"{head}\n\noutput `{shape}` · params {params:,} · buffers {buffers:,} · MACs {macs:,}"


def definition(a: Analysis, line: int, col: int) -> Span | None:
    """Where the block or function named at 0-based (line, col) is declared (across
    imports)."""
    w = word_at(a.text, line, col)
    if w is None or a.program is None:
        return None
    ref = a.program.root.blocks.get(w) or a.program.root.functions.get(w)
    if ref is None:
        return None
    return ref.decl.span


def block_names(a: Analysis) -> list[str]:
    return sorted(a.program.root.blocks) if a.program is not None else []
