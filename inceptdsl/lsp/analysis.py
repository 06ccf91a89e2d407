"""What the language server knows about one document, computed with the public API only
(`inceptdsl.loads`, `Network.verify`, the loader's Program, `fmt.format_source`), so a new check
pass or language feature shows up in the editor without a change here.

Imports are parsed once and kept: the loader memoises every parse on (path, text), so a change
to the open file re-parses that file alone (bench/bench_lsp.py measures it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError
from ..front.loader import BlockRef, Program, load_program
from ..front.source import SourceFile, Span, display_path
from ..ir import info, node, shape_of
from ..lower.trace import Seen, recording
from ..network import Network, loads
from .values import function_hover, loop_hover
from .variants import build_parent, edit_path_at, extends_at

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
    related: tuple[tuple[Span, str], ...] = ()
    """Other places that explain it (the editor lists them under the message)."""


@dataclass
class Analysis:
    path: str
    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    net: Network | None = None
    program: Program | None = None
    seen: Seen = field(default_factory=dict)
    """What each statement's names were, each time it ran (lower/trace.py): loop hovers."""
    _parent: list[Network | None] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    """The texts of the files the analysis read, by absolute path (positions.py counts a
    span's columns in its file's line)."""

    def parent(self) -> Network | None:
        """The parent network of the document's variant, built on first use (variants.py)."""
        if not self._parent:
            self._parent.append(build_parent(self.program) if self.program else None)
        return self._parent[0]

    def lines(self, path: str) -> tuple[str, ...] | None:
        """The lines of the file at `path` (as a span shows it), None where it was not read."""
        full = os.path.abspath(path)
        if full == self.path:
            return self.sources.setdefault(full, SourceFile.of(path, self.text)).lines
        source = self.sources.get(full)
        return None if source is None else source.lines

    def _keep(self, sources: Mapping[str, SourceFile]) -> None:
        for shown, source in sources.items():
            self.sources.setdefault(os.path.abspath(shown), source)


def _diag(err: SpecError, fallback: str, severity: str = "error") -> list[Diagnostic]:
    """The diagnostics of `err` for the document at `fallback`. An error raised in another file
    (a library block the document calls) is also reported on the document's own place in the
    chain of calls, with the library's line as related information: the editor shows the
    document's diagnostics, and a library file is rarely open."""
    out = []
    for e in err.errors:
        path = os.path.abspath(e.span.path) if e.span else os.path.abspath(e.path or fallback)
        notes = "".join(f"\nnote: {n.message}" for n in e.notes)
        message = e.message + notes + (f"\nhint: {e.hint}" if e.hint else "")
        related = tuple((n.span, n.message) for n in e.notes if n.span is not None)
        out.append(Diagnostic(path, e.span, message, e.code, e.hint, severity, related))
        if path == fallback or e.span is None:
            continue
        here = next(
            (n for n in e.notes if n.span and os.path.abspath(n.span.path) == fallback), None
        )
        where = f"{display_path(e.span.path)}:{e.span.line}:{e.span.column}"
        # No place in the document leads there: its first line, rather than silence.
        note = f"{here.message}; the error is at {where}" if here else f"the error is at {where}"
        out.append(
            Diagnostic(
                fallback,
                here.span if here else None,
                f"{e.message}\nnote: {note}" + (f"\nhint: {e.hint}" if e.hint else ""),
                e.code,
                e.hint,
                severity,
                ((e.span, e.message),),
            )
        )
    return out


def analyze(path: str, text: str) -> Analysis:
    """Load the document (unsaved text, imports from disk), check it and its expectations."""
    path = os.path.abspath(path)
    a = Analysis(path, text)
    try:
        a.program = load_program(path, text)
    except SpecError as err:
        a._keep(err.sources)
        a.diagnostics += _diag(err, path)
        return a
    a._keep(a.program.sources)
    if not a.program.root.module.networks:
        return a  # a library of blocks: parsed and resolved is all there is to check
    try:
        with recording() as a.seen:
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
        a._keep(err.sources)
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


def hover(a: Analysis, line: int, col: int, known: Analysis | None = None) -> str | None:
    """Output shape, params and MACs of the layer or block at 0-based (line, col); on a
    variant's edit path or `extends` parent, of the parent's unit; where the network does not
    build, what the program alone can say (a block's signature, a layer's doc). `known` is the
    document's last analysis that parsed: while a half-typed line does not, its imported blocks
    still answer."""
    text = _hover_variant(a, line, col) or _hover_name(a, line, col, known)
    if text is not None:
        return text
    net = a.net
    if net is None:
        return _hover_without_network(a, line, col, known)
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
    spans = ((n, node(g, n).span) for n in g.nodes)
    made = [
        n
        for n, span in spans
        if span is not None and os.path.abspath(span.path) == a.path and span.line == line + 1
    ]
    if made:
        return _describe(net, made[0], [made[0]]) + (
            f"\n\n({len(made)} nodes made from this line)" if len(made) > 1 else ""
        )
    return None


def _hover_name(a: Analysis, line: int, col: int, known: Analysis | None) -> str | None:
    """A name's value at each iteration of the loop around it, or a function's signature."""
    w = word_at(a.text, line, col)
    program = a.program or (known.program if known is not None else None)
    if w is None or program is None:
        return None
    if a.program is not None:
        text = loop_hover(a.program.root.module, a.path, a.seen, w, line, col)
        if text is not None:
            return text
    return function_hover(w, program.root.functions)


