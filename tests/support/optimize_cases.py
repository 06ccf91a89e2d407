"""Random-weight torch models of IR graphs for the optimizer's fidelity tests, and the check of an
optimized model against the original's output with its 1% control (torch on first use)."""

from __future__ import annotations

import networkx as nx
import numpy as np

from inceptdsl.backend import get

from .fidelity import calibrate_bn, first_weight, randomize_params, relative_error
from .lazy import nn, torch

TOL = 1e-4


TORCH = get("torch")


Case = "tuple[nx.DiGraph, nn.Module, torch.Tensor, np.ndarray]"


def _randomize(model: nn.Module, seed: int) -> nn.Module:
    """Random parameters that keep activations at their scale through deep nets without BN
    (He-scaled kernels, small biases): with fidelity.randomize_params' unit-variance biases,
    googlenet_paper's or vgg16's output is its biases' and no longer depends on the weights,
    and the 1% control could not fail."""
    randomize_params(model, seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.mul_(2.0**0.5)  # std sqrt(2 / fan_in): ReLU halves the variance
            elif name.endswith("bias"):
                p.mul_(0.1)
    return model


def _case(g: nx.DiGraph, seed: int = 0) -> Case:
    """A model of `g` with random parameters and BN statistics from a train-mode pass over 8
    samples (with 2, a BN after a 1x1 map, as at the end of a network at its smallest input,
    sees two values per channel and its normalisation amplifies rounding), and its output on
    the first 2."""
    torch.manual_seed(seed)
    model = _randomize(TORCH.build(g), seed)
    gen = torch.Generator().manual_seed(seed)
    calibration = torch.randn(8, *g.graph["input_shape"], generator=gen)
    calibrate_bn(model, calibration, seed)
    x = calibration[:2].clone()
    with torch.no_grad():
        want = model(x).numpy()
    return g, model, x, want


def _run(model: nn.Module, x: torch.Tensor, dtype: type = np.float32) -> np.ndarray:
    with torch.no_grad():
        return model(x).double().numpy().astype(dtype)


def check_torch(model: nn.Module, x: torch.Tensor, want: np.ndarray, tol: float = TOL) -> float:
    """The optimized model's relative error (<= tol) and its control (> tol): its first conv
    (or linear) weight 1% off, changed in place and put back."""
    err = relative_error(_run(model, x, want.dtype.type), want)
    assert err <= tol, err
    weight = first_weight(model)
    assert weight is not None
    saved = weight.detach().clone()
    with torch.no_grad():
        weight.mul_(1.01)
    try:
        assert relative_error(_run(model, x, want.dtype.type), want) > tol
    finally:
        with torch.no_grad():
            weight.copy_(saved)
    return err
