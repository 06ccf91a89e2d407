"""`inceptdsl.search` in one process: the sweep's space as Optuna distributions, pruning by a
static constraint before the trial's function builds anything, static metrics as user
attributes (equal to the report of the same network), the study as a sweep result, and the
command's errors (an unreachable storage, --workers without a storage, a study holding
another search). The worker processes are tested in test_search_workers.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import ROOT

import inceptdsl
from inceptdsl.cli import main
from inceptdsl.errors import ConstraintError, StudyStorageError, SweepSpaceError
from inceptdsl.search import Search, decode, distributions, suggest
from inceptdsl.search.storage import open_storage, shown_url
from inceptdsl.sweep.pareto import Objective

FAMILY = str(ROOT / "tests" / "fixtures" / "sweep" / "family.incept")
optuna.logging.set_verbosity(optuna.logging.WARNING)


def _study(**kw: Any) -> optuna.Study:
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), **kw)


def test_each_kind_of_dimension_maps_to_its_distribution() -> None:
    s = Search(
        FAMILY,
        [
            "width=0.5:1.5:0.25",  # an even float grid: ordered, stepped
            "depth=1:4",  # every int: ordered
            "k=3,5",  # an even int choice: ordered too
            "image_size=8:32:x2",  # geometric: a choice
            "variant=plain,bottleneck",
            "wide_stem=true,false",
        ],
    )
    d = distributions(s.space)
    od = optuna.distributions
    assert d["width"] == od.FloatDistribution(0.5, 1.5, step=0.25)
    assert d["depth"] == od.IntDistribution(1, 4, step=1)
    assert d["k"] == od.IntDistribution(3, 5, step=2)
    assert d["image_size"] == od.CategoricalDistribution([8, 16, 32])
    assert d["variant"] == od.CategoricalDistribution(["plain", "bottleneck"])
    assert d["wide_stem"] == od.CategoricalDistribution([True, False])
    cont = Search(FAMILY, ["width=0.1:2.0:log"])
    assert distributions(cont.space)["width"] == od.FloatDistribution(0.1, 2.0, log=True)
    # every suggested point lies in the sweep's grid, and `ask` with the distributions
    # (what Ray Tune's OptunaSearch does) gives the same kind of point
    study = _study()
    grid = {d.name: set(d.values or ()) for d in s.space.dims}
    for _ in range(40):
        t = study.ask()
        p = suggest(t, s.space)
        assert all(p[k] in grid[k] for k in grid), p
        study.tell(t, 0.0)
    t = study.ask(distributions(s.space))
    assert all(decode(s.space, t.params)[k] in grid[k] for k in grid)


def test_sizes_travel_as_text_and_come_back_as_tuples(tmp_path: Path) -> None:
    spec = tmp_path / "sized.incept"
    spec.write_text(
        "network sized(kernel: size = 3x3) {\n  input 3 x 16 x 16\n  conv 8 kernel\n"
        "  global_avgpool -> flatten -> linear 2\n}\n"
    )
    s = Search(str(spec), ["kernel=1x1,3x3,5x5"])
    assert distributions(s.space)["kernel"].choices == ("1x1", "3x3", "5x5")
    study = _study()
    seen = set()
    for _ in range(12):
        t = study.ask()
        p = s.suggest(t)
        assert isinstance(p["kernel"], tuple)
        assert t.user_attrs["params"] == inceptdsl.load(str(spec), **p).report().params
        seen.add(p["kernel"])
        study.tell(t, 0.0)
    assert seen == {(1, 1), (3, 3), (5, 5)}


def test_a_trial_breaking_the_constraint_is_pruned_before_anything_is_built() -> None:
    s = Search(FAMILY, ["width=0.5:2.0:0.25", "depth=1:3", "k=1,3"], where="macs <= 1M")
    built: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> float:
        params = s.suggest(trial)
        built.append(params)  # what the user's function would build and train
        return float(trial.user_attrs["macs"])

    study = _study()
    study.optimize(objective, n_trials=40)
    pruned = study.get_trials(states=(optuna.trial.TrialState.PRUNED,))
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert pruned and done and len(pruned) + len(done) == 40
    assert len(built) == len(done)  # the function never ran past suggest() for a pruned one
    for t in pruned:
        assert t.user_attrs["feasible"] is False and t.user_attrs["macs"] > 1_000_000
    for t in done:
        assert t.user_attrs["macs"] <= 1_000_000 and "feasible" not in t.user_attrs
        # the recorded metrics are the report of that network
        rep = inceptdsl.load(FAMILY, **decode(s.space, t.params)).report()
        assert (t.user_attrs["params"], t.user_attrs["macs"]) == (rep.params, rep.macs)
    # the same verdict without a trial (for Ray Tune)
    for t in [*pruned, *done]:
        metrics, ok = s.measure(decode(s.space, t.params))
        assert ok == (t.state == optuna.trial.TrialState.COMPLETE)
        assert metrics["macs"] == t.user_attrs["macs"]
    assert Search(FAMILY, ["image_size=4,16"]).measure({"image_size": 4, "k": 5}) == ({}, False)
    # control: without the constraint nothing is pruned
    free = Search(FAMILY, ["width=0.5:2.0:0.25", "depth=1:3", "k=1,3"])
    study2 = _study()
    study2.optimize(lambda t: float(free.suggest(t)["width"]), n_trials=20)
    assert not study2.get_trials(states=(optuna.trial.TrialState.PRUNED,))


def test_a_point_that_does_not_lower_is_pruned_with_its_located_error() -> None:
    s = Search(FAMILY, ["image_size=4,16", "k=3,5"])
    study = _study()
    study.optimize(lambda t: float(s.evaluate(t)[1]["macs"]), n_trials=30)
    res = s.result(study, [Objective("macs")])
    failed = [p for p in res.points if p.error is not None]
    assert failed and all(p.params == {"image_size": 4, "k": 5} for p in failed)
    assert all(p.code == "E403" and "family.incept:13:24: error[E403]" in p.error for p in failed)
    ok = [p for p in res.points if p.error is None]
    assert ok and all(p.params != {"image_size": 4, "k": 5} for p in ok)
    # the front is the point with the fewest MACs among those that lowered
    least = min(p.metrics["macs"] for p in ok)
    assert {p.index for p in res.front} == {p.index for p in ok if p.metrics["macs"] == least}


def test_the_result_shows_measured_metrics_and_the_front() -> None:
    s = Search(FAMILY, ["width=0.5:1.5:0.5", "depth=1:3"], where="params < 3000")
    objs = s.objectives(["max:score", "macs"], measured=("score",))
    assert objs == [Objective("score", True), Objective("macs")]
    study = _study(directions=["maximize", "minimize"])

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        params, metrics = s.evaluate(trial)
        score = params["width"] * params["depth"]  # stands for a measured accuracy
        trial.set_user_attr("score", score)
        return score, metrics["macs"]

    study.optimize(objective, n_trials=25)
    res = s.result(study, objs, planned=25)
    assert res.metric_names[0] == "score"
    feasible = [p for p in res.points if p.error is None and p.feasible]
    for p in feasible:  # brute force: on the front iff nothing dominates it
        dominated = any(
            q.metrics["score"] >= p.metrics["score"]
            and q.metrics["macs"] <= p.metrics["macs"]
            and (q.metrics["score"], q.metrics["macs"]) != (p.metrics["score"], p.metrics["macs"])
            for q in feasible
        )
        assert p.front == (not dominated)
    table = res.to_table(width=200)
    assert table.splitlines()[0].split()[3] == "score"
    assert "; 25 finished for --trials 25;" in table
    data = json.loads(res.to_json())
    assert {p["index"] for p in data["points"] if p["front"]} == {p.index for p in res.front}
    assert len(res.to_csv().splitlines()) == len(res.points) + 1


def test_the_summary_counts_each_kind_of_trial_and_the_trials_past_the_number_asked() -> None:
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    s = Search(
        FAMILY, ["width=0.5,1.0,2.0", "depth=1:3", "image_size=4,16", "k=3,5"], where="macs <= 1M"
    )
    small = {"width": 0.5, "depth": 1, "image_size": 16, "k": 3}
    study = _study()
    for point in (small, {**small, "width": 2.0}, {**small, "image_size": 4, "k": 5}, small):
        study.enqueue_trial(point)  # completed, over the MACs, not lowering, the first again

    def objective(trial: optuna.Trial) -> float:
        if trial.number == 3:
            trial.set_user_attr("repeat_of", 0)  # as a worker records a reused result
        return float(s.evaluate(trial)[1]["macs"])

    study.optimize(objective, n_trials=4)
    study.enqueue_trial({**small, "width": 1.0})
    dead = study.ask()  # a trial whose worker died: failed, and queued again once
    s.evaluate(dead)
    study.tell(dead, state=optuna.trial.TrialState.FAIL)
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        RetryHeartbeatStaleTrialCallback(max_retry=1)(study, study.trials[-1])
    study.optimize(objective, n_trials=1)
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "PRUNED", "PRUNED", "COMPLETE", "FAIL", "COMPLETE"]
    head = (
        "family: 6 trials: 3 completed (1 reusing an earlier trial's result), 1 pruned by "
        "`macs <= 1M`, 1 pruned as it does not lower, 1 failed (1 retried)"
    )
    front = "; 2 on the front of macs"
    summary = {n: s.result(study, [Objective("macs")], n).summary() for n in (0, 4, 5, 8)}
    assert summary[0] == head + front
    assert summary[5] == head + "; 5 finished for --trials 5" + front
    assert summary[4] == (
        head + "; 5 finished for --trials 4 (each worker ends the trial it started before the "
        "study filled)" + front
    )
    assert summary[8] == head + "; 5 finished for --trials 8 (the study is not done)" + front


def test_bad_spaces_and_objectives_are_coded_errors() -> None:
    with pytest.raises(SweepSpaceError, match="no dimension"):
        Search(FAMILY, [])
    with pytest.raises(ConstraintError, match="unknown metric `parms`"):
        Search(FAMILY, ["width=0.5,1.0"], where="parms < 1M")
    s = Search(FAMILY, ["width=0.5,1.0"])
    with pytest.raises(ConstraintError, match="unknown metric `accuracy`"):
        s.objectives(["max:accuracy"])  # no trainer measures it
    with pytest.raises(SweepSpaceError, match="both searched"):
        Search(FAMILY, ["width=0.5,1.0"], fixed={"width": 2.0})


def test_an_unreachable_storage_is_e703(tmp_path: Path) -> None:
    with pytest.raises(StudyStorageError, match="cannot open the storage: unable to open"):
        open_storage(f"sqlite:///{tmp_path}/no/such/dir/s.db")
    with pytest.raises(StudyStorageError, match="driver for this URL is not installed"):
        open_storage("postgresql://u:secret@127.0.0.1:1/db")
    with pytest.raises(StudyStorageError, match="not a database URL"):
        open_storage("search.db")
    assert shown_url("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    with pytest.raises(StudyStorageError) as err:  # a terminal escape is shown escaped
        open_storage("sqlite:///\x1b[2Jx/" + "y" * 1000 + "/s.db")
    assert "\x1b" not in str(err.value) and "more characters" in str(err.value)
    # control: a reachable one opens
    assert open_storage(f"sqlite:///{tmp_path}/s.db") is not None


def test_an_unusable_journal_is_e703(tmp_path: Path) -> None:
    with pytest.raises(StudyStorageError, match="cannot open the journal: no such directory"):
        open_storage(f"journal:///{tmp_path}/no/such/dir/s.log")
    assert not (tmp_path / "no").exists()  # nothing made on the way
    (tmp_path / "notes.txt").write_text("my notes\n")
    with pytest.raises(StudyStorageError, match="not an Optuna journal"):
        open_storage(f"journal:///{tmp_path}/notes.txt")
    assert (tmp_path / "notes.txt").read_text() == "my notes\n"
    with pytest.raises(StudyStorageError, match="no file named"):
        open_storage("journal:///")
    # control: a new journal, and an existing one, open
    url = f"journal:///{tmp_path}/s.log"
    optuna.create_study(study_name="x", storage=open_storage(url))
    assert [s.study_name for s in optuna.get_all_study_summaries(open_storage(url))] == ["x"]


def test_the_command_exits_1_on_an_unreachable_storage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for url, why in (
        (f"sqlite:///{tmp_path}/missing/s.db", "unable to open"),
        (f"journal:///{tmp_path}/missing/s.log", "no such directory"),
    ):
        assert main(["search", FAMILY, "--param", "width=0.5,1.0", "--storage", url]) == 1
        err = capsys.readouterr().err
        assert "error[E703]" in err and "Traceback" not in err and why in err
    rc = main(["search", FAMILY, "--param", "width=0.5,1.0", "--workers", "2"])
    assert rc == 2 and "--workers N needs --storage URL" in capsys.readouterr().err


def test_a_study_holding_another_search_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    base = ["search", FAMILY, "--storage", url, "--trials", "3"]
    assert main([*base, "--param", "width=0.5,1.0"]) == 0
    first = capsys.readouterr().out
    assert "family: 3 trials: 3 completed, 0 failed; 3 finished for --trials 3;" in first
    # the same search again goes on with the same study (already finished: nothing to do)
    assert main([*base, "--param", "width=0.5,1.0"]) == 0
    assert "3 trials: 3 completed" in capsys.readouterr().out
    assert main([*base, "--param", "width=0.5,2.0"]) == 1
    err = capsys.readouterr().err
    assert "error[E703]" in err and "holds another search" in err
    with pytest.raises(StudyStorageError):
        from inceptdsl.search.workers import Job, run

        run(Job(FAMILY, ("width=0.5,1.0",), ("max:macs",), 3, "inceptdsl", url), 1)


def test_a_trainer_that_raises_fails_its_trial_and_the_worker_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inceptdsl.search import trainers
    from inceptdsl.search.workers import Job, work

    class Flaky:
        metrics = ("score",)

        def __call__(self, net: Any, options: dict[str, Any]) -> dict[str, float]:
            if options["trial"] % 2:
                raise RuntimeError("out of memory")
            return {"score": float(net.report().params)}

    monkeypatch.setattr(trainers, "load", lambda name: Flaky())
    job = Job(FAMILY, ("width=0.5:2.0:0.25",), ("max:score",), 4, "s", train="flaky")
    study = optuna.create_study(direction="maximize")
    work(job, 0, study)
    fail = optuna.trial.TrialState.FAIL
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 4
    # every odd trial that reached the trainer failed (a repeated point is not trained again)
    called = [t.number for t in study.trials if "repeat_of" not in t.user_attrs]
    failing = [n for n in called if n % 2]
    assert failing and [t.number for t in study.trials if t.state == fail] == failing
    s = Search(FAMILY, job.params)
    res = s.result(study, s.objectives(["max:score"], ("score",)))
    failed = [p for p in res.points if p.code == "FAIL"]
    assert [p.index for p in failed] == failing
    assert all(p.error == "RuntimeError: out of memory" for p in failed)
    n = len(failing)
    assert f"{n} point{'s' if n > 1 else ''} failed" in res.to_table(width=200)


def test_a_point_trained_before_is_not_trained_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from inceptdsl.search import trainers
    from inceptdsl.search.workers import Job, work

    calls: list[int] = []

    class Counting:
        metrics = ("score",)

        def __call__(self, net: Any, options: dict[str, Any]) -> dict[str, float]:
            calls.append(options["trial"])
            return {"score": float(net.report().params)}

    monkeypatch.setattr(trainers, "load", lambda name: Counting())
    job = Job(FAMILY, ("width=0.5,1.0",), ("max:score",), 6, "s", train="counting")
    study = optuna.create_study(direction="maximize")
    work(job, 0, study)
    trials = study.trials
    assert len(trials) == 6 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert len(calls) == len({t.params["width"] for t in trials}) == 2
    for t in trials:
        if t.number in calls:
            assert "repeat_of" not in t.user_attrs
        else:  # a copy of the trial that trained that point
            first = trials[t.user_attrs["repeat_of"]]
            assert first.number in calls and first.params == t.params
            assert t.values == first.values and t.user_attrs["score"] == first.user_attrs["score"]
    s = Search(FAMILY, job.params)
    assert "repeat_of" not in s.result(study, s.objectives(["max:score"], ("score",))).metric_names
