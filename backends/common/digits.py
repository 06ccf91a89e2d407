"""scikit-learn's handwritten digits (8x8, 1,797 images, shipped inside the package: no
download) upsampled to 32x32, split into train and test sets: the data of the search example
(docs/search.md) and of anything else that wants a real, tiny image classification task.

numpy only (no framework): the torch training loop (backends/torch/train.py) and other
backends take the arrays as they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SIZE = 32
"""Side of the upsampled images (the example spec's input is 1 x 32 x 32)."""


@dataclass(frozen=True)
class Digits:
    """Images N x 1 x SIZE x SIZE float32 in [0, 1], labels int64 0-9."""

    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any


def load(test_fraction: float = 0.25, seed: int = 0, size: int = SIZE) -> Digits:
    """The digits, bilinearly upsampled to `size` x `size`, split by a seeded stratified
    shuffle (the same split on every machine)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - the extra is documented
        raise ImportError(
            "the digits example needs scikit-learn: pip install 'inceptdsl[search]'"
        ) from None
    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32) / 16.0
    labels = np.asarray(bunch.target, dtype=np.int64)
    up = upsample(images, size)[:, None]
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):  # stratified: each class split in the same proportion
        idx = rng.permutation(np.flatnonzero(labels == c))
        test[idx[: round(len(idx) * test_fraction)]] = True
    return Digits(up[~test], labels[~test], up[test], labels[test])


def upsample(images: Any, size: int) -> Any:
    """N x h x w -> N x size x size, bilinear with half-pixel centres (as torch's
    `interpolate(mode="bilinear", align_corners=False)`), as two matrix products."""
    a = _weights(images.shape[1], size)
    b = _weights(images.shape[2], size)
    return np.einsum("ih,nhw,jw->nij", a, images, b).astype(np.float32)


def _weights(n: int, size: int) -> Any:
    """The size x n matrix of linear interpolation weights."""
    w = np.zeros((size, n), dtype=np.float64)
    for i in range(size):
        src = min(max((i + 0.5) * n / size - 0.5, 0.0), n - 1)
        lo = int(np.floor(src))
        hi = min(lo + 1, n - 1)
        w[i, lo] += 1 - (src - lo)
        w[i, hi] += src - lo
    return w
