"""Print how far the torch backend's models are from torchvision/timm (the fidelity figures).

    .venv/bin/python bench/bench_torch_fidelity.py

Same setup as tests/test_fidelity_torch.py (random init, randomised BN statistics, strict
state_dict load, batch of 2 random images), printing for each spec and parameter setting the
max absolute difference of the eval outputs, the output scale (max |reference|) and their ratio
(the tests require ratio <= 1e-5).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.modules.setdefault("triton", None)  # type: ignore[arg-type]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import torch  # noqa: E402
from test_fidelity_torch import CASES, _example, _pair  # noqa: E402


def main() -> None:
    for spec, params, ref, classes in CASES:
        for n in classes:
            net, reference, ours = _pair(spec, params, ref, n)
            x = _example(net)
            with torch.no_grad():
                want = reference.eval()(x)
                got = ours.eval()(x)
            diff = (got - want).abs().max().item()
            scale = want.abs().max().item()
            setting = ", ".join(f"{k}={v}" for k, v in {**params, "num_classes": n}.items())
            print(
                f"{spec:20s} {setting:38s} max|diff| {diff:.3e}  scale {scale:.3e}  "
                f"ratio {diff / scale:.1e}"
            )


if __name__ == "__main__":
    main()
