"""The optimizing compiler against the reference models and their optimizers, side by side.

    .venv/bin/python bench/bench_optimize.py [--models inception_v3 googlenet inception_v4]
        [--batches 1 8] [--threads 2] [--repeats 12] [--no-compile] [--no-passes]
        [--no-openvino] [--bf16] [--memory] [--keras] [--sites]

For each model (torchvision's inception_v3 and googlenet, timm's inception_v4, random weights
with BN statistics set from a train-mode pass) and batch size, every path runs on the same
input in one process, one call per path per round in rotating order, so machine noise hits all
paths alike. Reported: the median wall time per call and the ratio reference-eager / path
(> 1: faster than the reference), and each path's max output difference relative to the
reference's output scale. Paths:

- reference: eager; conv+BN folded by `torch.fx.experimental.optimization.fuse` (fx-fused);
  fx-fused + channels_last; `torch.compile` (inductor, default options); ONNX Runtime on the
  reference's own export (torch.onnx, opset 17); OpenVINO fp32 and with its bf16 precision
  hint, on the same export;
- ours (the bundled spec, `to_torch(optimize=True, weights_from=reference, ...)`): optimized
  eager (NCHW, `channels_last=False`); + channels_last; + oneDNN lowering (conv + activation
  one call, packed kernels); the path `optimize=True` chooses by itself on this machine (its
  row names it: it should be the fastest of the three); optimized + torch.compile; the
  optimized ONNX export on ONNX Runtime and on OpenVINO;
- ours with each optimization pass switched off in turn (the oneDNN path), `--no-passes` skips;
- `--bf16`: ours in bfloat16 (channels_last eager, oneDNN where the CPU has bf16 kernels)
  against OpenVINO's bf16 hint, with the max relative output difference against fp32;
- `--memory`: each path in a fresh subprocess: resident MiB after one warm-up call, and the
  peak resident MiB above that during three calls;
- `--keras`: specs/keras/inception_v3 optimized against keras.applications.InceptionV3,
  `predict_on_batch`, without and with XLA (`jit_compile`), in a subprocess of its own;
- `--sites`: horizontal fusion measured at each fusable site of the three models (the data
  behind inceptdsl/optimize/cost_model.py).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.modules.setdefault("triton", None)  # type: ignore[arg-type]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import inceptdsl  # noqa: E402
from inceptdsl.backend import get  # noqa: E402
from inceptdsl.optimize import PASSES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
sys.path.insert(0, str(ROOT / "tests"))
from support.fidelity import calibrate_bn  # noqa: E402

Run = Callable[[], Any]


def reference(name: str) -> nn.Module:
    import timm
    import torchvision

    if name == "inception_v3":
        return torchvision.models.inception_v3(weights=None, init_weights=True)
    if name == "googlenet":
        return torchvision.models.googlenet(weights=None, init_weights=True)
    if name == "inception_v4":
        return timm.create_model("inception_v4", pretrained=False)
    raise ValueError(name)


def prepared(name: str) -> tuple[nn.Module, Any]:
    """The reference model (eval, BN statistics from a train-mode pass) and our spec's graph."""
    torch.manual_seed(0)
    ref = reference(name)
    graph = inceptdsl.load(str(SPECS / f"{name}.incept")).graph
    calibrate_bn(ref, torch.randn(4, *graph.graph["input_shape"]))
    return ref.eval(), graph


# -- the paths ----------------------------------------------------------------------------------


def _torch_run(model: Any, x: torch.Tensor, dtype: torch.dtype | None = None) -> Run:
    def run() -> Any:
        with torch.inference_mode():
            out = model(x)
        return out.float() if dtype is not None else out

    return run


def _onnx_bytes(model: nn.Module, graph: Any) -> bytes:
    """The reference module's own export (torch.onnx's TorchScript exporter, opset 17, a
    dynamic batch), which is what a user of the reference would run on ONNX Runtime."""
    import io
    import warnings

    example = torch.zeros(1, *graph.graph["input_shape"])
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(
            model.eval(),
            (example,),
            buffer,  # type: ignore[arg-type]
            dynamo=False,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
            opset_version=17,
        )
    return buffer.getvalue()


def _ort(data: bytes, x: torch.Tensor, threads: int) -> Run:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    feed = {"input": x.numpy()}
    return lambda: torch.from_numpy(session.run(None, feed)[0])


