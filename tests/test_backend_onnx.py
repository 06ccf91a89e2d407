"""The `onnx` backend (backends/onnx): ONNX graphs built from the IR, run by onnxruntime.

Every per-op spec (tests/ops), every small spec of test_backend_torch_specs and every bundled
spec is exported with the weights of a compiled torch model (random parameters, BN statistics
from a train-mode pass) and run by onnxruntime: its output must equal the torch model's eval
output within TOL (relative to the output's scale). The control: after one early weight of
the torch model changes by 1% (or, without weights, the input), the same comparison must
exceed TOL. The bundled specs run once, at batch 1 (the large ones take seconds each); the
small specs at batch 3 (the graph's batch dimension is symbolic).

Also: node names carry the block path, every tensor has value_info, metadata, the same bytes
twice (and in a process without torch), external data, `--weights` from the CLI, and the
strict weights errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from conftest import ROOT, bundled_specs, spec_id
from support.fidelity import calibrate_bn, first_weight, randomize_params, relative_error
from support.lazy import onnx, ort, torch
from support.torch_specs import SPECS, load

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.backends.onnx import BACKEND, to_onnx
from inceptdsl.backends.onnx import weights as W
from inceptdsl.backends.onnx.files import to_bytes
from inceptdsl.cli import main
from inceptdsl.errors import UsageError
from inceptdsl.ir import Op, nodes

TORCH = get("torch")
TOL = 1e-4
OP_SPECS = sorted((ROOT / "tests" / "ops").glob("*.incept"))
EDGES = """
network edges {
  input 5 x 12 x 12
  lrn 4 alpha=0.01 beta=0.75 k=2.0
  a: avgpool 3x3 stride=2 pad=1 ceil=true count_pad=true
  b: avgpool 2x2 stride=2 ceil=true count_pad=false
  c: maxpool 3x3 stride=2 ceil=true
  zeropad ((1, 0), (2, 1))
  d: avgpool 3x3 stride=1 pad=((2, 0), (1, 1)) count_pad=true
  e: adaptive_avgpool 3x2
  flatten
}
"""
"""Cases the other specs do not reach: an even LRN size (torch's window is not ONNX's), ceil
mode with and without count_pad, asymmetric pool pads and adaptive pooling with overlapping
windows."""


def _example(g: nx.DiGraph, batch: int, seed: int) -> torch.Tensor:
    return torch.randn(
        batch, *g.graph["input_shape"], generator=torch.Generator().manual_seed(seed)
    )


def _trained(g: nx.DiGraph, batch: int = 4) -> torch.nn.Module:
    """A compiled torch model with random parameters and BN statistics from a train-mode pass
    (at least batch 2: BN needs more than one value per channel), in eval mode.

    Conv and linear weights get He's gain (x sqrt 2): without BN (vgg16, googlenet_paper) each
    relu layer would otherwise halve the signal's variance while the N(0, 1) biases keep
    theirs, and the output would barely depend on the first layers (then no comparison could
    see an error there: the control shows it)."""
    torch.manual_seed(0)
    model = randomize_params(TORCH.build(g), seed=1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d | torch.nn.Linear):
                m.weight.mul_(2**0.5)
    return calibrate_bn(model, _example(g, batch=batch, seed=2))


def _run(data: bytes | str, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"input": x})
    return out  # type: ignore[no-any-return]


def _eval(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(x).numpy()  # type: ignore[no-any-return]


CONTROL_WEIGHT = {"convnext": "features.5.8.block.3.weight"}
"""Networks whose first weight makes no control: at random weights (layer scales of N(0, 1)
values) ConvNeXt's output barely depends on its stem (1% of the stem's kernel moves it by 4e-5
of its scale, under TOL), so its control is a per-position linear of stage 3 (6e-4)."""


def _control(model: torch.nn.Module, x: torch.Tensor, got: np.ndarray, name: str = "") -> float:
    """The comparison after a 1% change of one early weight tensor: the first conv/linear
    weight (CONTROL_WEIGHT's for network `name`), else the first parameter (a norm's), else
    the input."""
    w = dict(model.named_parameters())[CONTROL_WEIGHT[name]] if name in CONTROL_WEIGHT else None
    w = first_weight(model) if w is None else w
    if w is None:
        w = next(iter(model.parameters()), None)
    if w is None:
        return relative_error(got, _eval(model, x * 1.01))
    saved = w.detach().clone()
    with torch.no_grad():
        w.mul_(1.01)
    try:
        return relative_error(got, _eval(model, x))
    finally:
        with torch.no_grad():
            w.copy_(saved)


def _check_same_function(g: nx.DiGraph, batch: int) -> tuple[float, float]:
    model = _trained(g, batch=max(2, batch))
    proto = BACKEND.build(g, weights_from=model.state_dict())
    x = _example(g, batch=batch, seed=3)
    got = _run(proto.SerializeToString(), x.numpy())
    err = relative_error(got, _eval(model, x))
    control = _control(model, x, got, g.graph["name"])
    print(f"onnx vs torch {g.graph['name']}: {err:.3g} (control {control:.3g})")
    assert err <= TOL
    assert control > TOL
    return err, control


@pytest.mark.parametrize("spec", OP_SPECS, ids=lambda p: p.stem)
def test_op_specs_run_like_torch(spec: Path) -> None:
    g = inceptdsl.load(str(spec)).graph
    proto = BACKEND.build(g)
    onnx.checker.check_model(proto, full_check=True)
    _check_same_function(g, batch=3)


@pytest.mark.parametrize("name", [*sorted(SPECS), "edges"])
def test_small_specs_run_like_torch(name: str) -> None:
    g = inceptdsl.loads(EDGES, filename="edges.incept").graph if name == "edges" else load(name)
    _check_same_function(g, batch=3)


@pytest.mark.parametrize("spec", bundled_specs(), ids=spec_id)
def test_bundled_specs_run_like_torch(spec: Path) -> None:
    _check_same_function(inceptdsl.load(str(spec)).graph, batch=1)


@pytest.mark.parametrize("name", [*(p.stem for p in OP_SPECS), *sorted(SPECS)])
def test_the_tensor_table_is_the_torch_state_dict(name: str) -> None:
    """weights.tensors(g) lists the torch model's state_dict (less num_batches_tracked) in its
    order, with its shapes; the seeded initial values follow torch's default init."""
    spec = ROOT / "tests" / "ops" / f"{name}.incept"
    g = inceptdsl.load(str(spec)).graph if spec.is_file() else load(name)
    state = TORCH.build(g).state_dict()
    want = [(k, tuple(v.shape)) for k, v in state.items() if not k.endswith("num_batches_tracked")]
    table = W.tensors(g)
    assert [(t.key, t.shape) for t in table] == want
    initial = W.initial(g)
    assert set(initial) == {t.key for t in table if t.inference}
    for t in table:
        if t.inference and t.fan_in:  # kaiming-uniform: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            bound = 1 / np.sqrt(t.fan_in)
            assert np.abs(initial[t.key]).max() <= bound
            assert initial[t.key].size < 64 or np.abs(initial[t.key]).max() > 0.8 * bound
            # torch's own initial values have the same bound: the fan-in is torch's
            torch_max = float(state[t.key].abs().max())
            assert torch_max <= bound * (1 + 1e-6)
            assert state[t.key].numel() < 64 or torch_max > 0.8 * bound
        elif t.inference:
            assert np.all(initial[t.key] == t.fill)
            assert torch.all(state[t.key] == t.fill)  # torch's default: 1, 0 or the init


