"""Names in specs: what a label may be, and name suggestions ("did you mean ...?") shared by
every pass that reports an unknown name."""

from __future__ import annotations

import difflib
import heapq
import re
from collections.abc import Iterable

from .errors import InvalidValueError
from .front.source import Span

MAX_LABEL = 128
"""Longest label accepted (reference models' module names are far shorter)."""

MAX_CANDIDATES = 500
"""Most candidates a suggestion compares in full. difflib costs tens of microseconds per
candidate, so a network of 100,000 nodes took seconds to say "did you mean"; beyond this many,
the candidates nearest in alphabetical order, forwards and backwards, are compared."""

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
    """At most MAX_CANDIDATES of `pool`: all of it when small, else the names nearest to `name`
    in alphabetical order (those sharing its longest prefixes, case-insensitively) and in the
    order of reversed names (sharing its longest suffixes, for a typo near the start): for each
    order, the MAX_CANDIDATES // 4 names just before `name` and as many from it on, as a stable
    sort of `pool` would place them. Chosen with a heap rather than by sorting 100,000 names
    twice, which took a tenth of a second."""
    if len(pool) <= MAX_CANDIDATES:
        return pool
    items = list(pool)
    joined = "".join(items)
    ascii_ = joined.isascii()  # lowercasing is per character: lowered names can be reversed
    lowered = items if ascii_ and joined.islower() else list(map(str.lower, items))
    rev = [s[::-1] for s in lowered] if ascii_ else [s[::-1].lower() for s in items]
    out: set[str] = set()
    for keys, key in ((lowered, name.lower()), (rev, name[::-1].lower())):
        out.update(items[j] for j in _around(keys, key, MAX_CANDIDATES // 4))
    return out


def _around(keys: list[str], key: str, half: int) -> list[int]:
    """The indexes of the `half` keys just below `key` and the `half` from `key` on, in the order
    of a stable sort (`sorted(keys)[i - half : i + half]` with i where `key` would go: among
    equal keys, the later ones below and the earlier ones above). The index breaks ties, so the
    heap picks exactly those."""
    below = [(k, j) for j, k in enumerate(keys) if k < key]
    above = [(k, j) for j, k in enumerate(keys) if k >= key]
    return [j for _, j in heapq.nlargest(half, below) + heapq.nsmallest(half, above)]


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