def _openvino(data: bytes, x: torch.Tensor, threads: int, precision: str) -> Run:
    import openvino as ov

    core = ov.Core()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        path.write_bytes(data)
        model = core.read_model(str(path))
    config = {
        "INFERENCE_NUM_THREADS": threads,
        "INFERENCE_PRECISION_HINT": precision,
        "PERFORMANCE_HINT": "LATENCY",
        "NUM_STREAMS": 1,
    }
    compiled = core.compile_model(model, "CPU", config)
    request = compiled.create_infer_request()
    arr = x.numpy()
    return lambda: torch.from_numpy(np.array(request.infer({0: arr})[0]))


def paths(name: str, batch: int, args: argparse.Namespace) -> dict[str, Run]:
    """Every path to time for one model and batch, each a zero-argument call."""
    from torch.fx.experimental.optimization import fuse

    ref, graph = prepared(name)
    x = torch.randn(batch, *graph.graph["input_shape"])
    xcl = x.contiguous(memory_format=torch.channels_last)
    torch_backend = get("torch")
    out: dict[str, Run] = {"reference eager": _torch_run(ref, x)}
    fused = fuse(ref)
    out["reference fx-fused"] = _torch_run(fused, x)
    fused_cl = fuse(ref).to(memory_format=torch.channels_last)
    out["reference fx-fused + channels_last"] = _torch_run(fused_cl, xcl)
    if args.compile:
        out["reference torch.compile"] = _torch_run(torch.compile(ref), x)
    ref_onnx = _onnx_bytes(ref, graph)
    out["reference ONNX Runtime"] = _ort(ref_onnx, x, args.threads)
    if args.openvino:
        out["reference OpenVINO fp32"] = _openvino(ref_onnx, x, args.threads, "f32")
        out["reference OpenVINO bf16 hint"] = _openvino(ref_onnx, x, args.threads, "bf16")

    def ours(**options: Any) -> nn.Module:
        return torch_backend.build_optimized(graph, ref, **options)  # type: ignore[attr-defined]

    plain = ours(channels_last=False)
    out["ours optimized eager"] = _torch_run(plain, x)
    out["ours + channels_last"] = _torch_run(ours(channels_last=True), x)
    out["ours + oneDNN"] = _torch_run(ours(onednn=True), x)
    chosen = ours()  # what `to_torch(optimize=True)` gives on this machine
    out[f"ours optimize=True (chose {chosen.optimized_path.name})"] = _torch_run(chosen, x)
    if args.compile:
        out["ours + torch.compile"] = _torch_run(torch.compile(plain), x)
    onnx_backend = get("onnx")
    ours_onnx = onnx_backend.emit_optimized(graph, ref)  # type: ignore[attr-defined]
    out["ours ONNX Runtime"] = _ort(ours_onnx, x, args.threads)
    if args.openvino:
        out["ours OpenVINO fp32"] = _openvino(ours_onnx, x, args.threads, "f32")
    if args.bf16:
        out["ours bf16 (oneDNN/channels_last)"] = _torch_run(
            ours(onednn=True, dtype=torch.bfloat16), x, torch.bfloat16
        )
    if args.passes:
        for p in PASSES:
            out[f"ours + oneDNN, without {p}"] = _torch_run(ours(onednn=True, skip=(p,)), x)
    return out


# -- timing -------------------------------------------------------------------------------------


def _relative(got: Any, want: torch.Tensor) -> float:
    got = torch.as_tensor(got).float()
    return float((got - want).abs().max() / want.abs().max().clamp_min(1e-12))


Timing = tuple[float, float, float]  # (median wall ms, median CPU ms, max relative difference)


def time_paths(runs: dict[str, Run], repeats: int) -> dict[str, Timing]:
    """{path: (median wall ms, median process-CPU ms, max relative output difference to the
    reference eager)}. CPU time (all threads) is the steadier figure on a shared machine when
    OpenMP waits passively (OMP_WAIT_POLICY=PASSIVE): it counts work, not other processes'
    time slices."""
    want = runs["reference eager"]().float()
    diffs = {k: _relative(run(), want) for k, run in runs.items()}
    for run in runs.values():  # warm-up (compilation happened above)
        run()
    names = list(runs)
    wall: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    for i in range(repeats):
        order = names[i % len(names) :] + names[: i % len(names)]
        for k in order:
            w, c = time.perf_counter(), time.process_time()
            runs[k]()
            wall[k].append(time.perf_counter() - w)
            cpu[k].append(time.process_time() - c)
    return {
        k: (statistics.median(wall[k]) * 1e3, statistics.median(cpu[k]) * 1e3, diffs[k])
        for k in names
    }


