"""`inceptdsl search SPEC --param ... --trials N [--storage URL --workers N] [--train NAME]`:
the command's options, and what it prints and writes (the sweep's table and files)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from ..front.source import printable
from ..output import write_output
from ..sweep.command import output_formats


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("file", metavar="SPEC")
    sp.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=RANGE",
        help="a dimension (repeatable), as in `inceptdsl sweep`: LO:HI:STEP, LO:HI, LO:HI:log, "
        "LO:HI:xF or A,B,...",
    )
    sp.add_argument("--trials", type=int, default=20, metavar="N", help="finished trials")
    sp.add_argument("--where", metavar="EXPR", help="a static constraint: such trials are pruned")
    sp.add_argument(
        "--objectives",
        default="macs",
        metavar="A,B,...",
        help="what the study optimizes, minimized; max:NAME maximizes (e.g. max:accuracy,macs)",
    )
    sp.add_argument("--train", metavar="NAME", help="train each trial with this trainer (`digits`)")
    sp.add_argument("--epochs", type=int, default=8, metavar="N", help="--train's epochs")
    sp.add_argument(
        "--storage",
        metavar="URL",
        help="the study's storage, shared by workers (sqlite:///search.db, "
        "journal:///search.log, postgresql://...)",
    )
    sp.add_argument("--study", default="inceptdsl", metavar="NAME", help="the study's name")
    sp.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes")
    sp.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="--train's threads per worker (default: cores / workers)",
    )
    sp.add_argument("--seed", type=int, default=0, help="the samplers' and trainer's seed")
    sp.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        metavar="OUT.csv|.json|.html|.txt",
        help="write the study's trials here (repeatable; the format from the suffix)",
    )


def run(args: argparse.Namespace, parse_set: Callable[[Any], dict[str, Any]]) -> int:
    from .workers import MAX_WORKERS, Job
    from .workers import run as run_job

    outs = output_formats(args.output)
    for name, hi in (("trials", 100_000), ("workers", MAX_WORKERS), ("epochs", 10_000)):
        v = getattr(args, name)
        if not 1 <= v <= hi:
            raise UsageError(f"--{name} must be 1 to {hi:,}, got {v}")
    if args.workers > 1 and not args.storage:
        raise UsageError(
            "--workers N needs --storage URL: the workers share the study through it",
            hint="e.g. --storage sqlite:///search.db",
        )
    if args.threads is not None and not 1 <= args.threads <= 1024:
        raise UsageError(f"--threads must be 1 to 1,024, got {args.threads}")
    threads = args.threads or max(1, _cores() // args.workers)
    job = Job(
        spec=args.file,
        params=tuple(args.param),
        objectives=tuple(o for o in args.objectives.split(",") if o.strip()),
        trials=args.trials,
        study=args.study,
        storage=args.storage,
        where=args.where,
        fixed=parse_set(args.set),
        train=args.train,
        options={"epochs": args.epochs, "threads": threads},
        seed=args.seed,
    )
    study = run_job(job, args.workers)
    from . import Search

    search = Search(job.spec, job.params, where=job.where, fixed=job.fixed)
    measured = tuple(_measured(job))
    res = search.result(study, search.objectives(job.objectives, measured), job.trials)
    from ..front.loader import load_program

    inputs = [f.abspath for f in load_program(args.file).files.values()]
    for path, fmt in outs:
        data = {"csv": res.to_csv, "json": res.to_json, "html": res.to_html}.get(
            fmt, res.to_table
        )()
        write_output(path, data, inputs=inputs)
        print(f"wrote {printable(path)}", file=sys.stderr)
    sys.stdout.write(res.to_table())
    return 0


def _measured(job: Any) -> list[str]:
    from . import trainers

    return list(trainers.load(job.train).metrics) if job.train else []


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return os.cpu_count() or 1
