"""Names from a spec, checked before they become Python code, and turned into module accesses.

A spec is data, never code: node names, the network name and aux head names end up in emitted
source (`self.Mixed_5b.branch1x1`, `class InceptionV3`), and `build()` executes that source, so
each one is checked here against a strict pattern first. Names that Python or nn.Module would
read differently (`class`, `training`, `forward`, a leading underscore) are refused with a coded
error that points at the spec, instead of building a model that silently misbehaves.
"""

from __future__ import annotations

import keyword
import re

import networkx as nx

from inceptdsl.errors import InvalidValueError
from inceptdsl.source import Span

from .source import RUNTIME as runtime
from .taken import MODULE_ATTRS

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_INDEX = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_KEYED = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")

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


def _fail(what: str, name: str, span: Span | None, hint: str) -> InvalidValueError:
    return InvalidValueError(
        f"{what} {name!r} cannot be used by the torch backend", span, hint=hint
    )


def check_segment(segment: str, name: str, span: Span | None) -> None:
    """Check one dot-separated segment of node `name`: an identifier, a decimal index, or a
    quoted label (letters, digits, `_`, `-`: reached by key, never written into code bare)."""
    if _INDEX.match(segment):
        return
    if not _KEYED.match(segment):
        raise _fail(
            "node name",
            name,
            span,
            "each dot-separated part must be letters, digits, `_` and `-`, not starting with "
            "`_`, or a decimal index without leading zeros",
        )
    if segment in _TAKEN:
        raise _fail(
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
        if _INDEX.match(segment):
            out += f"[{segment}]"
        elif _IDENT.match(segment) and not keyword.iskeyword(segment):
            out += f".{segment}"
        else:
            out += f'["{segment}"]'  # checked by check_segment: letters, digits, `_`, `-`
    return out


def needs_key(segment: str) -> bool:
    """Whether a segment is reached by key (`["block1-0"]`, `[3]`) rather than as an attribute:
    its parent module must then be a Scope."""
    return not (_IDENT.match(segment) and not keyword.iskeyword(segment))


def is_index(segment: str) -> bool:
    return bool(_INDEX.match(segment))


def class_name(network: str, span: Span | None = None) -> str:
    """The emitted class's name: the network name in CamelCase (`inception_v3` -> InceptionV3).

    If that collides with a name the emitted file already defines (`F`, `ConvBN`), `Net` is
    appended, so every network name that is an identifier gives a working file.
    """
    if not _IDENT.match(network) or keyword.iskeyword(network):
        raise _fail(
            "network name",
            network,
            span,
            "name the network with letters, digits and `_`, starting with a letter",
        )
    camel = "".join(part[:1].upper() + part[1:] for part in network.split("_") if part)
    return camel + "Net" if camel in _TOP_LEVEL else camel


def check_aux_name(head: str, span: Span | None = None) -> None:
    """Aux head names become fields of the training-mode output NamedTuple."""
    if not _IDENT.match(head) or keyword.iskeyword(head) or head == "logits":
        raise _fail(
            "aux head name",
            head,
            span,
            "aux head names must be identifiers other than `logits` (the main output's field)",
        )
