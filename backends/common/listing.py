"""A list in a one-line message: the first few items, then how many more (`a, b, c (+4 more)`).

Messages that name what is wrong (tensors that do not fit, modules no forward uses, weights
an optimized network lacks) name a few and count the rest, so that one error stays one line
whatever the model's size.
"""

from __future__ import annotations

from collections.abc import Sequence


def first_of(items: Sequence[str], n: int, sep: str = ", ") -> str:
    """The first `n` of `items` joined by `sep`, and `(+K more)` when K more are left out."""
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return sep.join(items[:n]) + more
