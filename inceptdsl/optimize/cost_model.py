"""Whether horizontal fusion pays at a site: a small time model of a conv on a CPU.

A conv call costs a fixed overhead (dispatch, primitive set-up, thread start), its
multiply-accumulates at the machine's rate, and the bytes it moves (input read, output
written) at its memory bandwidth. Fusing k sibling convs saves k - 1 overheads and k - 1 reads
of their shared input, and makes one bigger GEMM; it costs a copy of every part of the output
that a non-concat reader gets as a slice, where that slice is not already contiguous: always in
NHWC (the channels of a pixel are split), in NCHW only for batches above 1 (a channel range of
one sample is contiguous). ONNX Runtime has no channel-blocked (NCHWc) slice: it reorders the
whole fused output to NCHW, splits it, and reorders each part a conv reads back (its profile
shows ReorderOutput/ReorderInput around every Split), three copies. The predicted gain is the
ratio of the two times; a site fuses when it is above 1.

The constants are fitted to bench/bench_optimize.py --sites on the project's machines (2
threads of an AMD EPYC, torch 2.14 with oneDNN, process CPU time with passive OpenMP waiting):
across the 28 sites of inception_v3, googlenet and inception_v4 the measured gains were 0.9 to
1.7 (NCHW), 0.9 to 1.6 (channels_last) and 0.95 to 1.4 (oneDNN); the cases below 1 were all
within 10% of 1, at batch 8, where the model predicts gains near 1 as well (that run's table
was not recorded: bench/RESULTS.md says so; rerun `--sites` to see it). The model only has to
rank "pays" against "does not"; it is not a timer.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import Target

OVERHEAD_US = 20.0  # per conv call
MACS_PER_US = 30_000.0  # 30 GMAC/s: two threads of AVX2 FMA at oneDNN's usual efficiency
BYTES_PER_US = 10_000.0  # 10 GB/s of memory traffic
FLOAT = 4  # bytes per element (float32)


@dataclass(frozen=True)
class Site:
    """A set of sibling convs: their input (cin x h x w), output size, kernel, output
    channels, and how many of the parts are read by something other than a concat (each such
    reader gets a channel slice)."""

    cin: int
    h: int
    w: int
    out_h: int
    out_w: int
    kernel: tuple[int, int]
    couts: tuple[int, ...]
    sliced_readers: int


@dataclass(frozen=True)
class Decision:
    fuse: bool
    gain: float  # predicted time of the separate convs / time fused
    why: str


def _conv_us(site: Site, cout: int, batch: int) -> float:
    kh, kw = site.kernel
    pixels = site.out_h * site.out_w
    macs = batch * cout * pixels * site.cin * kh * kw
    moved = batch * FLOAT * (site.cin * site.h * site.w + cout * pixels)
    return OVERHEAD_US + macs / MACS_PER_US + moved / BYTES_PER_US


def predicted_gain(site: Site, target: Target) -> float:
    """Time of the separate convs / time of the fused conv and its slice copies."""
    separate = sum(_conv_us(site, c, target.batch) for c in site.couts)
    fused = _conv_us(site, sum(site.couts), target.batch)
    whole = sum(site.couts) * site.out_h * site.out_w * FLOAT * target.batch
    # the parts that get sliced: on average, the sliced readers' share of the channels
    part = whole * min(site.sliced_readers, len(site.couts)) / len(site.couts)
    if target.layout == "nchwc":
        fused += 2 * (2 * whole + part) / BYTES_PER_US  # reorder, split, reorder back
    elif target.layout == "nhwc" or target.batch > 1:
        fused += 2 * part / BYTES_PER_US  # read and write of each copied slice
    return separate / fused


def decide(site: Site, target: Target) -> Decision:
    gain = predicted_gain(site, target)
    fuse = gain > 1.0
    verb = "pays" if fuse else "does not pay"
    why = f"{verb} for {target.layout} batch {target.batch}: predicted {gain:.2f}x"
    return Decision(fuse, gain, why)
