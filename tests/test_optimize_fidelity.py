"""Optimized models compute what the unoptimized ones compute, for every bundled spec.

Each spec's torch model gets random parameters and BN statistics from a train-mode pass
(fidelity.calibrate_bn: with uniformly random statistics the outputs barely depend on the
input, and any model would pass), each bundled spec at the smallest input size it accepts
(`smallest`, to keep the file cheap). The optimized model built from its weights must give the
same eval output on a batch of 2: `to_torch(optimize=True, weights_from=model)` run in float64
against the unoptimized model in float64 within TOL of the output's scale (this checks the
rewrite and the weight map, free of float32 noise); the channels_last + oneDNN path and
`to_keras(optimize=True, ...)` in float32 against the same float64 output, within TOL or twice
the unoptimized float32 model's own error where that is larger (`Bundled`); the ONNX export
on ONNX Runtime, and every pass left out in turn on the small specs, in float32 within TOL.
Each comparison has a control: the same comparison after a 1% change of the optimized model's
first conv (or linear) weight exceeds its tolerance.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, NamedTuple

import networkx as nx
import numpy as np
import pytest
from conftest import bundled_specs, spec_id
from support.fidelity import first_weight, relative_error
from support.lazy import lazy, nn, torch
from support.optimize_cases import TOL, TORCH, _case, _run, check_torch
from support.torch_specs import SPECS, load

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.errors import SpecError, UsageError
from inceptdsl.optimize import PASSES

ONEDNN = lazy("inceptdsl.backends.torch.onednn")


SIZES = (32, 64, 75, 224, 299)  # tried in order: the first the spec accepts


def smallest(path: Path) -> nx.DiGraph:
    """The spec's graph at the smallest image_size of SIZES it accepts (its other parameters
    at their defaults, aux heads included), to keep the per-spec tests cheap; a spec without
    an image_size parameter, or accepting none of them, at its defaults."""
    for size in SIZES:
        try:
            return inceptdsl.load(str(path), image_size=size).graph
        except SpecError:
            continue
    return inceptdsl.load(str(path)).graph


class Bundled(NamedTuple):
    """A bundled spec's case, with the unoptimized model's output computed in float64 and the
    tolerance of a float32 path: TOL, or twice the float32 model's own error against float64
    where that is larger (at their smallest inputs the deepest networks end in 1x1 maps whose
    BN, calibrated on 8 samples, amplifies float32 rounding: inception_v4's float32 output is
    ~3e-4 off its float64 one, the unoptimized model's as much as the optimized model's)."""

    graph: nx.DiGraph
    model: nn.Module
    x: torch.Tensor
    want64: np.ndarray
    tol32: float


@pytest.fixture(scope="module", params=bundled_specs(), ids=spec_id)
def bundled(request: pytest.FixtureRequest) -> Bundled:
    return _bundled(request.param)


def _bundled(path: Path) -> Bundled:
    g, model, x, want = _case(smallest(path))
    reference = copy.deepcopy(model).double()
    want64 = _run(reference, x.double(), np.float64)
    del reference
    floor = relative_error(want.astype(np.float64), want64)
    return Bundled(g, model, x, want64, max(TOL, 2 * floor))


def _perturbed_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state with its first conv (or linear) weight changed by 1%."""
    weight = first_weight(model)
    key = next(n for n, p in model.named_parameters() if p is weight)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state[key] = state[key] * 1.01
    return state


def _first_onednn(model: nn.Module) -> ONEDNN.OneDNNConv:
    return next(m for m in model.modules() if isinstance(m, ONEDNN.OneDNNConv))


def test_torch_optimized(bundled: Bundled) -> None:
    """The optimized graph and weight map compute the unoptimized model's function: both run
    in float64 (the optimized weights computed for float32, then widened), within TOL."""
    g, model, x, want64, _ = bundled
    opt = TORCH.build_optimized(g, model, channels_last=False).double()  # type: ignore[attr-defined]
    check_torch(opt, x.double(), want64)


