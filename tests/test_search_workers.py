"""Worker processes sharing one study through a storage, for real, each test on a SQLite
database and on a journal file: two `inceptdsl search` processes (and one with --workers 2)
record every trial once, with the metrics of its own point; two workers with a training
function each train distinct trials, every trained trial recorded once; a worker killed
(SIGKILL) mid-trial has its trial marked failed (SQLite: by the heartbeat; journal: by its
free lock) and retried with the same parameters, and the study still finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import ROOT
from optuna.trial import TrialState

import inceptdsl
from inceptdsl.search import Search, decode
from inceptdsl.search.journal import LOCK_ATTR
from inceptdsl.search.storage import open_storage
from inceptdsl.search.workers import Job, create

FAMILY = str(ROOT / "tests" / "fixtures" / "sweep" / "family.incept")
WORKER = str(ROOT / "tests" / "fixtures" / "search" / "worker.py")
SPACE = ["width=0.5:2.0:0.25", "depth=1:3", "k=1,3"]
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
optuna.logging.set_verbosity(optuna.logging.WARNING)


def _cli(url: str, *extra: str) -> list[str]:
    args = [sys.executable, "-m", "inceptdsl", "search", FAMILY, "--storage", url]
    for p in SPACE:
        args += ["--param", p]
    return [*args, "--where", "macs <= 1M", "--objectives", "macs,max:params", *extra]


@pytest.fixture(params=["sqlite", "journal"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The study's storage: a SQLite database or a journal file (absolute paths)."""
    return f"{request.param}:///{tmp_path / 'study'}.{'db' if request.param == 'sqlite' else 'log'}"


def _study(url: str, study: str = "inceptdsl") -> optuna.Study:
    return optuna.load_study(study_name=study, storage=open_storage(url))


def _trials(url: str, study: str = "inceptdsl") -> list[optuna.trial.FrozenTrial]:
    return _study(url, study).get_trials()


def _check_recorded_once(trials: list[optuna.trial.FrozenTrial], n: int, workers: int) -> None:
    states = Counter(t.state for t in trials)
    finished = states[TrialState.COMPLETE] + states[TrialState.PRUNED]
    # each worker stops once the study holds n finished trials: at most one more each
    assert n <= finished <= n + workers - 1, states
    assert finished == len(trials), states  # nothing left running, failed or waiting
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(len(trials)))
    space = Search(FAMILY, SPACE).space
    for t in trials:  # each trial holds the metrics of its own point
        rep = inceptdsl.load(FAMILY, **decode(space, t.params)).report()
        assert (t.user_attrs["params"], t.user_attrs["macs"]) == (rep.params, rep.macs)
        assert (t.state == TrialState.PRUNED) == (rep.macs > 1_000_000)
        if t.state == TrialState.COMPLETE:
            assert t.values == [rep.macs, rep.params]


