"""Hostile weights files (issue 18): every file gives weights or a coded error, never a crash.

backends/common/weights_file.py is the one reader of `--weights` (.pt/.pth, .npz,
.safetensors). Each case here crashed it (exit 3, "internal error"), inflated data before the
shape check, or accepted something that is not real numbers (complex parts dropped with a
warning). Each must now be a UsageError (E004, exit 2) that names the file and the tensor;
bfloat16, a common training dtype, is converted to float32 exactly. A property test corrupts
valid files at random: the reader returns real arrays or a UsageError, nothing else.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.lazy import lazy, torch

import inceptdsl
from backends.common import weights_file
from backends.common.weights_file import read_state
from backends.onnx import weights as onnx_weights
from inceptdsl.cli import main
from inceptdsl.errors import UsageError

TORCH_BUILD = lazy("backends.torch.build")  # (these import torch)
OPTIMIZED = lazy("backends.torch.optimized")
SPEC = """\
network tiny {
  input 3 x 16 x 16
  stem: conv 4 3x3 bias=false bn=bn(eps=0.001) act=relu
  global_avgpool
  flatten
  fc: linear 5
}
"""


@pytest.fixture(scope="module")
def net() -> inceptdsl.Network:
    return inceptdsl.loads(SPEC, "tiny.incept")


@pytest.fixture(scope="module")
def state(net: inceptdsl.Network) -> dict[str, torch.Tensor]:
    """A state_dict with random weights and BN statistics from a train-mode pass."""
    torch.manual_seed(0)
    model = TORCH_BUILD.build(net.graph)
    model.train()
    with torch.no_grad():
        model(torch.randn(8, 3, 16, 16))
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _shapes(net: inceptdsl.Network) -> dict[str, tuple[int, ...]]:
    with torch.device("meta"):
        return {k: tuple(v.shape) for k, v in TORCH_BUILD.build(net.graph).state_dict().items()}


def _npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


def _arrays(state: dict[str, torch.Tensor], **changed: np.ndarray) -> dict[str, np.ndarray]:
    out = {k: v.numpy() for k, v in state.items()}
    out.update({k.replace("__", "."): v for k, v in changed.items()})
    return out


def _refused(path: Path, *words: str, shapes: dict[str, tuple[int, ...]] | None = None) -> str:
    with pytest.raises(UsageError) as err:
        read_state(str(path), shapes)
    text = err.value.headline()
    assert err.value.code == "E004" and err.value.exit_code == 2
    assert str(path) in text, text
    for w in words:
        assert w in text, text
    return text


# ---- .npz -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "words"),
    [
        (np.dtype("<U3"), "strings"),
        (np.dtype("S3"), "byte strings"),
        (np.dtype([("a", "<f4"), ("b", "<i4")]), "structured records"),
        (np.dtype(np.complex64), "complex numbers"),
        (np.dtype("datetime64[s]"), "dates"),
        (np.dtype("timedelta64[s]"), "time deltas"),
    ],
)
def test_npz_of_something_other_than_real_numbers_is_refused(
    tmp_path: Path, state: dict[str, torch.Tensor], dtype: np.dtype, words: str
) -> None:
    path = _npz(tmp_path / "w.npz", _arrays(state, fc__bias=np.zeros(5, dtype)))
    _refused(path, "'fc.bias'", words)


def test_complex_weights_are_refused_not_truncated(
    tmp_path: Path, net: inceptdsl.Network, state: dict[str, torch.Tensor]
) -> None:
    """They loaded with their imaginary parts dropped (a ComplexWarning) before."""
    arrays = _arrays(state)
    arrays["fc.weight"] = arrays["fc.weight"] + 1j
    path = _npz(tmp_path / "w.npz", arrays)
    with pytest.raises(UsageError, match="complex numbers"):
        onnx_weights.load(net.graph, str(path))


def test_truncated_npz(tmp_path: Path, state: dict[str, torch.Tensor]) -> None:
    good = _npz(tmp_path / "good.npz", _arrays(state))
    data = good.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        _refused(bad, "not a NumPy .npz file")


def _member(path: Path, name: str, header: dict[str, object], body: bytes, deflate: int) -> None:
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(hdr, header)  # type: ignore[no-untyped-call]
    with zipfile.ZipFile(path, "w", compression=deflate) as z:
        with z.open(name, "w", force_zip64=True) as f:
            f.write(hdr.getvalue())
            f.write(body)


def test_npz_member_declaring_4e9_floats(tmp_path: Path) -> None:
    path = tmp_path / "huge.npz"
    header = {"descr": "<f4", "fortran_order": False, "shape": (4_000_000_000,)}
    _member(path, "fc.bias.npy", header, b"\0" * 20, zipfile.ZIP_STORED)
    _refused(path, "'fc.bias'", "4,000,000,000 values", "limit")


def test_npz_member_shorter_than_its_header_says(tmp_path: Path) -> None:
    path = tmp_path / "short.npz"
    header = {"descr": "<f4", "fortran_order": False, "shape": (5,)}
    _member(path, "fc.bias.npy", header, b"\0" * 12, zipfile.ZIP_STORED)
    _refused(path, "'fc.bias'", "truncated")


def test_npz_bomb_is_refused_from_its_headers(
    tmp_path: Path, net: inceptdsl.Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small file that inflates to 64 MB of a shape the network does not have: refused
    before any member is inflated (NumPy's reader is never called)."""
    n = 16 * 1024**2
    path = tmp_path / "bomb.npz"
    header = {"descr": "<f4", "fortran_order": False, "shape": (n,)}
    _member(path, "fc.weight.npy", header, b"\0" * (4 * n), zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 200_000

    def no_inflating(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was read before the shapes were checked")

    monkeypatch.setattr(np, "load", no_inflating)
    _refused(path, "fc.weight (16777216,) vs (5, 4)", shapes=_shapes(net))
    # and without the network's shapes, the byte limit stops what exceeds it
    monkeypatch.setattr(weights_file, "MAX_WEIGHTS_BYTES", 4 * n - 1)
    _refused(path, "'fc.weight'", "limit")


def test_npz_with_a_key_the_network_lacks_is_refused_before_reading(
    tmp_path: Path, net: inceptdsl.Network, state: dict[str, torch.Tensor]
) -> None:
    arrays = _arrays(state, extra=np.zeros(3, np.float32))
    path = _npz(tmp_path / "w.npz", arrays)
    _refused(path, "unexpected extra", shapes=_shapes(net))
    # the network's own keys and shapes load, and give the same arrays
    good = _npz(tmp_path / "good.npz", _arrays(state))
    got = read_state(str(good), _shapes(net))
    assert all(np.array_equal(got[k], v.numpy()) for k, v in state.items())


def test_npz_of_too_many_arrays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights_file, "MAX_TENSORS", 10)
    path = _npz(tmp_path / "w.npz", {f"a{i}": np.zeros(1, np.float32) for i in range(11)})
    _refused(path, "holds 11 arrays; the limit is 10")
    monkeypatch.setattr(weights_file, "MAX_TENSORS", 11)
    assert len(read_state(str(path))) == 11


# ---- torch files ----------------------------------------------------------------------------


def test_bfloat16_pt_is_converted_to_float32(
    tmp_path: Path, net: inceptdsl.Network, state: dict[str, torch.Tensor]
) -> None:
    bf = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in state.items()}
    path = tmp_path / "bf16.pt"
    torch.save(bf, path)
    got = read_state(str(path))
    for k, v in bf.items():
        assert got[k].dtype == (torch.float32 if v.is_floating_point() else v.dtype)
        assert torch.equal(got[k], v.float() if v.is_floating_point() else v)
    # the ONNX backend and the torch backend's optimizer both take it
    arrays = onnx_weights.load(net.graph, str(path))
    assert np.array_equal(arrays["fc.weight"], bf["fc.weight"].float().numpy())
    tensors = OPTIMIZED.read_weights(str(path), net.graph)
    assert torch.equal(tensors["fc.weight"], bf["fc.weight"].float())
    # control: bfloat16 rounding is a real change of the float32 weights
    assert not torch.equal(tensors["fc.weight"], state["fc.weight"])


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda t: t.to_sparse(), "sparse"),
        (lambda t: t.to_sparse_csr(), "sparse"),
        (lambda t: torch.empty(t.shape, device="meta"), "meta tensor"),
        (lambda t: t.to(torch.complex64), "complex numbers"),
        (lambda t: torch.quantize_per_tensor(t, 0.1, 0, torch.qint8), "quantized"),
    ],
)
def test_pt_tensors_without_dense_real_data_are_refused(
    tmp_path: Path, state: dict[str, torch.Tensor], make: object, words: str
) -> None:
    bad = dict(state)
    bad["fc.weight"] = make(state["fc.weight"])  # type: ignore[operator]
    path = tmp_path / "w.pt"
    torch.save(bad, path)
    _refused(path, "'fc.weight'", words)


