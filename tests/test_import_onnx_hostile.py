"""Hostile `inceptdsl import onnx` inputs: garbage and truncated files, external data that
reaches outside the model's directory (a relative path, an absolute one, a symlink), a FIFO,
graphs 10,000 nodes deep and over the node limit, ops the language lacks or the importer does
not recover. Each ends in a coded error that names the file (and the node), exit 1 (2 for a
file that cannot be read as one), no traceback, nothing written; the deep graph imports exactly
in bounded CPU time (the structure recovery is linear in the depth of a chain of merges).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inceptdsl.cli import main

REPO = Path(__file__).resolve().parent.parent


def _model(nodes: list, inits: list, domain: str = "") -> bytes:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph(nodes, "hostile", [x], [y], inits)
    opsets = [helper.make_opsetid("", 17), *([helper.make_opsetid(domain, 1)] if domain else [])]
    model = helper.make_model(g, opset_imports=opsets)
    return bytes(model.SerializeToString())


def _conv(out: str = "y") -> tuple[list, list]:
    from onnx import helper, numpy_helper

    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32)
    node = helper.make_node("Conv", ["x", "conv.weight"], [out], name="/conv/Conv", pads=[1] * 4)
    return [node], [numpy_helper.from_array(w, "conv.weight")]


def _run(tmp_path: Path, data: bytes, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    code = main(["import", "onnx", str(path), "-o", str(tmp_path / "m.incept")])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert not (tmp_path / "m.incept").exists() and not (tmp_path / "m.npz").exists()
    return code, err


def test_garbage_and_truncated_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nodes, inits = _conv()
    good = _model(nodes, inits)
    for data in (b"\xff\x00garbage" * 50, good[: len(good) // 2], b"", b"\x08\x07"):
        code, err = _run(tmp_path, data, capsys)
        assert code == 1, err
        assert f"{tmp_path / 'm.onnx'}: error[E601]: not an ONNX model" in err


def _external(tmp_path: Path, location: str) -> bytes:
    from onnx import TensorProto

    nodes, inits = _conv()
    t = inits[0]
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(4 * 108))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return _model(nodes, inits)


def test_external_data_outside_the_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path.parent / f"{tmp_path.name}_secret.bin"
    secret.write_bytes(np.ones(108, np.float32).tobytes())
    (tmp_path / "link.bin").symlink_to(secret)
    for location in (f"../{secret.name}", str(secret), "link.bin", ".", ""):
        code, err = _run(tmp_path, _external(tmp_path, location), capsys)
        assert code == 1, err
        assert "error[E601]: tensor 'conv.weight' reads its data from" in err
        assert "outside the model's directory" in err
    (tmp_path / "w.bin").write_bytes(np.ones(20, np.float32).tobytes())  # too short
    code, err = _run(tmp_path, _external(tmp_path, "w.bin"), capsys)
    assert code == 1 and "bytes 0..432 of 'w.bin' (80 bytes) are not in the file" in err


def test_external_data_beside_the_model_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32)
    (tmp_path / "w.bin").write_bytes(w.tobytes())
    path = tmp_path / "m.onnx"
    path.write_bytes(_external(tmp_path, "w.bin"))
    assert main(["import", "onnx", str(path), "-o", str(tmp_path / "m.incept")]) == 0
    assert "load strictly" in capsys.readouterr().err
    assert np.array_equal(np.load(tmp_path / "m.npz")["conv.weight"], w)


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "m.onnx")
    proc = _cli(tmp_path, "import", "onnx", "m.onnx")
    assert proc.returncode == 2 and "m.onnx is not a regular file" in proc.stderr


def _cli(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "inceptdsl", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


def _deep(levels: int) -> bytes:
    """conv, then `levels` residual steps t + 0.5 * sigmoid(t): three nodes each."""
    from onnx import helper, numpy_helper

    nodes, inits = _conv("t0")
    inits.append(numpy_helper.from_array(np.float32(0.5), "half"))
    for i in range(levels):
        s, h, o = f"s{i}", f"h{i}", ("y" if i == levels - 1 else f"t{i + 1}")
        nodes += [
            helper.make_node("Sigmoid", [f"t{i}"], [s], name=f"/b{i}/Sigmoid"),
            helper.make_node("Mul", [s, "half"], [h], name=f"/b{i}/Mul"),
            helper.make_node("Add", [f"t{i}", h], [o], name=f"/b{i}/Add"),
        ]
    return _model(nodes, inits)


def test_a_graph_ten_thousand_nodes_deep_imports_in_bounded_time(tmp_path: Path) -> None:
    (tmp_path / "deep.onnx").write_bytes(_deep(3_334))  # 10,003 nodes, 3,334 nested merges
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    proc = _cli(tmp_path, "import", "onnx", "deep.onnx", "-o", "deep.incept")
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    assert proc.returncode == 0, proc.stderr
    assert "load strictly; ONNX Runtime outputs agree" in proc.stderr
    assert (tmp_path / "deep.incept").read_text().count("residual") == 3_334
    assert cpu < 120, cpu  # about 15 s on a quiet machine; quadratic work took many minutes


def test_a_graph_over_the_node_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(tmp_path, _deep(6_667), capsys)  # 20,002 nodes
    assert code == 1
    assert "m.onnx: error[E902]: the graph has 20,002 nodes; the limit is 20,000" in err


def test_an_unknown_op_is_named_with_its_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from onnx import helper

    nodes, inits = _conv("c")
    nodes.append(helper.make_node("ConvTranspose", ["c", "conv.weight"], ["y"], name="/up/Deconv"))
    code, err = _run(tmp_path, _model(nodes, inits), capsys)
    assert code == 1
    assert (
        "m.onnx: error[E601]: node '/up/Deconv' (ConvTranspose): op ConvTranspose has no "
        "counterpart in the language\n  hint: the language cannot express this construct" in err
    )
    nodes[-1] = helper.make_node("Frob", ["c"], ["y"], name="f", domain="com.example")
    code, err = _run(tmp_path, _model(nodes, inits, "com.example"), capsys)
    assert code == 1 and "node 'f' (Frob): op com.example.Frob has no counterpart" in err


def test_a_symbolic_input_size_needs_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import onnx

    nodes, inits = _conv()
    model = onnx.load_from_string(_model(nodes, inits))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[0].dim_param, dims[2].dim_param, dims[3].dim_param = "N", "H", "W"
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    assert main(["import", "onnx", str(path)]) == 2
    err = capsys.readouterr().err
    assert "the input's size is symbolic" in err and "--input CxHxW" in err
    assert main(["import", "onnx", str(path), "--input", "3x16x12"]) == 0
    out, err = capsys.readouterr()
    assert "input 3 x 16 x 12" in out and "conv 4 3x3" in out and "load strictly" in err
    assert not list(tmp_path.glob("*.npz"))  # no -o, no --weights: the spec on stdout only