def test_two_search_processes_share_one_study(tmp_path: Path, url: str) -> None:
    procs = [
        subprocess.Popen(
            _cli(url, "--trials", "20", "--seed", str(i)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for i in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    trials = _trials(url)
    _check_recorded_once(trials, 20, 2)
    by_worker = Counter(t.user_attrs["worker"] for t in trials)
    assert len(by_worker) == 2, by_worker  # both processes ran trials of the one study


def test_workers_option_starts_worker_processes(tmp_path: Path, url: str) -> None:
    out = tmp_path / "trials.csv"
    p = subprocess.run(
        [*_cli(url, "--trials", "16", "--workers", "2"), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    trials = _trials(url)
    _check_recorded_once(trials, 16, 2)
    workers = Counter(t.user_attrs["worker"] for t in trials)
    assert len(workers) == 2 and str(os.getpid()) not in " ".join(workers), workers
    assert len(out.read_text().splitlines()) == len(trials) + 1


def _job(tmp: Path, url: str, trials: int, **kw: Any) -> Path:
    job = {
        "spec": FAMILY,
        "params": SPACE,
        "objectives": ["max:score"],
        "trials": trials,
        "study": "trained",
        "storage": url,
        "train": "stand-in",
        "heartbeat": 1,
        "grace": 2,
        "delay": 0.05,
        "hang": None,
        "log": str(tmp / "trained.log"),
        **kw,
    }
    path = tmp / f"job{len(list(tmp.glob('job*.json')))}.json"
    path.write_text(json.dumps(job))
    return path


def _create(url: str) -> None:
    search = Search(FAMILY, SPACE)
    create(Job(FAMILY, tuple(SPACE), ("max:score",), 1, "trained", url), search, ("score",))


def _log(tmp: Path) -> list[tuple[int, int, float]]:
    lines = (tmp / "trained.log").read_text().split("\n")
    return [(int(a), int(b), float(c)) for a, b, c in (x.split() for x in lines if x)]


def test_two_training_workers_record_every_trained_trial_once(tmp_path: Path, url: str) -> None:
    _create(url)
    job = _job(tmp_path, url, 16)
    procs = [subprocess.Popen([sys.executable, WORKER, str(job), str(i)]) for i in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    trials = _trials(url, "trained")
    done = {t.number: t for t in trials if t.state == TrialState.COMPLETE}
    assert 16 <= len(done) <= 17 and all(t.state == TrialState.COMPLETE for t in trials)
    log = _log(tmp_path)
    repeats = {n: t.user_attrs["repeat_of"] for n, t in done.items() if "repeat_of" in t.user_attrs}
    trained = [n for n in done if n not in repeats]
    assert Counter(n for _, n, _ in log) == Counter(trained)  # each trained once, all recorded
    for _, n, score in log:
        assert done[n].values == [score] and done[n].user_attrs["score"] == score
    for n, first in repeats.items():  # a point trained before is not trained again
        assert done[n].params == done[first].params and first in trained
        assert done[n].values == done[first].values
    assert len({pid for pid, _, _ in log}) == 2


def test_a_killed_worker_trial_is_failed_and_retried(tmp_path: Path, url: str) -> None:
    _create(url)
    hang = tmp_path / "hanging"
    doomed = subprocess.Popen(
        [sys.executable, WORKER, str(_job(tmp_path, url, 8, hang=str(hang))), "0"]
    )
    deadline = time.monotonic() + 120
    while not hang.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.2)
    killed = int(hang.read_text())
    running = [t for t in _trials(url, "trained") if t.state == TrialState.RUNNING]
    assert [t.number for t in running] == [killed]
    if url.startswith("journal"):  # the trial names its worker's lock
        assert running[0].system_attrs[LOCK_ATTR]["trial"] == killed
    os.kill(doomed.pid, signal.SIGKILL)
    assert doomed.wait(timeout=60) == -signal.SIGKILL
    if url.startswith("sqlite"):
        time.sleep(3)  # past the grace period (2 s) without a heartbeat
    # (journal: the lock is free as soon as the process is gone, no wait)
    rest = subprocess.run(
        [sys.executable, WORKER, str(_job(tmp_path, url, 8)), "1"], timeout=300, check=False
    )
    assert rest.returncode == 0
    trials = {t.number: t for t in _trials(url, "trained")}
    assert trials[killed].state == TrialState.FAIL
    retries = [t for t in trials.values() if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1  # queued again once, with the same point
    assert retries[0].state == TrialState.COMPLETE
    assert retries[0].params == trials[killed].params
    states = Counter(t.state for t in trials.values())
    assert states[TrialState.COMPLETE] == 8 and states[TrialState.FAIL] == 1
    assert sum(states.values()) == 9  # nothing left running
    res = Search(FAMILY, SPACE).result(
        _study(url, "trained"),
        Search(FAMILY, SPACE).objectives(["max:score"], ("score",)),
    )
    (failed,) = [p for p in res.points if p.code == "FAIL"]
    assert failed.index == killed and "no heartbeat" in (failed.error or "")
