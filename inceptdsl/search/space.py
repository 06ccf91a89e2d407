"""A sweep's design space (inceptdsl/sweep/space.py) as Optuna distributions.

An evenly spaced int or float grid (`1:4`, `0.5:2.0:0.25`, `3,5`) becomes an ordered
`suggest_int` / `suggest_float(step=...)`, so that Optuna's samplers see the order; a
continuous range stays continuous (log-uniform for `LO:HI:log`); anything else (a geometric
grid, bools, strings, sizes) is a categorical choice. Sizes (32x32), which Optuna cannot store,
travel as their `--set` text and come back as tuples.
"""

from __future__ import annotations

from typing import Any

from ..sweep.space import Dimension, Space, shown

_EPS = 1e-9


def suggest(trial: Any, space: Space) -> dict[str, Any]:
    """The parameters of one point of `space`, asked of an Optuna `trial` (in space order)."""
    out: dict[str, Any] = {}
    for d in space.dims:
        kind, args = _plan(d)
        if kind == "float":
            out[d.name] = trial.suggest_float(d.name, args[0], args[1], log=d.log)
        elif kind == "float_step":
            v = trial.suggest_float(d.name, args[0], args[1], step=args[2])
            out[d.name] = round(v, 10)
        elif kind == "int":
            out[d.name] = trial.suggest_int(d.name, args[0], args[1], step=args[2])
        else:
            texts = [_text(v) for v in args]
            chosen = trial.suggest_categorical(d.name, texts)
            out[d.name] = args[texts.index(chosen)]
    return out


def distributions(space: Space) -> dict[str, Any]:
    """`{name: optuna distribution}` for every dimension, as `suggest` asks them: what
    `optuna.Study.ask(fixed_distributions)` and Ray Tune's `OptunaSearch(space=...)` take."""
    import optuna.distributions as od

    out: dict[str, Any] = {}
    for d in space.dims:
        kind, args = _plan(d)
        if kind == "float":
            out[d.name] = od.FloatDistribution(args[0], args[1], log=d.log)
        elif kind == "float_step":
            out[d.name] = od.FloatDistribution(args[0], args[1], step=args[2])
        elif kind == "int":
            out[d.name] = od.IntDistribution(args[0], args[1], step=args[2])
        else:
            out[d.name] = od.CategoricalDistribution([_text(v) for v in args])
    return out


def decode(space: Space, params: dict[str, Any]) -> dict[str, Any]:
    """A trial's stored parameters back as spec values (sizes from their text)."""
    out: dict[str, Any] = {}
    for d in space.dims:
        v = params[d.name]
        if isinstance(v, str) and d.values is not None:
            v = {_text(x): x for x in d.values}.get(v, v)
        elif isinstance(v, float) and d.values is not None:
            v = round(v, 10)
        out[d.name] = v
    return out


def _plan(d: Dimension) -> tuple[str, Any]:
    if d.values is None:
        return "float", (d.lo, d.hi)
    vals = d.values
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)
    if numeric and len(vals) >= 2 and list(vals) == sorted(vals):
        step = vals[1] - vals[0]
        even = all(abs((b - a) - step) <= _EPS * max(1.0, abs(step)) for a, b in _pairs(vals))
        if even and d.type == "int":
            return "int", (vals[0], vals[-1], step)
        if even and d.type == "float":
            return "float_step", (vals[0], vals[-1], step)
    return "choice", vals


def _pairs(vals: tuple[Any, ...]) -> list[tuple[Any, Any]]:
    return list(zip(vals, vals[1:], strict=False))


def _text(v: Any) -> Any:
    """A value Optuna can store as a categorical choice: sizes as text, the rest as is."""
    return shown(v) if isinstance(v, tuple) else v
