"""Horizontal fusion measured site by site: the data behind inceptdsl/optimize/cost_model.py.

    .venv/bin/python bench/bench_optimize.py --sites [--models ...] [--batches 1 8]

For every set of sibling convs the hfuse pass would consider in a model (the graph optimized
with every other pass), the siblings run as separate convs + ReLU, and fused as one conv +
ReLU whose output is sliced (each slice that a conv reads made contiguous, as that conv would
make it). Both in three runtimes: eager NCHW, eager channels_last, and oneDNN with packed
kernels (backends/torch/onednn.py). Printed: the site, the ratio separate / fused per runtime
(> 1: fusing pays), and what cost_model.decide says for the NCHW and NHWC targets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

import inceptdsl
from inceptdsl.backends.torch.onednn import OneDNNConv
from inceptdsl.optimize import Target, optimize
from inceptdsl.optimize.cost_model import decide
from inceptdsl.optimize.edit import Editor
from inceptdsl.optimize.hfuse import _groups, _site

SPECS = Path(__file__).resolve().parent.parent / "specs"
CPU_TIME = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
"""With passive OpenMP waiting, process CPU time counts work only (not spinning nor other
processes' time slices): the steadier measure on a shared machine."""


def _min_ms(fn: Callable[[], Any], repeats: int) -> float:
    """The fastest of `repeats` calls: on a shared machine, the call nothing interrupted
    (a sub-millisecond op's median is mostly other processes' time slices)."""
    for _ in range(2):
        fn()
    times = []
    clock = time.process_time if CPU_TIME else time.perf_counter
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times) * 1e3


def _convs(cin: int, couts: list[int], kernel: tuple[int, int], pads: tuple[int, ...],
           stride: tuple[int, int]) -> list[nn.Conv2d]:  # fmt: skip
    pad = (pads[0], pads[2])
    return [nn.Conv2d(cin, c, kernel, stride, pad).eval() for c in couts]


def _fused(convs: list[nn.Conv2d]) -> nn.Conv2d:
    first = convs[0]
    out = sum(c.out_channels for c in convs)
    fused = nn.Conv2d(first.in_channels, out, first.kernel_size, first.stride, first.padding)
    with torch.no_grad():
        fused.weight.copy_(torch.cat([c.weight for c in convs]))
        fused.bias.copy_(torch.cat([c.bias for c in convs]))  # type: ignore[arg-type]
    return fused.eval()


def _relu_after(conv: nn.Conv2d) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda t: torch.relu_(conv(t))


def measure(site: Any, pads: tuple[int, ...], stride: tuple[int, int], sliced: list[bool],
            batch: int, repeats: int) -> dict[str, float]:  # fmt: skip
    """separate / fused time ratio per runtime for one site."""
    convs = _convs(site.cin, list(site.couts), site.kernel, pads, stride)
    fused = _fused(convs)
    bounds = [0]
    for c in site.couts:
        bounds.append(bounds[-1] + c)
    x = torch.randn(batch, site.cin, site.h, site.w)
    out: dict[str, float] = {}
    for runtime in ("nchw", "channels_last", "onednn"):
        fmt = torch.contiguous_format if runtime == "nchw" else torch.channels_last
        xi = x.contiguous(memory_format=fmt)
        if runtime == "onednn":
            sep: list[Any] = [OneDNNConv(c.to(memory_format=fmt), "relu") for c in convs]
            one: Any = OneDNNConv(fused.to(memory_format=fmt), "relu")
        else:
            sep = [_relu_after(c.to(memory_format=fmt)) for c in convs]
            one = _relu_after(fused.to(memory_format=fmt))

        def separate(xi: torch.Tensor = xi, sep: list[Any] = sep) -> None:
            for conv in sep:
                conv(xi)

        def together(xi: torch.Tensor = xi, one: Any = one, fmt: Any = fmt) -> None:
            y = one(xi)
            for i, s in enumerate(sliced):
                if s:
                    y[:, bounds[i] : bounds[i + 1]].contiguous(memory_format=fmt)

        with torch.inference_mode():
            t_sep = _min_ms(separate, repeats)
            t_fused = _min_ms(together, repeats)
        out[runtime] = t_sep / t_fused
    return out


def sites(models: list[str], batches: list[int], repeats: int) -> str:
    lines = [
        "| model | site | input | couts | kernel | batch | sliced | NCHW | channels_last | "
        "oneDNN | decide nchw | decide nhwc |",
        "|---" * 12 + "|",
    ]
    for name in models:
        g = inceptdsl.load(str(SPECS / f"{name}.incept")).graph
        g = optimize(g, skip=("hfuse", "concat")).graph
        ed = Editor(g)
        for src, members in _groups(ed):
            site = _site(ed, src, members)
            a = members[0].attrs
            sliced = [any(ed[u].op.value != "concat" for u in ed.users(m.name)) for m in members]
            for batch in batches:
                r = measure(site, a.pads, a.stride, sliced, batch, repeats)  # type: ignore[attr-defined]
                dn = decide(site, Target("nchw", batch))
                dh = decide(site, Target("nhwc", batch))
                lines.append(
                    f"| {name} | {src} | {site.cin}x{site.h}x{site.w} | "
                    f"{'/'.join(map(str, site.couts))} | {site.kernel[0]}x{site.kernel[1]} | "
                    f"{batch} | {sum(sliced)} | {r['nchw']:.2f} | {r['channels_last']:.2f} | "
                    f"{r['onednn']:.2f} | {dn.gain:.2f} {'F' if dn.fuse else '-'} | "
                    f"{dh.gain:.2f} {'F' if dh.fuse else '-'} |"
                )
                print(lines[-1], flush=True)
    return "\n".join(lines)
