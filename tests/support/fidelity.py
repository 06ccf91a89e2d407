"""Helpers for output comparisons that can fail.

With uniformly random batch-norm statistics a deep network's output barely depends on its input
(googlenet's two samples differ by 1e-7 relative), so a comparison passes whatever the model
computes. Here BN running statistics come from a train-mode pass on random data, then get a
small random perturbation; every comparison is paired with a control: the same comparison
after one early weight tensor is changed by 1% must fail (exceed the tolerance).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .lazy import nn, torch


def calibrate_bn(model: nn.Module, x: torch.Tensor, seed: int = 0) -> nn.Module:
    """Set every BN's running statistics from one train-mode pass over `x` (cumulative average,
    so the statistics are exactly the batch's), then perturb them by up to 10%; eval mode.
    `num_batches_tracked` is left at 0, as in a model whose statistics were loaded."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    was = model.training
    model.train()
    with torch.no_grad():
        model(x)
    g = torch.Generator().manual_seed(seed)
    for m, momentum in zip(bns, saved, strict=True):
        m.momentum = momentum
        if m.num_batches_tracked is not None:
            m.num_batches_tracked.zero_()  # as if loaded (Keras keeps no such counter)
        if m.running_mean is not None:
            m.running_mean.mul_(1 + 0.1 * (torch.rand(m.running_mean.shape, generator=g) - 0.5))
            m.running_var.mul_(1 + 0.1 * (torch.rand(m.running_var.shape, generator=g) - 0.5))
    model.train(was)
    return model.eval()


def he_init(model: nn.Module, seed: int = 0) -> nn.Module:
    """He-normal conv and linear weights and small biases: a deep network whose output then
    depends on its input (torch's default init makes VGG's or the paper GoogLeNet's output
    nearly constant, so a comparison of outputs would test nothing)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.01)
    return model


def randomize_params(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random non-trivial values for every parameter (BN gamma/beta included), deterministic."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (1.0 / max(1, p[0].numel()) ** 0.5))
    return model


def first_weight(model: nn.Module) -> torch.Tensor | None:
    """The first conv or linear weight of the model (in registration order), if any."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            return m.weight
    return None


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    """max |got - want| / max |want| (the scale of the output)."""
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(float(np.abs(want).max()), 1e-12)
    return float(np.abs(got - want).max()) / scale


def control(model: nn.Module, run: Callable[[], np.ndarray], want: np.ndarray, tol: float) -> float:
    """The control every comparison needs: with the first conv or linear weight of `model`
    changed by 1%, `run()` must differ from `want` by more than `tol` (else the comparison
    could not have failed). Each element moves by +-1% (a sign drawn at random): scaling the
    whole tensor instead would be undone by a batch norm that uses batch statistics. The
    weight is restored; the error is returned for reports."""
    w = first_weight(model)
    assert w is not None, "the model has no conv or linear weight to perturb"
    saved = w.detach().clone()
    signs = torch.randint(0, 2, w.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        w.mul_(1 + 0.01 * signs)
    try:
        err = relative_error(np.asarray(run()), np.asarray(want))
    finally:
        with torch.no_grad():
            w.copy_(saved)
    assert err > tol, f"a 1% change of one weight moved the output by only {err:.1e} <= {tol}"
    return err


def calibrate_keras_bn(model: Any, x: np.ndarray, seed: int = 0) -> Any:
    """Keras' calibrate_bn: every BatchNormalization's moving statistics from one training-mode
    call on `x` (momentum 0 for that call, so they are the batch's), then perturbed by up to
    10% (the variance's batch estimate is Keras' biased one)."""
    import keras

    bns = [
        layer
        for layer in _keras_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    saved = [bn.momentum for bn in bns]
    for bn in bns:
        bn.momentum = 0.0
    model(x, training=True)
    rng = np.random.default_rng(seed)
    for bn, momentum in zip(bns, saved, strict=True):
        bn.momentum = momentum
        for v in (bn.moving_mean, bn.moving_variance):
            v.assign(v.numpy() * (1 + 0.1 * (rng.random(v.shape) - 0.5)).astype("float32"))
    return model


def _keras_layers(model: Any) -> list[Any]:
    out = []
    for layer in model.layers:
        out += _keras_layers(layer) if hasattr(layer, "layers") else [layer]
    return out


def keras_control(model: Any, run: Callable[[], np.ndarray], want: np.ndarray, tol: float) -> float:
    """`control` for a Keras model: its first kernel changed by +-1% per element."""
    kernel = next(v for v in model.weights if v.path.endswith("kernel"))
    saved = kernel.numpy()
    signs = np.random.default_rng(0).integers(0, 2, saved.shape) * 2 - 1
    kernel.assign((saved * (1 + 0.01 * signs)).astype(saved.dtype))
    try:
        err = relative_error(np.asarray(run()), np.asarray(want))
    finally:
        kernel.assign(saved)
    assert err > tol, f"a 1% change of one kernel moved the output by only {err:.1e} <= {tol}"
    return err
