"""The int8 report (`compile --int8`, backends/common/quant_report.py): the quantized model's
size against the fp32 one and each layer's error against fp32 on the calibration set. The
per-layer errors must locate a fault: a corrupted weight scale makes its layer's error jump,
and a 1% change of one fp32 weight shows at that layer and after it, never before: on ONNX, and
on OpenVINO and TFLite (their own ways of reading a layer, backends/*/report.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from support.deploy import SPEC, run_openvino, run_tflite
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


# -- OpenVINO and TFLite: the same report, the same checks ----------------------------------------


@pytest.fixture(scope="module", params=["openvino", "tflite"])
def target(request, net, state, calib) -> tuple[str, object, object, QuantReport]:
    """(backend, fp32 model, int8 model, the report `build` gave)."""
    got: list[QuantReport] = []
    b = get(request.param)
    int8 = b.build(net.graph, state, int8=True, calibration=calib, report=got.append)
    (r,) = got
    return request.param, b.build(net.graph, state), int8, r


def _target_report(backend: str, graph, fp32, int8, calib) -> QuantReport:  # type: ignore[no-untyped-def]
    if backend == "openvino":
        from inceptdsl.backends.openvino.report import report as ov_report

        return ov_report(fp32, int8, graph, _samples(calib))
    from inceptdsl.backends.tflite.report import report as tfl_report

    return tfl_report(graph, fp32, int8, _samples(calib))


def test_other_targets_report_sizes_and_every_layer(target, calib) -> None:
    backend, fp32_model, int8, r = target
    assert r.target == backend and r.samples == len(calib)
    assert r.int8_bytes > 0 and r.fp32_bytes > 0
    if backend == "tflite":  # full-integer: int8 weights; NNCF's IR of so small a network is
        assert r.int8_bytes == len(int8) < r.fp32_bytes  # larger than fp32 (constants, xml)
    names = [n for n, _ in r.layers]
    assert {"conv1", "conv2", LAYER, "inception4a.concat", "fc"} <= set(names), names
    errors = [e for _, e in r.layers]
    assert errors == sorted(errors, reverse=True)
    assert all(e > 0 for e in errors), r.format()
    assert r.format().count("\n  ") == min(10, len(names))
    # the output's figure is the deployed int8 model's own error (its extra outputs or
    # preserved tensors change nothing downstream): NNCF's is 0.16 here, TFLite's 0.01-0.05
    run = run_openvino if backend == "openvino" else run_tflite
    fp32 = run(fp32_model, calib)
    want = float(np.max(np.abs(run(int8, calib) - fp32)) / np.max(np.abs(fp32)))
    assert dict(r.layers)["fc"] == pytest.approx(want, rel=1e-6), (r.format(), want)


def _corrupt_scale(backend: str, int8):  # type: ignore[no-untyped-def]
    """A copy of the int8 model with LAYER's weight scales 50% too large."""
    if backend == "openvino":
        import openvino as ov

        m = int8.clone()
        (mul,) = [
            op
            for op in m.get_ops()
            if op.get_friendly_name().startswith(f"{LAYER}/")
            and op.get_type_name() == "Multiply"
            and "fq_weights" in op.get_friendly_name()
        ]
        scale = mul.input_value(1).get_node()
        new = ov.opset13.constant(scale.get_data() * 1.5)
        mul.input(1).replace_source_output(new.output(0))
        return m
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(int8))
    name = f"{LAYER}.conv_1/convolution".encode()
    (t,) = [t for t in model.subgraphs[0].tensors if t.name.endswith(name) and t.type == 9]
    t.quantization.scale = t.quantization.scale * 1.5  # type 9: INT8, the weights
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def test_other_targets_show_a_corrupted_scale_at_its_layer(net, target, calib) -> None:
    backend, fp32, int8, good = target
    r = _target_report(backend, net.graph, fp32, _corrupt_scale(backend, int8), calib)
    was, now = dict(good.layers), dict(r.layers)
    # NNCF's layer errors are larger to begin with (0.16 here: its activation ranges clip)
    assert now[LAYER] > max(0.2, 2 * was[LAYER]), (r.format(), was[LAYER])
    assert f"  {LAYER}  " in r.format(), r.format()
    for upstream in ("conv1", "conv2", "inception3a.branch2.0"):
        assert now[upstream] == was[upstream], upstream


def test_other_targets_show_a_one_percent_weight_change_where_it_is(net, target, state, calib):  # type: ignore[no-untyped-def]
    """The control: fp32 against itself with one weight 1% off is exact up to that layer."""
    backend, fp32, _, _ = target
    changed = {k: v.clone() for k, v in state.items()}
    w = changed[f"{LAYER}.conv.weight"]
    w.view(-1)[w.abs().argmax()] *= 1.01
    errors = dict(_target_report(backend, net.graph, fp32, get(backend).build(net.graph, changed),
                                 calib).layers)  # fmt: skip
    assert errors[LAYER] > 1e-4, errors
    assert errors["conv1"] == errors["conv2"] == 0.0, errors
    assert errors["inception3a.concat"] > 0 and errors["fc"] > 0, errors
