"""specs/convnext.incept against torchvision's convnext_tiny and convnext_small (weights=None).

The reference's state_dict (every parameter random, layer scales included, so the residual
branches matter) loads strictly into the torch backend's build: same keys, same shapes. The
counts equal the reference's to the unit (parameters, buffers, and MACs = FlopCounterMode / 2,
at the test's 64x64 input; the spec's `expect`s hold the 224 figures). The eval outputs agree
within 1e-5 of the output's scale (Keras' error is about 5e-7) in torch and in Keras (weights
carried across by `to_keras(weights_from=torch_model)`) for both members, and for tiny in
ONNX Runtime and through the optimizer (torch, Keras and ONNX). Every comparison has its
controls: the same comparison after a 1% change (each element +-1%) of one weight must exceed
the tolerance, for the stem's conv and for a per-position linear and a (C, 1, 1) layer scale
deep in the network (the new forms).
Each network is built once per module, at the 64x64 input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support.fidelity import control, keras_control, randomize_params, relative_error
from support.keras_specs import keras_output
from support.lazy import nn, torch, torchvision

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.errors import SpecError

SPEC = Path(__file__).resolve().parent.parent / "specs" / "convnext.incept"
SIZE = 64  # ConvNeXt takes any multiple of 32; its last stage is 2x2 here
TOL = 1e-5
DEEP = {  # a per-position linear and a layer scale of each member's last stage-3 block
    "tiny": ("features.5.8.block.3.weight", "features.5.8.layer_scale"),
    "small": ("features.5.26.block.3.weight", "features.5.26.layer_scale"),
}


class Case:
    """One member: the spec's network, torchvision's model with random parameters, ours built
    from its state_dict, an input batch and the reference's eval output."""

    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.net = inceptdsl.load(str(SPEC), variant=variant, image_size=SIZE)
        factory = getattr(torchvision.models, f"convnext_{variant}")
        self.reference = randomize_params(factory(weights=None), seed=1).eval()
        self.ours = self.net.to_torch(weights_from=self.reference).eval()  # strict
        self.x = torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(2))
        with torch.no_grad():
            self.want = self.reference(self.x).numpy()

    def run(self) -> np.ndarray:
        with torch.no_grad():
            return self.ours(self.x).numpy()  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=["tiny", "small"])
def case(request: pytest.FixtureRequest) -> Case:
    return Case(request.param)


@pytest.fixture(scope="module")
def tiny() -> Case:
    return Case("tiny")


def _nudged(model: nn.Module, key: str, run: Callable[[], np.ndarray], want: np.ndarray) -> float:
    """`run()`'s error against `want` with parameter `key` of `model` changed by +-1% per
    element (signs drawn at random), then restored."""
    p = dict(model.named_parameters())[key]
    saved = p.detach().clone()
    signs = torch.randint(0, 2, p.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        p.mul_(1 + 0.01 * signs)
    try:
        return relative_error(np.asarray(run()), want)
    finally:
        with torch.no_grad():
            p.copy_(saved)


def _controls(c: Case, run: Callable[[], np.ndarray], want: np.ndarray, tol: float) -> None:
    """The stem's conv, a deep per-position linear and a deep layer scale, each 1% off in our
    torch model (which `run` reads, directly or through a fresh conversion), must each move
    `run()` past `tol`."""
    control(c.ours, run, want, tol)
    for key in DEEP[c.variant]:
        err = _nudged(c.ours, key, run, want)
        assert err > tol, f"a 1% change of {key} moved the output by only {err:.1e}"


def test_state_dict_loads_strictly_with_the_same_shapes(case: Case) -> None:
    want = {k: tuple(v.shape) for k, v in case.reference.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in case.ours.state_dict().items()}
    assert list(got) == list(want)  # same keys, in torchvision's order
    assert got == want
    assert got[DEEP[case.variant][1]] == (384, 1, 1)


def test_counts_equal_torchvision_to_the_unit(case: Case) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    rep = case.net.report()
    params = sum(p.numel() for p in case.reference.parameters())
    assert rep.params == params == {"tiny": 28_589_128, "small": 50_223_688}[case.variant]
    assert rep.buffers == sum(b.numel() for b in case.reference.buffers()) == 0
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        case.reference(case.x[:1])
    assert rep.macs == counter.get_total_flops() // 2


def test_eval_outputs_equal_torchvision(case: Case) -> None:
    got = case.run()
    assert got.shape == case.want.shape == (2, 1000)
    assert relative_error(got, case.want) <= TOL
    _controls(case, case.run, case.want, TOL)


def test_keras_through_cross_framework_transfer(case: Case) -> None:
    """Both members in Keras, weights carried across from our torch model. Controls: the
    stem's kernel 1% off in the Keras model, and a deep per-position linear and layer scale
    1% off in our torch model, converted afresh."""
    x = case.x.numpy()
    model = case.net.to_keras(weights_from=case.ours)

    def keras() -> np.ndarray:
        return keras_output(model, x)

    def fresh() -> np.ndarray:
        return keras_output(case.net.to_keras(weights_from=case.ours), x)

    got = keras()
    assert relative_error(got, case.want) <= TOL
    keras_control(model, keras, case.want, TOL)
    for key in DEEP[case.variant]:
        err = _nudged(case.ours, key, fresh, case.want)
        assert err > TOL, f"a 1% change of {key} moved the output by only {err:.1e}"


def test_onnx_runtime(tiny: Case) -> None:
    import onnxruntime as ort

    onnx = get("onnx")

    def run() -> np.ndarray:
        proto = onnx.build(tiny.net.graph, weights_from=tiny.ours.state_dict())
        session = ort.InferenceSession(
            proto.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        return np.asarray(session.run(None, {"input": tiny.x.numpy()})[0])

    assert relative_error(run(), tiny.want) <= TOL
    _controls(tiny, run, tiny.want, TOL)


@pytest.mark.parametrize("backend", ["torch", "keras", "onnx"])
def test_optimized_equals_unoptimized(tiny: Case, backend: str) -> None:
    x = tiny.x.numpy()
    runs: dict[str, Callable[[], Any]] = {
        "torch": lambda: tiny.net.to_torch(weights_from=tiny.ours, optimize=True)(tiny.x),
        "keras": lambda: keras_output(tiny.net.to_keras(weights_from=tiny.ours, optimize=True), x),
        "onnx": lambda: _onnx_optimized(tiny),
    }

    def run() -> np.ndarray:
        with torch.no_grad():
            out = runs[backend]()
        return out.numpy() if isinstance(out, torch.Tensor) else np.asarray(out)

    want = tiny.run()  # the unoptimized model's output
    assert relative_error(run(), want) <= TOL
    _controls(tiny, run, want, TOL)


def _onnx_optimized(c: Case) -> np.ndarray:
    import onnxruntime as ort

    data = get("onnx").emit_optimized(c.net.graph, c.ours)  # type: ignore[attr-defined]
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"input": c.x.numpy()})[0])


def test_an_unknown_variant_is_a_located_error() -> None:
    with pytest.raises(SpecError) as info:
        inceptdsl.load(str(SPEC), variant="base")
    assert info.value.code == "E301"  # as every family's: not one of the choice's members
    assert '"base", not one of its members' in str(info.value) and '"tiny", "small"' in str(
        info.value
    )
    assert info.value.span is not None and info.value.span.path.endswith("convnext.incept")