def table(results: dict[tuple[str, int], dict[str, Timing]], which: int) -> str:
    """Markdown: one row per path, one column per (model, batch): ms (ratio to the
    reference eager); `which` 0 = wall time, 1 = CPU time. Output differences above 1e-3 of
    the reference's scale are shown (bf16 rows)."""
    cols = list(results)
    rows = list(dict.fromkeys(k for r in results.values() for k in r))
    head = "| path | " + " | ".join(f"{m} b{b}" for m, b in cols) + " |"
    lines = [head, "|---|" + "---|" * len(cols)]
    for row in rows:
        cells = []
        for col in cols:
            r = results[col]
            if row not in r:
                cells.append("–")
                continue
            ms, diff = r[row][which], r[row][2]
            base = r["reference eager"][which]
            flag = f" (diff {diff:.0e})" if diff > 1e-3 else ""
            cells.append(f"{ms:.1f} ms ({base / ms:.2f}x){flag}")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine(threads: int) -> str:
    load = os.getloadavg()
    return (
        f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}), "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{threads} threads, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, "
        f"oneDNN bf16 {'yes' if torch.ops.mkldnn._is_mkldnn_bf16_supported() else 'no'}"
    )


# -- memory -------------------------------------------------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_of(name: str, batch: int, path: str, args: argparse.Namespace) -> None:
    """(in a subprocess) resident MiB after a warm-up call, and the peak above it in 3 calls."""
    runs = paths(name, batch, args)
    run = runs[path]
    del runs
    gc.collect()
    run()
    gc.collect()
    base = _rss()
    peak = [base]
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.0005)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    for _ in range(3):
        run()
    done.set()
    thread.join()
    print(f"{base / 2**20:.0f} {(peak[0] - base) / 2**20:.0f}")


def memory(args: argparse.Namespace) -> str:
    lines = [
        "| model | batch | path | resident MiB | forward peak MiB above it |",
        "|---|---|---|---|---|",
    ]
    keys = [
        "reference eager", "reference fx-fused + channels_last", "reference ONNX Runtime",
        "reference OpenVINO fp32", "ours optimized eager", "ours + channels_last",
        "ours + oneDNN", "ours ONNX Runtime",
    ]  # fmt: skip
    for name in args.models:
        for batch in args.batches:
            for path in keys:
                if "OpenVINO" in path and not args.openvino:
                    continue
                cmd = [sys.executable, __file__, "--memory-of", f"{name}:{batch}:{path}",
                       "--threads", str(args.threads), "--no-compile", "--no-passes"]  # fmt: skip
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                base, peak = out.split()[-2:]
                lines.append(f"| {name} | {batch} | {path} | {base} | {peak} |")
                print(lines[-1], flush=True)
    return "\n".join(lines)


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=["inception_v3", "googlenet", "inception_v4"]
    )
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--no-compile", dest="compile", action="store_false")
    parser.add_argument("--no-passes", dest="passes", action="store_false")
    parser.add_argument("--no-openvino", dest="openvino", action="store_false")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--keras", action="store_true")
    parser.add_argument("--sites", action="store_true")
    parser.add_argument("--memory-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.memory_of:
        name, batch, path = args.memory_of.split(":", 2)
        memory_of(name, int(batch), path, args)
        return
    print(machine(args.threads), flush=True)
    if args.sites:
        from bench_optimize_sites import sites

        print(sites(args.models, args.batches, args.repeats))
        return
    if args.keras:
        from bench_optimize_keras import keras_table

        print(keras_table(args.batches, args.threads, args.repeats))
        return
    results = {}
    for name in args.models:
        for batch in args.batches:
            runs = paths(name, batch, args)
            results[(name, batch)] = time_paths(runs, args.repeats)
            print(f"{name} batch {batch} done ({machine(args.threads)})", file=sys.stderr)
            part = {(name, batch): results[(name, batch)]}  # kept if a later one is cut off
            print(table(part, 0), file=sys.stderr, flush=True)
            del runs
            gc.collect()
    print(f"\nwall time, median of {args.repeats} calls per path (ratio: reference eager / path)\n")
    print(table(results, 0))
    print(f"\nprocess CPU time, median of {args.repeats} calls per path\n")
    print(table(results, 1))
    if args.memory:
        print()
        print(memory(args))


if __name__ == "__main__":
    main()
