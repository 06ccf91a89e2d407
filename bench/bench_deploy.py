"""Deploy targets side by side: fp32 vs int8 per runtime, on a trained model and on full-size ones.

    python bench/bench_deploy.py [--nets inception_v3,googlenet] [--batch 1,8] [--repeats 10]
        [--no-openvino] [--no-tflite] [--no-digits] [--threads 2]

1. Digits (issue 24 item 3): tests/fixtures/deploy/mini_inception.incept trained on
   scikit-learn's digits (backends/torch/train.py, 10 epochs), then compiled for each target in
   fp32 and int8 (256 training images as calibration): test accuracy, file size and the median
   latency at batch 1, each row next to torch eager fp32.
2. Full-size networks (random weights, BN statistics from a train-mode pass): fp32 vs int8 on
   ONNX Runtime (the optimized graph vs QDQ), OpenVINO and TFLite (built-in kernels, and
   XNNPACK where it prepares the graph; one sample per invoke) at each `--batch`: median
   latency, the int8 ratio, and top-1 agreement of int8 with fp32 on 32 held-out random inputs
   (with random weights this measures the quantizer's fidelity, not a model's accuracy).

Prints the CPU's model and ISA (AVX2 / AVX-512 / VNNI / AMX) and the load average: these
machines are shared, so only ratios measured in one run are comparable.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MINI = ROOT / "tests" / "fixtures" / "deploy" / "mini_inception.incept"


def isa() -> str:
    """The CPU's model and the vector ISA features that decide int8 speed."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "?"
    model = next(
        (ln.split(":", 1)[1].strip() for ln in info.splitlines() if "model name" in ln), "?"
    )
    flags = set(
        next(
            (ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), []
        )
    )
    have = [
        f
        for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")
        if f in flags
    ]
    return f"{model}; {', '.join(have) or 'no AVX2'}; {os.cpu_count()} CPUs"  # fmt: skip


