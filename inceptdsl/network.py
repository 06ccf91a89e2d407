"""The public Network object: a loaded, checked, lowered spec and what can be done with it."""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

from .check import run_checks
from .errors import SpecError
from .loader import Program, load_program
from .lower import Expectation, lower
from .source import Span

if TYPE_CHECKING:
    from .expect import ExpectResult
    from .optimize import Optimized, Target
    from .report import Report


@dataclass
class Network:
    """A network built from a spec: its IR graph plus the program it came from.

    `graph` is the networkx.DiGraph IR (docs/ir.md); `report()` gives the counts, `verify()`
    checks the spec's `expect` declarations, `to_torch()` / `to_keras()` / `emit()` hand the
    graph to a backend (imported only then).
    """

    program: Program
    graph: nx.DiGraph
    params: dict[str, Any]
    expectations: list[Expectation] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    """The parameter values given by the caller (the rest are the spec's defaults)."""

    @property
    def name(self) -> str:
        return self.graph.graph["name"]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.graph.graph["input_shape"]

    @property
    def path(self) -> str:
        return self.program.root.source.path

    def report(self) -> Report:
        from .report import build_report

        return build_report(self.graph)

    def verify(self) -> list[ExpectResult]:
        from .expect import verify

        return verify(self)

    def with_params(self, _span: Span | None = None, **overrides: Any) -> Network:
        """The same spec rebuilt with some network parameters changed (defaults that depend on
        other parameters are recomputed: only the caller's overrides are carried over)."""
        return build(self.program, {**self.overrides, **overrides}, _span)

    def optimized(self, target: Target | None = None, skip: tuple[str, ...] = ()) -> Optimized:
        """The eval-only optimized graph, its weight map and the passes' notes
        (inceptdsl.optimize; `skip` leaves passes out)."""
        from .optimize import optimize

        return optimize(self.graph, target, skip)

    def to_torch(self, weights_from: Any = None, optimize: bool = False, **options: Any) -> Any:
        """The torch model; with `optimize`, the eval-only optimized model with the weights of
        `weights_from` carried over (options: `channels_last`, `onednn`, `skip`, `target`,
        `dtype`: docs/optimize.md)."""
        from .backend import get

        if optimize:
            return get("torch").build_optimized(self.graph, weights_from, **options)  # type: ignore[attr-defined]
        return get("torch").build(self.graph, weights_from)

    def to_keras(self, weights_from: Any = None, optimize: bool = False, **options: Any) -> Any:
        """The Keras inference model; with `optimize`, the optimized one (docs/optimize.md)."""
        from .backend import get

        if optimize:
            return get("keras").build_optimized(self.graph, weights_from, **options)  # type: ignore[attr-defined]
        return get("keras").build(self.graph, weights_from)

    def emit(self, backend: str, optimize: bool = False) -> str | bytes:
        """Standalone source (or an ONNX file) of the network, or of its optimized graph."""
        from .backend import get

        graph = self.optimized().graph if optimize else self.graph
        return get(backend).emit(graph)


def build(
    program: Program, overrides: Mapping[str, Any], override_span: Span | None = None
) -> Network:
    # Lowering allocates many small objects that all stay alive; the cyclic GC would rescan
    # them over and over (time per node doubled at 70,000 nodes), so it is paused meanwhile.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        lowered = lower(program, overrides, override_span)
    except SpecError as err:
        raise err.with_sources(program.sources) from None
    finally:
        if gc_was_enabled:
            gc.enable()
    return Network(
        program,
        lowered.graph,
        lowered.graph.graph["params"],
        lowered.expects,
        lowered.labels,
        dict(overrides),
    )


def load(path: str, **params: Any) -> Network:
    """Load the spec at `path` (imports resolved relative to it) with parameter overrides."""
    program = load_program(str(path))
    return _checked_build(program, params)


def loads(text: str, filename: str = "<string>.incept", **params: Any) -> Network:
    """Load spec text; `filename` is shown in errors and anchors relative imports."""
    program = load_program(filename, text)
    return _checked_build(program, params)


def _checked_build(program: Program, params: Mapping[str, Any]) -> Network:
    try:
        run_checks(program)
    except SpecError as err:
        raise err.with_sources(program.sources) from None
    return build(program, params)
