"""The deploy targets in fp32 (`--backend openvino`, `--backend tflite`): each file computes the
torch model's function (within 1e-4 of the output's scale, BN statistics from a train-mode
pass, a 1% change of one weight exceeds the tolerance), the weights come from `--weights`, the
same spec gives the same bytes, and what a target cannot do is a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support.deploy import SPEC, padded_spec_text, run_openvino, run_tflite
from support.fidelity import calibrate_bn, control, he_init, relative_error
from support.lazy import torch

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.errors import UsageError

TOL = 1e-4


@pytest.fixture(scope="module")
def net() -> inceptdsl.Network:
    return inceptdsl.load(str(SPEC))


@pytest.fixture(scope="module")
def model(net: inceptdsl.Network) -> torch.nn.Module:
    torch.manual_seed(0)
    m = he_init(net.to_torch())
    return calibrate_bn(m, torch.randn(16, *net.input_shape))


@pytest.fixture(scope="module")
def x(net: inceptdsl.Network) -> np.ndarray:
    return np.random.default_rng(1).standard_normal((4, *net.input_shape)).astype(np.float32)


def _torch(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(torch.from_numpy(x)).numpy()


def test_openvino_computes_the_torch_model(net, model, x) -> None:
    want = _torch(model, x)

    def run() -> np.ndarray:
        return run_openvino(get("openvino").build(net.graph, model.state_dict()), x)

    assert relative_error(run(), want) <= TOL
    control(model, run, want, TOL)


def test_tflite_computes_the_torch_model(net, model, x) -> None:
    want = _torch(model, x)

    def run() -> np.ndarray:
        return run_tflite(get("tflite").build(net.graph, model.state_dict()), x)

    assert relative_error(run(), want) <= TOL
    control(model, run, want, TOL)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inceptdsl", "-q", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("backend", ["openvino", "tflite"])
def test_compile_writes_the_weights_given(backend, net, model, x, tmp_path) -> None:
    """`compile --weights w.npz` (no torch needed to read it): the file computes the trained
    model; compiling twice gives the same bytes."""
    weights = tmp_path / "w.npz"
    np.savez(weights, **{k: v.numpy() for k, v in model.state_dict().items()})
    out = "m.xml" if backend == "openvino" else "m.tflite"
    # the second run replaces the first's files without --force: they are recognised as
    # inceptdsl's (output_origin), and a copy elsewhere shows the bytes are the same
    for name in (out, "again" + Path(out).suffix, out):
        r = _cli("compile", str(SPEC), "--backend", backend, "--weights", str(weights),
                 "-o", name, cwd=tmp_path)  # fmt: skip
        assert r.returncode == 0, r.stderr
    want = _torch(model, x)
    if backend == "openvino":
        import openvino as ov

        got = run_openvino(ov.Core().read_model(str(tmp_path / out)), x)
        assert (tmp_path / "m.bin").read_bytes() == (tmp_path / "again.bin").read_bytes()
    else:
        got = run_tflite((tmp_path / out).read_bytes(), x)
    assert relative_error(got, want) <= TOL
    assert (tmp_path / out).read_bytes() == (tmp_path / ("again" + Path(out).suffix)).read_bytes()


def test_openvino_refuses_stdout_and_other_suffixes(net, tmp_path) -> None:
    r = _cli("compile", str(SPEC), "--backend", "openvino", "-o", "-", cwd=tmp_path)
    assert r.returncode == 2 and "give -o FILE.xml" in r.stderr, r.stderr
    r = _cli("compile", str(SPEC), "--backend", "openvino", "-o", "m.onnx", cwd=tmp_path)
    assert r.returncode == 2 and "FILE.xml" in r.stderr and not list(tmp_path.iterdir())


def test_tflite_cannot_keep_layers_in_fp32(net) -> None:
    with pytest.raises(UsageError, match="keeping layers in fp32"):
        get("tflite").build(net.graph, int8=True, calibration=np.zeros((2, 1, 32, 32)),
                            keep_fp32=("fc",))  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "onnx", "--int8"], "--int8 needs calibration inputs"),
        (["--backend", "torch", "--int8", "--calibrate", "c.npy"], "does not quantize"),
        (["--backend", "onnx", "--calibrate", "c.npy"], "are for --int8"),
        (["--backend", "onnx", "--int8", "--calibrate", "c.npy", "--optimize"], "leave out"),
        (["--backend", "onnx", "--int8", "--calibrate", "nchw.npy"], "transpose them"),
        (["--backend", "onnx", "--int8", "--calibrate", "c.npy", "--keep-fp32", "nope"],
         "--keep-fp32 nope"),
    ],
)  # fmt: skip
def test_int8_usage_errors(args, message, tmp_path) -> None:
    np.save(tmp_path / "c.npy", np.zeros((2, 1, 32, 32), np.float32))
    np.save(tmp_path / "nchw.npy", np.zeros((2, 32, 32, 1), np.float32))
    r = _cli("compile", str(SPEC), *args, "-o", "m.onnx", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_tflite_int8_compiles_a_max_pool_padded_as_torch_pads_and_says_nothing_else(
    tmp_path,
) -> None:
    """Such a pool pads with copies of its edge, which TFLite calibrates (it was refused while
    it padded with -inf; tests/test_deploy_int8.py checks the accuracy). Without -q, the
    output is inceptdsl's: none of TensorFlow's native log lines (absl, oneDNN, MLIR passes)."""
    (tmp_path / "padded.incept").write_text(padded_spec_text())
    np.save(tmp_path / "c.npy", np.random.default_rng(0).standard_normal((4, 1, 32, 32)))
    for extra in ([], ["--int8", "--calibrate", "c.npy"]):
        r = subprocess.run(
            [sys.executable, "-m", "inceptdsl", "compile", "padded.incept", "--backend",
             "tflite", *extra, "-o", "m.tflite", "--force"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert "wrote m.tflite" in r.stderr + r.stdout
        for chatter in ("absl", "oneDNN", "I0000", "fully_quantize", "Warning", "tensorflow"):
            assert chatter not in r.stderr, r.stderr
    assert "int8 tflite: " in r.stderr, r.stderr


def test_openvino_int8_says_nothing_of_cuda(tmp_path) -> None:
    """NNCF loads torch's C++ extension helpers while it quantizes, which warn "No CUDA
    runtime is found" where a CUDA toolkit is found (CUDA_HOME) and no GPU is usable: that
    line is not about the OpenVINO model and stays out of the output. The environment makes
    torch warn on any machine (a CUDA_HOME that exists, no visible GPU)."""
    import os

    np.save(tmp_path / "c.npy", np.random.default_rng(0).standard_normal((4, 1, 32, 32)))
    env = {**os.environ, "CUDA_HOME": str(tmp_path), "CUDA_VISIBLE_DEVICES": ""}
    r = subprocess.run(
        [sys.executable, "-m", "inceptdsl", "compile", str(SPEC), "--backend", "openvino",
         "--int8", "--calibrate", "c.npy", "-o", "m.xml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "int8 openvino: " in r.stderr and "wrote m.xml" in r.stderr + r.stdout, r.stderr
    assert "CUDA" not in r.stderr + r.stdout, r.stderr


def test_native_log_lines_come_back_when_tensorflow_fails(capfd) -> None:
    """quiet.py hides descriptor 2 only while all goes well: a failure shows what was printed."""
    import os

    from inceptdsl.backends.tflite.quiet import native_stderr_hidden

    with native_stderr_hidden():
        os.write(2, b"hidden line\n")
    assert "hidden line" not in capfd.readouterr().err
    with pytest.raises(RuntimeError), native_stderr_hidden():
        os.write(2, b"the reason it failed\n")
        raise RuntimeError
    assert "the reason it failed" in capfd.readouterr().err
