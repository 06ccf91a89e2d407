"""`inceptdsl sweep SPEC --param ...`: the command's options and what it prints and writes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from ..front.source import printable
from ..output import write_output

FORMATS = {".csv": "csv", ".json": "json", ".html": "html", ".htm": "html", ".txt": "table"}


def add_arguments(sp: argparse.ArgumentParser) -> None:
    from ..middle.memory import DTYPES

    sp.add_argument("file", metavar="SPEC")
    sp.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=RANGE",
        help="a dimension (repeatable): LO:HI:STEP, LO:HI:xF (geometric), LO:HI (int: every "
        "value; float: sampled), LO:HI:log (float, log-uniform) or A,B,... (a choice); a "
        "choice[...] parameter alone (--param variant): every member",
    )
    sp.add_argument("--samples", type=int, metavar="N", help="N random points (default: grid)")
    sp.add_argument("--seed", type=int, default=0, help="seed of --samples (default 0)")
    sp.add_argument(
        "--where", metavar="EXPR", help='a constraint, e.g. "macs <= 2G and params < 10M"'
    )
    sp.add_argument(
        "--objectives",
        default="macs,params",
        metavar="A,B,...",
        help="the Pareto front's objectives, minimized; max:NAME maximizes (default macs,params)",
    )
    sp.add_argument("--batch", type=int, default=1, metavar="N", help="for memory")
    sp.add_argument("--dtype", choices=list(DTYPES), default="float32", help="for memory")
    sp.add_argument("--workers", type=int, metavar="N", help="processes (default: local cores)")
    sp.add_argument("--front", action="store_true", help="the table shows the front only")
    sp.add_argument(
        "--measure",
        choices=["latency"],
        help="time the front's points (their optimized model, in a worker process)",
    )
    sp.add_argument("--runtime", choices=["onnxruntime", "torch"], default="onnxruntime")
    sp.add_argument(
        "--measure-all", action="store_true", help="time every feasible point, not the front"
    )
    sp.add_argument("--repeats", type=int, default=20, metavar="N", help="timed runs per point")
    sp.add_argument("--threads", type=int, default=1, metavar="N", help="runtime threads")
    sp.add_argument(
        "--latency-cache",
        metavar="FILE",
        help="timings by network content (default $XDG_CACHE_HOME/inceptdsl/latency.json)",
    )
    sp.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        metavar="OUT.csv|.json|.html|.txt",
        help="write the sweep here (repeatable; the format from the suffix, atomically)",
    )


def output_formats(paths: list[str]) -> list[tuple[str, str]]:
    """Each `-o` path with its format, from the suffix (a usage error for any other suffix);
    the sweep's and the search's outputs alike."""
    outs = []
    for path in paths:
        suffix = path[path.rfind(".") :].lower() if "." in path else ""
        if suffix not in FORMATS:
            raise UsageError(
                f"-o {path}: the format comes from the suffix, one of {', '.join(FORMATS)}"
            )
        outs.append((path, FORMATS[suffix]))
    return outs


def run(args: argparse.Namespace, parse_set: Callable[[Any], dict[str, Any]]) -> int:
    from .. import progress as prog
    from . import sweep

    outs = output_formats(args.output)
    for name in ("batch", "repeats", "threads"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} must be at least 1, got {getattr(args, name)}")
    objectives = [o for o in args.objectives.split(",") if o.strip()]
    bar = _Bar(not prog.QUIET and sys.stderr.isatty())
    try:
        res = sweep(
            args.file,
            args.param,
            samples=args.samples,
            seed=args.seed,
            where=args.where,
            objectives=objectives,
            batch=args.batch,
            dtype=args.dtype,
            workers=args.workers,
            fixed=parse_set(args.set),
            progress=bar.advance,
            on_total=bar.total,
            measure=args.measure,
            runtime=args.runtime,
            measure_all=args.measure_all,
            latency_cache=args.latency_cache,
            repeats=args.repeats,
            threads=args.threads,
        )
    finally:
        bar.close()
    from ..front.loader import load_program

    inputs = [f.abspath for f in load_program(args.file).files.values()]
    for path, fmt in outs:
        data = {"csv": res.to_csv, "json": res.to_json, "html": res.to_html}.get(
            fmt, lambda: res.to_table(only_front=args.front)
        )()
        write_output(path, data, inputs=inputs)
        print(f"wrote {printable(path)}", file=sys.stderr)
    sys.stdout.write(res.to_table(only_front=args.front))
    if res.interrupted:
        return 130
    return 1 if res.points and not res.ok else 0


class _Bar:
    """A rich progress bar on a terminal (nothing when piped, with -q or in tests)."""

    def __init__(self, live: bool) -> None:
        self.progress: Any = None
        self.task: Any = None
        if live:
            from rich.console import Console
            from rich.progress import Progress

            self.progress = Progress(console=Console(stderr=True), transient=True)
            self.progress.start()
            self.task = self.progress.add_task("sweeping", total=None)

    def total(self, n: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, total=n)

    def advance(self, n: int) -> None:
        if self.progress is not None:
            self.progress.advance(self.task, n)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
