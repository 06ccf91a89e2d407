"""Whether an existing file was written by inceptdsl: what a command may replace without --force.

`compile -o notes.py` or `report -o data.csv` naming someone's own file would destroy it; an
output of an earlier run is meant to be replaced. A file counts as inceptdsl's when it is
empty (nothing to lose), or its first 64 KiB carry the word `inceptdsl` (the torch and Keras
sources' header, ONNX's producer name, SVG/HTML pages, JSON schemas, the torch weights that
`compile --optimize --weights` writes: their zip archive is named `inceptdsl/`), or it begins
the way one of inceptdsl's formats without room for a marker begins (a report's table, CSV (a
header of report columns only) or Markdown; a sweep's CSV or HTML; a DOT or Mermaid drawing),
or it is the tensor file `X.onnx.data` beside an inceptdsl `X.onnx` that names it, or the
weights `X.bin` beside an inceptdsl OpenVINO `X.xml` (its network is named `... (inceptdsl)`),
or a .tflite file whose last 64 KiB (where TFLite puts names, after the tensors) carry the
word (its tensors are named `inceptdsl_NETWORK/...`). Anything else is someone's work.
tests/test_output_origin.py produces every format and checks it.
"""

from __future__ import annotations

import os
import re

HEAD = 64 * 1024
MARKER = b"inceptdsl"
MODEL = 16 * 2**20  # an .onnx whose tensors are in X.onnx.data is small: its graph only

_SIGNATURES = tuple(
    re.compile(p)
    for p in (
        rb"\A[^\n]*  \(input \d+(x\d+)*\)\n",  # report table: `NAME  (input 3x299x299)`
        rb"\A# [^\n]*\n\ninput \d+(x\d+)*; params ",  # report Markdown
        rb"\Aindex,[^\n]*,feasible,front,error,set\n",  # sweep CSV
        rb"\A<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        rb"<meta [^\n]*\n<title>sweep of ",  # sweep HTML
        rb"\Adigraph \"[^\n]*\" \{\n  rankdir=",  # graph --format dot
        rb"\Aflowchart (TB|LR)\n  n0\[\"input<br/>",  # graph --format mermaid
    )
)


def produced_by_inceptdsl(path: str) -> bool:
    """Whether the regular file at `path` is empty or recognisably inceptdsl's output (module
    docstring). An unreadable file is not: it is refused, never guessed."""
    head = _head(path)
    if head is None:
        return False
    if not head or MARKER in head.lower():
        return True
    if any(s.match(head) for s in _SIGNATURES) or _report_csv(head):
        return True
    if path.endswith(".tflite") and head[4:8] == b"TFL3":  # names follow the tensors' data
        tail = _tail(path)
        return tail is not None and MARKER in tail
    if path.endswith(".bin"):  # OpenVINO IR weights: recognised by their X.xml beside them
        xml = _head(path[: -len(".bin")] + ".xml")
        return xml is not None and xml.startswith(b"<?xml") and MARKER in xml
    if path.endswith(".onnx.data"):  # raw tensors: recognised by the model that points here
        model = _head(path[: -len(".data")], MODEL)
        name = os.path.basename(path).encode("utf-8", "surrogateescape")
        return model is not None and MARKER in model and name in model
    return False


def _report_csv(head: bytes) -> bool:
    """A report's CSV: its header row is report column headers only (any of them, `--columns`),
    followed by rows of the same number of fields."""
    from .report import COLUMNS

    lines = head.split(b"\n", 2)
    if len(lines) < 2:
        return False
    headers = {c.header.encode() for c in COLUMNS.values()}
    fields = lines[0].split(b",")
    return all(f in headers for f in fields) and len(lines[1].split(b",")) >= len(fields)


def _tail(path: str, size: int = HEAD) -> bytes | None:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - size))
            return f.read(size)
    except OSError:
        return None


def _head(path: str, size: int = HEAD) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError:
        return None
