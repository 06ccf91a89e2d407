"""`inceptdsl lsp`: the language server (stdio, pygls): diagnostics on open and change, hover,
go to definition, completion and formatting. The answers come from analysis.py.

The server analyses only the text the client sent (didOpen, didChange) and the `.incept` files
that text imports from its roots, read by the CLI's reader: a request about a document that is
not open is answered with nothing, never by reading the path from disk. protocol.py runs the
message loop; positions.py counts columns in the encoding agreed at `initialize`."""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlparse

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer

from ..errors import SpecError
from ..front.source import split_lines
from ..ir.ops import MERGES
from .analysis import Analysis, analyze, block_names, definition, function_names, hover
from .positions import Columns
from .protocol import Protocol, serve_stdio
from .variants import children

EDIT_PATH = re.compile(
    r"^\s*(?:replace|remove|insert\b.*\b(?:before|after))\s+(?:[\w.]+\s*,\s*)*([\w.]*)$"
)
"""The text before the cursor where a parent path is expected: after `replace`, `remove` (and
its commas) and `insert ... before|after`; group 1 is the path typed so far."""

KEYWORDS = (
    "network block import from as input defaults let if else residual shortcut "
    "repeat aux weight expect source within with true false none extends replace insert remove "
    "before after for in fn"
).split() + list(MERGES)


def uri_to_path(uri: str) -> str:
    return unquote(urlparse(uri).path)


def path_to_uri(path: str) -> str:
    from pathlib import Path

    return Path(os.path.abspath(path)).as_uri()


class InceptServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("inceptdsl", _version(), protocol_cls=Protocol)
        self.analyses: dict[str, Analysis] = {}
        self.published: dict[str, set[str]] = {}  # document uri -> uris it put diagnostics on
        self.parsed: dict[str, Analysis] = {}  # the last analysis whose program loaded

    def columns(self, a: Analysis) -> Columns:
        """Code points <-> the negotiated position encoding, for `a`'s files (positions.py)."""
        return Columns(self.workspace.position_codec, a.lines)

    def refresh(self, uri: str, text: str) -> Analysis:
        a = analyze(uri_to_path(uri), text)
        span_range = self.columns(a).range
        self.analyses[uri] = a
        if a.program is not None:
            self.parsed[uri] = a
        by_uri: dict[str, list[T.Diagnostic]] = {uri: []}
        for d in a.diagnostics:
            target = path_to_uri(d.path)
            by_uri.setdefault(target, []).append(
                T.Diagnostic(
                    range=span_range(d.span),
                    message=d.message,
                    severity=T.DiagnosticSeverity.Error
                    if d.severity == "error"
                    else T.DiagnosticSeverity.Warning,
                    code=d.code,
                    source="inceptdsl",
                    related_information=[
                        T.DiagnosticRelatedInformation(
                            location=T.Location(uri=path_to_uri(span.path), range=span_range(span)),
                            message=message,
                        )
                        for span, message in d.related
                    ]
                    or None,
                )
            )
        for stale in self.published.get(uri, set()) - set(by_uri):
            by_uri[stale] = []
        self.published[uri] = {u for u, ds in by_uri.items() if ds}
        for target, diags in by_uri.items():
            self.text_document_publish_diagnostics(
                T.PublishDiagnosticsParams(uri=target, diagnostics=diags)
            )
        return a


