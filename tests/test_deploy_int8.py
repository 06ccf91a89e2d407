"""int8 deployment measured on a trained model: the mini Inception network trained on
scikit-learn's digits (upsampled to 32x32, the spec's aux-loss weight), quantized by each target
(ONNX Runtime QDQ, OpenVINO NNCF, TFLite full-integer) with 256 training images as calibration;
the bar is the issue's: test accuracy drops by at most 1 point from fp32."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import inceptdsl
from inceptdsl.backend import get
from tests.test_deploy_targets import SPEC, run_openvino, run_tflite

BAR = 0.01  # at most 1 point of test accuracy lost


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train x, train y, test x, test y): 8x8 digits scaled to [0, 1], upsampled to 32x32
    (nearest), the last 25% (450 images) held out."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32).repeat(4, axis=1).repeat(4, axis=2)[:, None]
    x = (x - 0.5) / 0.5
    y = d.target.astype(np.int64)
    cut = len(x) * 3 // 4
    return x[:cut], y[:cut], x[cut:], y[cut:]


def train(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, epochs: int = 10) -> None:
    """Adam with a one-cycle schedule, batch 64, the main loss plus the aux head's with the
    spec's weight (`model.loss`): about 17 CPU seconds on one thread."""
    torch.manual_seed(0)
    batches = (len(x) + 63) // 64
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=epochs * batches)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = order[i : i + 64]
            loss = model.loss(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float((logits.argmax(1) == y).mean())


@pytest.fixture(scope="module")
def trained() -> tuple[inceptdsl.Network, torch.nn.Module, tuple[np.ndarray, ...]]:
    net = inceptdsl.load(str(SPEC))
    torch.manual_seed(0)
    model = net.to_torch()
    data = digits()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small kernels: one thread is faster, and xdist runs 2 workers
    try:
        train(model, data[0], data[1])
    finally:
        torch.set_num_threads(threads)
    return net, model, data


def _run_onnx(model: object, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    raw = model.SerializeToString()  # type: ignore[attr-defined]
    s = ort.InferenceSession(raw, providers=["CPUExecutionProvider"])
    return np.asarray(s.run(None, {"input": x})[0])


RUNNERS = {"onnx": _run_onnx, "openvino": run_openvino, "tflite": run_tflite}


@pytest.mark.parametrize("backend", sorted(RUNNERS))
def test_int8_keeps_the_accuracy(backend, trained) -> None:
    net, model, (xtr, _, xte, yte) = trained
    with torch.no_grad():
        fp32 = accuracy(model(torch.from_numpy(xte)).numpy(), yte)
    assert fp32 > 0.9, f"the fp32 model reached only {fp32:.3f}: the check would mean nothing"
    b = get(backend)
    run = RUNNERS[backend]
    state = model.state_dict()
    calibration = xtr[:256]
    int8 = b.build(net.graph, state, int8=True, calibration=calibration)
    got = accuracy(run(int8, xte), yte)
    print(f"{backend}: fp32 {fp32:.4f} int8 {got:.4f}")
    assert got >= fp32 - BAR, f"{backend} int8 accuracy {got:.4f} vs fp32 {fp32:.4f}"
    # the quantized model is not the fp32 one (a target that ignored --int8 would pass above)
    assert _is_int8(backend, int8)


def _is_int8(backend: str, model: object) -> bool:
    if backend == "onnx":
        ops = {n.op_type for n in model.graph.node}  # type: ignore[attr-defined]
        return {"QuantizeLinear", "DequantizeLinear"} <= ops
    if backend == "openvino":
        return any(op.get_type_name() == "FakeQuantize" for op in model.get_ops())  # type: ignore[attr-defined]
    import tensorflow as tf

    it = tf.lite.Interpreter(model_content=model)
    return any(d["dtype"] == np.int8 for d in it.get_tensor_details())
