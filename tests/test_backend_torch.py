"""The torch backend's contract: every op handled, build == emit, standalone and deterministic
output, aux heads, names refused before they reach code, weights loading, training mode.
"""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.layout import EDGES
from support.lazy import torch
from support.torch_specs import SPECS, example, load, randomize

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.backends.torch.ops import OP_TABLE
from inceptdsl.errors import InvalidValueError, UsageError
from inceptdsl.ir import Op

BACKEND = get("torch")
ROOT = Path(__file__).resolve().parent.parent


def test_every_op_has_a_rule() -> None:
    assert set(OP_TABLE) == set(Op)


def test_torch_is_not_shadowed_by_the_backend_folder() -> None:
    assert ROOT / "backends" not in Path(torch.__file__).resolve().parents


@pytest.mark.parametrize("name", sorted(SPECS))
def test_emit_is_deterministic(name: str) -> None:
    first = BACKEND.emit(load(name))
    again = BACKEND.emit(load(name))  # a freshly lowered graph, not the same object
    assert first == again
    assert first.endswith("\n") and "\r" not in first


def test_emitted_file_runs_without_inceptdsl_and_equals_build(tmp_path: Path) -> None:
    """Each small spec's file, run in a subprocess where inceptdsl cannot be imported, has the
    in-memory model's state_dict keys and, with its weights, the same eval and train outputs."""
    cases = {}
    for name in sorted(SPECS):
        g = load(name)
        model = randomize(BACKEND.build(g))
        x = example(g)
        (tmp_path / f"{name}.py").write_text(BACKEND.emit(g))
        torch.save({"state": model.state_dict(), "x": x}, tmp_path / f"{name}.pt")
        model.eval()
        with torch.no_grad():
            ev = model(x)
        model.train()
        torch.manual_seed(0)
        tr = model(x)
        cases[name] = (list(model.state_dict()), ev, tr)
    script = textwrap.dedent(
        """
        import json, runpy, sys
        sys.modules["inceptdsl"] = None  # any import of inceptdsl now fails
        import torch
        keys = {}
        for name in sys.argv[2:]:
            ns = runpy.run_path(f"{sys.argv[1]}/{name}.py")
            model = ns["build"]()
            saved = torch.load(f"{sys.argv[1]}/{name}.pt")
            model.load_state_dict(saved["state"], strict=True)
            model.eval()
            with torch.no_grad():
                ev = model(saved["x"])
            model.train()
            torch.manual_seed(0)
            tr = model(saved["x"])
            out = {"eval": ev, "train": tr, "type": type(tr).__name__}
            if isinstance(tr, tuple):  # a class of the run file: save it as a plain tuple
                out.update(train=tuple(tr), fields=list(tr._fields))
            torch.save(out, f"{sys.argv[1]}/{name}.out.pt")
            keys[name] = list(model.state_dict())
        assert not any(m == "inceptdsl" or m.startswith("inceptdsl.") for m in sys.modules
                       if sys.modules[m] is not None)
        print(json.dumps(keys))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), *sorted(SPECS)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    keys = json.loads(run.stdout.strip().splitlines()[-1])
    for name, (own_keys, ev, tr) in cases.items():
        out = torch.load(tmp_path / f"{name}.out.pt")
        assert keys[name] == own_keys
        torch.testing.assert_close(out["eval"], ev, rtol=0, atol=0)
        assert out["type"] == type(tr).__name__
        if isinstance(tr, tuple):
            assert out["fields"] == list(tr._fields)
        for a, b in zip(out["train"] if isinstance(tr, tuple) else [out["train"]],
                        tr if isinstance(tr, tuple) else [tr], strict=True):  # fmt: skip
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_aux_heads_run_only_in_training_and_come_last_declared_first() -> None:
    g = load("auxnet")
    model = BACKEND.build(g)
    assert model.aux_weights == {"aux1": 0.3, "aux2": 0.3}
    calls: list[str] = []
    for head in ("aux1", "aux2"):
        getattr(model, head).fc2.register_forward_hook(lambda m, i, o, h=head: calls.append(h))
    x = example(g)
    out = model.train()(x)
    assert type(out).__name__ == "AuxnetOutputs"
    assert out._fields == ("logits", "aux2", "aux1")  # torchvision's GoogLeNetOutputs order
    assert [t.shape for t in out] == [(2, 5)] * 3
    assert calls == ["aux1", "aux2"]
    calls.clear()
    with torch.no_grad():
        logits = model.eval()(x)
    assert isinstance(logits, torch.Tensor) and logits.shape == (2, 5) and not calls


def test_identity_only_aux_head_and_identity_output() -> None:
    """Degenerate but legal: the aux head is a module whose forward returns its input, its
    output is a trunk tensor, and the network's output is an identity."""
    g = inceptdsl.loads(EDGES).graph
    source = BACKEND.emit(g)
    assert "class Side(nn.Module)" in source and "        return x\n" in source
    model = BACKEND.build(g)
    x = example(g)
    out = model.train()(x)
    assert out._fields == ("logits", "side")
    torch.testing.assert_close(out.side, model.a(x))
    torch.testing.assert_close(out.logits, model.b(model.a(x)).clamp(min=0))


def test_network_without_classifier_returns_the_feature_map() -> None:
    g = load("numbered")
    model = BACKEND.build(g).eval()
    assert model(example(g)).shape == (2, 6, 12, 12)
    assert [k for k in model.state_dict()] == [
        "0.c.weight", "0.c.bias", "1.c.weight", "1.c.bias", "last.weight", "last.bias",
    ]  # fmt: skip


@pytest.mark.parametrize("name", sorted(SPECS))
def test_training_backward_works_with_inplace_activations(name: str) -> None:
    g = load(name)
    model = BACKEND.build(g).train()
    out = model(example(g))
    loss = sum(t.square().mean() for t in (out if isinstance(out, tuple) else [out]))
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_inplace_activation_leaves_a_shared_input_alone() -> None:
    """relu reads the conv output, and so does the identity branch after it: the relu must not
    overwrite the tensor the identity branch still needs."""
    spec = "network t {\n input 2 x 5 x 5\n c: conv 4 1x1\n concat {\n relu\n identity\n }\n}\n"
    g = inceptdsl.loads(spec).graph
    model = BACKEND.build(g).eval()
    x = example(g)
    with torch.no_grad():
        conv = model.c(x)
        y = model(x)
    assert (conv < 0).any()
    torch.testing.assert_close(y[:, 4:], conv)
    torch.testing.assert_close(y[:, :4], conv.clamp(min=0))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_channels_last(name: str) -> None:
    g = load(name)
    model = randomize(BACKEND.build(g)).eval()
    x = example(g)
    with torch.no_grad():
        want = model(x)
        model = model.to(memory_format=torch.channels_last)
        got = model(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_models_deepcopy_and_pickle() -> None:
    g = load("residual")
    model = randomize(BACKEND.build(g)).eval()
    x = example(g)
    clone = copy.deepcopy(model)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    restored = torch.load(buffer, weights_only=False)
    with torch.no_grad():
        torch.testing.assert_close(clone(x), model(x))
        torch.testing.assert_close(restored(x), model(x))


# -- names: a spec is data, and its names are checked before they become code -------------------


@pytest.mark.parametrize("label", ["training", "forward", "cuda", "state_dict", "aux_weights"])
def test_names_that_nn_module_already_uses_are_refused(label: str) -> None:
    g = inceptdsl.loads(f"network t {{\n  input 3 x 4 x 4\n  {label}: conv 4 1x1\n}}\n").graph
    with pytest.raises(InvalidValueError) as info:
        BACKEND.emit(g)
    assert info.value.code == "E304" and info.value.line == 3
    assert "rename" in (info.value.hint or "")


def test_a_leading_underscore_is_refused() -> None:
    g = inceptdsl.loads("network t {\n  input 3 x 4 x 4\n  _private: conv 4 1x1\n}\n").graph
    with pytest.raises(InvalidValueError):
        BACKEND.build(g)


@pytest.mark.parametrize("label", ["class", "None", '"block1-0"', '"3x"'])
def test_labels_that_are_not_attributes_are_reached_by_key(label: str) -> None:
    """Python keywords and quoted labels are module names too: the emitted code reaches them
    as `self["class"]`, so the state_dict has the spec's names."""
    text = f"network t {{\n  input 3 x 4 x 4\n  g: {{\n    {label}: conv 4 1x1\n  }}\n}}\n"
    g = inceptdsl.loads(text).graph
    model = BACKEND.build(g)
    name = label.strip('"')
    assert list(model.state_dict()) == [f"g.{name}.weight", f"g.{name}.bias"]
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 4, 4)).shape == (1, 4, 4, 4)


