"""The deploy tests' network and how each target's model is run (tests/test_deploy_*.py,
bench/bench_deploy.py); frameworks are imported on first use."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SPEC = Path(__file__).resolve().parent.parent / "fixtures" / "deploy" / "mini_inception.incept"


def run_openvino(ov_model: object, x: np.ndarray) -> np.ndarray:
    import openvino as ov

    compiled = ov.Core().compile_model(ov_model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return np.asarray(compiled(x)[0])


def run_tflite(data: bytes, x: np.ndarray) -> np.ndarray:
    """The .tflite model on `x` (N, C, H, W), one sample at a time (the file's input is
    (1, H, W, C)), with TFLite's built-in kernels: TF 2.21's default XNNPACK delegate fails to
    prepare some int8 graphs (docs/deploy.md, "Not done")."""
    import tensorflow as tf

    kernels = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    it = tf.lite.Interpreter(model_content=data, experimental_op_resolver_type=kernels)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    rows = []
    for sample in x.transpose(0, 2, 3, 1):
        it.set_tensor(inp["index"], np.ascontiguousarray(sample[None]))
        it.invoke()
        rows.append(np.array(it.get_tensor(out["index"])[0]))
    return np.stack(rows)
