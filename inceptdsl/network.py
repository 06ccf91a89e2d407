"""The public Network object: a loaded, checked, lowered spec and what can be done with it."""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

from .check import run_checks
from .errors import SpecError, SpecWarning
from .front.loader import Program, load_program
from .front.source import Span
from .ir import info
from .lower import Expectation, lower
from .middle.members import with_member

if TYPE_CHECKING:
    from .diff import Diff
    from .expect import Verification
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
    warnings: list[SpecWarning] = field(default_factory=list)
    """What lowering found legal but probably unintended (docs/errors.md, Warnings)."""
    _reports: dict[tuple[int, str], Report] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return info(self.graph).name

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return info(self.graph).input_shape

    @property
    def path(self) -> str:
        return self.program.root.source.path

    def report(self, batch: int = 1, dtype: str = "float32", depth: int | None = 1) -> Report:
        """Per-layer and total counts; memory figures at `batch` samples of `dtype`; shown
        (print, a notebook cell) with blocks aggregated to `depth` levels (None: every layer)."""
        from dataclasses import replace

        from .report import build_report

        key = (batch, dtype)
        if key not in self._reports:  # the graph never changes: `expect`s share one report
            self._reports[key] = build_report(self.graph, batch, dtype)
        rep = self._reports[key]
        return rep if depth == rep.depth else replace(rep, depth=depth)

    def verify(self) -> Verification:
        """The results of the spec's `expect` declarations (a sequence of ExpectResult)."""
        from .expect import verify

        return verify(self)

    def diff(self, other: Network, depth: int = 1, renames: dict[str, str] | None = None) -> Diff:
        """What changes from this network to `other`, block by block (`inceptdsl diff`);
        `renames` maps this network's paths to the other's."""
        from .diff import diff_graphs

        return diff_graphs(self.graph, other.graph, depth, self.path, other.path, renames)

    def with_params(self, _span: Span | None = None, **overrides: Any) -> Network:
        """The same spec rebuilt with some network parameters changed (defaults that depend on
        other parameters are recomputed: only the caller's overrides are carried over)."""
        return build(self.program, {**self.overrides, **overrides}, _span)

    def optimized(self, target: Target | None = None, skip: tuple[str, ...] = ()) -> Optimized:
        """The eval-only optimized graph, its weight map and the passes' notes
        (inceptdsl.optimize; `skip` leaves passes out)."""
        from .optimize import optimize

        return optimize(self.graph, target, skip)

    def to_torch(
        self, weights_from: Any = None, strict: bool = True, optimize: bool = False, **options: Any
    ) -> Any:
        """The torch nn.Module; `weights_from` is a torch module or state_dict or a Keras
        model, which must fit exactly unless `strict=False` (then what does not fit is
        reported in `model.not_transferred`). With `optimize`, the eval-only optimized model
        with the weights of `weights_from` carried over, on the fastest path this machine has
        (oneDNN, else channels_last; its repr says which); options: `onednn`, `channels_last`
        (True forces a path, False rules it out), `skip`, `target`, `dtype`:
        docs/optimize.md."""
        from .backend import get

        if optimize:
            if not strict:
                raise ValueError("an optimized model takes its weights strictly: strict=False")
            return get("torch").build_optimized(self.graph, weights_from, **options)
        if options:
            raise TypeError(f"options {sorted(options)} go with optimize=True")
        return get("torch").build(self.graph, weights_from, strict=strict)

    def to_keras(
        self,
        weights_from: Any = None,
        training: bool = False,
        strict: bool = True,
        optimize: bool = False,
        **options: Any,
    ) -> Any:
        """The Keras inference model, or with `training` the training model that also outputs
        the aux heads (`model.loss_weights` holds the spec's loss weights for `compile`); with
        `optimize`, the eval-only optimized inference model (docs/optimize.md)."""
        from .backend import get

        if optimize:
            if training or not strict:
                raise ValueError(
                    "an optimized model is eval-only and takes its weights strictly: "
                    "optimize=True with training=True or strict=False"
                )
            return get("keras").build_optimized(self.graph, weights_from, **options)
        if options:
            raise TypeError(f"options {sorted(options)} go with optimize=True")
        return get("keras").build(self.graph, weights_from, training=training, strict=strict)

    def diagram(self, depth: int | None = None, fmt: str = "svg") -> str:
        """The network drawn as the papers draw it: `svg`, `html`, `dot` or `mermaid` text."""
        from .draw import render

        return render(self.graph, fmt, depth)

    def __repr__(self) -> str:
        rep = self.report()
        shape = "x".join(map(str, self.input_shape))
        return (
            f"<Network {self.name}: input {shape}, {rep.params:,} params, {rep.macs:,} MACs, "
            f"{len(self.graph)} nodes>"
        )

    def _repr_html_(self) -> str:
        from .present.html import network_html

        return network_html(self)

    def emit(self, backend: str, optimize: bool = False) -> str | bytes:
        """Standalone source (or an ONNX file) of the network, or of its optimized graph."""
        from .backend import get

        b = get(backend)
        if not optimize:
            return b.emit(self.graph)
        if b.weights_in_file:  # onnx: the folded initial weights
            return b.emit_optimized(self.graph)
        from .optimize import Target

        # the backend's layout, as `compile --optimize` chooses
        return b.emit(self.optimized(Target(layout=b.optimize_layout)).graph)  # type: ignore[arg-type]


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
        info(lowered.graph).params,
        lowered.expects,
        lowered.labels,
        dict(overrides),
        lowered.warnings,
    )


def load(path: str, /, **params: Any) -> Network:
    """Load the spec at `path` (imports resolved relative to it) with parameter overrides.
    `path` may also name a bundled network (`inception_v3`) or a bundled family's member
    (`efficientnet_b3` is `efficientnet` with variant="b3"; middle/members.py), as on the
    command line. `path` is positional-only, so a spec parameter may be called `path`."""
    path, params = with_member(str(path), params)
    program = load_program(path)
    return _checked_build(program, params)


def load_to_verify(path: str, /, **params: Any) -> Network:
    """`load` for `verify`: the `with` variants of the spec's expectations outside any `if` are
    charged their least size (expect.precharge) before the network itself is built, so that too
    many or too large variants stop at once rather than after building the network."""
    path, params = with_member(str(path), params)
    program = load_program(path)
    return _checked_build(program, params, verifying=True)


def loads(text: str, /, filename: str = "<string>.incept", **params: Any) -> Network:
    """Load spec text; `filename` is shown in errors and anchors relative imports."""
    program = load_program(filename, text)
    return _checked_build(program, params)


def _checked_build(program: Program, params: Mapping[str, Any], verifying: bool = False) -> Network:
    try:
        run_checks(program)
        if verifying:
            from .expect import certain_expects, precharge

            precharge(program, params, certain_expects(program))
    except SpecError as err:
        raise err.with_sources(program.sources) from None
    return build(program, params)
