"""Sweep benchmark (issue 21, item 4): 1,000 Inception-v3 variants (width x depth x
resolution, bench/specs/inception_v3_wdr.incept) evaluated statically by `inceptdsl.sweep`,
side by side in one run with the framework way: build each variant in torch (the torch
backend's module) and count it with FlopCounterMode.

Prints: the 1,000-point sweep's wall time over the local cores (target <= 5 s on the 2-core
machine) and the CPU time it took (all processes: on a shared machine the wall time is the
load's, the CPU time much less so); the static cost per point in one process, without the
memo (one plain lowering), against torch + FlopCounterMode on the same sampled points (target
>= 100x), with their MACs compared (they must be equal); the CPU's ISA and the load average.
The sweep runs before torch is imported, as `inceptdsl sweep` does (its workers are forked).
Then random sweeps (`--sampled N` points, default 1,000; 0 leaves them out): CPU per point with
the memo and without, in spaces whose calls replay less and less, down to a memo that keeps no
record (its cost where nothing replays): whether random sweeps should keep the memo.

Run: .venv/bin/python bench/bench_sweep.py [--torch-points 6] [--workers N] [--sampled N]
(`--torch-points 0`: the static figures only, without importing torch)
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.modules.setdefault("triton", None)  # type: ignore[arg-type]

ROOT = Path(__file__).resolve().parent.parent
SPEC = str(ROOT / "bench" / "specs" / "inception_v3_wdr.incept")
SPACE = {"width": "0.25:2.5:0.25", "depth": "1:4", "image_size": "160:544:16"}
"""10 widths x 4 depths x 25 resolutions = 1,000 points."""


def load() -> str:
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu() -> str:
    """The CPU's model and its widest vector ISA, from /proc/cpuinfo."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in info.splitlines() if "model name" in ln), ""
    )
    flags = next(
        (ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), []
    )
    isa = next((f for f in ("avx512f", "avx2", "avx", "sse4_2") if f in flags), "?")
    return f"{model or platform.machine()}, {isa}, {os.cpu_count()} CPUs"


