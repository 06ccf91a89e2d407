"""The int8 report (`compile --int8`, backends/common/quant_report.py): the quantized model's
size against the fp32 one and each layer's error against fp32 on the calibration set. The
per-layer errors must locate a fault: a corrupted weight scale makes its layer's error jump,
and a 1% change of one fp32 weight shows at that layer and after it, never before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from support.deploy import SPEC
from support.fidelity import calibrate_bn, he_init
from support.lazy import torch

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.backends.common.quant_report import QuantReport
from inceptdsl.backends.onnx.quantize import report

LAYER = "inception3a.branch2.1"  # a 3x3 conv inside the first Inception module


@pytest.fixture(scope="module")
def net() -> inceptdsl.Network:
    return inceptdsl.load(str(SPEC))


@pytest.fixture(scope="module")
def state(net: inceptdsl.Network) -> dict:
    torch.manual_seed(0)
    m = he_init(net.to_torch())
    return calibrate_bn(m, torch.randn(32, *net.input_shape)).state_dict()


@pytest.fixture(scope="module")
def calib(net: inceptdsl.Network) -> np.ndarray:
    return np.random.default_rng(2).standard_normal((48, *net.input_shape)).astype(np.float32)


@pytest.fixture(scope="module")
def built(net, state, calib) -> tuple[onnx.ModelProto, onnx.ModelProto, QuantReport]:
    got: list[QuantReport] = []
    int8 = get("onnx").build(net.graph, state, int8=True, calibration=calib, report=got.append)
    fp32 = get("onnx").build_optimized(net.graph, state)
    assert len(got) == 1
    return fp32, int8, got[0]


def _samples(x: np.ndarray) -> list[np.ndarray]:
    return [s[None] for s in x]


def test_the_report_gives_sizes_and_every_layer(built, calib) -> None:
    fp32, int8, r = built
    assert r.target == "onnx" and r.samples == len(calib)
    assert r.fp32_bytes == len(fp32.SerializeToString())
    assert r.int8_bytes == len(int8.SerializeToString()) < r.fp32_bytes
    names = [n for n, _ in r.layers]
    assert {"conv1", "conv2", LAYER, "inception4a.concat", "fc"} <= set(names)
    errors = [e for _, e in r.layers]
    assert errors == sorted(errors, reverse=True)
    # int8 rounding shows everywhere, and a sound quantization keeps it small
    assert all(e > 0 for e in errors) and errors[0] < 0.15, r.format()
    text = r.format()
    assert text.startswith(f"int8 onnx: {r.int8_bytes:,} bytes vs fp32 {r.fp32_bytes:,} bytes")
    assert text.count("\n  ") == min(10, len(names))


def test_a_corrupted_scale_shows_at_its_layer(built, calib) -> None:
    """Its layer's error jumps (and stands in the printed top 10); the layers before it keep
    theirs; the layers after it inherit the fault (global pooling amplifies it)."""
    fp32, int8, good = built
    broken = onnx.ModelProto()
    broken.CopyFrom(int8)
    (scale,) = [t for t in broken.graph.initializer if t.name == f"{LAYER}.weight_scale"]
    values = numpy_helper.to_array(scale).copy()
    values[0] *= 1.5  # one output channel's weights dequantized 50% too large
    scale.CopyFrom(numpy_helper.from_array(values, scale.name))
    r = report(fp32, broken, _samples(calib))
    was, now = dict(good.layers), dict(r.layers)
    assert now[LAYER] > 0.2 > 4 * was[LAYER], (r.format(), was[LAYER])
    assert f"  {LAYER}  " in r.format(), r.format()
    for upstream in ("conv1", "conv2", "inception3a.branch2.0"):
        assert now[upstream] == was[upstream]


def test_a_one_percent_weight_change_shows_where_it_is(built, calib) -> None:
    """The control: fp32 against itself with one weight 1% off is exact up to that layer."""
    fp32, _, _ = built
    changed = onnx.ModelProto()
    changed.CopyFrom(fp32)
    (w,) = [t for t in changed.graph.initializer if t.name == f"{LAYER}.weight"]
    values = numpy_helper.to_array(w).copy()
    values.flat[np.argmax(np.abs(values))] *= 1.01
    w.CopyFrom(numpy_helper.from_array(values, w.name))
    errors = dict(report(fp32, changed, _samples(calib)).layers)
    assert errors[LAYER] > 1e-4, errors
    assert errors["conv1"] == errors["conv2"] == 0.0
    assert errors["inception3a.concat"] > 0 and errors["fc"] > 0


def test_compile_prints_the_report_unless_quiet(net, tmp_path: Path, calib) -> None:
    np.save(tmp_path / "c.npy", calib[:8])
    base = [sys.executable, "-m", "inceptdsl"]
    args = ["compile", str(SPEC), "--backend", "onnx", "--int8", "--calibrate", "c.npy"]
    loud = subprocess.run(
        [*base, *args, "-o", "a.onnx"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert loud.returncode == 0, loud.stderr
    size = (tmp_path / "a.onnx").stat().st_size
    assert f"int8 onnx: {size:,} bytes vs fp32 " in loud.stderr, loud.stderr
    assert "per-layer error vs fp32 on 8 calibration samples" in loud.stderr
    assert "WARNING" not in loud.stderr, loud.stderr  # ORT's root-logger advice stays out
    quiet = subprocess.run(
        [*base, "-q", *args, "-o", "b.onnx"], cwd=tmp_path, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert quiet.returncode == 0 and "per-layer" not in quiet.stderr, quiet.stderr


@pytest.mark.parametrize("backend", ["openvino", "tflite"])
def test_other_targets_report_sizes_and_say_why_no_layers(backend, net, state, calib) -> None:
    got: list[QuantReport] = []
    get(backend).build(net.graph, state, int8=True, calibration=calib[:8], report=got.append)
    (r,) = got
    assert r.target == backend and r.int8_bytes > 0 and r.fp32_bytes > 0 and not r.layers
    if backend == "tflite":  # full-integer: int8 weights; NNCF's IR of so small a network is
        assert r.int8_bytes < r.fp32_bytes  # larger than fp32 (quantizer constants, xml)
    assert "per-layer error: not measured" in r.format()
