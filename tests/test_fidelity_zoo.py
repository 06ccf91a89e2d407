"""Fidelity of the specs that need the registry's newer ops (SE gates, channel split and
shuffle, depthwise convs, layer scale, LayerNorm, stochastic depth): specs/cnn/efficientnet_b0
and specs/cnn/shufflenet_v2_x1_0 are torchvision's models, specs/inception_next_tiny is timm's,
and specs/variants/se_inception_v3 is torchvision's inception_v3 with
torchvision.ops.SqueezeExcitation gates hooked onto every Inception module's output.

For each, measured on the reference model in the test (not copied from the spec):
- params (sum of parameters), buffers (BN running mean + var) and MACs (FlopCounterMode / 2,
  one sample, eval) equal the spec's report to the unit;
- the reference's state_dict (random parameters, BN statistics from a train-mode pass) loads
  into the compiled spec with `strict=True`, with the same keys in the same order and the same
  shapes, and the eval outputs agree to TOL of the output's scale; the control: after the
  first conv's weight tensor is changed by 1%, the same comparison must exceed TOL. The
  outputs are compared at a smaller input than the reference's own where the spec allows it
  (160 or 163 px, to keep the test short on two cores): neither the weights nor the function
  depend on it;
- in training mode, with the same seed, both give the same outputs (dropout, stochastic
  depth's per-sample masks, BN batch statistics, the aux head's output) and leave the same BN
  running statistics behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.fidelity import calibrate_bn, randomize_params, relative_error
from support.lazy import nn, timm, torch, torchvision

import inceptdsl
from inceptdsl.backend import get

TORCH = get("torch")
SPECS = Path(__file__).resolve().parent.parent / "specs"
TOL = 1e-5

# torchvision inception_v3's modules and their output channels (models/inception.py).
INCEPTION_V3_MODULES = {
    "Mixed_5b": 256,
    "Mixed_5c": 288,
    "Mixed_5d": 288,
    "Mixed_6a": 768,
    "Mixed_6b": 768,
    "Mixed_6c": 768,
    "Mixed_6d": 768,
    "Mixed_6e": 768,
    "Mixed_7a": 1280,
    "Mixed_7b": 2048,
    "Mixed_7c": 2048,
}


def _se_inception_v3(aux: bool) -> Callable[[], nn.Module]:
    """torchvision's inception_v3 with an SE gate (r = 16) on each module's output: the gate
    `Mixed_5b_se` is a sibling of `Mixed_5b`, registered right after it, and applied by a
    forward hook that replaces the module's output with the gated one (so AuxLogits, after
    Mixed_6e, sees the gated tensor)."""

    def build() -> nn.Module:
        from torchvision.ops import SqueezeExcitation

        model = torchvision.models.inception_v3(weights=None, aux_logits=aux, init_weights=True)
        children = dict(model.named_children())
        for name in children:
            delattr(model, name)
        for name, child in children.items():
            model.add_module(name, child)
            if name in INCEPTION_V3_MODULES:
                channels = INCEPTION_V3_MODULES[name]
                gate = SqueezeExcitation(channels, channels // 16)
                model.add_module(f"{name}_se", gate)
                child.register_forward_hook(lambda _m, _x, out, gate=gate: gate(out))
        return model

    return build


def _tv(name: str) -> Callable[[], nn.Module]:
    return lambda: getattr(torchvision.models, name)(weights=None)


def _timm(name: str) -> Callable[[], nn.Module]:
    return lambda: timm.create_model(name, pretrained=False)


# (spec below specs/, spec parameters, reference factory, input size of the output comparison)
CASES = [
    ("cnn/efficientnet_b0", {}, _tv("efficientnet_b0"), 160),
    ("cnn/shufflenet_v2_x1_0", {}, _tv("shufflenet_v2_x1_0"), 160),
    ("inception_next_tiny", {}, _timm("inception_next_tiny"), 160),
    # the aux head needs the 17x17 grid of a 299 input (its 5x5 conv), even in eval
    ("variants/se_inception_v3", {"aux_logits": True}, _se_inception_v3(True), 299),
    ("variants/se_inception_v3", {"aux_logits": False}, _se_inception_v3(False), 163),
]


def _params(with_size: bool) -> list:  # type: ignore[type-arg]
    return [
        pytest.param(
            spec,
            params,
            ref,
            *([size] if with_size else []),
            id="-".join([spec, *(f"{k}={v}" for k, v in params.items())]),
        )
        for spec, params, ref, size in CASES
    ]


def _bn_buffers(model: nn.Module) -> int:
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    return sum(m.running_mean.numel() + m.running_var.numel() for m in bns)  # type: ignore[union-attr]


def _macs(model: nn.Module, shape: tuple[int, ...]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(torch.zeros(1, *shape))
    return counter.get_total_flops() // 2


def _example(shape: tuple[int, ...], batch: int, seed: int) -> torch.Tensor:
    return torch.randn(batch, *shape, generator=torch.Generator().manual_seed(seed))


def _pair(spec: str, params: dict[str, object], ref: Callable[[], nn.Module], size: int):  # type: ignore[no-untyped-def]
    """The spec at `size`, and the reference (random parameters, BN statistics from a
    train-mode pass) with our model built from its state_dict, strictly."""
    net = inceptdsl.load(str(SPECS / f"{spec}.incept"), image_size=size, **params)
    torch.manual_seed(0)
    reference = randomize_params(ref(), seed=1)
    calibrate_bn(reference, _example(net.input_shape, batch=4, seed=2))
    return net, reference, TORCH.build(net.graph, weights_from=reference)


@pytest.mark.parametrize(("spec", "params", "ref"), _params(with_size=False))
def test_counts_equal_the_reference(spec, params, ref) -> None:  # type: ignore[no-untyped-def]
    net = inceptdsl.load(str(SPECS / f"{spec}.incept"), **params)
    rep = net.report()
    reference = ref()
    assert rep.params == sum(p.numel() for p in reference.parameters())
    assert rep.buffers == _bn_buffers(reference)
    assert rep.macs == _macs(reference, net.input_shape)


@pytest.mark.parametrize(("spec", "params", "ref", "size"), _params(with_size=True))
def test_strict_load_and_equal_eval_output(spec, params, ref, size) -> None:  # type: ignore[no-untyped-def]
    net, reference, ours = _pair(spec, params, ref, size)
    want_state, got_state = reference.state_dict(), ours.state_dict()
    assert list(got_state) == list(want_state)
    assert all(got_state[k].shape == v.shape for k, v in want_state.items())

    x = _example(net.input_shape, batch=2, seed=3)
    with torch.no_grad():
        want = reference.eval()(x).numpy()
        got = ours.eval()(x).numpy()
    assert got.shape == want.shape == (2, 1000)
    assert relative_error(got, want) <= TOL

    # control: a 1% change of the first conv's weight (the stem's) must show
    stem = next(m for m in ours.modules() if isinstance(m, nn.Conv2d))
    with torch.no_grad():
        stem.weight.mul_(1.01)
        changed = ours(x).numpy()
    assert relative_error(changed, want) > TOL


@pytest.mark.parametrize(("spec", "params", "ref", "size"), _params(with_size=True))
def test_training_step_equals_reference(spec, params, ref, size) -> None:  # type: ignore[no-untyped-def]
    net, reference, ours = _pair(spec, params, ref, size)
    x = _example(net.input_shape, batch=4, seed=3)
    torch.manual_seed(4)
    want = reference.train()(x)
    torch.manual_seed(4)
    got = ours.train()(x)
    want_outs = list(want) if isinstance(want, tuple) else [want]
    got_outs = list(got) if isinstance(got, tuple) else [got]
    assert len(got_outs) == len(want_outs) == (2 if params.get("aux_logits") else 1)
    for a, b in zip(got_outs, want_outs, strict=True):
        assert relative_error(a.detach().numpy(), b.detach().numpy()) <= TOL
    ref_state = reference.state_dict()
    for key, value in ours.state_dict().items():
        if key.endswith(("running_mean", "running_var")):
            torch.testing.assert_close(value, ref_state[key], rtol=1e-4, atol=1e-5)
