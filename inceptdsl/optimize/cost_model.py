"""Whether horizontal fusion pays at a site: a cost model calibrated on measurements.

(placeholder: calibrated below)
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import Target


@dataclass(frozen=True)
class Site:
    """A set of sibling convs: their input (cin x h x w), output size, kernel, output channels,
    and how many readers of their outputs are not concats (each gets a slice)."""

    cin: int
    h: int
    w: int
    out_h: int
    out_w: int
    kernel: tuple[int, int]
    couts: tuple[int, ...]
    sliced_readers: int


@dataclass(frozen=True)
class Decision:
    fuse: bool
    gain: float
    why: str


def decide(site: Site, target: Target) -> Decision:
    return Decision(True, 1.0, "placeholder")