# ---- what a reader sees in Netron --------------------------------------------------------------


@pytest.fixture(scope="module")
def googlenet() -> tuple[nx.DiGraph, onnx.ModelProto]:
    g = inceptdsl.load(str(ROOT / "specs" / "googlenet.incept")).graph
    return g, to_onnx(g)


def test_node_names_carry_the_block_path(googlenet) -> None:  # type: ignore[no-untyped-def]
    g, proto = googlenet
    names = [n.name for n in proto.graph.node]
    assert len(set(names)) == len(names)
    assert "inception4a.branch2.0.conv/Conv" in names
    assert "inception4a.branch2.0.bn/BatchNormalization" in names
    assert "inception4a.branch2.0/Relu" in names
    for name in names:
        scope = name.rpartition("/")[0]
        # the scope is an IR node's path or the path of one of its parts (`.conv`, `.bn`)
        assert scope in g or scope.rpartition(".")[0] in g, name
    # every IR node that computes something has a node under its path; aux heads have none
    scopes = {name.rpartition("/")[0] for name in names}
    scopes |= {s.rpartition(".")[0] for s in scopes}
    aliases = (Op.INPUT, Op.DROPOUT, Op.IDENTITY, Op.DROP_PATH)  # no node of their own
    trunk = [n for n in nodes(g) if n.aux is None and n.op not in aliases]
    assert all(n.name in scopes for n in trunk)
    assert not any(s.startswith(("aux1", "aux2")) for s in scopes)
    # the tensor between two blocks is named by the block's output node
    assert any(n.output[0] == "inception4a.concat" for n in proto.graph.node)


