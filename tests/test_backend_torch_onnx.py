"""ONNX output (the `onnx` backend): valid models that onnxruntime runs to torch's results.

Every small spec and two bundled specs are exported, checked with onnx.checker and run with
onnxruntime at a batch size other than the exported one (the batch axis is dynamic); `emit`
must give the same bytes every time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from test_backend_torch_specs import SPECS, example, load, randomize

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.backends.torch import ONNX_BACKEND

BACKEND = get("torch")
ROOT = Path(__file__).resolve().parent.parent


def _graph(name: str):  # type: ignore[no-untyped-def]
    if name.startswith("specs/"):
        return inceptdsl.load(str(ROOT / name)).graph
    return load(name)


@pytest.mark.parametrize(
    "name", [*sorted(SPECS), "specs/googlenet.incept", "specs/inception_v3.incept"]
)
def test_onnx_model_runs_like_torch(name: str) -> None:
    g = _graph(name)
    model = randomize(BACKEND.build(g)).eval()
    proto = ONNX_BACKEND.build(g, weights_from=model)
    onnx.checker.check_model(proto)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x = example(g, batch=3)
    with torch.no_grad():
        want = model(x).numpy()
    (got,) = session.run(None, {"input": x.numpy()})
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5 * max(1.0, float(np.abs(want).max()))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_onnx_emit_is_deterministic(name: str) -> None:
    first = ONNX_BACKEND.emit(load(name))
    assert isinstance(first, bytes) and ONNX_BACKEND.suffix == ".onnx"
    assert ONNX_BACKEND.emit(load(name)) == first
    onnx.checker.check_model(onnx.load_from_string(first))
