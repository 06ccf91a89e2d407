"""One run of the optimized ONNX model in ONNX Runtime's CPU provider, as a call for
`Backend.measure` (the latency a sweep reports with `--runtime onnxruntime`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np


def runner(backend: Any, graph: nx.DiGraph, batch: int, threads: int) -> Callable[[], Any]:
    """A session of the optimized file (every graph optimization on, `threads` intra-op
    threads, one inter-op thread) run on a fixed random batch."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    data = backend.emit_optimized(graph)
    session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = [batch, *inp.shape[1:]]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    return lambda: session.run(None, {inp.name: x})