def test_every_intermediate_tensor_has_its_shape(googlenet) -> None:  # type: ignore[no-untyped-def]
    g, proto = googlenet
    infos = {v.name: v for v in proto.graph.value_info}
    for n in proto.graph.node:
        for out in n.output:
            if out == "output":
                continue
            assert out in infos, out
            dims = infos[out].type.tensor_type.shape.dim
            assert dims[0].dim_param == "batch", out
            assert all(d.dim_value > 0 for d in dims[1:]), out
    # the IR's shapes, for each IR node's tensor
    for n in nodes(g):
        if n.name in infos:
            dims = infos[n.name].type.tensor_type.shape.dim
            assert tuple(d.dim_value for d in dims[1:]) == n.shape, n.name
    assert len(infos) > len(g)


def test_metadata_and_doc_string(googlenet) -> None:  # type: ignore[no-untyped-def]
    g, proto = googlenet
    meta = {p.key: p.value for p in proto.metadata_props}
    rep = inceptdsl.load(str(ROOT / "specs" / "googlenet.incept")).report()
    assert meta["inceptdsl.network"] == "googlenet"
    params = rep.params - rep.aux_params  # the inference graph's: torchvision's without aux
    assert meta["inceptdsl.params"] == str(params) == "6624904"
    assert meta["inceptdsl.macs"] == str(rep.macs)
    assert meta["inceptdsl.version"] == inceptdsl.__version__
    assert json.loads(meta["inceptdsl.parameters"])["num_classes"] == 1000
    assert proto.producer_name == "inceptdsl"
    assert "googlenet" in proto.doc_string and "aux heads" in proto.doc_string
    assert proto.opset_import[0].version >= 17
    # the file holds exactly the inference parameters: no aux-head tensors
    weights = sum(
        int(np.prod(t.dims))
        for t in proto.graph.initializer
        if "running" not in t.name and "/" not in t.name  # not BN statistics or constants
    )
    assert weights == params


def test_the_batch_is_dynamic_and_the_output_named(googlenet) -> None:  # type: ignore[no-untyped-def]
    g, proto = googlenet
    (inp,) = proto.graph.input
    (out,) = proto.graph.output
    assert inp.name == "input" and out.name == "output"
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert [d.dim_value for d in out.type.tensor_type.shape.dim[1:]] == [1000]


# ---- deterministic, torch-free, external data ----------------------------------------------------

CHILD = """
import sys
for name in ("torch", "tensorflow", "keras"):
    sys.modules[name] = None  # import name -> ImportError
from inceptdsl.cli import main
code = main(["compile", sys.argv[1], "--backend", "onnx", "-q", "-o", sys.argv[2]])
loaded = [m for m in sys.modules if m.split(".")[0] in ("torch", "tensorflow", "keras")
          and sys.modules[m] is not None]
print(code, loaded)
"""


def test_same_bytes_twice_and_without_torch(tmp_path: Path) -> None:
    spec = ROOT / "tests" / "ops" / "conv2d.incept"
    g = inceptdsl.load(str(spec)).graph
    first = BACKEND.emit(g)
    assert BACKEND.emit(inceptdsl.load(str(spec)).graph) == first
    out = tmp_path / "m.onnx"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(spec), str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "[]"]
    assert out.read_bytes() == first  # another process, no torch: the same file
    onnx.checker.check_model(onnx.load_from_string(first))