def _hover_variant(a: Analysis, line: int, col: int) -> str | None:
    if a.program is None:
        return None
    ext = extends_at(a.program, a.path, line, col)
    edit = edit_path_at(a.program, a.path, line, col) if ext is None else None
    if ext is None and edit is None:
        return None
    parent = a.parent()
    if parent is None:
        return None
    g = parent.graph
    if ext is not None:
        out = info(g).output
        return (
            f"**{ext.name}** — the parent network, {len(g)} layers\n\n"
            f"output `{'x'.join(map(str, shape_of(g, out)))}` · "
            f"params {sum(node(g, n).params for n in g.nodes):,} · "
            f"MACs {sum(node(g, n).macs for n in g.nodes):,}"
        )
    assert edit is not None
    nodes = _scope_nodes(parent, edit.path)
    if not nodes:
        return f"**{edit.path}** — no such unit in the parent `{info(g).name}`"
    text = _describe(parent, edit.path, nodes) + f"\n\n(in the parent `{info(g).name}`)"
    mine = _scope_nodes(a.net, edit.path) if a.net is not None else []
    if mine and edit.path == edit.full:
        here = _describe(a.net, edit.path, mine)  # type: ignore[arg-type]
        same = here == _describe(parent, edit.path, nodes)
        text += "\n\nthe same in this variant" if same else "\n\nin this variant: " + here
    return text


def _hover_without_network(a: Analysis, line: int, col: int, known: Analysis | None) -> str | None:
    """A block's signature and where it is declared, or a layer's doc: what a program that
    parsed but does not build (a shape error further down) still tells."""
    from ..ir.ops import LAYERS

    w = word_at(a.text, line, col)
    if w is None:
        return None
    ref = _block(a, w, known)
    if ref is not None:
        params = ", ".join(p.name + ": " + p.type for p in ref.decl.params)
        s = ref.decl.span
        return f"**{w}**({params}) — block, declared in {display_path(s.path)}:{s.line}"
    if w in LAYERS:
        return f"**{w}** — layer: {LAYERS[w].doc or w}"
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
    from ..middle.details import details

    last = node(g, nodes[-1])
    params = sum(node(g, n).params for n in nodes)
    buffers = sum(node(g, n).buffers for n in nodes)
    macs = sum(node(g, n).macs for n in nodes)
    shape = "x".join(map(str, last.shape))
    head = (
        f"**{name}** — {last.op.value} {details(last.attrs)}"
        if len(nodes) == 1
        else f"**{name}** — block, {len(nodes)} layers"
    )
    return f"{head}\n\noutput `{shape}` · params {params:,} · buffers {buffers:,} · MACs {macs:,}"


def _block(a: Analysis, name: str, known: Analysis | None) -> BlockRef | None:
    """The block `name` as the document sees it; while it does not parse, as its last parse
    saw it, if declared in another file (the document's own lines have moved since)."""
    if a.program is not None:
        return a.program.root.blocks.get(name)
    if known is None or known.program is None:
        return None
    ref = known.program.root.blocks.get(name)
    return ref if ref is not None and os.path.abspath(ref.file.abspath) != a.path else None


def definition(a: Analysis, line: int, col: int, known: Analysis | None = None) -> Span | None:
    """Where the block or function named at 0-based (line, col) is declared (across imports); on a
    variant's edit path, where the parent makes that unit. `known`: as for hover."""
    edit = edit_path_at(a.program, a.path, line, col) if a.program is not None else None
    if edit is not None:
        parent = a.parent()
        if parent is None:
            return None
        scope = info(parent.graph).scopes.get(edit.path)
        if scope is not None:
            span: Span | None = scope.span
            return span
        if edit.path in parent.graph:
            span = node(parent.graph, edit.path).span
            return span
        return None
    w = word_at(a.text, line, col)
    if w is None:
        return None
    ref = _block(a, w, known)
    if ref is not None:
        return ref.decl.span
    fn = a.program.root.functions.get(w) if a.program is not None else None
    return fn.decl.span if fn is not None else None


def function_names(a: Analysis, known: Analysis | None = None) -> dict[str, str]:
    """The functions the document may call, each with its signature: its own and imported
    ones (as its last parse saw them while it does not parse), then the built-in ones."""
    from ..middle.evaluate import FUNCTIONS

    program = a.program or (known.program if known is not None else None)
    out: dict[str, str] = {}
    for name, ref in sorted(program.root.functions.items() if program else ()):
        params = ", ".join(f"{p.name}: {p.type}" for p in ref.decl.params)
        out[name] = f"fn {name}({params})" + (f" -> {ref.decl.returns}" if ref.decl.returns else "")
    for name in sorted(FUNCTIONS):
        out.setdefault(name, "built-in function")
    return out


def block_names(a: Analysis, known: Analysis | None = None) -> list[str]:
    if a.program is not None:
        return sorted(a.program.root.blocks)
    if known is None or known.program is None:
        return []
    return sorted(
        n
        for n, ref in known.program.root.blocks.items()
        if os.path.abspath(ref.file.abspath) != a.path
    )
