"""Errors found in an imported spec, reported where the user can act: the source model's file.

`import caffe` proves the spec it writes by loading it back; an error found there (a limit,
a shape) is located in the generated text, which is never written when it fails. This maps
it to the prototxt: the layer that the generated line names (by its label, the Caffe layer's
name), or the prototxt as a whole, with the generated line as a note.
"""

from __future__ import annotations

import re

from ..errors import Note, SpecError, SpecErrors
from ..front.source import Span, display_path
from .model import LayerGraph

_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*:")


def relocated(err: SpecError, graph: LayerGraph, text: str, generated: str) -> SpecError:
    """`err` with every error in `generated` (the spec's path) moved to the source file."""
    source = graph.source_file
    if source is None:
        return err
    moved = [_one(e, graph, text, generated, source.path) for e in err.errors]
    out = moved[0] if len(moved) == 1 else SpecErrors(moved)
    return out.with_sources({source.path: source})


def _one(err: SpecError, graph: LayerGraph, text: str, generated: str, path: str) -> SpecError:
    if err.path not in (generated, display_path(generated)):
        return err
    notes = list(err.notes)
    span = None
    if err.span is not None:
        found_in = err.sources.get(err.span.path)  # the text it was found in (fmt's input)
        lines = found_in.text.splitlines() if found_in is not None else text.splitlines()
        line = lines[err.span.line - 1] if 0 < err.span.line <= len(lines) else ""
        span = _layer_span(graph, _LABEL.findall(line))
        shown = line.strip()[:100] + ("..." if len(line.strip()) > 100 else "")
        notes.insert(0, Note(f"in the spec it imports to, line {err.span.line}: {shown}"))
    else:
        notes.insert(0, Note("in the spec it imports to"))
    message = err.message
    for name in {generated, display_path(generated)}:
        message = message.replace(name, "the imported spec")
    return type(err)(message, span, hint=err.hint, notes=notes, path=path)


def _layer_span(graph: LayerGraph, labels: list[str]) -> Span | None:
    """The prototxt span of the first layer a label on the generated line names."""
    for label in labels:
        for layer in graph.layers.values():
            p = layer.path or ""
            if layer.span is not None and (
                p == label or p.endswith("." + label) or p.startswith(label + ".")
            ):
                return layer.span
    return None
