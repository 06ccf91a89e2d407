"""Names from a spec, checked before they become string literals and keys in emitted Keras code.

A spec is data, never code: node names become layer names (`name="mixed0.branch1x1.conv"`), the
network name becomes the model's name and aux head names become keys of the training outputs,
and `build()` executes the emitted source. Each name is checked here against a strict pattern
first, so nothing but identifiers, indices and dots reaches a string literal. Keras itself
forbids `/` in layer names (it separates variable paths); the pattern excludes it too.
"""

from __future__ import annotations

import keyword
import re

import networkx as nx

from inceptdsl.errors import InvalidValueError
from inceptdsl.source import Span

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_INDEX = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")  # quoted labels: `"block1-0"`

# Child layers a node may own: `<node>.conv`, `<node>.bn`, `<node>.act`, `<node>.pad`,
# `<node>.nchw`. A node name never has children (a name is a node or a scope, never both), so
# these cannot collide with another node's layer.
CHILDREN = ("conv", "bn", "act", "pad", "nchw")

OUTPUT_KEY = "logits"
"""The training-mode output key of the main output (the aux heads use their own names)."""


def _fail(what: str, name: str, span: Span | None, hint: str) -> InvalidValueError:
    return InvalidValueError(
        f"{what} {name!r} cannot be used by the keras backend", span, hint=hint
    )


def check_node_names(g: nx.DiGraph) -> None:
    """Every dot-separated part of every node name is a label (letters, digits, `_`, `-`) or a
    decimal index: nothing else reaches a string literal."""
    for name, data in g.nodes(data=True):
        for segment in name.split("."):
            if _INDEX.match(segment):
                continue
            if not _LABEL.match(segment):
                raise _fail(
                    "node name",
                    name,
                    data.get("span"),
                    "each dot-separated part must be letters, digits, `_` and `-`, not "
                    "starting with `_`, or a decimal index without leading zeros",
                )


def check_network_name(network: str, span: Span | None = None) -> None:
    if not _IDENT.match(network) or keyword.iskeyword(network):
        raise _fail(
            "network name",
            network,
            span,
            "name the network with letters, digits and `_`, starting with a letter",
        )


def check_aux_name(head: str, span: Span | None = None) -> None:
    """Aux head names become keys of the training-mode output dict."""
    if not _IDENT.match(head) or head == OUTPUT_KEY:
        raise _fail(
            "aux head name",
            head,
            span,
            f"aux head names must be identifiers other than `{OUTPUT_KEY}` (the main output's)",
        )
