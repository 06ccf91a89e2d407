"""Names from a spec, checked before they become Python code, and turned into module accesses.

A spec is data, never code: node names, the network name and aux head names end up in emitted
source (`self.Mixed_5b.branch1x1`, `class InceptionV3`), and `build()` executes that source, so
each one is checked here against a strict pattern first. Names that Python or nn.Module would
read differently (`class`, `training`, `forward`, a leading underscore) are refused with a coded
error that points at the spec, instead of building a model that silently misbehaves.
"""

from __future__ import annotations

import networkx as nx

from inceptdsl.front.source import Span

from ..common.names import INDEX, check_network_name, fail, is_identifier
from ..common.names import check_segment as common_check_segment
from .source import RUNTIME as runtime
from .taken import MODULE_ATTRS

# Attribute names nn.Module (and our Indexed) already uses: a child module with such a name would
# be shadowed by the method or attribute (`self.train` is a method), so the spec must rename it.
_TAKEN = MODULE_ATTRS | {"aux_weights", "loss"}

# Names the emitted file defines or imports at top level: a network class may not reuse them.
_TOP_LEVEL = frozenset(
    {"F", "nn", "torch", "NamedTuple", "build", "NETWORK_PARAMS"}
    | {getattr(h, "__name__", "") for h in runtime.HELPERS}
)


TAKEN = _TAKEN
TOP_LEVEL = _TOP_LEVEL


def check_segment(segment: str, name: str, span: Span | None) -> None:
    """Check one dot-separated segment of node `name`: an identifier, a decimal index, or a
    quoted label (letters, digits, `_`, `-`: reached by key, never written into code bare)."""
    common_check_segment("torch", segment, name, span)
    if not INDEX.match(segment) and segment in _TAKEN:
        raise fail(
            "torch",
            "node name",
            name,
            span,
            f"`{segment}` is already an attribute of torch.nn.Module; rename the layer",
        )


def check_node_names(g: nx.DiGraph) -> None:
    """Check every node name of `g` (the input node is the forward's argument, not a module)."""
    for name, data in g.nodes(data=True):
        for segment in name.split("."):
            check_segment(segment, name, data.get("span"))


def attr_path(name: str, root: str = "self") -> str:
    """The Python expression reaching the module of node `name`: `self.features[3].branch1`,
    and `self.block1["block1-0"]` for a segment that is not an identifier."""
    out = root
    for segment in name.split("."):
        if INDEX.match(segment):
            out += f"[{segment}]"
        elif is_identifier(segment):
            out += f".{segment}"
        else:
            out += f'["{segment}"]'  # checked by check_segment: letters, digits, `_`, `-`
    return out


def needs_key(segment: str) -> bool:
    """Whether a segment is reached by key (`["block1-0"]`, `[3]`) rather than as an attribute:
    its parent module must then be a Scope."""
    return not is_identifier(segment)


def is_index(segment: str) -> bool:
    return bool(INDEX.match(segment))


def class_name(network: str, span: Span | None = None) -> str:
    """The emitted class's name: the network name in CamelCase (`inception_v3` -> InceptionV3).

    If that collides with a name the emitted file already defines (`F`, `ConvBN`), `Net` is
    appended, so every network name that is an identifier gives a working file.
    """
    check_network_name("torch", network, span)
    camel = "".join(part[:1].upper() + part[1:] for part in network.split("_") if part)
    return camel + "Net" if camel in _TOP_LEVEL else camel


def check_aux_name(head: str, span: Span | None = None) -> None:
    """Aux head names become fields of the training-mode output NamedTuple."""
    if not is_identifier(head) or head == "logits":
        raise fail(
            "torch",
            "aux head name",
            head,
            span,
            "aux head names must be identifiers other than `logits` (the main output's field)",
        )
