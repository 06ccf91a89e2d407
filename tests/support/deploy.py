"""The deploy tests' network and how each target's model is run (tests/test_deploy_*.py,
bench/bench_deploy.py); frameworks are imported on first use."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SPEC = Path(__file__).resolve().parent.parent / "fixtures" / "deploy" / "mini_inception.incept"

PADDED_POOL = ("maxpool 2x2 stride=2", "maxpool 3x3 stride=2 pad=1")
"""SPEC's reduction pool, and the one padded as torch pads it (Keras' `same` pads (0, 1) there,
torch (1, 1): the Keras backend's PaddedMaxPooling2D)."""


def padded_spec_text() -> str:
    """SPEC with its reduction pool padded as torch pads it."""
    text = SPEC.read_text()
    assert PADDED_POOL[0] in text
    return text.replace(*PADDED_POOL)


def run_openvino(ov_model: object, x: np.ndarray) -> np.ndarray:
    import openvino as ov

    compiled = ov.Core().compile_model(ov_model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return np.asarray(compiled(x)[0])


def run_tflite(data: bytes, x: np.ndarray) -> np.ndarray:
    """The .tflite model on `x` (N, C, H, W), with TFLite's built-in kernels (backends/tflite/
    run.py; docs/deploy.md says what XNNPACK prepares)."""
    from inceptdsl.backends.tflite.run import runner

    return runner(data)(x)
