"""A plain training loop for a compiled model on in-memory arrays (CPU or GPU): minibatch
SGD with momentum and a cosine schedule, the spec's aux-loss weights through `model.loss`,
and test accuracy. Small on purpose: the search example (docs/search.md) trains one model
per trial with it, and later work (quantizing a digits-trained model) reuses it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 8
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    seed: int = 0
    threads: int | None = None
    """torch intra-op threads (None: torch's default)."""


def fit(model: torch.nn.Module, x: Any, y: Any, config: TrainConfig = TrainConfig()) -> float:
    """Train `model` in place on arrays `x` (N x C x H x W) and `y` (N labels); the mean
    loss of the last epoch. Aux heads count with the spec's weights (`model.loss`)."""
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    gen = torch.Generator().manual_seed(config.seed)
    xs, ys = torch.as_tensor(x), torch.as_tensor(y)
    opt = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        nesterov=True,
    )
    steps = config.epochs * math.ceil(len(xs) / config.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )
    loss_fn = getattr(model, "loss", None)
    last = 0.0
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(xs), generator=gen)
        total, seen = 0.0, 0
        for start in range(0, len(xs), config.batch_size):
            idx = order[start : start + config.batch_size]
            out = model(xs[idx])
            loss = loss_fn(out, ys[idx]) if loss_fn else F.cross_entropy(out, ys[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        last = total / seen
    model.eval()
    return last


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: Any, y: Any, batch_size: int = 512) -> float:
    """The fraction of `x` that `model` (in eval mode) classifies as `y`."""
    model.eval()
    xs, ys = torch.as_tensor(x), torch.as_tensor(y)
    right = 0
    for start in range(0, len(xs), batch_size):
        logits = model(xs[start : start + batch_size])
        right += int((logits.argmax(1) == ys[start : start + batch_size]).sum())
    return right / len(xs)


class DigitsTrainer:
    """The `digits` trainer of `inceptdsl search --train digits` (entry point group
    `inceptdsl.trainers`): trains a point on 80% of the digits' training split, returns its
    accuracy on the other 20% (`accuracy`, what the search optimizes) and on the held-out
    test split (`test_accuracy`, looked at only to report the result)."""

    metrics = ("accuracy", "test_accuracy")

    def __call__(self, net: Any, options: dict[str, Any]) -> dict[str, float]:
        from inceptdsl.backends.common import digits

        data = digits.load()
        seed = int(options.get("seed", 0))
        n_val = len(data.x_train) // 5
        order = torch.randperm(len(data.x_train), generator=torch.Generator().manual_seed(seed))
        val, train = order[:n_val].numpy(), order[n_val:].numpy()
        torch.manual_seed(seed)
        model = net.to_torch()
        config = TrainConfig(
            epochs=int(options.get("epochs", 8)), seed=seed, threads=options.get("threads")
        )
        fit(model, data.x_train[train], data.y_train[train], config)
        return {
            "accuracy": accuracy(model, data.x_train[val], data.y_train[val]),
            "test_accuracy": accuracy(model, data.x_test, data.y_test),
        }


DIGITS = DigitsTrainer()
