"""Why ours on ONNX Runtime is not faster than ORT on the reference's own export: both models
and the variants of ours, timed side by side, then ORT's profile by op type.

    .venv/bin/python bench/bench_ort_profile.py [--model inception_v3] [--batch 8] [--repeats 10]

Models (same random weights, BN statistics from a train-mode pass, as bench_optimize.py): the
reference module's torch.onnx export; ours optimized for ORT's NCHWc layout (the default, where
the cost model declines horizontal fusion); ours optimized for the NCHW and NHWC targets (which
fuse sibling convs); ours without hfuse; ours unoptimized. Each runs once per round in rotating
order on 2 intra-op threads; printed: median ms and the ratio to the reference export. Then,
for the reference export and ours, ORT's profiler (5 runs): time and node count per op type
after ORT's own graph optimizations.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.modules.setdefault("triton", None)  # type: ignore[arg-type]

import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_optimize as B  # noqa: E402

from inceptdsl.backend import get  # noqa: E402
from inceptdsl.optimize import Target  # noqa: E402


def _profile(data: bytes, x: torch.Tensor, threads: int) -> dict[str, tuple[float, int, float]]:
    """{op type: (ms per run, nodes, share of the time)} from ORT's profiler over 5 runs."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.enable_profiling = True
    opts.profile_file_prefix = str(Path(tempfile.mkdtemp()) / "ort")
    session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    runs = 5
    for _ in range(runs):
        session.run(None, {"input": x.numpy()})
    events = json.loads(Path(session.end_profiling()).read_text())
    time_by: collections.Counter[str] = collections.Counter()
    count: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            op = e["args"]["op_name"]
            time_by[op] += e["dur"]
            count[op] += 1
    total = sum(time_by.values())
    return {
        op: (us / runs / 1e3, count[op] // runs, us / total) for op, us in time_by.most_common()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="inception_v3")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ref, graph = B.prepared(args.model)
    x = torch.randn(args.batch, *graph.graph["input_shape"])
    onnx = get("onnx")
    opt: Any = onnx  # the optional optimized capability
    models = {
        "reference export": B._onnx_bytes(ref, graph),
        "ours (nchwc target)": opt.emit_optimized(graph, ref),
        "ours, nchw target": opt.emit_optimized(graph, ref, target=Target(layout="nchw")),
        "ours, nhwc target": opt.emit_optimized(graph, ref, target=Target(layout="nhwc")),
        "ours without hfuse": opt.emit_optimized(graph, ref, skip=("hfuse",)),
        "ours unoptimized": onnx.emit(graph, ref),
    }
    print(B.machine(args.threads))
    runs = {k: B._ort(v, x, args.threads) for k, v in models.items()}
    times: dict[str, list[float]] = {k: [] for k in runs}
    for run in runs.values():
        run()  # warm-up
    keys = list(runs)
    for i in range(args.repeats):
        for k in keys[i % len(keys) :] + keys[: i % len(keys)]:
            start = time.perf_counter()
            runs[k]()
            times[k].append(time.perf_counter() - start)
    base = statistics.median(times["reference export"])
    for k in keys:
        m = statistics.median(times[k])
        print(f"{args.model} b{args.batch}  {k:24s} {m * 1e3:9.1f} ms  {base / m:.3f}x")
    for k in ("reference export", "ours (nchwc target)"):
        print(f"ORT profile, {k}:")
        for op, (ms, nodes, share) in _profile(models[k], x, args.threads).items():
            print(f"  {op:20s} {nodes:4d} nodes {ms:9.1f} ms/run {share:7.1%}")


if __name__ == "__main__":
    main()
