"""Design-space sweeps: evaluate many members of a parameterized network statically (params,
buffers, MACs, peak memory, depth), filter them by a constraint and find the Pareto front
(`inceptdsl sweep`, `inceptdsl.sweep.sweep`; docs/sweep.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import SpecError, SweepSpaceError
from .measure import Point
from .pareto import Objective, mark_front
from .result import SweepResult
from .space import Space, parse_space, set_line
from .where import LATENCY_METRICS, METRICS, metric_name, parse_constraint

__all__ = ["METRICS", "Objective", "Point", "Space", "SweepResult", "set_line", "sweep"]

MAX_SAMPLES = 1_000_000


def sweep(
    spec: str,
    params: Mapping[str, Any] | Sequence[str] = (),
    *,
    samples: int | None = None,
    seed: int = 0,
    where: str | None = None,
    objectives: Sequence[str] = ("macs", "params"),
    batch: int = 1,
    dtype: str = "float32",
    workers: int | None = 1,
    fixed: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    measure: str | None = None,
    runtime: str = "onnxruntime",
    measure_all: bool = False,
    latency_cache: str | None = None,
    repeats: int = 20,
    threads: int = 1,
) -> SweepResult:
    """Sweep the network of `spec` over `params` (`{"width": "0.5:2:0.25", "depth": [1, 2]}`
    or `["width=0.5:2:0.25", ...]` as on the command line): the grid, or `samples` points
    drawn with `seed`. `fixed` parameters hold for every point (as `--set`). `on_total` hears
    the number of points before any is measured; `progress` the number measured since.
    `measure="latency"` times the front's points (every feasible point with `measure_all`, or
    when `latency` is an objective) with `runtime` at `batch` (latency.py)."""
    from ..check import run_checks
    from ..front.loader import load_program
    from ..lower import network_decl, network_params

    program = load_program(str(spec))
    try:
        run_checks(program)
        decl = network_decl(program)
    except SpecError as err:
        raise err.with_sources(program.sources) from None
    declared = network_params(decl, program.root)
    items = param_items(params)
    space = parse_space(items, decl.name, declared, program.root.source.path)
    if not space.dims:
        raise SweepSpaceError(
            "the design space has no dimension: nothing to sweep",
            path=program.root.source.path,
            hint="give one --param NAME=RANGE or NAME=A,B,... per dimension; the network's "
            f"parameters are: {', '.join(p.name for p in declared) or 'none'}",
        )
    fixed = dict(fixed or {})
    clash = sorted(set(fixed) & {d.name for d in space.dims})
    if clash:
        raise SweepSpaceError(
            f"`{clash[0]}` is both swept (--param) and fixed (--set)",
            path=program.root.source.path,
        )
    for d in space.dims:
        if d.name in METRICS:
            raise SweepSpaceError(
                f"parameter `{d.name}` has the name of a metric: sweeping it would make "
                f"`{d.name}` in --where and in the columns ambiguous",
                path=program.root.source.path,
                hint=f"rename the network parameter (the metrics are: {', '.join(METRICS)})",
            )
    numeric = [d.name for d in space.dims if d.type in ("int", "float")]
    names = [*METRICS, *numeric]
    if measure not in (None, "latency"):
        raise SweepSpaceError(f"--measure {measure!r}: the measured metric is `latency`")
    timed = [*names, *LATENCY_METRICS] if measure else names
    objs = [_objective(o, timed) for o in objectives]
    constraint = parse_constraint(where, names) if where is not None else None
    if samples is not None:
        if not 1 <= samples <= MAX_SAMPLES:
            raise SweepSpaceError(
                f"--samples must be 1 to {MAX_SAMPLES:,}, got {samples}",
                path=program.root.source.path,
                hint="the number of points to draw",
            )
        points = space.sample(samples, seed)
        mode = "random"
    else:
        points = list(space.grid())
        mode = "grid"
    if fixed:
        check_fixed(program, decl.name, declared, fixed)
    from .run import evaluate

    full = [{**p, **fixed} for p in points]
    if on_total is not None:
        on_total(len(full))
    slab = len(points) // len(space.dims[0].values or (0,)) if mode == "grid" else None
    measured, interrupted = evaluate(program, full, batch, dtype, workers, progress, slab)
    for m in measured:  # the table shows the swept parameters; --set ones are in `meta`
        m.params = dict(points[m.index])
    for m in measured:
        if m.error is None and constraint is not None:
            m.feasible = constraint.holds({**m.metrics, **m.params})
    static_objs = [o for o in objs if o.name not in LATENCY_METRICS]
    mark_front(measured, static_objs)
    if measure:
        by_latency = len(static_objs) < len(objs)
        targets = [
            m
            for m in measured
            if m.error is None and m.feasible and (m.front or measure_all or by_latency)
        ]
        _time_points(
            program, str(spec), targets, fixed, runtime, batch, latency_cache, repeats, threads
        )
        if by_latency:  # the front among the timed points, over every objective
            for m in measured:
                m.front = False
            mark_front(targets, objs)
    decl_net = decl.name
    return SweepResult(
        spec=str(spec),
        network=decl_net,
        space=space,
        points=measured,
        objectives=objs,
        where=where,
        batch=batch,
        dtype=dtype,
        mode=mode,
        seed=seed if mode == "random" else None,
        interrupted=interrupted,
        planned=len(points),
        meta={"fixed": fixed},
    )


def _time_points(
    program: Any,
    spec: str,
    targets: list[Point],
    fixed: Mapping[str, Any],
    runtime: str,
    batch: int,
    cache: str | None,
    repeats: int,
    threads: int,
) -> None:
    from ..network import build
    from .latency import measure_latency

    full = [{**m.params, **fixed} for m in targets]
    graphs = [build(program, p).graph for p in full]
    for m, t in zip(
        targets,
        measure_latency(spec, full, graphs, runtime, batch, threads, repeats, cache=cache),
        strict=True,
    ):
        m.metrics["latency"] = t.median_ms
        m.metrics["latency_spread"] = t.spread_ms


def param_items(params: Mapping[str, Any] | Sequence[str]) -> list[str]:
    if not isinstance(params, Mapping):
        return list(params)
    out = []
    for k, v in params.items():
        if isinstance(v, str):
            out.append(f"{k}={v}")
        else:
            out.append(f"{k}=" + ",".join(_choice_text(x) for x in v))
    return out


def _choice_text(v: Any) -> str:
    from .space import shown

    return shown(v)


def _objective(text: str, names: Sequence[str]) -> Objective:
    t = text.strip()
    maximize = t.startswith("max:")
    t = t.removeprefix("max:").removeprefix("min:")
    return Objective(metric_name(t, names, "--objectives"), maximize)


def check_fixed(program: Any, name: str, declared: Sequence[Any], fixed: Mapping[str, Any]) -> None:
    from ..lower import bind_network_params, network_decl

    try:
        bind_network_params(
            network_decl(program), fixed, None, tuple(declared), program.root.functions
        )
    except SpecError as err:
        raise err.with_sources(program.sources) from None