def test_external_data_beside_the_file(tmp_path: Path) -> None:
    from onnx import numpy_helper

    g = load("branches")
    model = _trained(g)
    path = tmp_path / "branches.onnx"
    written = BACKEND.write(g, str(path), weights=model.state_dict(), external_threshold=1024)
    data = tmp_path / "branches.onnx.data"
    assert written == [str(path), str(data)]
    whole = BACKEND.emit(g, weights=model.state_dict())
    assert path.stat().st_size < len(whole) / 2 and data.stat().st_size > 1024
    x = _example(g, batch=2, seed=3)
    got = _run(str(path), x.numpy())  # onnxruntime reads the data from the model's folder
    assert np.array_equal(got, _run(whole, x.numpy()))
    assert relative_error(got, _eval(model, x)) <= TOL
    loaded = onnx.load(str(path))  # and so does onnx, to the same tensors
    onnx.checker.check_model(loaded)
    inline = {t.name: t for t in onnx.load_from_string(whole).graph.initializer}
    assert [t.name for t in loaded.graph.initializer] == list(inline)
    for t in loaded.graph.initializer:
        assert np.array_equal(numpy_helper.to_array(t), numpy_helper.to_array(inline[t.name]))
    # a model that needs external data cannot be one byte string (stdout)
    with pytest.raises(UsageError, match="over the 1,024-byte limit"):
        to_bytes(to_onnx(g), threshold=1024)


# ---- weights ------------------------------------------------------------------------------------


def test_weights_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "modern.incept"
    spec.write_text(SPECS["modern"], encoding="utf-8")
    g = inceptdsl.load(str(spec)).graph
    model = _trained(g)
    pt = tmp_path / "model.pt"
    torch.save(model.state_dict(), pt)
    out = tmp_path / "m.onnx"
    assert main(["compile", str(spec), "--backend", "onnx", "--weights", str(pt), "-q",
                 "-o", str(out)]) == 0  # fmt: skip
    x = _example(g, batch=2, seed=3)
    got = _run(out.read_bytes(), x.numpy())
    err, control = relative_error(got, _eval(model, x)), _control(model, x, got)
    print(f"onnx --weights vs torch: {err:.3g} (control {control:.3g})")
    assert err <= TOL < control
    # the same weights as an .npz of the state_dict keys give the same file
    npz = tmp_path / "model.npz"
    np.savez(npz, **{k: v.numpy() for k, v in model.state_dict().items()})
    out2 = tmp_path / "m2.onnx"
    assert main(["compile", str(spec), "--backend", "onnx", "--weights", str(npz), "-q",
                 "-o", str(out2)]) == 0  # fmt: skip
    assert out2.read_bytes() == out.read_bytes()
    # the default weights are not these
    assert BACKEND.emit(g) != out.read_bytes()


def test_the_weights_must_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    g = load("auxnet")
    state = {k: v.numpy() for k, v in _trained(g).state_dict().items()}
    BACKEND.build(g, weights_from=state)
    # aux-head tensors and num_batches_tracked are not in the inference graph: optional
    trunk = {k: v for k, v in state.items() if not k.startswith("aux")}
    trunk = {k: v for k, v in trunk.items() if not k.endswith("num_batches_tracked")}
    assert BACKEND.emit(g, weights=trunk) == BACKEND.emit(g, weights=state)
    bad = dict(state)
    del bad["block1.bn.running_var"]
    bad["block3.conv.weight"] = state["block1.conv.weight"]
    bad["fc.weight"] = state["fc.weight"][:, :3]
    with pytest.raises(UsageError) as err:
        BACKEND.build(g, weights_from=bad)
    assert err.value.headline() == (
        "error[E004]: the weights do not fit network auxnet: missing: block1.bn.running_var; "
        "unexpected: block3.conv.weight; shape: fc.weight (5, 3) vs (5, 24)"
    )
    # from the CLI: exit code 2 and the same message, no traceback, no file
    spec = tmp_path / "auxnet.incept"
    spec.write_text(SPECS["auxnet"], encoding="utf-8")
    pt = tmp_path / "bad.pt"
    torch.save({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bad.items()}, pt)
    out = tmp_path / "m.onnx"
    code = main(["compile", str(spec), "--backend", "onnx", "--weights", str(pt), "-o", str(out)])
    err_text = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "missing: block1.bn.running_var" in err_text and "Traceback" not in err_text
    # a file that is not a state_dict is refused without unpickling it
    module = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), module)
    with pytest.raises(UsageError, match="not a torch state_dict that loads with weights_only"):
        BACKEND.build(g, weights_from=str(module))
    with pytest.raises(UsageError, match="does not exist"):
        BACKEND.build(g, weights_from=str(tmp_path / "none.pt"))


def test_other_backends_refuse_weights(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(ROOT / "tests" / "ops" / "conv2d.incept")
    assert main(["compile", spec, "--backend", "torch", "--weights", "x.pt", "-o", "-"]) == 2
    assert "does not take --weights" in capsys.readouterr().err