@pytest.mark.skipif("not ONEDNN.available()", reason="this torch build has no oneDNN (mkldnn) ops")
def test_torch_optimized_onednn(bundled: Bundled) -> None:
    g, model, x, want64, tol = bundled
    opt = TORCH.build_optimized(g, model, onednn=True)  # type: ignore[attr-defined]
    assert any(isinstance(m, ONEDNN.OneDNNConv) for m in opt.modules())
    err = relative_error(_run(opt, x, np.float64), want64)
    assert err <= tol, err
    conv = _first_onednn(opt)  # control: the first lowered conv's kernel, 1% off
    state = opt.state_dict()
    key = next(k for k, v in state.items() if v is conv.weight)
    opt.load_state_dict({**state, key: state[key] * 1.01})
    assert relative_error(_run(opt, x, np.float64), want64) > tol


def test_keras_optimized(bundled: Bundled) -> None:
    g, model, x, want64, tol = bundled
    kmodel = get("keras").build_optimized(g, model)  # type: ignore[attr-defined]
    nhwc = x.permute(0, 2, 3, 1).numpy()

    def out() -> np.ndarray:
        y = np.asarray(kmodel(nhwc, training=False), dtype=np.float64)
        return y.transpose(0, 3, 1, 2) if y.ndim == 4 else y

    assert relative_error(out(), want64) <= tol
    var = next(v for v in kmodel.weights if v.path.endswith("kernel"))
    var.assign(var.numpy() * 1.01)
    assert relative_error(out(), want64) > tol


# -- every pass on its own, on the small specs that use every op -------------------------------


@pytest.mark.parametrize(
    "skip", [(), *((p,) for p in PASSES)], ids=lambda s: f"without-{s[0]}" if s else "all"
)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_small_specs_with_each_pass_left_out(name: str, skip: tuple[str, ...]) -> None:
    g, model, x, want = _case(load(name))
    check_torch(TORCH.build_optimized(g, model, skip=skip, channels_last=False), x, want)  # type: ignore[attr-defined]
    if ONEDNN.available():
        lowered = TORCH.build_optimized(g, model, skip=skip, onednn=True)  # type: ignore[attr-defined]
        assert relative_error(_run(lowered, x), want) <= TOL


ONNX_SPECS = ["googlenet", "inception_v3", "inception_v4"]


@pytest.mark.parametrize("name", ONNX_SPECS + sorted(SPECS))
def test_onnx_optimized_on_onnx_runtime(name: str) -> None:
    """float32 on ONNX Runtime: the bundled specs against the float64 output (`Bundled`), the
    small specs against the float32 one within TOL."""
    import onnxruntime as ort

    if name in ONNX_SPECS:
        g, model, x, want, tol = _bundled(
            Path(__file__).resolve().parent.parent / "specs" / f"{name}.incept"
        )
    else:
        g, model, x, want = _case(load(name))
        tol = TOL
    onnx = get("onnx")

    def run(weights: Any) -> np.ndarray:
        data = onnx.emit_optimized(g, weights)  # type: ignore[attr-defined]
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        return np.asarray(session.run(None, {"input": x.numpy()})[0], dtype=want.dtype)

    assert relative_error(run(model), want) <= tol
    assert relative_error(run(_perturbed_state(model)), want) > tol


# -- the model's contract -----------------------------------------------------------------------


def test_optimized_models_are_eval_only() -> None:
    g, model, x, _ = _case(load("branches"))
    opt = TORCH.build_optimized(g, model)  # type: ignore[attr-defined]
    opt.train()
    with pytest.raises(RuntimeError, match="eval-only"):
        opt(x)


def test_weights_must_fit_the_unoptimized_network() -> None:
    g = load("branches")
    other = TORCH.build(load("branches", num_classes=3))
    with pytest.raises(UsageError, match="do not fit"):
        TORCH.build_optimized(g, other)  # type: ignore[attr-defined]


def test_weights_from_a_keras_model() -> None:
    """Weights trained in Keras reach the optimized torch model (through the IR's names)."""
    g, model, x, want = _case(load("branches"))
    kmodel = get("keras").build(g, weights_from=model)
    check_torch(TORCH.build_optimized(g, kmodel, channels_last=False), x, want)  # type: ignore[attr-defined]


