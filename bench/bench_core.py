"""Core benchmarks (issue: the core). Prints ratios measured side by side in one run.

1. In-process `load + report` of Inception-v4 against building timm's `inception_v4` and
   counting it with torch's FlopCounterMode (the static analyser must be >= 20x faster, aim
   100x, with identical MACs). Measured cold (parse memo cleared: every file is parsed again)
   and warm (memoised parse, what an `expect ... with` or a second `--set` pays).
2. `inceptdsl report specs/inception_v4.incept` as a fresh process: wall time (target < 0.5 s).
3. Scaling: generated specs of 100, 1,000 and 10,000 blocks; time per IR node should stay flat.

Run: .venv/bin/python bench/bench_core.py   (timings are medians; the machine is shared)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.modules.setdefault("triton", None)  # type: ignore[arg-type]

ROOT = Path(__file__).resolve().parent.parent
V4 = ROOT / "specs" / "inception_v4.incept"


def median_time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_v4_vs_timm() -> None:
    import timm
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    import inceptdsl
    from inceptdsl.front import loader

    torch.set_num_threads(2)

    def reference() -> int:
        model = timm.create_model("inception_v4", pretrained=False).eval()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.randn(1, 3, 299, 299))
        return counter.get_total_flops() // 2

    def ours_cold() -> int:
        loader._PARSED.clear()
        return inceptdsl.load(str(V4)).report().macs

    def ours_warm() -> int:
        return inceptdsl.load(str(V4)).report().macs

    ref_macs = reference()  # also pays torch._dynamo's one-off import
    ours_cold()
    assert ours_cold() == ref_macs, (ours_cold(), ref_macs)
    # Alternate the three so that load on the shared machine hits them alike.
    t_ref, t_cold, t_warm = [], [], []
    for _ in range(5):
        t_ref.append(median_time(reference, 1))
        t_cold.append(median_time(ours_cold, 3))
        t_warm.append(median_time(ours_warm, 3))
    r, c, w = (statistics.median(x) for x in (t_ref, t_cold, t_warm))
    print(f"inception_v4 MACs: ours {ours_warm():,} == timm+FlopCounterMode/2 {ref_macs:,}")
    print(f"  timm build + FlopCounterMode: {r * 1e3:8.1f} ms")
    print(
        f"  inceptdsl load+report (cold): {c * 1e3:8.1f} ms   ratio {r / c:6.1f}x  (target >= 20x)"
    )
    print(f"  inceptdsl load+report (warm): {w * 1e3:8.1f} ms   ratio {r / w:6.1f}x")


def bench_fresh_process() -> None:
    cmd = [str(ROOT / ".venv" / "bin" / "inceptdsl"), "report", str(V4)]
    if not Path(cmd[0]).exists():
        cmd = [sys.executable, "-m", "inceptdsl", "report", str(V4)]
    subprocess.run(cmd, check=True, capture_output=True)  # warm the disk cache
    times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    print(
        f"`inceptdsl report specs/inception_v4.incept`, fresh process: median "
        f"{statistics.median(times):.3f} s, min {min(times):.3f} s (target < 0.5 s)"
    )


BLOCK = """
block Cell(c: int) {
  residual act=relu {
    concat {
      conv (c // 2) 1x1
      conv (c // 4) 1x1 -> conv (c // 2) 3x3 pad=1
    }
    -> conv c 1x1 bn=none bias=true act=none
  }
}
"""


def generated_spec(blocks: int) -> str:
    return (
        BLOCK + f"network scaled(n: int = {blocks}) {{\n  input 16 x 8 x 8\n"
        "  defaults conv(bias=false, bn=true, act=relu)\n"
        "  cells: repeat n { Cell(16) }\n  global_avgpool\n}\n"
    )


def bench_scaling() -> None:
    import inceptdsl

    print("scaling (generated specs; each block = 7 IR nodes):")
    with tempfile.TemporaryDirectory() as d:
        for n in (100, 1_000, 10_000):
            path = Path(d) / f"scaled_{n}.incept"
            path.write_text(generated_spec(n))
            t = time.perf_counter()
            net = inceptdsl.load(str(path))
            elapsed = time.perf_counter() - t
            nodes = net.graph.number_of_nodes()
            print(
                f"  {n:>6,} blocks: {nodes:>7,} nodes in {elapsed:7.3f} s = "
                f"{elapsed / nodes * 1e6:6.1f} us/node"
            )


if __name__ == "__main__":
    bench_v4_vs_timm()
    bench_fresh_process()
    bench_scaling()
