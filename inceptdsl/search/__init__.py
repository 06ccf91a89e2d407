"""Searching a spec's design space with Optuna (the optional extra `inceptdsl[search]`):
`suggest(trial, space)` maps the sweep's space to Optuna distributions; `Search` prunes a
trial that breaks a static constraint before anything is built and records the static
metrics as user attributes; `inceptdsl search` runs trials on a shared study, with worker
processes here and on other machines (docs/search.md). Optuna is imported on first use."""

from __future__ import annotations

from .space import decode, distributions, suggest
from .study import Search, SearchResult

__all__ = ["Search", "SearchResult", "decode", "distributions", "suggest"]