def median_ms(run: Callable[[], Any], repeats: int, warmup: int = 2) -> tuple[float, float]:
    """Median and (max - min) / 2 of `repeats` timed calls, in ms."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), (max(times) - min(times)) / 2


def ort_session(model: Any, threads: int) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    raw = model.SerializeToString()
    return ort.InferenceSession(raw, opts, providers=["CPUExecutionProvider"])


def ov_compiled(model: Any, threads: int) -> Any:
    import openvino as ov

    config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32"}
    return ov.Core().compile_model(model, "CPU", config)


def runners(net: Any, state: Any, calib: np.ndarray, args: argparse.Namespace) -> dict[str, Any]:
    """name -> (forward(x) -> logits, file bytes)."""
    from inceptdsl.backend import get

    out: dict[str, Any] = {}
    onnx_b = get("onnx")
    for label, model in (
        ("onnx fp32 (ORT)", onnx_b.build_optimized(net.graph, state)),
        ("onnx int8 (ORT, U8S8)", onnx_b.build(net.graph, state, int8=True, calibration=calib)),
    ):
        s = ort_session(model, args.threads)
        out[label] = (lambda x, s=s: s.run(None, {"input": x})[0], model.ByteSize())
    if args.openvino:
        ov_b = get("openvino")
        for label, model in (
            ("openvino fp32", ov_b.build(net.graph, state)),
            ("openvino int8", ov_b.build(net.graph, state, int8=True, calibration=calib)),
        ):
            c = ov_compiled(model, args.threads)
            size = sum(int(np.prod(op.get_output_shape(0))) * op.get_output_element_type(0).size
                       for op in model.get_ops() if op.get_type_name() == "Constant")  # fmt: skip
            out[label] = (lambda x, c=c: c(x)[0], size)
    if args.tflite:
        from inceptdsl.backends.tflite.run import runner

        tfl = get("tflite")
        for label, data in (
            ("tflite fp32", tfl.build(net.graph, state)),
            ("tflite int8", tfl.build(net.graph, state, int8=True, calibration=calib)),
        ):
            out[label] = (runner(data, args.threads), len(data))
            try:  # TFLite's default delegate, where it prepares the graph
                out[f"{label} (XNNPACK)"] = (runner(data, args.threads, xnnpack=True), len(data))
            except (RuntimeError, ValueError) as e:
                print(f"{label}: XNNPACK fails to prepare it: {str(e).splitlines()[0]}")
    return out


def digits(args: argparse.Namespace) -> None:
    import torch

    import inceptdsl
    from inceptdsl.backends.common.digits import load
    from inceptdsl.backends.torch.train import TrainConfig, fit

    net = inceptdsl.load(str(MINI))
    torch.manual_seed(0)
    model = net.to_torch()
    d = load()
    t = time.process_time()
    fit(model, d.x_train, d.y_train, TrainConfig(epochs=10, threads=1))
    print(f"\n## digits: {MINI.relative_to(ROOT)} trained 10 epochs "
          f"({time.process_time() - t:.0f} CPU s)\n")  # fmt: skip
    torch.set_num_threads(args.threads)
    x1 = d.x_test[:1]
    with torch.no_grad():
        base_acc = float((model(torch.from_numpy(d.x_test)).argmax(1).numpy() == d.y_test).mean())
        base, _ = median_ms(lambda: model(torch.from_numpy(x1)), args.repeats * 5)
    print("| target | test accuracy | vs fp32 | file KB | batch 1 ms | vs torch eager |")
    print("|---|---|---|---|---|---|")
    size = sum(v.numel() * 4 for v in model.state_dict().values())
    print(f"| torch eager fp32 | {base_acc:.4f} | | {size / 1024:.0f} | {base:.3f} | 1.00x |")
    fp32: dict[str, float] = {}
    for label, (run, nbytes) in runners(net, model.state_dict(), d.x_train[:256], args).items():
        acc = float((run(d.x_test).argmax(1) == d.y_test).mean())
        key = label.split()[0]
        fp32.setdefault(key, acc)
        ms, _ = median_ms(lambda run=run: run(x1), args.repeats * 5)
        drop = f"{(acc - fp32[key]) * 100:+.2f} pt" if "int8" in label else ""
        print(f"| {label} | {acc:.4f} | {drop} | {nbytes / 1024:.0f} | {ms:.3f} | "
              f"{base / ms:.2f}x |")  # fmt: skip


def full_size(name: str, args: argparse.Namespace) -> None:
    import torch

    import inceptdsl
    from tests.support.fidelity import calibrate_bn

    net = inceptdsl.load(str(ROOT / "specs" / f"{name}.incept"), aux_logits=False)
    torch.manual_seed(0)
    shape = tuple(net.input_shape)
    model = calibrate_bn(net.to_torch(), torch.randn(8, *shape))
    rng = np.random.default_rng(0)
    calib = rng.standard_normal((32, *shape)).astype(np.float32)
    held = rng.standard_normal((32, *shape)).astype(np.float32)
    t = time.perf_counter()
    rows = runners(net, model.state_dict(), calib, args)
    print(f"\n## {name}, {args.threads} threads (random weights; models built and quantized "
          f"in {time.perf_counter() - t:.0f} s)\n")  # fmt: skip
    batches = [int(b) for b in args.batch.split(",")]
    head = "".join(f" batch {b} ms | +- | int8 speed-up |" for b in batches)
    print(f"| runtime |{head} top-1 agreement with fp32 |")
    print("|---|" + "---|---|---|" * len(batches) + "---|")
    ref: dict[tuple[str, bool], tuple[list[float], np.ndarray]] = {}
    for label, (run, _) in rows.items():
        key = (label.split()[0], "XNNPACK" in label)
        timed = [median_ms(lambda run=run, b=b: run(held[:b]), args.repeats) for b in batches]
        top1 = np.concatenate([run(held[i : i + 8]) for i in range(0, len(held), 8)]).argmax(1)
        cells = ""
        if "fp32" in label:
            ref[key] = ([ms for ms, _ in timed], top1)
            cells = "".join(f" {ms:.1f} | {sp:.1f} | |" for ms, sp in timed)
            print(f"| {label} |{cells} |")
            continue
        base_ms, base_top1 = ref.get(key, ref[(key[0], False)])
        agree = float((top1 == base_top1).mean())
        cells = "".join(
            f" {ms:.1f} | {sp:.1f} | {b_ms / ms:.2f}x |"
            for (ms, sp), b_ms in zip(timed, base_ms, strict=True)
        )
        print(f"| {label} |{cells} {agree:.3f} |")


def ort_variants(name: str, args: argparse.Namespace) -> None:
    """ONNX Runtime's int8 options side by side (issue 24): activations int8 (S8S8) or uint8
    (U8S8, VNNI's vpdpbusd operand order), reduce_range, quant_pre_process; timed interleaved,
    round by round, so the machine's load moves every row alike."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    import inceptdsl
    from inceptdsl.backend import get
    from tests.support.fidelity import calibrate_bn

    net = inceptdsl.load(str(ROOT / "specs" / f"{name}.incept"), aux_logits=False)
    torch.manual_seed(0)
    shape = tuple(net.input_shape)
    state = calibrate_bn(net.to_torch(), torch.randn(8, *shape)).state_dict()
    rng = np.random.default_rng(0)
    calib = rng.standard_normal((8, *shape)).astype(np.float32)
    held = rng.standard_normal((32, *shape)).astype(np.float32)
    x = held[: int(args.batch.split(",")[-1])]

    class Reader:
        def __init__(self) -> None:
            self.it = iter(calib[i : i + 1] for i in range(len(calib)))

        def get_next(self) -> dict[str, np.ndarray] | None:
            v = next(self.it, None)
            return None if v is None else {"input": v}

    tmp = tempfile.mkdtemp(prefix="bench-deploy-")
    src, pre = os.path.join(tmp, "fp32.onnx"), os.path.join(tmp, "pre.onnx")
    onnx.save(get("onnx").build_optimized(net.graph, state), src)
    quant_pre_process(src, pre, skip_symbolic_shape=True)
    s8, u8 = QuantType.QInt8, QuantType.QUInt8
    variants = {
        "S8S8": (src, s8, False),
        "U8S8": (src, u8, False),
        "U8S8 reduce_range": (src, u8, True),
        "U8S8 quant_pre_process": (pre, u8, False),
    }
    paths = {"fp32": src}
    for label, (path, act, rr) in variants.items():
        paths[label] = os.path.join(tmp, f"{len(paths)}.onnx")
        quantize_static(path, paths[label], Reader(), quant_format=QuantFormat.QDQ,  # type: ignore[arg-type]
                        per_channel=True, activation_type=act, weight_type=s8,
                        reduce_range=rr)  # fmt: skip
    sessions = {k: ort_session(onnx.load(p), args.threads) for k, p in paths.items()}
    shutil.rmtree(tmp)
    times: dict[str, list[float]] = {k: [] for k in sessions}
    for s in sessions.values():
        s.run(None, {"input": x})
    for _ in range(args.repeats):
        for k, s in sessions.items():
            t = time.perf_counter()
            s.run(None, {"input": x})
            times[k].append((time.perf_counter() - t) * 1000)
    top1 = {
        k: np.concatenate([s.run(None, {"input": held[i : i + 8]})[0] for i in range(0, 32, 8)])
        for k, s in sessions.items()
    }
    base = statistics.median(times["fp32"])
    print(f"\n## {name}: ORT int8 options, QDQ per-channel, batch {len(x)}, "
          f"{args.threads} threads, {args.repeats} interleaved rounds\n")  # fmt: skip
    print("| ORT model | median ms | min ms | speed-up vs fp32 | top-1 agreement with fp32 |")
    print("|---|---|---|---|---|")
    for k, v in times.items():
        agree = float((top1[k].argmax(1) == top1["fp32"].argmax(1)).mean())
        m = statistics.median(v)
        print(f"| {k} | {m:.1f} | {min(v):.1f} | {base / m:.2f}x | {agree:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nets", default="inception_v3,googlenet",
                        help="full-size specs ('' for none)")  # fmt: skip
    parser.add_argument("--batch", default="1,8", help="batch sizes of the full-size tables")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-openvino", dest="openvino", action="store_false")
    parser.add_argument("--no-tflite", dest="tflite", action="store_false")
    parser.add_argument("--no-digits", dest="digits", action="store_false")
    parser.add_argument("--ort-variants", action="store_true",
                        help="only ONNX Runtime's int8 options side by side (--nets)")  # fmt: skip
    args = parser.parse_args()
    print(f"# bench_deploy: {isa()}; load average {os.getloadavg()[0]:.1f}")
    if args.ort_variants:
        for name in filter(None, args.nets.split(",")):
            ort_variants(name, args)
        return
    if args.digits:
        digits(args)
    for name in filter(None, args.nets.split(",")):
        full_size(name, args)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
