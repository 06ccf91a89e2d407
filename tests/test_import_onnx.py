"""`inceptdsl import onnx` round trips (issue 20 item 4): a spec -> its ONNX export
(`compile --backend onnx`, with the weights of a compiled torch model: random parameters, BN
statistics from a train-mode pass) -> import -> a spec with the same report and function.

"Same report": the export is the inference graph and keeps every batch norm (the plain export
folds nothing; `--optimize` would), so the imported spec has the original's parameters,
buffers and MACs less its aux heads' (the file has none): params == params - aux_params,
buffers == buffers - aux_buffers, MACs equal (MACs count the inference path already).
"Same function": the imported spec compiled with the weights file the import wrote (read from
the file and loaded strictly) gives ONNX Runtime outputs equal to the file's within TOL; the
control, one weight changed by 1%, exceeds TOL.

Every bundled spec runs, at the smallest `image_size` it allows (CPU time; the figures
compared are the original's at that size); the small specs of
tests/support/torch_specs.py and tests/ops cover the other ops (sepconv, LRN, zeropad, layer
scale, shuffle, slices, groupnorm, ceil-mode and count_pad pools, adaptive pools exported as
two matrix products), except two the importer refuses: `numbered` (a top-level `repeat ... as
"{i}"`: the writer cannot keep a top-level numbering) and tests/ops/add (a broadcasting add);
the last test checks those refusals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, bundled_specs, spec_id
from support.onnx_import import TOL, import_cli, relative, run, same_function, trained
from support.torch_specs import SPECS

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.cli import main
from inceptdsl.errors import SpecError
from inceptdsl.network import Network

OP_SPECS = sorted((ROOT / "tests" / "ops").glob("*.incept"))
REFUSED = {"numbered", "add"}
CONTROL = {"convnext": "features.5.8.block.3.weight"}
"""ConvNeXt's stem feeds a LayerNorm, which cancels a 1% change of it: its control is a
per-position linear of stage 3 (as tests/test_backend_onnx.py's)."""


def _export(net: Network, path: Path) -> None:
    model = trained(get("torch").build(net.graph), net.graph.graph["input_shape"])
    path.write_bytes(get("onnx").emit(net.graph, weights=model.state_dict()))


def _round_trip(net: Network, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "exported.onnx"
    _export(net, path)
    spec, weights, err = import_cli(path, capsys)
    assert "load strictly" in err
    got, ctl, fig = same_function(path, spec, weights, CONTROL.get(net.name))
    rep = net.report()
    print(f"{net.name}: error {got:.3g}, control {ctl:.3g}, {fig}")
    assert fig == {
        "params": rep.params - rep.aux_params,
        "aux_params": 0,
        "buffers": rep.buffers - rep.aux_buffers,
        "macs": rep.macs,
    }
    assert got <= TOL
    assert ctl > TOL


def _smallest(spec: Path) -> Network:
    """The spec at the smallest `image_size` it allows (of 32, 64, 75, ...; its own default
    where it fixes the size, as bn_inception's 7x7 average pool does): CPU time."""
    for size in (32, 64, 75, 96, 128, 160, 224):
        try:
            return inceptdsl.load(str(spec), image_size=size)
        except SpecError:
            continue
    return inceptdsl.load(str(spec))


@pytest.mark.parametrize("spec", bundled_specs(), ids=spec_id)
def test_every_bundled_spec_round_trips(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _round_trip(_smallest(spec), tmp_path, capsys)


SMALL = [
    *(n for n in sorted(SPECS) if n not in REFUSED),
    *(p.stem for p in OP_SPECS if p.stem not in REFUSED),
]


@pytest.mark.parametrize("name", SMALL)
def test_small_specs_with_every_other_op_round_trip(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SPECS[name] if name in SPECS else (ROOT / "tests" / "ops" / f"{name}.incept").read_text()
    _round_trip(inceptdsl.loads(text, f"{name}.incept"), tmp_path, capsys)


def test_twice_the_same_bytes_and_safetensors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    net = inceptdsl.loads(SPECS["branches"], "branches.incept")
    path = tmp_path / "b.onnx"
    _export(net, path)
    spec, weights, _ = import_cli(path, capsys)
    first = spec.read_bytes(), weights.read_bytes()
    spec.unlink()  # a spec is replaced only with --force; the weights file, inceptdsl's, is not
    spec, weights, err = import_cli(path, capsys)
    assert (spec.read_bytes(), weights.read_bytes()) == first
    st = tmp_path / "w.safetensors"
    import_cli(path, capsys, "--weights", str(st), "--force")
    from safetensors.numpy import load_file

    assert {k: v.tolist() for k, v in load_file(str(st)).items()} == {
        k: v.tolist() for k, v in np.load(weights).items()
    }
    got, ctl, _ = same_function(path, spec, st)
    assert got <= TOL < ctl


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("numbered", "module 0: its number in the sequence cannot be kept"),
        ("add", "(Add): an add that broadcasts one input over the other"),
    ],
)
def test_what_the_importer_refuses_is_said(
    name: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SPECS[name] if name in SPECS else (ROOT / "tests" / "ops" / f"{name}.incept").read_text()
    path = tmp_path / "r.onnx"
    path.write_bytes(get("onnx").emit(inceptdsl.loads(text, f"{name}.incept").graph))
    code = main(["import", "onnx", str(path), "-o", str(tmp_path / "r.incept")])
    err = capsys.readouterr().err
    assert code == 1 and "error[E601]" in err and message in err, err
    assert "Traceback" not in err and not (tmp_path / "r.incept").exists()


def test_a_final_softmax_is_left_out_and_a_squeeze_is_a_flatten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """conv, global pool, Squeeze, Gemm, Softmax (a classifier as tf2onnx and others write it):
    the spec ends with the logits, and softmax(spec) equals the file's output."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "c.weight"),
        numpy_helper.from_array(rng.standard_normal((5, 8)).astype(np.float32), "fc.weight"),
        numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "fc.bias"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "c.weight"], ["a"], name="/c/Conv", pads=[1] * 4),
        helper.make_node("GlobalAveragePool", ["a"], ["g"], name="/pool/GlobalAveragePool"),
        helper.make_node("Squeeze", ["g", "axes"], ["s"], name="/Squeeze"),
        helper.make_node("Gemm", ["s", "fc.weight", "fc.bias"], ["l"], name="/fc/Gemm", transB=1),
        helper.make_node("Softmax", ["l"], ["y"], name="/Softmax", axis=1),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])
    model = helper.make_model(
        helper.make_graph(nodes, "clf", [x], [y], inits),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    path = tmp_path / "clf.onnx"
    path.write_bytes(model.SerializeToString())
    spec, weights, _ = import_cli(path, capsys)
    text = spec.read_text()
    assert "The final Softmax ('/Softmax') is left out" in text.replace("\n# ", " ")
    assert "flatten" in text and "fc: linear 5" in text
    net = inceptdsl.load(str(spec))
    be = get("onnx")
    xs = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    want = run(str(path), xs)

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    got = softmax(run(be.build(net.graph, weights_from=str(weights)).SerializeToString(), xs))
    with np.load(weights) as f:
        moved = {k: f[k] * np.float32(1.01) if k == "c.weight" else f[k] for k in f.files}
    ctl = softmax(run(be.build(net.graph, weights_from=moved).SerializeToString(), xs))
    assert relative(got, want) <= TOL < relative(ctl, want)
