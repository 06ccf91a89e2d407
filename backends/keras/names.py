"""Names from a spec, checked before they become string literals and keys in emitted Keras code.

A spec is data, never code: node names become layer names (`name="mixed0.branch1x1.conv"`), the
network name becomes the model's name and aux head names become keys of the training outputs,
and `build()` executes the emitted source. Each name is checked here against a strict pattern
first, so nothing but identifiers, indices and dots reaches a string literal. Keras itself
forbids `/` in layer names (it separates variable paths); the pattern excludes it too.
"""

from __future__ import annotations

import networkx as nx

from inceptdsl.front.source import Span

from ..common.names import IDENT, check_segment, fail
from ..common.names import check_network_name as common_check_network_name

# Child layers a node may own: `<node>.conv`, `<node>.bn`, `<node>.act`, `<node>.pad`,
# `<node>.nchw`. A node name never has children (a name is a node or a scope, never both), so
# these cannot collide with another node's layer.
CHILDREN = ("conv", "bn", "act", "pad", "nchw")

OUTPUT_KEY = "logits"
"""The training-mode output key of the main output (the aux heads use their own names)."""


def check_node_names(g: nx.DiGraph) -> None:
    """Every dot-separated part of every node name is a label (letters, digits, `_`, `-`) or a
    decimal index: nothing else reaches a string literal."""
    for name, data in g.nodes(data=True):
        for segment in name.split("."):
            check_segment("keras", segment, name, data.get("span"))


def check_network_name(network: str, span: Span | None = None) -> None:
    common_check_network_name("keras", network, span)


def check_aux_name(head: str, span: Span | None = None) -> None:
    """Aux head names become keys of the training-mode output dict."""
    if not IDENT.match(head) or head == OUTPUT_KEY:
        raise fail(
            "keras",
            "aux head name",
            head,
            span,
            f"aux head names must be identifiers other than `{OUTPUT_KEY}` (the main output's)",
        )
