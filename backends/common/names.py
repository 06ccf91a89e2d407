"""The name rules both source-emitting backends share: what an identifier, a decimal index and a
quoted label are, and the error for a name a backend cannot write into code."""

from __future__ import annotations

import keyword
import re

from inceptdsl.errors import InvalidValueError
from inceptdsl.front.source import Span

IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
INDEX = re.compile(r"(?:0|[1-9][0-9]*)\Z")
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")  # quoted labels: `"block1-0"`

SEGMENT_HINT = (
    "each dot-separated part must be letters, digits, `_` and `-`, not starting with `_`, or a "
    "decimal index without leading zeros"
)
NETWORK_HINT = "name the network with letters, digits and `_`, starting with a letter"


def fail(backend: str, what: str, name: str, span: Span | None, hint: str) -> InvalidValueError:
    return InvalidValueError(
        f"{what} {name!r} cannot be used by the {backend} backend", span, hint=hint
    )


def is_identifier(name: str) -> bool:
    """A Python identifier of ASCII letters, digits and `_`, starting with a letter."""
    return bool(IDENT.match(name)) and not keyword.iskeyword(name)


def check_segment(backend: str, segment: str, name: str, span: Span | None) -> None:
    """One dot-separated part of node `name` is a decimal index or a label (nothing else
    reaches a string literal in emitted code)."""
    if not INDEX.match(segment) and not LABEL.match(segment):
        raise fail(backend, "node name", name, span, SEGMENT_HINT)


def check_network_name(backend: str, network: str, span: Span | None) -> None:
    if not is_identifier(network):
        raise fail(backend, "network name", network, span, NETWORK_HINT)
