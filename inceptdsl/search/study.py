"""One spec's design space as an Optuna objective: `Search.suggest(trial)` asks the trial for
a point, measures it statically (params, MACs, memory, ... as user attributes) and prunes it,
before anything is built or trained, when it breaks the `--where` constraint or does not
lower (its located error kept as an attribute). `Search.result(study)` turns the study's
trials into the sweep's result (table, CSV, JSON, HTML page with the front).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError, SweepSpaceError
from ..sweep.measure import Point, measure
from ..sweep.pareto import Objective, mark_front
from ..sweep.result import SweepResult
from ..sweep.space import Space, parse_space
from ..sweep.where import METRICS, metric_name, parse_constraint
from .space import decode


class Search:
    """The design space of `spec` given by `params` (`["width=0.5:2:0.25", ...]` or
    `{"width": "0.5:2:0.25", "depth": [1, 2]}`, as `sweep`), with `fixed` parameters set on
    every point and an optional constraint `where` over the static metrics."""

    def __init__(
        self,
        spec: str,
        params: Mapping[str, Any] | Sequence[str],
        *,
        where: str | None = None,
        fixed: Mapping[str, Any] | None = None,
        batch: int = 1,
        dtype: str = "float32",
    ) -> None:
        from ..check import run_checks
        from ..front.loader import load_program
        from ..lower import network_decl, network_params
        from ..sweep import check_fixed, param_items

        self.spec = str(spec)
        self.program = load_program(self.spec)
        try:
            run_checks(self.program)
            decl = network_decl(self.program)
        except SpecError as err:
            raise err.with_sources(self.program.sources) from None
        self.network_name = decl.name
        declared = network_params(decl, self.program.root)
        path = self.program.root.source.path
        self.space: Space = parse_space(param_items(params), decl.name, declared, path)
        if not self.space.dims:
            raise SweepSpaceError(
                "the design space has no dimension: nothing to search",
                path=path,
                hint="give one --param NAME=RANGE or NAME=A,B,... per dimension; the network's "
                f"parameters are: {', '.join(p.name for p in declared) or 'none'}",
            )
        self.fixed = dict(fixed or {})
        for d in self.space.dims:
            if d.name in self.fixed:
                raise SweepSpaceError(
                    f"`{d.name}` is both searched (--param) and fixed (--set)", path=path
                )
            if d.name in METRICS:
                raise SweepSpaceError(f"parameter `{d.name}` has the name of a metric", path=path)
        if self.fixed:
            check_fixed(self.program, decl.name, declared, self.fixed)
        self.numeric = [d.name for d in self.space.dims if d.type in ("int", "float")]
        self.where = where
        self.constraint = (
            parse_constraint(where, [*METRICS, *self.numeric]) if where is not None else None
        )
        self.batch, self.dtype = batch, dtype

    def suggest(self, trial: Any) -> dict[str, Any]:
        """The trial's point (the swept parameters). Its static metrics become user
        attributes; a point that does not lower or breaks the constraint is pruned
        (optuna.TrialPruned) with attribute `error` (its code and message) or
        `feasible=False`."""
        return self.evaluate(trial)[0]

    def evaluate(self, trial: Any) -> tuple[dict[str, Any], dict[str, float]]:
        """`suggest`, also returning the point's static metrics."""
        import optuna

        from .space import suggest as ask

        params = ask(trial, self.space)
        point = measure(
            self.program, trial.number, {**params, **self.fixed}, self.batch, self.dtype
        )
        if point.error is not None:
            trial.set_user_attr("error", point.code)
            trial.set_user_attr("message", point.error)
            raise optuna.TrialPruned(f"the point does not lower: {point.code}")
        for k, v in point.metrics.items():
            trial.set_user_attr(k, v)
        if self.constraint is not None and not self.constraint.holds({**point.metrics, **params}):
            trial.set_user_attr("feasible", False)
            raise optuna.TrialPruned(f"breaks --where {self.where}")
        return params, point.metrics

    def measure(self, params: Mapping[str, Any]) -> tuple[dict[str, float], bool]:
        """The static metrics of a point and whether it meets the constraint (`({}, False)`
        when it does not lower), for tools without a pruned state (Ray Tune)."""
        point = measure(self.program, 0, {**params, **self.fixed}, self.batch, self.dtype)
        if point.error is not None:
            return {}, False
        ok = self.constraint is None or self.constraint.holds({**point.metrics, **params})
        return point.metrics, ok

    def network(self, params: Mapping[str, Any]) -> Any:
        """The Network of a point (`.to_torch()`, `.report()`, ...), fixed parameters set."""
        from ..network import build

        return build(self.program, {**params, **self.fixed})

    def objectives(self, texts: Sequence[str], measured: Sequence[str] = ()) -> list[Objective]:
        """`["max:accuracy", "macs"]` as Objectives; names are the static metrics, the
        numeric parameters and `measured` (what the trial's function returns)."""
        names = [*METRICS, *self.numeric, *measured]
        out = []
        for t in texts:
            t = t.strip()
            maximize = t.startswith("max:")
            name = t.removeprefix("max:").removeprefix("min:")
            try:
                out.append(Objective(metric_name(name, names, "--objectives"), maximize))
            except SpecError as err:
                if not measured and err.hint and "did you mean" not in err.hint:
                    # the name may be what a trainer measures (accuracy): none was given
                    err.hint += "; a measured metric (accuracy) needs a trainer: --train NAME"
                raise
        return out

    def result(self, study: Any, objectives: Sequence[Objective], planned: int = 0) -> SearchResult:
        """The study's finished trials as a sweep result: completed and pruned ones with their
        metrics, failed ones with why; the front over `objectives` among the completed.
        `planned`: the --trials the study was run for (0: not said)."""
        from optuna.trial import TrialState

        points: list[Point] = []
        extra: list[str] = []
        retried = repeats = 0
        for t in study.get_trials(deepcopy=False):
            if t.state not in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL):
                continue
            attrs = dict(t.user_attrs)
            retried += "failed_trial" in t.system_attrs
            repeats += t.state == TrialState.COMPLETE and "repeat_of" in attrs
            p = Point(t.number, decode(self.space, t.params) if _has(self.space, t) else {})
            p.metrics = {k: v for k, v in attrs.items() if _is_metric(k, v)}
            for k in p.metrics:
                if k not in METRICS and k not in extra:
                    extra.append(k)
            if t.state == TrialState.FAIL:
                p.code = "FAIL"
                p.error = str(attrs.get("failure") or _failure(t))
            elif "error" in attrs:
                p.code, p.error = str(attrs["error"]), str(attrs.get("message", ""))
            elif t.state == TrialState.PRUNED:
                p.feasible = False
            points.append(p)
        ok = [p for p in points if p.error is None and p.feasible]
        mark_front(
            [p for p in ok if all(o.name in p.metrics or o.name in p.params for o in objectives)],
            objectives,
        )
        return SearchResult(
            spec=self.spec,
            network=self.network_name,
            space=self.space,
            points=points,
            objectives=list(objectives),
            where=self.where,
            batch=self.batch,
            dtype=self.dtype,
            mode="search",
            planned=planned,
            meta={"fixed": self.fixed, "study": study.study_name},
            extra_metrics=sorted(extra),
            retried=retried,
            repeats=repeats,
        )