def make_server() -> InceptServer:
    server = InceptServer()

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: InceptServer, params: T.DidOpenTextDocumentParams) -> None:
        ls.refresh(params.text_document.uri, params.text_document.text)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: InceptServer, params: T.DidChangeTextDocumentParams) -> None:
        text = open_text(ls, params.text_document.uri)
        if text is not None:
            ls.refresh(params.text_document.uri, text)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: InceptServer, params: T.DidSaveTextDocumentParams) -> None:
        text = open_text(ls, params.text_document.uri)
        if text is not None:
            ls.refresh(params.text_document.uri, text)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: InceptServer, params: T.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.analyses.pop(uri, None)
        ls.parsed.pop(uri, None)
        for target in sorted(ls.published.pop(uri, set()) | {uri}):
            ls.text_document_publish_diagnostics(
                T.PublishDiagnosticsParams(uri=target, diagnostics=[])
            )

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: InceptServer, params: T.HoverParams) -> T.Hover | None:
        a = _analysis(ls, params.text_document.uri)
        if a is None:
            return None
        known = ls.parsed.get(params.text_document.uri)
        text = hover(a, *ls.columns(a).position(a.text, params.position), known)
        if text is None:
            return None
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=text))

    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: InceptServer, params: T.DefinitionParams) -> T.Location | None:
        a = _analysis(ls, params.text_document.uri)
        if a is None:
            return None
        known = ls.parsed.get(params.text_document.uri)
        columns = ls.columns(a)
        span = definition(a, *columns.position(a.text, params.position), known)
        if span is None:
            return None
        return T.Location(uri=path_to_uri(span.path), range=columns.range(span))

    @server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=[" ", "("]))
    def on_completion(ls: InceptServer, params: T.CompletionParams) -> T.CompletionList:
        from ..ir.ops import LAYERS

        a = _analysis(ls, params.text_document.uri)
        if a is None:
            return T.CompletionList(is_incomplete=False, items=[])
        lines = split_lines(a.text)
        row, col = ls.columns(a).position(a.text, params.position)
        before = (lines[row] if row < len(lines) else "")[:col]
        edit = EDIT_PATH.match(before)
        if edit is not None:  # a variant's edit: the parent's paths below what is typed
            # A half-typed edit does not parse: the last analysis that did knows the parent.
            parent = ls.parsed.get(params.text_document.uri, a).parent()
            prefix = edit.group(1).rpartition(".")[0]
            found = children(parent, prefix) if parent is not None else {}
            return T.CompletionList(
                is_incomplete=False,
                items=[
                    T.CompletionItem(label=seg, kind=T.CompletionItemKind.Field, detail=what)
                    for seg, what in found.items()
                ],
            )
        items: list[T.CompletionItem] = []
        layer = next((w for w in before.replace("->", " ").split() if w in LAYERS), None)
        if layer is not None:
            items += [
                T.CompletionItem(
                    label=f"{o}=", kind=T.CompletionItemKind.Property, detail=f"{layer} option"
                )
                for o in LAYERS[layer].options
            ]
        items += [
            T.CompletionItem(label=n, kind=T.CompletionItemKind.Class, detail="block")
            for n in block_names(a, ls.parsed.get(params.text_document.uri))
        ]
        items += [
            T.CompletionItem(
                label=n, kind=T.CompletionItemKind.Function, detail=LAYERS[n].doc or "layer"
            )
            for n in sorted(LAYERS)
        ]
        items += [
            T.CompletionItem(label=n, kind=T.CompletionItemKind.Function, detail=sig)
            for n, sig in function_names(a, ls.parsed.get(params.text_document.uri)).items()
            if n not in LAYERS
        ]
        items += [T.CompletionItem(label=k, kind=T.CompletionItemKind.Keyword) for k in KEYWORDS]
        return T.CompletionList(is_incomplete=False, items=items)

    @server.feature(T.TEXT_DOCUMENT_FORMATTING)
    def on_format(ls: InceptServer, params: T.DocumentFormattingParams) -> list[T.TextEdit]:
        from ..fmt import format_source

        uri = params.text_document.uri
        text = open_text(ls, uri)
        if text is None:
            return []
        try:
            new = format_source(text, uri_to_path(uri))
        except SpecError:
            return []  # the diagnostics already say why
        if new == text:
            return []
        end = T.Position(len(text.splitlines(keepends=True)), 0)
        return [T.TextEdit(range=T.Range(T.Position(0, 0), end), new_text=new)]

    return server


def open_text(ls: InceptServer, uri: str) -> str | None:
    """The text the client sent for `uri`, or None where it never opened it (pygls'
    `get_text_document` would read the path from disk instead)."""
    doc = ls.workspace.text_documents.get(unquote(uri))
    return None if doc is None else doc.source


def _analysis(ls: InceptServer, uri: str) -> Analysis | None:
    a = ls.analyses.get(uri)
    if a is None:
        text = open_text(ls, uri)
        if text is None:
            return None
        a = ls.refresh(uri, text)
    return a


def serve() -> int:
    """Run the server on stdin/stdout; the exit code (0 after `shutdown` and `exit`)."""
    return serve_stdio(make_server())


def _version() -> str:
    """The installed inceptdsl's version (the package's `__version__` is a later stage)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("inceptdsl")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0"
