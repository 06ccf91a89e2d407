"""The optimized Keras InceptionV3 against keras.applications', `predict_on_batch`, with and
without XLA.

    .venv/bin/python bench/bench_optimize.py --keras [--batches 1 8] [--threads 2]

keras.applications.InceptionV3(weights=None, classifier_activation=None), BN statistics made
non-trivial (random moving mean/variance), against `to_keras(optimize=True, weights_from=it)`
built from specs/keras/inception_v3.incept: each compiled with `jit_compile=False` (TensorFlow's
graph: grappler already fuses Conv2D + BatchNorm + ReLU on CPU) and `jit_compile=True` (XLA),
all four run on the same batch, one call each per round in rotating order. Reported: median wall
and process-CPU ms, the ratio to keras.applications without XLA, and the max output difference.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

SPECS = Path(__file__).resolve().parent.parent / "specs"


def _randomize_bn(model: Any, seed: int = 0) -> None:
    import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.uniform(-0.2, 0.2, c).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, c).astype("float32"))


def keras_table(batches: list[int], threads: int, repeats: int) -> str:
    import keras
    import tensorflow as tf

    import inceptdsl
    from inceptdsl.backend import get

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    ref = keras.applications.InceptionV3(weights=None, classifier_activation=None)
    _randomize_bn(ref)
    graph = inceptdsl.load(str(SPECS / "keras" / "inception_v3.incept")).graph
    ours = get("keras").build_optimized(graph, ref)  # type: ignore[attr-defined]
    models: dict[str, Any] = {}
    for name, model in (("keras.applications", ref), ("ours optimized", ours)):
        for xla in (False, True):
            clone = keras.models.clone_model(model)
            clone.set_weights(model.get_weights())
            clone.compile(jit_compile=xla)
            models[f"{name}{' + XLA' if xla else ''}"] = clone
    lines = [
        f"keras {keras.__version__}, tensorflow {tf.__version__}, {threads} threads, "
        f"median of {repeats}",
        "",
        "| path | " + " | ".join(f"batch {b}: wall ms (ratio) | CPU ms (ratio)" for b in batches)
        + " |",
        "|---|" + "---|---|" * len(batches),
    ]  # fmt: skip
    cells: dict[str, list[str]] = {k: [] for k in models}
    for batch in batches:
        x = np.random.default_rng(batch).standard_normal((batch, 299, 299, 3)).astype("float32")
        want = np.asarray(models["keras.applications"].predict_on_batch(x))
        diffs = {}
        for k, m in models.items():
            got = np.asarray(m.predict_on_batch(x))  # also traces and compiles
            diffs[k] = float(np.abs(got - want).max() / np.abs(want).max())
            m.predict_on_batch(x)
        names = list(models)
        wall: dict[str, list[float]] = {k: [] for k in names}
        cpu: dict[str, list[float]] = {k: [] for k in names}
        for i in range(repeats):
            for k in names[i % len(names) :] + names[: i % len(names)]:
                w, c = time.perf_counter(), time.process_time()
                models[k].predict_on_batch(x)
                wall[k].append(time.perf_counter() - w)
                cpu[k].append(time.process_time() - c)
        bw = statistics.median(wall["keras.applications"])
        bc = statistics.median(cpu["keras.applications"])
        for k in names:
            mw, mc = statistics.median(wall[k]), statistics.median(cpu[k])
            cells[k].append(
                f"{mw * 1e3:.1f} ({bw / mw:.2f}x) | {mc * 1e3:.1f} ({bc / mc:.2f}x)"
                + (f" diff {diffs[k]:.0e}" if diffs[k] > 1e-5 else "")
            )
    lines += [f"| {k} | " + " | ".join(v) + " |" for k, v in cells.items()]
    return "\n".join(lines)
