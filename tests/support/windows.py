"""Brute-force shape oracles shared by tests/test_shapes.py and the hypothesis tests of
tests/test_properties_shapes.py (never the formula under test)."""

from __future__ import annotations

from inceptdsl.front.source import Span

SPAN = Span("t.incept", 3, 5, 3, 20)


def brute_window_out(
    size: int,
    kernel: int,
    stride: int,
    before: int,
    after: int,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Count the windows by sliding one along the padded input.

    Floor mode keeps every window that lies inside the padded input. Ceil mode keeps sliding
    until a window reaches the padded input's end (the last one may hang over it), then applies
    torch's rule: the last window must start inside the input or the left padding.
    """
    padded = size + before + after
    extent = dilation * (kernel - 1) + 1
    starts = []
    start = 0
    while True:
        end = start + extent  # exclusive
        if end <= padded:
            starts.append(start)
            if end == padded:
                break
        else:
            if ceil_mode and (not starts or starts[-1] + extent < padded):
                starts.append(start)
            break
        start += stride
    if ceil_mode and starts and starts[-1] >= size + before:
        starts.pop()
    return len(starts)
