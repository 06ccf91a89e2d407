"""What int8 quantization cost, reported after `compile --int8`: the model's size against the
fp32 one, and each layer's error against fp32 on the calibration set (max |int8 - fp32| over
max |fp32|, worst first), so a broken quantization shows where it breaks, not only that the
outputs moved. The targets compute the errors (backends/onnx/quantize.py,
backends/openvino/report.py, backends/tflite/report.py); this formats them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

TOP = 10
"""Layers printed by `format` (the worst ones)."""


@dataclass(frozen=True)
class QuantReport:
    """Sizes in bytes of the files (fp32 and int8) and (layer path, relative error), worst
    first; `note` says why a target gives no per-layer errors."""

    target: str
    fp32_bytes: int
    int8_bytes: int
    layers: tuple[tuple[str, float], ...] = ()
    samples: int = 0
    note: str = ""

    def format(self, top: int = TOP) -> str:
        ratio = self.int8_bytes / self.fp32_bytes if self.fp32_bytes else float("nan")
        lines = [
            f"int8 {self.target}: {_size(self.int8_bytes)} vs fp32 {_size(self.fp32_bytes)}"
            f" ({ratio:.2f}x)"
        ]
        if self.layers:
            shown = self.layers[:top]
            lines.append(
                f"per-layer error vs fp32 on {self.samples} calibration samples, "
                f"max|int8-fp32|/max|fp32| (worst {len(shown)} of {len(self.layers)}):"
            )
            width = max(len(name) for name, _ in shown)
            lines += [f"  {name:<{width}}  {err:.4f}" for name, err in shown]
        elif self.note:
            lines.append(f"per-layer error: {self.note}")
        return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n:,} bytes"


class ErrorAccumulator:
    """max |int8 - fp32| and max |fp32| per layer over batches, then their ratio."""

    def __init__(self) -> None:
        self._diff: dict[str, float] = {}
        self._scale: dict[str, float] = {}

    def add(self, fp32: Mapping[str, np.ndarray], int8: Mapping[str, np.ndarray]) -> None:
        for name, ref in fp32.items():
            ref64, got = ref.astype(np.float64), int8[name].astype(np.float64)
            d = float(np.max(np.abs(got - ref64))) if ref.size else 0.0
            s = float(np.max(np.abs(ref64))) if ref.size else 0.0
            self._diff[name] = max(self._diff.get(name, 0.0), d)
            self._scale[name] = max(self._scale.get(name, 0.0), s)

    def ranked(self) -> tuple[tuple[str, float], ...]:
        """(layer, error) worst first (a layer that is 0 in fp32 has its absolute error);
        ties by name, for deterministic output."""
        errors = {
            n: (d / self._scale[n] if self._scale[n] > 0 else d) for n, d in self._diff.items()
        }
        return tuple(sorted(errors.items(), key=lambda kv: (-kv[1], kv[0])))
