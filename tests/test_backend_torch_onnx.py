"""ONNX output (the `onnx` backend): valid models that onnxruntime runs to torch's results.

Every small spec and two bundled specs are exported, checked with onnx.checker and run with
onnxruntime at a batch size other than the exported one (the batch axis is dynamic); `emit`
must give the same bytes every time.
"""

from __future__ import annotations

import json
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


def test_onnx_is_readable_names_shapes_metadata() -> None:
    """What Netron shows: node names with the block path, a shape for every intermediate
    tensor, and the spec's metadata."""
    g = inceptdsl.load(str(ROOT / "specs" / "googlenet.incept"), aux_logits=False).graph
    proto = onnx.load_from_string(ONNX_BACKEND.emit(g))
    names = [n.name for n in proto.graph.node]
    assert any(n.startswith("/inception4a/branch2/") for n in names)
    assert len(set(names)) == len(names)
    shaped = {v.name for v in proto.graph.value_info}
    produced = {o for n in proto.graph.node for o in n.output} - {"output"}
    assert produced <= shaped
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["inceptdsl.network"] == "googlenet"
    assert meta["inceptdsl.parameters"] == "6624904"
    assert meta["inceptdsl.macs"] == "1498376192"
    assert json.loads(meta["inceptdsl.params"])["aux_logits"] is False
    assert meta["inceptdsl.version"] == inceptdsl.__version__


def test_cli_compiles_trained_weights_into_onnx(tmp_path: Path) -> None:
    """`inceptdsl compile spec --backend onnx --weights model.pt -o model.onnx`: the file
    computes what the trained model computes (a fresh model would not: the control)."""
    from inceptdsl.cli import main

    spec = tmp_path / "branches.incept"
    spec.write_text(SPECS["branches"])
    g = load("branches")
    model = randomize(BACKEND.build(g)).eval()
    torch.save(model.state_dict(), tmp_path / "model.pt")
    out = tmp_path / "model.onnx"
    args = [str(spec), "--backend", "onnx", "--weights", str(tmp_path / "model.pt")]
    assert main(["compile", *args, "-o", str(out), "-q"]) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = example(g, batch=2)
    (got,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        want = model(x).numpy()
    tol = 1e-5 * float(np.abs(want).max())
    assert np.abs(got - want).max() <= tol
    with torch.no_grad():
        fresh = BACKEND.build(g).eval()(x).numpy()
    assert np.abs(got - fresh).max() > tol
