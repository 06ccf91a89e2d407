"""Helpers for output comparisons that can fail.

With uniformly random batch-norm statistics a deep network's output barely depends on its input
(googlenet's two samples differ by 1e-7 relative), so a comparison passes whatever the model
computes. Here BN running statistics come from a train-mode pass on random data, then get a
small random perturbation; every comparison is paired with a control: the same comparison
after one early weight tensor is changed by 1% must fail (exceed the tolerance).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


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
