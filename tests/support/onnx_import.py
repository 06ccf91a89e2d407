"""`inceptdsl import onnx` checked from outside: run the real command on an .onnx file, then
compile the imported spec with the ONNX backend and the weights file it wrote (a strict load:
read from the file, every key and shape checked), and compare ONNX Runtime's outputs with the
file's on a random input. The control: the same comparison after one weight of the weights file
is changed by 1% must exceed the tolerance (tests/test_import_onnx*.py; frameworks on first use).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import inceptdsl
from inceptdsl.cli import main

from .fidelity import calibrate_bn, randomize_params
from .lazy import nn, torch

TOL = 1e-4
"""max |spec - file| / max |file| of the outputs, float32."""


def run(model: bytes | str, x: np.ndarray) -> np.ndarray:
    """The first output of an ONNX model on `x` (its only input)."""
    import onnxruntime as ort

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {name: x})[0])


def relative(got: np.ndarray, want: np.ndarray) -> float:
    assert got.shape == want.shape, (got.shape, want.shape)
    return float(np.abs(got - want).max() / max(float(np.abs(want).max()), 1e-12))


def trained(model: nn.Module, shape: tuple[int, ...], seed: int = 0) -> nn.Module:
    """Random parameters (conv and linear weights with He's gain, so that the output depends on
    the first layers) and BN statistics from a train-mode pass; eval mode."""
    torch.manual_seed(seed)
    randomize_params(model, seed=seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                m.weight.mul_(2**0.5)
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(seed + 2))
    return calibrate_bn(model, x)


def import_cli(
    onnx_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[Path, Path, str]:
    """`inceptdsl import onnx FILE -o FILE.incept`: the spec, its weights file, stderr."""
    spec = onnx_path.with_suffix(".incept")
    weights = onnx_path.with_suffix(".npz")
    code = main(["import", "onnx", str(onnx_path), "-o", str(spec), *extra])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Traceback" not in err
    return spec, weights, err


def same_function(
    onnx_path: Path, spec: Path, weights: Path, control: str | None = None
) -> tuple[float, float, dict[str, Any]]:
    """The imported spec with its weights file against the .onnx file: (error, control error,
    the figures of its report)."""
    from inceptdsl.backend import get

    be = get("onnx")
    net = inceptdsl.load(str(spec))
    built = be.build(net.graph, weights_from=str(weights))  # read_state + strict load
    shape = net.graph.graph["input_shape"]
    x = np.random.default_rng(3).standard_normal((1, *shape)).astype(np.float32)
    want = run(str(onnx_path), x)
    err = relative(run(built.SerializeToString(), x), want)
    arrays = _arrays(weights)
    four_d = [k for k, v in arrays.items() if k.endswith("weight") and v.ndim == 4]
    key = control or next(iter(four_d or list(arrays)), None)
    if key is None:  # no weights: the control is a 1% change of the input
        ctl = relative(run(built.SerializeToString(), x * np.float32(1.01)), want)
    else:
        arrays[key] = arrays[key] * np.float32(1.01)
        moved = be.build(net.graph, weights_from=arrays)
        ctl = relative(run(moved.SerializeToString(), x), want)
    rep = net.report()
    figures = {
        "params": rep.params,
        "aux_params": rep.aux_params,
        "buffers": rep.buffers,
        "macs": rep.macs,
    }
    return err, ctl, figures


def _arrays(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        return dict(load_file(str(path)))
    with np.load(path) as f:
        return dict(f)