@dataclass
class SearchResult(SweepResult):
    """A sweep result whose points are a study's trials, with the metrics the trials measured
    (accuracy, ...) next to the static ones."""

    extra_metrics: list[str] | None = None

    @property
    def metric_names(self) -> list[str]:
        return [*(self.extra_metrics or ()), *super().metric_names]

    def table_columns(self) -> list[str]:
        return [*(self.extra_metrics or ()), *super().table_columns()]

    unit = "trial"
    failed_title = "Trials that did not lower or failed"

    @property
    def title(self) -> str:
        study = self.meta.get("study")
        return f"search of {self.network}" + (f', study "{study}"' if study else "")

    retried: int = 0
    """Trials that retry a failed one (a dead worker's, queued again by the heartbeat)."""
    repeats: int = 0
    """Completed trials that reused an earlier trial's result (the same point, trained)."""

    def summary(self) -> str:
        """What the trials are, by state, and how many finished against `--trials` (a worker
        finishes the trial it is running when the study fills: up to one more each)."""
        completed = [p for p in self.ok if p.feasible]
        excluded = sum(1 for p in self.ok if not p.feasible)
        unlowered = sum(1 for p in self.failed if p.code != "FAIL")
        failed = sum(1 for p in self.failed if p.code == "FAIL")
        parts = [f"{len(completed)} completed"]
        if self.repeats:
            parts[0] += f" ({self.repeats} reusing an earlier trial's result)"
        if self.where is not None or excluded:
            parts.append(f"{excluded} pruned by `{self.where}`")
        if unlowered:
            verb = "it does" if unlowered == 1 else "they do"
            parts.append(f"{unlowered} pruned as {verb} not lower")
        parts.append(f"{failed} failed")
        if self.retried:
            parts[-1] += f" ({self.retried} retried)"
        finished = len(completed) + excluded + unlowered
        text = f"{self.network}: {len(self.points)} trials: {', '.join(parts)}"
        if self.planned:
            text += f"; {finished} finished for --trials {self.planned}"
            if finished > self.planned:
                text += " (each worker ends the trial it started before the study filled)"
            elif finished < self.planned:
                text += " (the study is not done)"
        objectives = ", ".join(map(str, self.objectives))
        return f"{text}; {len(self.front)} on the front of {objectives}"


def _has(space: Space, trial: Any) -> bool:
    return all(d.name in trial.params for d in space.dims)


NOT_METRICS = frozenset({"feasible", "repeat_of"})
"""Numeric user attributes that are not measurements."""


def _is_metric(key: str, v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and key not in NOT_METRICS


def _failure(trial: Any) -> str:
    if trial.system_attrs.get("fail_reason"):
        return f"the trial failed: {trial.system_attrs['fail_reason']}"
    return "the trial failed: its worker stopped (no heartbeat) or raised"
