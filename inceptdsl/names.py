"""Names in specs: what a label may be, and name suggestions ("did you mean ...?") shared by
every pass that reports an unknown name."""

from __future__ import annotations

import bisect
import difflib
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
    order of reversed names (sharing its longest suffixes, for a typo near the start). Sorting
    runs at C speed: 100,000 names take a few hundredths of a second, fewer without a key
    function, which a pool of lowercase ASCII names (generated layer names) does not need."""
    if len(pool) <= MAX_CANDIDATES:
        return pool
    half = MAX_CANDIDATES // 4
    out: set[str] = set()
    joined = "".join(pool)
    if joined.isascii() and joined.islower():  # each name is its own key, and keys differ
        ordered = sorted(pool)
        i = bisect.bisect_left(ordered, name.lower())
        out.update(ordered[max(0, i - half) : i + half])
        ordered = sorted([c[::-1] for c in pool])
        i = bisect.bisect_left(ordered, name[::-1].lower())
        out.update(c[::-1] for c in ordered[max(0, i - half) : i + half])
        return out
    for key in (str.lower, _reversed_lower):
        ordered = sorted(pool, key=key)
        keys = [key(c) for c in ordered]
        i = bisect.bisect_left(keys, key(name))
        out.update(ordered[max(0, i - half) : i + half])
    return out


def _reversed_lower(s: str) -> str:
    return s[::-1].lower()


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