def cpu_seconds() -> float:
    """CPU time of this process and its waited-for children so far."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--torch-points", type=int, default=6)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--sampled", type=int, default=1000, metavar="N", help="0: leave out")
    args = ap.parse_args()

    import inceptdsl
    from inceptdsl.check import run_checks
    from inceptdsl.front.loader import load_program
    from inceptdsl.sweep import sweep
    from inceptdsl.sweep.measure import measure

    print(cpu())
    print(f"before the sweep: {load()}")

    # 1. the whole sweep, as `inceptdsl sweep` runs it (parse once, points over the cores)
    c, t = cpu_seconds(), time.perf_counter()
    res = sweep(
        SPEC,
        SPACE,
        where="macs <= 2G and params < 10M",
        objectives=["macs", "max:width"],
        workers=args.workers,
    )
    wall, used = time.perf_counter() - t, cpu_seconds() - c
    workers = args.workers or len(os.sched_getaffinity(0))
    print(
        f"sweep: {len(res.points)} points ({len(res.ok)} built, {len(res.failed)} failed), "
        f"{len(res.front)} on the front, {wall:.2f} s wall with {workers} workers "
        f"({wall / len(res.points) * 1e3:.1f} ms per point; target <= 5 s: "
        f"{'met' if wall <= 5 else 'NOT met'}); {used:.2f} CPU s in all processes "
        f"({used / workers:.2f} s per core); after: {load()}"
    )

    # 2. CPU per point in one process, the sweep's first 200 points (2 widths x 4 depths x 25
    # resolutions): one plain lowering each, then the sweep's way (one memo for all)
    from inceptdsl.lower import BlockMemo

    program = load_program(SPEC)
    run_checks(program)
    first = [p.params for p in res.points[:200]]
    c = time.process_time()
    plain = [measure(program, i, p, 1, "float32") for i, p in enumerate(first)]
    c_plain = (time.process_time() - c) / len(first)
    memo = BlockMemo(program)
    c = time.process_time()
    memoised = [measure(program, i, p, 1, "float32", memo) for i, p in enumerate(first)]
    c_memo = (time.process_time() - c) / len(first)
    same = all(a.metrics == b.metrics for a, b in zip(plain, memoised, strict=True))
    print(
        f"CPU per point, one process, {len(first)} points: plain lowering {c_plain * 1e3:.2f} ms, "
        f"with the memo {c_memo * 1e3:.2f} ms ({c_plain / c_memo:.1f}x; {memo.hits} calls "
        f"replayed, {memo.misses} lowered); metrics {'equal' if same else 'DIFFER'}"
    )

    if args.sampled:
        sampled(program, args.sampled)

    if args.torch_points < 1:  # the static figures only
        return

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.set_num_threads(2)
    print(f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()})")

    # 3. per point, one process, the same sampled points both ways
    sample = random.Random(0).sample(res.ok, args.torch_points)
    ours, theirs = [], []
    for p in sample:
        t = time.perf_counter()
        got = measure(program, p.index, p.params, 1, "float32")
        ours.append(time.perf_counter() - t)

        t = time.perf_counter()
        model = inceptdsl.load(SPEC, **p.params).to_torch().eval()
        size = p.params["image_size"]
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.randn(1, 3, size, size))
        macs = counter.get_total_flops() // 2
        theirs.append(time.perf_counter() - t)
        same = "equal" if macs == got.metrics["macs"] else f"DIFFER ({macs:,} vs ours)"
        print(
            f"  {p.params}: torch + FlopCounterMode {theirs[-1] * 1e3:7.0f} ms, "
            f"static {ours[-1] * 1e3:5.1f} ms, MACs {got.metrics['macs']:,} {same}"
        )
    a, b = statistics.median(theirs), statistics.median(ours)
    print(
        f"per point (median of {len(sample)}, one process): torch + FlopCounterMode "
        f"{a * 1e3:.0f} ms, static {b * 1e3:.1f} ms: {a / b:.0f}x (target >= 100x: "
        f"{'met' if a / b >= 100 else 'NOT met'})"
    )
    per_point_sweep = wall / len(res.points)
    print(
        f"per point in the parallel sweep: {per_point_sweep * 1e3:.1f} ms: "
        f"{a / per_point_sweep:.0f}x torch + FlopCounterMode"
    )


SAMPLED = {
    "grid values": ["width=0.25:2.5:0.25", "depth=1:4", "image_size=160:544:16"],
    "continuous width": ["width=0.25:2.5", "depth=1:4", "image_size=160:544:16"],
    "continuous": ["width=0.25:2.5", "depth=1:4", "image_size=160:544"],
}
"""Random sweeps whose block calls repeat less and less (a continuous width: no two points
share a width; a continuous image size too: no two share a shape)."""


def sampled(program: Any, n: int, run: int = 25) -> None:
    """CPU per point of `n` random points in one process, with the memo and without: the same
    points, in runs of `run` points measured both ways in turn (so the load's drift falls on
    both alike); the memo is kept over the whole sweep, as a worker keeps it."""
    from inceptdsl.lower import BlockMemo
    from inceptdsl.sweep import sweep
    from inceptdsl.sweep.measure import measure, paused_gc

    class Forgetful(BlockMemo):
        """Records every call and keeps none: the memo's cost where no call ever replays."""

        def put(self, key: Any, rec: Any) -> None:
            pass

    for name, space in [*SAMPLED.items(), ("continuous, no call replayed", SAMPLED["continuous"])]:
        points = [p.params for p in sweep(SPEC, space, samples=n, seed=0, workers=1).points]
        memo = Forgetful(program) if "no call" in name else BlockMemo(program)
        cpu = {"plain": 0.0, "memo": 0.0}
        with paused_gc():
            for start in range(0, n, run):
                part = list(enumerate(points[start : start + run], start))
                for way in ("plain", "memo") if start // run % 2 else ("memo", "plain"):
                    c = time.process_time()
                    for i, p in part:
                        measure(program, i, p, 1, "float32", memo if way == "memo" else None)
                    cpu[way] += time.process_time() - c
        a, b = cpu["plain"] / n * 1e3, cpu["memo"] / n * 1e3
        print(
            f"random sweep, {n} points, {name}: CPU per point plain {a:.2f} ms, with the "
            f"memo {b:.2f} ms ({a / b:.2f}x); {memo.hits} calls replayed, {memo.misses} "
            f"lowered ({memo.hits / max(1, memo.hits + memo.misses):.0%} replayed)"
        )


if __name__ == "__main__":
    main()