@pytest.mark.skipif("not ONEDNN.available()", reason="this torch build has no oneDNN (mkldnn) ops")
def test_onednn_lowering_keeps_the_state_dict_and_fuses_activations() -> None:
    g, model, x, want = _case(load("tfsame"))  # relu6, sepconv, LRN, TF same padding
    plain = TORCH.build_optimized(g, model, channels_last=False)  # type: ignore[attr-defined]
    lowered = TORCH.build_optimized(g, model, onednn=True)  # type: ignore[attr-defined]
    assert list(lowered.state_dict()) == list(plain.state_dict())
    convs = [m for m in lowered.modules() if isinstance(m, ONEDNN.OneDNNConv)]
    assert {"hardtanh", "relu"} <= {c.attr for c in convs}  # relu6 and relu fused
    assert relative_error(_run(lowered, x), want) <= TOL


@pytest.mark.skipif("not ONEDNN.available()", reason="this torch build has no oneDNN (mkldnn) ops")
@pytest.mark.parametrize(
    "act", ["relu", "relu6", "sigmoid", "tanh", "silu", "hardswish", "leaky_relu(slope=0.2)"]
)
def test_each_fused_activation_matches_torch(act: str) -> None:
    text = f"""
network a {{
  input 3 x 9 x 9
  c1: conv 8 3x3 pad=1 act={act}
  c2: conv 4 1x1 act={act}
}}
"""
    g, model, x, want = _case(inceptdsl.loads(text).graph)
    lowered = TORCH.build_optimized(g, model, onednn=True)  # type: ignore[attr-defined]
    assert all(c.attr != "none" for c in lowered.modules() if isinstance(c, ONEDNN.OneDNNConv))
    assert relative_error(_run(lowered, x), want) <= TOL


def test_bfloat16_within_its_precision() -> None:
    """bf16 keeps 8 significant bits: the output stays within 5% of its scale, and differs
    from float32 (the weights really are bf16)."""
    g, model, x, want = _case(load("branches"))
    for onednn in (False, True) if ONEDNN.bf16_supported() else (False,):
        opt = TORCH.build_optimized(g, model, dtype=torch.bfloat16, onednn=onednn)  # type: ignore[attr-defined]
        got = _run(opt, x)
        assert got.dtype == np.float32
        assert 1e-5 < relative_error(got, want) < 5e-2


# -- the command line ---------------------------------------------------------------------------


def test_cli_compile_optimize_carries_trained_weights(tmp_path: Path) -> None:
    """`compile --optimize --weights model.pt`: the torch source with OUT.pt beside it, and the
    ONNX file with the weights inside, compute the trained model's eval output; the same
    commands on weights 1% off in one tensor do not."""
    import importlib.util

    import onnxruntime as ort

    from inceptdsl.cli import main

    spec = tmp_path / "branches.incept"
    spec.write_text(SPECS["branches"], encoding="utf-8")
    g, model, x, want = _case(inceptdsl.load(str(spec)).graph)

    def outputs(state: dict[str, torch.Tensor], tag: str) -> tuple[np.ndarray, np.ndarray]:
        weights = tmp_path / f"trained_{tag}.pt"
        torch.save(state, weights)
        source, onnx_file = tmp_path / f"opt_{tag}.py", tmp_path / f"opt_{tag}.onnx"
        common = ["compile", str(spec), "--optimize", "--weights", str(weights), "-q"]
        assert main([*common, "--backend", "torch", "-o", str(source)]) == 0
        assert main([*common, "--backend", "onnx", "-o", str(onnx_file)]) == 0
        loaded = importlib.util.spec_from_file_location(f"opt_{tag}", source)
        assert loaded is not None and loaded.loader is not None
        module = importlib.util.module_from_spec(loaded)
        loaded.loader.exec_module(module)
        emitted = module.build().eval()
        optimized_state = torch.load(source.with_suffix(".pt"), weights_only=True)
        emitted.load_state_dict(optimized_state, strict=True)
        with torch.no_grad():
            got_torch = emitted(x).numpy()
        session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
        got_onnx = np.asarray(session.run(None, {"input": x.numpy()})[0])
        return got_torch, got_onnx

    for got in outputs(model.state_dict(), "same"):
        assert relative_error(got, want) <= TOL
    for got in outputs(_perturbed_state(model), "off"):
        assert relative_error(got, want) > TOL
