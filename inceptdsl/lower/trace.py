"""The names each statement saw, recorded only on request: the language server shows a loop
body's names per iteration on hover (lsp/analysis.py). Off unless a caller opens `recording()`;
the lowerer then keeps one reference per statement run (the mappings it already made, no
copies), so a lowering outside the editor pays one check per statement."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from ..front.source import Span

Seen = dict[Span, list[Mapping[str, Any]]]
"""A statement's span -> the names in scope after it, once per time it ran (a `for` or `if`:
the names its header saw)."""

NAMES_SEEN: ContextVar[Seen | None] = ContextVar("names_seen", default=None)


@contextmanager
def recording() -> Iterator[Seen]:
    """Record what every lowering inside the `with` saw."""
    seen: Seen = {}
    token = NAMES_SEEN.set(seen)
    try:
        yield seen
    finally:
        NAMES_SEEN.reset(token)
