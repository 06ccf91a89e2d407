"""A family spec's `report` for one member against the same network written out (issue 19:
no more than 2x). Prints the ratio of each pair measured side by side in one run.

- EfficientNet-B0: specs/efficientnet.incept (`variant="b0"`: member table, make_divisible as
  a function, two nested loops over the stage table) against specs/cnn/efficientnet_b0.incept
  (every block call written out).
- RegNetY-400MF and RegNetX-400MF: specs/regnet.incept (stage widths and depths computed in
  the spec from the design-space parameters) against a spec generated here with the same
  block (a copy of specs/lib/regnet.incept) and one explicit call per block, its widths,
  depths and group widths taken from torchvision's BlockParams.from_init_params.

Each pair must report the same params, buffers and MACs. Timed in process, `load(...)
.report()`, cold (parse memo cleared: every file parsed again, what a fresh `inceptdsl report`
pays after start-up) and warm (memoised parse: a sweep or an `expect ... with`), alternating
the two specs so that load on the shared machine hits them alike; medians.

Run: .venv/bin/python bench/bench_family.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.modules.setdefault("triton", None)  # type: ignore[arg-type]

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

# torchvision's regnet_* builders' BlockParams.from_init_params arguments.
REGNETS = {
    "y_400mf": {
        "depth": 16,
        "w_0": 48,
        "w_a": 27.89,
        "w_m": 2.09,
        "group_width": 8,
        "se_ratio": 0.25,
    },
    "x_400mf": {"depth": 22, "w_0": 24, "w_a": 24.48, "w_m": 2.54, "group_width": 16},
}


def written_out_regnet(variant: str, folder: Path) -> Path:
    """A spec of torchvision's regnet_<variant> with one block call per block, no loops or
    functions: the stage table computed by torchvision, the block shared with the family."""
    from torchvision.models.regnet import BlockParams

    args = REGNETS[variant]
    params = BlockParams.from_init_params(**args)  # type: ignore[arg-type]
    se = args.get("se_ratio", 0.0)
    (folder / "lib").mkdir(exist_ok=True)
    shutil.copy(SPECS / "lib" / "regnet.incept", folder / "lib" / "regnet.incept")
    lines = [
        'import "lib/regnet.incept"',
        "",
        f"network regnet_{variant}(num_classes: int = 1000) {{",
        "  input 3 x 224 x 224",
        "  stem: { conv 32 3x3 stride=2 pad=1 bias=false -> bn -> relu }",
        "  trunk_output: {",
    ]
    stages = zip(params.widths, params.depths, params.group_widths, strict=True)
    for s, (w, n, g) in enumerate(stages, start=1):
        lines.append(f'    "block{s}": {{')
        for j in range(n):
            stride = 2 if j == 0 else 1
            lines.append(f'      "block{s}-{j}": ResBottleneck({w}, {stride}, {g}, 1.0, {se})')
        lines.append("    }")
    lines += ["  }", "  avgpool: global_avgpool", "  flatten", "  fc: linear num_classes", "}"]
    path = folder / f"regnet_{variant}.incept"
    path.write_text("\n".join(lines) + "\n")
    return path


def timed(fn: Callable[[bool], object], cold: bool) -> float:
    t = time.perf_counter()
    fn(cold)
    return time.perf_counter() - t


def compare(
    name: str, family: Path, overrides: dict[str, object], written: Path, repeats: int
) -> None:
    import inceptdsl
    from inceptdsl.front import loader
    from inceptdsl.report import Report

    def fam(cold: bool) -> Report:
        if cold:
            loader._PARSED.clear()
        return inceptdsl.load(str(family), **overrides).report()  # type: ignore[arg-type]

    def out(cold: bool) -> Report:
        if cold:
            loader._PARSED.clear()
        return inceptdsl.load(str(written)).report()

    a, b = fam(True), out(True)
    figures = (a.params, a.buffers, a.macs)
    assert figures == (b.params, b.buffers, b.macs), (figures, (b.params, b.buffers, b.macs))
    print(f"{name}: params {a.params:,}, buffers {a.buffers:,}, MACs {a.macs:,} (both)")
    for cold in (True, False):
        t_fam, t_out = [], []
        for _ in range(repeats):
            t_fam.append(timed(fam, cold))
            t_out.append(timed(out, cold))
        f, o = statistics.median(t_fam), statistics.median(t_out)
        kind = "cold" if cold else "warm"
        print(
            f"  {kind}: family {f * 1e3:7.1f} ms, written out {o * 1e3:7.1f} ms, "
            f"ratio {f / o:5.2f}x (target <= 2x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import torch

    isa = torch.backends.cpu.get_cpu_capability()
    print(
        f"{platform.processor() or platform.machine()} ({isa}), "
        f"{os.cpu_count()} CPUs, load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}, "
        f"python {platform.python_version()}, {args.repeats} alternating runs each"
    )
    compare(
        "efficientnet b0",
        SPECS / "efficientnet.incept",
        {"variant": "b0"},
        SPECS / "cnn" / "efficientnet_b0.incept",
        args.repeats,
    )
    with tempfile.TemporaryDirectory() as d:
        for variant in REGNETS:
            written = written_out_regnet(variant, Path(d))
            compare(
                f"regnet {variant}",
                SPECS / "regnet.incept",
                {"variant": variant},
                written,
                args.repeats,
            )


if __name__ == "__main__":
    main()
