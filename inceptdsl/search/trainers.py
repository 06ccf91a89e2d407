"""Trial functions that train, found by name in the `inceptdsl.trainers` entry-point group
(as backends are: the core never imports a framework). The bundled `digits` (backends/torch/
train.py) trains a point on scikit-learn's digits and returns its validation and test
accuracy. A trainer is a callable `(network, options) -> {metric: value}` with a `metrics`
attribute naming what it returns."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from ..errors import UsageError
from ..names import did_you_mean

GROUP = "inceptdsl.trainers"


def names() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def load(name: str) -> Any:
    """The trainer called `name`, or a usage error listing those installed."""
    eps = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not eps:
        known = names()
        raise UsageError(
            f"--train {name}: no such trainer",
            hint=did_you_mean(name, known) or f"the trainers are: {', '.join(known) or 'none'}",
        )
    try:
        return eps[0].load()
    except ImportError as err:
        raise UsageError(
            f"--train {name}: it needs a package that is not installed ({err.name or err})",
            hint="pip install 'inceptdsl[search,torch]'",
        ) from None
