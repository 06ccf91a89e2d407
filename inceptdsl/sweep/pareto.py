"""The Pareto front of a sweep over chosen objectives, each minimized or maximized."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .measure import Point


@dataclass(frozen=True)
class Objective:
    name: str
    maximize: bool = False

    def __str__(self) -> str:
        return f"max:{self.name}" if self.maximize else self.name


def value(point: Point, name: str) -> float:
    v = point.metrics[name] if name in point.metrics else point.params[name]
    return float(v)


def mark_front(points: Sequence[Point], objectives: Sequence[Objective]) -> None:
    """Set `front` on every feasible, measured point that no other such point dominates (at
    least as good in every objective and better in one). Equal points are all on the front."""
    cands = [p for p in points if p.error is None and p.feasible]
    keyed = sorted(
        (
            (tuple(-value(p, o.name) if o.maximize else value(p, o.name) for o in objectives), p)
            for p in cands
        ),
        key=lambda kp: kp[0],
    )
    front: list[tuple[float, ...]] = []
    for key, p in keyed:  # sorted: only an earlier point can dominate a later one
        dominated = any(
            all(a <= b for a, b in zip(f, key, strict=True)) and f != key for f in front
        )
        p.front = not dominated
        if not dominated:
            front.append(key)
    for p in points:
        if p.error is not None or not p.feasible:
            p.front = False