def test_hand_made_graph_with_code_in_a_name_is_refused() -> None:
    g = inceptdsl.loads("network t {\n  input 3 x 4 x 4\n  c: conv 4 1x1\n}\n").graph
    g = __import__("networkx").relabel_nodes(g, {"c": "c(x)); import os; os.system('true'"})
    with pytest.raises(InvalidValueError):
        BACKEND.emit(g)


@pytest.mark.parametrize(("network", "cls"), [("inception_v3", "InceptionV3"), ("F", "FNet")])
def test_class_names(network: str, cls: str) -> None:
    g = inceptdsl.loads(f"network {network} {{\n  input 3 x 4 x 4\n  c: conv 4 1x1\n}}\n").graph
    assert f"\nclass {cls}(nn.Module):" in BACKEND.emit(g)
    assert type(BACKEND.build(g)).__name__ == cls


# -- weights_from -------------------------------------------------------------------------------


def test_weights_from_a_module_or_a_state_dict() -> None:
    g = load("branches")
    source = randomize(BACKEND.build(g)).eval()
    x = example(g)
    with torch.no_grad():
        want = source(x)
        for weights in (source, source.state_dict()):
            got = BACKEND.build(g, weights_from=weights).eval()(x)
            torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_weights_from_a_different_network_is_a_usage_error() -> None:
    other = BACKEND.build(load("branches", num_classes=3))
    with pytest.raises(UsageError, match="2 tensors with the wrong shape") as err:
        BACKEND.build(load("branches"), weights_from=other)
    assert "fc (weight (3, 48) vs (7, 48), bias (3,) vs (7,))" in err.value.render()
    with pytest.raises(UsageError, match="missing, .* unexpected") as err:
        BACKEND.build(load("branches"), weights_from=BACKEND.build(load("auxnet")))


@pytest.mark.parametrize("weights", ["weights.pt", 3, {"fc.weight": [1.0]}])
def test_weights_from_other_types_is_a_usage_error(weights: object) -> None:
    with pytest.raises(UsageError, match="torch state_dict, an nn.Module or a keras.Model"):
        BACKEND.build(load("branches"), weights_from=weights)
