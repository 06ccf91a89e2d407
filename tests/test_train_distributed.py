"""Distributed training with real engines: DistributedDataParallel over two CPU processes.

torchrun (`python -m torch.distributed.run`) starts two ranks (gloo) that train a compiled
spec with two aux heads for a few steps with the spec's aux-weighted loss; both must end with
bit-identical weights, equal (to float rounding) to one process training on the whole global
batch. The control: one process that sees only half the batch ends elsewhere, by more than the
tolerance. The spec has no batch norm: under DDP each rank normalises with its own half-batch's
statistics (SyncBatchNorm, which would share them, needs a GPU), so a BN network is not
expected to match the one-process run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.lazy import torch

import inceptdsl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "train"))


def batch(net: inceptdsl.Network, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The worker's batch (train/ddp_worker.py imports torch: imported on first use)."""
    from ddp_worker import batch as make

    return make(net, size)


SPEC = """
block Mix(c: int) {
  concat {
    b1: conv c 1x1
    b2: { conv c 1x1 -> conv c 3x3 pad=1 }
  }
}

network ddpnet(num_classes: int = 5) {
  input 3 x 12 x 12
  defaults conv(act=relu)
  stem: conv 8 3x3 stride=2 pad=1
  mix1: Mix(4)
  aux1: aux from mix1 weight=0.3 { global_avgpool -> flatten -> fc: linear num_classes }
  mix2: Mix(6)
  aux2: aux from mix2 weight=0.3 { global_avgpool -> flatten -> fc: linear num_classes }
  pool: global_avgpool
  flatten
  fc: linear num_classes
}
"""
STEPS = 3
TOL = 1e-6


def _single(net: inceptdsl.Network, size: int) -> dict[str, torch.Tensor]:
    """One process, the same recipe, on the first `size` samples of the global batch."""
    torch.manual_seed(0)
    model = net.to_torch().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = batch(net, 8)
    for _ in range(STEPS):
        opt.zero_grad()
        model.loss(model(x[:size]), y[:size]).backward()
        opt.step()
    return model.state_dict()


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert list(a) == list(b)
    return max((a[k] - b[k]).abs().max().item() for k in a)


def test_ddp_two_ranks_equal_one_process_on_the_global_batch(tmp_path: Path) -> None:
    spec = tmp_path / "ddpnet.incept"
    spec.write_text(SPEC)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent)}
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(HERE / "train" / "ddp_worker.py"), str(spec), str(tmp_path), str(STEPS)],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    assert all(torch.equal(ranks[0][k], ranks[1][k]) for k in ranks[0])  # identical ranks

    net = inceptdsl.load(str(spec))
    whole = _single(net, 8)
    torch.manual_seed(0)
    start = net.to_torch().state_dict()
    assert _max_diff(ranks[0], start) > 1e-2  # they did train
    assert _max_diff(ranks[0], whole) <= TOL
    # control: half the batch in one process is a different run, and the check sees it
    assert _max_diff(_single(net, 4), whole) > TOL


def test_aux_weighted_loss_is_what_the_spec_says() -> None:
    net = inceptdsl.loads(SPEC)
    model = net.to_torch().train()
    x, y = batch(net, 4)
    out = model(x)
    ce = torch.nn.functional.cross_entropy
    want = ce(out.logits, y) + 0.3 * ce(out.aux1, y) + 0.3 * ce(out.aux2, y)
    torch.testing.assert_close(model.loss(out, y), want, rtol=0, atol=0)
    with torch.no_grad():
        logits = model.eval()(x)
    torch.testing.assert_close(model.loss(logits, y), ce(logits, y), rtol=0, atol=0)
    onehot = torch.nn.functional.one_hot(y, 5).float()
    mse = model.loss(out, onehot, criterion=torch.nn.functional.mse_loss)
    assert mse.item() > 0


@pytest.mark.parametrize("fullgraph", [True])
def test_compiled_training_step_equals_eager(fullgraph: bool) -> None:
    """One SGD step through torch.compile (inductor, backward included) gives the eager
    step's weights; the aux-weighted loss is compiled with the model."""
    torch._dynamo.reset()
    net = inceptdsl.loads(SPEC)
    x, y = batch(net, 4)
    results = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = net.to_torch().train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def step(x: torch.Tensor, y: torch.Tensor, model=model) -> torch.Tensor:  # type: ignore[no-untyped-def]
            return model.loss(model(x), y)

        fn = torch.compile(step, fullgraph=fullgraph) if compiled else step
        opt.zero_grad()
        loss = fn(x, y)
        loss.backward()
        opt.step()
        results.append((loss.detach(), model.state_dict()))
    (l0, s0), (l1, s1) = results
    torch.testing.assert_close(l1, l0, rtol=1e-5, atol=1e-6)
    assert _max_diff(s1, s0) <= 1e-5
    torch.manual_seed(0)
    assert _max_diff(s0, net.to_torch().state_dict()) > 1e-3  # the step changed the weights
