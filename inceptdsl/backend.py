"""The backend protocol and registry.

A backend turns the IR graph into a framework model (`build`) or standalone source (`emit`).
Backends are plugins found through the `inceptdsl.backends` entry-point group (the built-in
torch, keras and onnx backends register there too) and imported only when first asked for, so
that `import inceptdsl` never imports a framework.

Optional capabilities: `importer` (below), and `write(graph, path, weights=None, inputs=())`
for a backend that writes its own files (onnx: a model over 2 GB gets its tensors in a file
beside it); `compile -o FILE` uses it, and only such a backend takes `--weights` (without
`--optimize`). The optimizer's (docs/optimize.md): `build_optimized(graph, weights_from,
**options)`, `optimize_layout` (the layout the backend computes in, which decides horizontal
fusion: `compile --optimize` and `Network.emit(optimize=True)` optimize for it),
`emit_optimized` / `write_optimized` (onnx: the carried-over weights go into the file), and
`read_weights` / `saved_weights` (torch: `--weights` into OUT.pt beside the source).
"""

from __future__ import annotations

import difflib
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import networkx as nx

from .errors import UsageError

GROUP = "inceptdsl.backends"


@runtime_checkable
class Backend(Protocol):
    """What a backend provides. `emit` returns text (source) or bytes (a binary model file)."""

    name: str
    suffix: str  # file suffix of what `emit` returns, e.g. ".py" or ".onnx"

    def build(self, graph: nx.DiGraph, weights_from: Any = None, **options: Any) -> Any:
        """The framework model. `weights_from` must fit it exactly unless `strict=False` (an
        option every built-in backend takes); the Keras backend also takes `training`."""
        ...

    def emit(self, graph: nx.DiGraph) -> str | bytes: ...


@runtime_checkable
class Importer(Protocol):
    """An optional capability: a backend whose `importer` attribute turns a live model of its
    framework into the core's layer graph (`inceptdsl import torch`). `load` returns the layer
    graph and an opaque session; `check` proves that the IR graph of the spec written from it
    reproduces the model (strict weight load, equal outputs) and returns the figures."""

    def load(
        self, target: str, kwargs: dict[str, Any], input_shape: tuple[int, int, int]
    ) -> tuple[Any, Any]: ...

    def check(self, session: Any, graph: nx.DiGraph) -> dict[str, Any]: ...


_LOADED: dict[str, Backend] = {}

BUILT_IN = {"torch": "torch", "onnx": "onnx", "keras": "keras"}
"""Backends that ship with inceptdsl, and the pip extra that installs each one's framework."""


def available() -> list[str]:
    """Names of the registered backends (their packages are not imported)."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def get(name: str) -> Backend:
    """The backend called `name`, importing its package on first use."""
    if name in _LOADED:
        return _LOADED[name]
    eps = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not eps:
        names = available()
        close = difflib.get_close_matches(name, names, n=1)
        listing = ", ".join(names) if names else "none is installed"
        if close:
            hint: str | None = f"did you mean {close[0]!r}?"
        elif name in BUILT_IN:
            hint = f"install its framework: pip install 'inceptdsl[{BUILT_IN[name]}]'"
        else:
            hint = None
        raise UsageError(f"no backend named {name!r} (registered backends: {listing})", hint=hint)
    try:
        backend = eps[0].load()
    except (ImportError, AttributeError) as exc:
        raise UsageError(
            f"backend {name!r} could not be imported: {exc}",
            hint=f"install its extras: pip install 'inceptdsl[{name}]'",
        ) from None
    _LOADED[name] = backend
    return backend


def importer(name: str) -> Importer:
    """The import capability of backend `name` (UsageError if it has none)."""
    imp = getattr(get(name), "importer", None)
    if imp is None:
        raise UsageError(f"backend {name!r} cannot import models")
    return imp  # type: ignore[no-any-return]