def test_pt_with_a_compressed_record_is_refused_before_it_is_inflated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torch.load inflates a deflated record (400 KB -> 400 MB) before any check; torch.save
    never writes one, so it is refused from the zip directory, torch.load not called."""
    good = tmp_path / "good.pt"
    torch.save({"fc.bias": torch.zeros(5)}, good)
    bad = tmp_path / "bad.pt"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            deflate = zipfile.ZIP_DEFLATED if "/data/" in info.filename else zipfile.ZIP_STORED
            dst.writestr(info.filename, src.read(info), compress_type=deflate)
    assert torch.equal(torch.load(bad, weights_only=True)["fc.bias"], torch.zeros(5))  # control

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch.load was called")

    monkeypatch.setattr(torch, "load", no_loading)
    _refused(bad, "is compressed", "torch.save never compresses")
    monkeypatch.undo()
    assert torch.equal(read_state(str(good))["fc.bias"], torch.zeros(5))


def test_pt_value_that_is_not_a_tensor(tmp_path: Path, state: dict[str, torch.Tensor]) -> None:
    path = tmp_path / "w.pt"
    torch.save({**state, "fc.weight": [1.0, 2.0]}, path)
    _refused(path, "'fc.weight'", "list, not a tensor")


# ---- .safetensors ---------------------------------------------------------------------------


def _safetensors(path: Path, header: dict[str, object], data: bytes) -> Path:
    import json
    import struct

    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def test_safetensors_headers_are_checked_first(tmp_path: Path, net: inceptdsl.Network) -> None:
    big = {"dtype": "F32", "shape": [4_000_000_000], "data_offsets": [0, 16_000_000_000]}
    _refused(_safetensors(tmp_path / "a.safetensors", {"fc.bias": big}, b""), "limit")
    cplx = {"dtype": "C64", "shape": [5], "data_offsets": [0, 40]}
    _refused(_safetensors(tmp_path / "b.safetensors", {"fc.bias": cplx}, b"\0" * 40), "C64")
    wrong = {"dtype": "F32", "shape": [7], "data_offsets": [0, 28]}
    path = _safetensors(tmp_path / "c.safetensors", {"fc.bias": wrong}, b"\0" * 28)
    _refused(path, "fc.bias (7,) vs (5,)", shapes=_shapes(net))
    (tmp_path / "d.safetensors").write_bytes(b"\xff" * 8 + b"{}")
    _refused(tmp_path / "d.safetensors", "not a safetensors file")


# ---- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("optimize", [False, True])
def test_cli_reports_a_bad_weights_file_with_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    state: dict[str, torch.Tensor],
    optimize: bool,
) -> None:
    spec = tmp_path / "tiny.incept"
    spec.write_text(SPEC, encoding="utf-8")
    path = tmp_path / "w.pt"
    torch.save({k: v.to_sparse() if k == "fc.weight" else v for k, v in state.items()}, path)
    out = tmp_path / ("m.py" if optimize else "m.onnx")
    backend = ["--optimize", "--backend", "torch"] if optimize else ["--backend", "onnx"]
    argv = ["compile", str(spec), *backend, "--weights", str(path), "-q", "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"error[E004]: {path}: tensor 'fc.weight' is torch.sparse_coo (sparse)" in err
    assert "Traceback" not in err and "internal error" not in err and not out.exists()
    assert not os.path.exists(out.with_suffix(".pt"))


# ---- property: random corruption ------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["npz", "npz_deflated", "pt", "safetensors"]),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 255), st.sampled_from(["set", "cut"])),
        min_size=1,
        max_size=4,
    ),
)
def test_corrupt_weights_files_load_or_give_a_usage_error(
    tmp_path_factory: pytest.TempPathFactory,
    state: dict[str, torch.Tensor],
    net: inceptdsl.Network,
    kind: str,
    edits: list[tuple[float, int, str]],
) -> None:
    d = tmp_path_factory.mktemp("corrupt")
    arrays = {k: v.numpy() for k, v in state.items()}
    if kind == "pt":
        path = d / "w.pt"
        torch.save(state, path)
    elif kind == "safetensors":
        from safetensors.numpy import save_file

        path = d / "w.safetensors"
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(path))
    else:
        path = d / "w.npz"
        (np.savez_compressed if kind == "npz_deflated" else np.savez)(path, **arrays)  # type: ignore[operator]
    data = bytearray(path.read_bytes())
    for where, byte, how in edits:
        i = min(int(where * len(data)), len(data) - 1)
        if how == "cut":
            del data[i:]
        else:
            data[i] = byte
        if not data:
            break
    path.write_bytes(bytes(data))
    for shapes in (None, _shapes(net)):
        try:
            got = read_state(str(path), shapes)
        except UsageError as err:
            assert err.code == "E004" and str(path) in err.headline()
            continue
        for k, v in got.items():
            assert isinstance(k, str)
            dtype = v.numpy().dtype if isinstance(v, torch.Tensor) else v.dtype
            assert dtype.kind in "biuf", (k, dtype)
