"""The latency worker (`python -m inceptdsl.sweep.latency_worker`): reads jobs as JSON on
stdin, builds each point's eval-only optimized model with the runtime's backend (the plugin
found through backend.py) and prints the median and interquartile range of its timings.

Frameworks are reached through the backend plugins only: the torch input is made from the
model's own parameters (`new_empty`), so this module imports no framework by name."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def _onnxruntime(net: Any, batch: int, threads: int) -> Callable[[], Any]:
    import numpy as np
    import onnxruntime as ort

    data = net.emit("onnx", optimize=True)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = [batch, *(d for d in inp.shape[1:])]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    return lambda: session.run(None, {inp.name: x})


def _torch(net: Any, batch: int, threads: int) -> Callable[[], Any]:
    model = net.to_torch(optimize=True).eval().requires_grad_(False)
    first = next(iter(model.state_dict().values()))
    sys.modules["torch"].set_num_threads(threads)  # imported by the backend already
    x = first.new_empty((batch, *net.input_shape), dtype=first.dtype).normal_()
    return lambda: model(x)


def _time(fn: Callable[[], Any], repeats: int, warmup: int) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    q = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return {"median_ms": statistics.median(times), "spread_ms": q[2] - q[0]}


def main() -> None:
    from ..network import load

    jobs = json.loads(sys.stdin.read())
    out = []
    for job in jobs:
        net = load(job["spec"], **job["params"])
        build = _onnxruntime if job["runtime"] == "onnxruntime" else _torch
        fn = build(net, job["batch"], job["threads"])
        out.append(_time(fn, job["repeats"], job["warmup"]))
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
