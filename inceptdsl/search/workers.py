"""Running a search: worker processes sharing one Optuna study through its storage.

Each worker (a process of its own, started with `spawn`: no inherited database connection or
framework thread pool) loads the study and asks for trials until the study holds `trials`
finished ones (completed or pruned, counted over every worker: Optuna's MaxTrialsCallback),
so workers on other machines running the same command share the work. A trial whose
trainer raises is marked FAIL (its reason kept as the attribute `failure`) and the worker
goes on (up to ATTEMPTS x trials of its own); one whose worker dies is failed and retried
by the heartbeat (storage.py).
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..errors import StudyStorageError

MAX_WORKERS = 64
ATTEMPTS = 2
"""A worker stops after ATTEMPTS x --trials trials of its own, whatever failed: a trainer that
always raises ends the search instead of looping."""


@dataclass(frozen=True)
class Job:
    """What every worker needs, picklable: the search, the study and the trial function."""

    spec: str
    params: tuple[str, ...]
    objectives: tuple[str, ...]
    trials: int
    study: str
    storage: str | None = None
    where: str | None = None
    fixed: dict[str, Any] = field(default_factory=dict)
    train: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    heartbeat: int | None = None
    grace: int | None = None


def directions(search: Any, job: Job, measured: tuple[str, ...]) -> list[Any]:
    return [
        "maximize" if o.maximize else "minimize"
        for o in search.objectives(job.objectives, measured)
    ]


def create(job: Job, search: Any, measured: tuple[str, ...]) -> Any:
    """The study (created, or loaded when it exists and holds the same search), or E703."""
    import optuna

    storage = _storage(job) if job.storage else None
    tag = {
        "spec": os.path.abspath(job.spec),
        "space": [d.describe() for d in search.space.dims],
        "objectives": list(job.objectives),
        "where": job.where,
        "fixed": {k: str(v) for k, v in sorted(job.fixed.items())},
    }
    try:
        study = optuna.create_study(
            study_name=job.study,
            storage=storage,
            directions=directions(search, job, measured),
            load_if_exists=True,
        )
    except ValueError as err:  # an existing study with other directions
        raise StudyStorageError(
            f"study `{job.study}` exists with other objectives: {err}",
            hint="name another study with --study",
        ) from None
    old = study.user_attrs.get("inceptdsl")
    if old is None:
        study.set_user_attr("inceptdsl", tag)
    elif old != tag:
        raise StudyStorageError(
            f"study `{job.study}` in this storage holds another search ({old.get('spec')}, "
            f"{', '.join(old.get('space', []))})",
            hint="name another study with --study, or repeat that search's options",
        )
    return study


def run(job: Job, workers: int) -> Any:
    """Run the study with `workers` processes (1: in this process); the study, finished."""
    import optuna

    from . import Search, trainers

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    search = Search(job.spec, job.params, where=job.where, fixed=job.fixed)
    measured: tuple[str, ...] = ()
    if job.train:
        measured = tuple(trainers.load(job.train).metrics)
    study = create(job, search, measured)
    if workers <= 1:
        work(job, 0, study)
        return study
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=work, args=(job, i), daemon=True) for i in range(workers)]
    try:
        for p in procs:
            p.start()
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join()
    return study


def work(job: Job, index: int, study: Any = None) -> None:
    """One worker: trials until the study holds `job.trials` finished ones."""
    import optuna
    from optuna.trial import TrialState

    from . import Search, trainers

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    search = Search(job.spec, job.params, where=job.where, fixed=job.fixed)
    trainer = trainers.load(job.train) if job.train else None
    measured = tuple(trainer.metrics) if trainer is not None else ()
    objectives = search.objectives(job.objectives, measured)
    sampler = optuna.samplers.TPESampler(seed=job.seed + index, multivariate=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if study is None:
            study = optuna.load_study(study_name=job.study, storage=_storage(job), sampler=sampler)
        else:
            study.sampler = sampler

    worker = f"{socket.gethostname()}:{os.getpid()}"

    def objective(trial: Any) -> Any:
        trial.set_user_attr("worker", worker)
        params, metrics = search.evaluate(trial)
        values = dict(metrics)
        if trainer is not None:
            # the trainer is seeded: a point trained before gives the same numbers again
            earlier = _trained(study, trial.params, trainer.metrics)
            if earlier is not None:
                trial.set_user_attr("repeat_of", earlier.number)
            try:
                if earlier is not None:
                    got = {k: earlier.user_attrs[k] for k in trainer.metrics}
                else:
                    options = {**job.options, "seed": job.seed, "trial": trial.number}
                    got = trainer(search.network(params), options)
            except Exception as err:
                trial.set_user_attr("failure", f"{type(err).__name__}: {err}"[:500])
                raise
            for k, v in got.items():
                trial.set_user_attr(k, v)
            values.update(got)
        out = [float(values[o.name] if o.name in values else params[o.name]) for o in objectives]
        return out if len(out) > 1 else out[0]

    done = optuna.study.MaxTrialsCallback(
        job.trials, states=(TrialState.COMPLETE, TrialState.PRUNED)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if _finished(study) < job.trials:
            study.optimize(
                objective, n_trials=ATTEMPTS * job.trials, callbacks=[done], catch=(Exception,)
            )


def _trained(study: Any, params: dict[str, Any], metrics: Any) -> Any:
    """A completed trial of the same point with every trainer metric, if there is one."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if t.params == params and all(k in t.user_attrs for k in metrics):
            return t
    return None


def _finished(study: Any) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def _storage(job: Job) -> Any:
    from .storage import GRACE, HEARTBEAT, open_storage

    assert job.storage is not None
    return open_storage(job.storage, job.heartbeat or HEARTBEAT, job.grace or GRACE)
