"""What every optimization pass shares: its signature, the target it optimizes for, its notes.

A pass is a pure function `(graph, weights, target) -> Result`: it reads one checked IR graph
and the weight map that computes its state from the original network's, and returns a new
checked graph (the input is never modified), the new weight map, and notes saying what it did
or decided not to do at each site (`inceptdsl ir --optimize` prints them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import networkx as nx

from .weights import WeightMap

Layout = Literal["nchw", "nhwc", "nchwc"]
LAYOUTS: tuple[Layout, ...] = ("nchw", "nhwc", "nchwc")


@dataclass(frozen=True)
class Target:
    """What the optimized network will run as: its memory layout and its batch size. NCHW is
    torch's default, NHWC torch's channels_last (oneDNN's and Keras' layout), NCHWc the
    channel-blocked layout ONNX Runtime's CPU provider converts convs to. Only decisions that
    pay differently per target (horizontal fusion) read it."""

    layout: Layout = "nchw"
    batch: int = 1


@dataclass(frozen=True)
class Note:
    """One decision of a pass at one node."""

    pass_name: str
    node: str
    text: str

    def __str__(self) -> str:
        return f"{self.pass_name}: {self.node}: {self.text}"


@dataclass(frozen=True)
class Result:
    graph: nx.DiGraph
    weights: WeightMap
    notes: tuple[Note, ...] = ()


Pass = Callable[[nx.DiGraph, WeightMap, Target], Result]
