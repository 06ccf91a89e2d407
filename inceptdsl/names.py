"""Names in specs: what a label may be, and name suggestions ("did you mean ...?") shared by
every pass that reports an unknown name."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from .errors import InvalidValueError
from .source import Span

MAX_LABEL = 128
"""Longest label accepted (reference models' module names are far shorter)."""

_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or None when nothing is close."""
    pool = sorted(set(candidates))
    lower = {c.lower(): c for c in pool}
    if name.lower() in lower and lower[name.lower()] != name:
        return f"did you mean `{lower[name.lower()]}`?"
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def check_label(text: str, span: Span) -> None:
    """A label names one level of the module hierarchy: letters, digits, `_` and `-` (quoted
    labels exist for reference names such as torchvision's `block1-0`), never a `.` (the path
    separator), at most MAX_LABEL characters. Every backend accepts every such label."""
    if not _LABEL.match(text) or len(text) > MAX_LABEL:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise InvalidValueError(
            f"the label {shown!r} is not a valid name",
            span,
            hint=f"labels are letters, digits, `_` and `-` (at most {MAX_LABEL}), without `.` "
            "or spaces; nest a scope with a labelled `{ }` group instead of a dotted name",
        )
