"""Names in specs: what a label may be, and name suggestions ("did you mean ...?") shared by
every pass that reports an unknown name."""

from __future__ import annotations

import difflib
import heapq
import os
import re
from collections.abc import Iterable

from .errors import InvalidValueError
from .source import Span

MAX_LABEL = 128
"""Longest label accepted (reference models' module names are far shorter)."""

MAX_CANDIDATES = 500
"""Most candidates a suggestion compares in full. difflib costs tens of microseconds per
candidate, so a network of 100,000 nodes took seconds to say "did you mean"; beyond this many,
the candidates nearest in prefix and length are compared (a cheap linear pass)."""

_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or None when nothing is close."""
    pool = sorted(_nearest(name, set(candidates)))
    lower = {c.lower(): c for c in pool}
    if name.lower() in lower and lower[name.lower()] != name:
        return f"did you mean `{lower[name.lower()]}`?"
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def _nearest(name: str, pool: set[str]) -> set[str]:
    """At most MAX_CANDIDATES of `pool`: all of it when small, else those sharing the longest
    prefix with `name`, then nearest in length, then first in order (deterministic). A case
    variant of the name is always kept."""
    if len(pool) <= MAX_CANDIDATES:
        return pool
    low = name.lower()

    def distance(c: str) -> tuple[int, int, str]:
        shared = len(os.path.commonprefix((c.lower(), low)))
        return (-shared, abs(len(c) - len(name)), c)

    return set(heapq.nsmallest(MAX_CANDIDATES, pool, key=distance))


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
