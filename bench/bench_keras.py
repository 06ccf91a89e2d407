"""Keras backend benchmarks: compiled InceptionV3 vs keras.applications, and build times.

    .venv/bin/python bench/bench_keras.py [--repeats 15] [--batches 1 8] [--threads 2]
                                          [--build-repeats 3] [--skip-builds]

1. Forward: keras.applications.InceptionV3(weights=None, classifier_activation=None) and our
   model built from specs/keras/inception_v3.incept with its weights (`weights_from=ref`, by
   position) run `predict_on_batch` (a compiled tf.function) on the same batch, alternating
   reference/ours (and swapping which goes first every round) in one process, so that machine
   noise hits both alike. Reported: median wall milliseconds, the ratio reference / ours
   (>= 1 means ours is at least as fast; the target is >= 0.97), the same ratio of process CPU
   time (steadier when other processes compete for the cores) and the max output difference.
2. Build time of every bundled spec in both frameworks (median of --build-repeats builds after
   a first one that also pays emit + exec of the source): torch backend, Keras backend, and the
   keras.applications original where there is one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.modules.setdefault("triton", None)  # type: ignore[arg-type]

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import inceptdsl  # noqa: E402
from inceptdsl.backend import get  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
APPS = {
    "keras/inception_v3": keras.applications.InceptionV3,
    "keras/inception_resnet_v2": keras.applications.InceptionResNetV2,
    "keras/xception": keras.applications.Xception,
}


def _times(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall, CPU) seconds: CPU time (all threads) suffers less when other processes compete."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def forward(batches: list[int], repeats: int) -> None:
    ref = keras.applications.InceptionV3(weights=None, classifier_activation=None)
    graph = inceptdsl.load(str(SPECS / "keras" / "inception_v3.incept")).graph
    ours = get("keras").build(graph, weights_from=ref)
    for batch in batches:
        x = np.random.default_rng(batch).standard_normal((batch, 299, 299, 3)).astype("float32")
        diff = float(np.abs(ours.predict_on_batch(x) - ref.predict_on_batch(x)).max())
        for _ in range(3):  # warm-up (the first calls trace and compile)
            ref.predict_on_batch(x), ours.predict_on_batch(x)
        t_ref: list[tuple[float, float]] = []
        t_ours: list[tuple[float, float]] = []
        for i in range(repeats):
            pair = [(t_ref, ref), (t_ours, ours)]
            for times, model in pair if i % 2 == 0 else pair[::-1]:
                times.append(_times(lambda m=model, x=x: m.predict_on_batch(x)))
        r, o = (statistics.median(t[0] for t in ts) * 1e3 for ts in (t_ref, t_ours))
        rc, oc = (statistics.median(t[1] for t in ts) * 1e3 for ts in (t_ref, t_ours))
        print(
            f"InceptionV3 predict_on_batch, batch {batch}: keras.applications {r:8.2f} ms   "
            f"ours {o:8.2f} ms   ratio {r / o:.3f}   CPU-time ratio {rc / oc:.3f}   "
            f"(max |diff| {diff:.1e})"
        )


def _median_build(fn, repeats: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(first, median of the next `repeats`) build seconds, each after clear_session()."""
    keras.backend.clear_session()
    first = _times(fn)[0]
    times = []
    for _ in range(repeats):
        keras.backend.clear_session()
        times.append(_times(fn)[0])
    return first, statistics.median(times)


def build_times(repeats: int) -> None:
    torch_backend, keras_backend = get("torch"), get("keras")
    specs = sorted(p for p in SPECS.rglob("*.incept") if "lib" not in p.relative_to(SPECS).parts)
    print(f"\nbuild time, ms (median of {repeats} after a first build; first in parentheses)")
    print(f"{'spec':32s} {'torch':>16s} {'keras':>18s} {'keras.applications':>20s}")
    for path in specs:
        name = str(path.relative_to(SPECS).with_suffix(""))
        graph = inceptdsl.load(str(path)).graph
        t_first, t_med = _median_build(lambda g=graph: torch_backend.build(g), repeats)
        k_first, k_med = _median_build(lambda g=graph: keras_backend.build(g), repeats)
        ref = ""
        if name in APPS:
            app = APPS[name]
            _, r_med = _median_build(
                lambda a=app: a(weights=None, classifier_activation=None), repeats
            )
            ref = f"{r_med * 1e3:9.0f}"
        print(
            f"{name:32s} {t_med * 1e3:7.0f} ({t_first * 1e3:6.0f}) "
            f"{k_med * 1e3:8.0f} ({k_first * 1e3:6.0f}) {ref:>20s}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--build-repeats", type=int, default=3)
    parser.add_argument("--skip-builds", action="store_true")
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    print(
        f"keras {keras.__version__} (backend {keras.backend.backend()}), tensorflow "
        f"{tf.__version__}, torch {torch.__version__}; {args.threads} threads; "
        f"median of {args.repeats}"
    )
    forward(args.batches, args.repeats)
    if not args.skip_builds:
        build_times(args.build_repeats)


if __name__ == "__main__":
    main()
