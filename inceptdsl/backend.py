"""The backend base class and registry.

A backend turns the IR graph into a framework model (`build`) or standalone source (`emit`).
Backends are plugins found through the `inceptdsl.backends` entry-point group (the built-in
torch, keras and onnx backends register there too) and imported only when first asked for, so
that `import inceptdsl` never imports a framework.

Every backend subclasses `Backend` (sqlglot's `Generator` is the model): what it can do beyond
`build` and `emit` is declared in class attributes with defaults, never probed, and what it
cannot do raises `unsupported()`, a located error naming the backend.
"""

from __future__ import annotations

import difflib
import importlib
import statistics
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

import networkx as nx

from .errors import UsageError
from .front.source import Span

if TYPE_CHECKING:
    from .optimize.base import Layout

GROUP = "inceptdsl.backends"

R = TypeVar("R")


def unsupported(
    backend: str, what: str, span: Span | None = None, hint: str | None = None
) -> UsageError:
    """The located error for something `backend` cannot do (`Backend.unsupported`)."""
    return UsageError(f"backend {backend!r} does not support {what}", span, hint=hint)


def rule(backend: str, table: Mapping[Any, R], op: Any, span: Span | None) -> R:
    """`backend`'s rule for `op` from its dispatch table, or the located error naming both."""
    try:
        return table[op]
    except KeyError:
        raise unsupported(backend, f"op {getattr(op, 'value', op)!s}", span) from None


class Backend:
    """What a backend provides. `emit` returns text (source) or bytes (a binary model file).

    Capabilities (class attributes; the defaults are what a minimal backend has):

    - `ops`, `activations`: the dispatch tables, one rule per IR op and per activation (the
      registry checker, tests/registry_check.py, names an op a backend has no rule for).
    - `optimize_layout`: the layout it computes in, which decides horizontal fusion
      (`compile --optimize` and `Network.emit(optimize=True)` optimize for it).
    - `optimizer`: the module (relative to the backend's package) whose
      `build_optimized(graph, weights_from, **options)` builds the optimized model; None: none.
    - `writes_files`: `write()` writes its own files (onnx: tensors beside a model over 2 GB),
      and `emit`/`write` take trained `weights` (`compile --weights` without `--optimize`).
    - `weights_in_file`: `emit_optimized`/`write_optimized` put the carried-over weights inside
      the file (onnx).
    - `saves_weights`: `read_weights`/`saved_weights` (torch: `--weights` into OUT.pt beside
      the optimized source).
    - `importer`: an `Importer` (`inceptdsl import torch`, `inceptdsl import onnx`), or None.
    - `runtime`, `timer`: the runtime `measure` times the optimized model with (`inceptdsl
      sweep --measure latency --runtime NAME`) and the module (relative to the backend's
      package) whose `runner(backend, graph, batch, threads)` returns one forward as a call;
      None: it cannot time models.
    - `quantizes`: `build`/`emit`/`write` take `int8=True, calibration=DATA, keep_fp32=PATHS`
      (`compile --int8 --calibrate DATA`; DATA a .npy/.npz path or an iterable of arrays).
    """

    name: ClassVar[str] = ""
    suffix: ClassVar[str] = ""  # file suffix of what `emit` returns, e.g. ".py" or ".onnx"
    ops: ClassVar[Mapping[Any, Any]] = {}
    activations: ClassVar[Collection[Any]] = frozenset()
    optimize_layout: ClassVar[Layout] = "nchw"
    optimizer: ClassVar[str | None] = None
    writes_files: ClassVar[bool] = False
    weights_in_file: ClassVar[bool] = False
    saves_weights: ClassVar[bool] = False
    quantizes: ClassVar[bool] = False
    importer: Any = None
    runtime: ClassVar[str | None] = None
    timer: ClassVar[str | None] = None

    def build(self, graph: nx.DiGraph, weights_from: Any = None, **options: Any) -> Any:
        """The framework model. `weights_from` must fit it exactly unless `strict=False` (an
        option every built-in backend takes); the Keras backend also takes `training`."""
        raise NotImplementedError

    def emit(self, graph: nx.DiGraph, **options: Any) -> str | bytes:
        raise NotImplementedError

    def unsupported(self, what: str, span: Span | None = None, hint: str | None = None) -> Any:
        """Raise the error for something this backend cannot do, located at `span`."""
        raise unsupported(self.name, what, span, hint)

    def build_optimized(self, graph: nx.DiGraph, weights_from: Any = None, **options: Any) -> Any:
        """The eval-only optimized model (docs/optimize.md), built by the `optimizer` module."""
        if self.optimizer is None:
            return self.unsupported("optimized models")
        module = importlib.import_module(self.optimizer, type(self).__module__)
        return module.build_optimized(graph, weights_from, **options)

    def write(
        self, graph: nx.DiGraph, path: str, weights: Any = None, inputs: Iterable[str] = ()
    ) -> list[str]:
        """Write the model to `path` (never over one of `inputs`); the paths written."""
        return self.unsupported("writing files itself")  # type: ignore[no-any-return]

    def emit_optimized(self, graph: nx.DiGraph, weights: Any = None, **options: Any) -> bytes:
        return self.unsupported("weights inside an optimized file")  # type: ignore[no-any-return]

    def write_optimized(
        self,
        graph: nx.DiGraph,
        path: str,
        weights: Any = None,
        inputs: Iterable[str] = (),
        **options: Any,
    ) -> list[str]:
        return self.unsupported("weights inside an optimized file")  # type: ignore[no-any-return]

    def read_weights(self, path: str, graph: nx.DiGraph | None = None) -> Any:
        """A weights file's tensors; with `graph`, checked against its tensor shapes before an
        .npz's or .safetensors' data is read (backends/common/weights_file.py)."""
        return self.unsupported("reading weights files")

    def saved_weights(self, graph: nx.DiGraph, weights_from: Any = None, **options: Any) -> bytes:
        return self.unsupported("saving optimized weights")  # type: ignore[no-any-return]

    def measure(
        self,
        graph: nx.DiGraph,
        batch: int = 1,
        threads: int = 1,
        repeats: int = 20,
        warmup: int = 3,
    ) -> dict[str, float]:
        """The latency of the eval-only optimized model's forward at `batch` on random input,
        with `threads` threads: `median_ms` and `spread_ms` (the interquartile range) of
        `repeats` timed calls after `warmup` untimed ones, built by the `timer` module."""
        if self.timer is None:
            return self.unsupported("timing models")  # type: ignore[no-any-return]
        module = importlib.import_module(self.timer, type(self).__module__)
        return time_calls(module.runner(self, graph, batch, threads), repeats, warmup)


def time_calls(fn: Callable[[], Any], repeats: int, warmup: int) -> dict[str, float]:
    """Median and interquartile range (ms) of `repeats` calls of `fn` after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    q = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return {"median_ms": statistics.median(times), "spread_ms": q[2] - q[0]}


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

BUILT_IN = {
    "torch": "torch",
    "onnx": "onnx",
    "keras": "keras",
    "openvino": "openvino",
    "tflite": "tflite",
}
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
    if not isinstance(backend, Backend):
        raise UsageError(
            f"backend {name!r} is not an inceptdsl.backend.Backend",
            hint="a backend plugin subclasses inceptdsl.backend.Backend",
        )
    _LOADED[name] = backend
    return backend


def importer(name: str) -> Importer:
    """The import capability of backend `name` (UsageError if it has none)."""
    imp = get(name).importer
    if imp is None:
        raise UsageError(f"backend {name!r} cannot import models")
    return imp  # type: ignore[no-any-return]
