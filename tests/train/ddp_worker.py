"""One rank of the DDP training test (tests/test_train_distributed.py), launched by torchrun.

    torchrun --nproc_per_node=2 tests/train/ddp_worker.py SPEC OUT STEPS

Every rank builds the same compiled model from SPEC, wraps it in DistributedDataParallel (gloo,
CPU), trains STEPS steps of SGD with the spec's aux-weighted loss (`model.loss`) on its half of
a fixed global batch, and saves its final state_dict to OUT/rank<r>.pt. The recipe is the one
in docs/training.md, minus AMP (CPU float32, so the result can be compared exactly).
"""

from __future__ import annotations

import sys

sys.modules.setdefault("triton", None)  # type: ignore[arg-type]

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402

import inceptdsl  # noqa: E402


def batch(net: inceptdsl.Network, size: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """The global batch every run trains on (the same in every process)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(size, *net.input_shape, generator=g)
    y = torch.randint(0, int(net.params["num_classes"]), (size,), generator=g)
    return x, y


def main(spec: str, out: str, steps: int) -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    net = inceptdsl.load(spec)
    torch.manual_seed(0)  # the same initial weights everywhere (DDP also broadcasts rank 0's)
    model = net.to_torch().train()
    ddp = DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    x, y = batch(net, 4 * world)
    local = slice(rank * 4, (rank + 1) * 4)  # this rank's shard of the global batch
    for _ in range(steps):
        opt.zero_grad()
        loss = model.loss(ddp(x[local]), y[local])  # main + weight x aux, from the spec
        loss.backward()  # DDP averages the gradients over the ranks
        opt.step()
    torch.save(model.state_dict(), f"{out}/rank{rank}.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
