"""Fidelity: the bundled specs, built by the torch backend, are the reference models
(torchvision googlenet / inception_v3 / alexnet / vgg16 / resnet18, timm inception_v3 / v4 /
inception_resnet_v2).

For each spec and parameter setting, the torchvision/timm model (random init, BN affine values
randomised and running statistics set from a train-mode pass on random data, then perturbed, so
that the output depends on the input and on BN) is loaded into ours with `strict=True`, and
then both must agree in eval mode (max abs difference <= 1e-5 relative to the output's scale),
in training mode (output structure, values with the same dropout seed), and in the BN running
stats a training step leaves behind (momentum). Every output comparison has its control: with
our first conv weight changed by 1%, the same comparison must exceed the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.fidelity import calibrate_bn, control
from support.lazy import nn, timm, torch, torchvision
from support.torch_specs import randomize

import inceptdsl
from inceptdsl.backend import get

BACKEND = get("torch")
SPECS = Path(__file__).resolve().parent.parent / "specs"


def _tv_googlenet(aux: bool) -> Callable[[int], nn.Module]:
    return lambda n: torchvision.models.googlenet(
        weights=None, aux_logits=aux, init_weights=True, num_classes=n
    )


def _tv_inception_v3(aux: bool) -> Callable[[int], nn.Module]:
    return lambda n: torchvision.models.inception_v3(
        weights=None, aux_logits=aux, init_weights=True, num_classes=n
    )


def _tv(name: str) -> Callable[[int], nn.Module]:
    return lambda n: getattr(torchvision.models, name)(weights=None, num_classes=n)


def _timm(name: str) -> Callable[[int], nn.Module]:
    return lambda n: timm.create_model(name, pretrained=False, num_classes=n)


# (spec, spec parameters, reference factory taking num_classes, num_classes values to test)
CASES = [
    ("googlenet", {"aux_logits": True}, _tv_googlenet(True), [1000, 10]),
    ("googlenet", {"aux_logits": False}, _tv_googlenet(False), [1000]),
    ("inception_v3", {"aux_logits": True}, _tv_inception_v3(True), [1000, 10]),
    ("inception_v3", {"aux_logits": False}, _tv_inception_v3(False), [1000]),
    # timm's inception_v3 is the same graph with dropout 0.0 (its drop_rate default)
    ("inception_v3", {"aux_logits": False, "dropout": 0.0}, _timm("inception_v3"), [1000]),
    ("inception_v4", {}, _timm("inception_v4"), [1000, 0]),
    ("inception_resnet_v2", {}, _timm("inception_resnet_v2"), [1000, 0]),
]
# The non-Inception baselines: tests/test_fidelity_cnn.py checks their eval outputs; here their
# training step (dropout order, BN momentum) is checked too.
CNN_CASES = [
    ("cnn/alexnet", {}, _tv("alexnet"), [1000]),
    ("cnn/vgg16", {}, _tv("vgg16"), [10]),
    ("cnn/resnet18", {}, _tv("resnet18"), [1000]),
]


def _id(spec: str, params: dict[str, object], n: int) -> str:
    return "-".join([spec, *(f"{k}={v}" for k, v in params.items()), str(n)])


def _params(cases: list) -> list:  # type: ignore[type-arg]
    return [
        pytest.param(spec, params, ref, n, id=_id(spec, params, n))
        for spec, params, ref, classes in cases
        for n in classes
    ]


PARAMS = _params(CASES)
TOL = 1e-5


def _pair(spec: str, params: dict[str, object], ref: Callable[[int], nn.Module], n: int):  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    net = inceptdsl.load(str(SPECS / f"{spec}.incept"), num_classes=n, **params)
    reference = calibrate_bn(randomize(ref(n)), _example(net, batch=4, seed=3))
    ours = BACKEND.build(net.graph, weights_from=reference)  # strict: same keys and shapes
    return net, reference, ours


def _example(net: inceptdsl.Network, batch: int = 2, seed: int = 1) -> torch.Tensor:
    return torch.randn(batch, *net.input_shape, generator=torch.Generator().manual_seed(seed))


def _outputs(out: object) -> list[torch.Tensor]:
    return list(out) if isinstance(out, tuple) else [out]  # type: ignore[arg-type]


@pytest.mark.parametrize(("spec", "params", "ref", "n"), PARAMS)
def test_eval_output_equals_reference(spec, params, ref, n) -> None:  # type: ignore[no-untyped-def]
    net, reference, ours = _pair(spec, params, ref, n)
    assert sorted(ours.state_dict()) == sorted(reference.state_dict())
    assert sum(p.numel() for p in ours.parameters()) == net.report().params
    x = _example(net)
    with torch.no_grad():
        want = reference.eval()(x)
        got = ours.eval()(x)
    assert (
        got.shape
        == want.shape
        == (2, n if n else net.graph.nodes[net.graph.graph["output"]]["shape"][0])
    )
    scale = want.abs().max().item()
    assert (got - want).abs().max().item() <= TOL * scale

    def again() -> torch.Tensor:
        with torch.no_grad():
            return ours(x).numpy()

    delta = control(ours, again, want.numpy(), TOL)
    print(f"{spec} {params} n={n}: eval tolerance {TOL}, control {delta:.1e}")


@pytest.mark.parametrize(
    ("spec", "params", "ref", "n"), [p for p in _params(CASES + CNN_CASES) if p.values[3] != 0]
)
def test_training_step_equals_reference(spec, params, ref, n) -> None:  # type: ignore[no-untyped-def]
    """Training mode: same output structure (torchvision's aux NamedTuples), same values with
    the same dropout seed (batch statistics in BN), same running stats afterwards."""
    net, reference, ours = _pair(spec, params, ref, n)
    x = _example(net)
    torch.manual_seed(2)
    want = reference.train()(x)
    torch.manual_seed(2)
    got = ours.train()(x)
    assert isinstance(got, tuple) == isinstance(want, tuple)
    if isinstance(want, tuple):
        assert len(got) == len(want) and got._fields[0] == "logits"
        assert list(ours.aux_weights) == [h.name for h in net.graph.graph["aux_heads"]]
    for a, b in zip(_outputs(got), _outputs(want), strict=True):
        assert a.shape == b.shape
        assert (a - b).abs().max().item() <= TOL * b.abs().max().item()
    ref_state = reference.state_dict()
    for key, value in ours.state_dict().items():
        if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            torch.testing.assert_close(value, ref_state[key], rtol=1e-4, atol=1e-5)

    def again() -> torch.Tensor:
        torch.manual_seed(2)
        with torch.no_grad():
            return _outputs(ours(x))[0].numpy()

    delta = control(ours, again, _outputs(want)[0].detach().numpy(), TOL)
    print(f"{spec} {params} n={n}: training tolerance {TOL}, control {delta:.1e}")
