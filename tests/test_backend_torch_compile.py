"""torch.compile(fullgraph=True) captures the emitted forward whole: no graph breaks.

SLOW on 2 CPU cores (45-70 s in all): dynamo tracing of the small specs and of googlenet
(eval and training, with its aux NamedTuple) uses the `eager` backend, which checks capture
without generating code; one small spec also goes through the default inductor backend
(C++ codegen, about 30 s) and must give the eager model's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.lazy import torch
from support.torch_specs import SPECS, example, load, randomize

import inceptdsl
from inceptdsl.backend import get

BACKEND = get("torch")
ROOT = Path(__file__).resolve().parent.parent


def _outputs(out: object) -> list[torch.Tensor]:
    return list(out) if isinstance(out, tuple) else [out]  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [*sorted(SPECS), "googlenet"])
def test_fullgraph_capture_in_eval_and_training(name: str) -> None:
    torch._dynamo.reset()
    g = (
        inceptdsl.load(str(ROOT / "specs" / f"{name}.incept")).graph
        if name == "googlenet"
        else load(name)
    )
    model = randomize(BACKEND.build(g))
    compiled = torch.compile(model, fullgraph=True, backend="eager")  # raises on a graph break
    x = example(g)
    with torch.no_grad():
        torch.testing.assert_close(compiled.eval()(x), model.eval()(x))
    torch.manual_seed(0)
    got = compiled.train()(x)
    torch.manual_seed(0)
    want = model.train()(x)
    assert type(got) is type(want)
    for a, b in zip(_outputs(got), _outputs(want), strict=True):
        torch.testing.assert_close(a, b)


def test_inductor_compiles_and_matches_eager() -> None:
    torch._dynamo.reset()
    g = load("residual")
    model = randomize(BACKEND.build(g)).eval()
    compiled = torch.compile(model, fullgraph=True)
    x = example(g)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-5)
