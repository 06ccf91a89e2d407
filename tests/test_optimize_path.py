"""`to_torch(optimize=True)` takes the fastest path this machine has and says so in its repr.

The choice (backends/torch/optimized.py `choose_path`) is checked for each combination of
what a machine may have (oneDNN's ops, oneDNN bf16 kernels) by replacing the two probes; the
models built on this machine are checked to run the path their repr names and to compute the
unoptimized model's output (each with the 1% control). That the chosen path is the fastest is
measured, not asserted: bench/bench_optimize.py's `optimize=True (chose ...)` row against the
three forced paths, in bench/RESULTS.md (timings cannot be asserted on a shared machine).
"""

from __future__ import annotations

import pytest
from support.fidelity import relative_error
from support.lazy import lazy, torch
from support.optimize_cases import TOL, TORCH, _case, _run, check_torch
from support.torch_specs import load

import inceptdsl
from inceptdsl.errors import UsageError

ONEDNN = lazy("inceptdsl.backends.torch.onednn")
OPTIMIZED = lazy("inceptdsl.backends.torch.optimized")


def _machine(monkeypatch: pytest.MonkeyPatch, ops: bool, bf16: bool) -> None:
    monkeypatch.setattr(ONEDNN, "available", lambda: ops)
    monkeypatch.setattr(ONEDNN, "bf16_supported", lambda: ops and bf16)


@pytest.mark.parametrize(
    ("ops", "bf16", "dtype", "want"),
    [
        (True, True, "float32", "onednn"),
        (True, False, "float32", "onednn"),
        (False, False, "float32", "channels_last"),
        (True, True, "bfloat16", "onednn"),
        (True, False, "bfloat16", "channels_last"),  # oneDNN would refuse to pack bf16
        (False, False, "bfloat16", "channels_last"),
    ],
)
def test_the_default_is_the_fastest_path_the_machine_has(
    monkeypatch: pytest.MonkeyPatch, ops: bool, bf16: bool, dtype: str, want: str
) -> None:
    _machine(monkeypatch, ops, bf16)
    path = OPTIMIZED.choose_path(dtype=getattr(torch, dtype))
    assert path.name == want
    assert path.why.startswith("chosen for this machine")
    assert "force another with onednn=, channels_last=" in path.why


@pytest.mark.parametrize(
    ("onednn", "channels_last", "want"),
    [
        (True, None, "onednn"),
        (True, True, "onednn"),
        (None, True, "channels_last"),
        (False, True, "channels_last"),
        (False, None, "channels_last"),  # oneDNN ruled out: the fastest of the rest
        (None, False, "nchw"),  # channels_last ruled out, and oneDNN runs channels_last
        (False, False, "nchw"),
    ],
)
def test_options_force_or_rule_out_a_path(
    monkeypatch: pytest.MonkeyPatch, onednn: bool | None, channels_last: bool | None, want: str
) -> None:
    _machine(monkeypatch, True, True)
    assert OPTIMIZED.choose_path(onednn, channels_last).name == want


def test_impossible_requests_are_usage_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    _machine(monkeypatch, True, True)
    with pytest.raises(UsageError, match="cannot go with channels_last=False"):
        OPTIMIZED.choose_path(onednn=True, channels_last=False)
    _machine(monkeypatch, False, False)
    with pytest.raises(UsageError, match="no oneDNN") as info:
        OPTIMIZED.choose_path(onednn=True)
    assert "leave `onednn` out" in (info.value.hint or "")
    _machine(monkeypatch, True, False)  # asked for, but no bf16 kernels: said so, not hidden
    path = OPTIMIZED.choose_path(onednn=True, dtype=torch.bfloat16)
    assert path.name == "channels_last"
    assert "no bfloat16 kernels" in path.why


def test_the_model_runs_the_path_its_repr_names() -> None:
    """On this machine: the default model is built on OPTIMIZED.choose_path()'s path (oneDNN convs
    exactly when it says onednn, channels_last weights otherwise), its repr's first line says
    so, and it computes the unoptimized model's output (control: one kernel 1% off)."""
    g, model, x, want = _case(load("branches"))
    expected = OPTIMIZED.choose_path()
    opt = TORCH.build_optimized(g, model)  # type: ignore[attr-defined]
    assert opt.optimized_path == expected
    head = repr(opt).splitlines()[1].strip()
    assert head.startswith(f"optimized for inference, eval-only: path {expected.name}: ")
    assert expected.why in head
    lowered = [m for m in opt.modules() if isinstance(m, ONEDNN.OneDNNConv)]
    assert bool(lowered) == (expected.name == "onednn")
    assert (
        expected.name == "onednn"
    ) == ONEDNN.available()  # this torch has the ops: they are used
    assert relative_error(_run(opt, x), want) <= TOL
    if lowered:  # control: the first packed kernel from a 1% different weight
        state = opt.state_dict()
        key = next(k for k, v in state.items() if v is lowered[0].weight)
        opt.load_state_dict({**state, key: state[key] * 1.01})
    else:
        conv = next(m for m in opt.modules() if isinstance(m, torch.nn.Conv2d))
        with torch.no_grad():
            conv.weight.mul_(1.01)
    assert relative_error(_run(opt, x), want) > TOL


@pytest.mark.parametrize(
    ("options", "name"),
    [({"channels_last": False}, "nchw"), ({"channels_last": True}, "channels_last")],
)
def test_forced_paths_are_built_and_named(options: dict[str, bool], name: str) -> None:
    g, model, x, want = _case(load("branches"))
    opt = TORCH.build_optimized(g, model, **options)  # type: ignore[attr-defined]
    assert opt.optimized_path.name == name
    assert f"path {name}: " in repr(opt).splitlines()[1]
    assert "forced" in opt.optimized_path.why
    assert not any(isinstance(m, ONEDNN.OneDNNConv) for m in opt.modules())
    conv = next(m for m in opt.modules() if isinstance(m, torch.nn.Conv2d))
    is_cl = conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert is_cl == (name == "channels_last")
    check_torch(opt, x, want)


def test_network_to_torch_passes_the_choice_through() -> None:
    net = inceptdsl.loads(SMALL)
    assert net.to_torch(optimize=True).optimized_path == OPTIMIZED.choose_path()
    assert net.to_torch(optimize=True, onednn=False).optimized_path.name == "channels_last"
    assert net.to_torch(optimize=True, channels_last=False).optimized_path.name == "nchw"


SMALL = """
network small {
  input 3 x 16 x 16
  stem: conv 8 3x3 pad=1 bn=true act=relu
  pool: global_avgpool
  flat: flatten
  fc: linear 4
}
"""
