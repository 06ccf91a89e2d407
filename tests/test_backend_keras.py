"""The Keras backend's contract: every op handled, build == emit (weights order and outputs),
standalone and deterministic output, the training model's aux heads, `.keras` save and load,
names refused before they reach code, weights from Keras models, and the CLI.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from support.keras_specs import SPECS, example, keras_output, load, randomize_keras
from support.lazy import keras

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.backends.keras import BACKEND
from inceptdsl.backends.keras.ops import OP_TABLE, keras_momentum
from inceptdsl.cli import main
from inceptdsl.errors import InvalidValueError, UsageError
from inceptdsl.ir import Op

ROOT = Path(__file__).resolve().parent.parent


def test_every_op_has_a_rule() -> None:
    assert set(OP_TABLE) == set(Op)


def test_registered_as_the_keras_backend() -> None:
    assert get("keras") is BACKEND
    assert BACKEND.name == "keras" and BACKEND.suffix == ".py"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_emit_is_deterministic(name: str) -> None:
    first = BACKEND.emit(load(name))
    again = BACKEND.emit(load(name))  # a freshly lowered graph, not the same object
    assert first == again
    assert first.endswith("\n") and "\r" not in first


def test_emitted_file_runs_without_inceptdsl_and_equals_build(tmp_path: Path) -> None:
    """Each small spec's file, run in a subprocess where inceptdsl cannot be imported, builds a
    model with the same weights (paths, shapes, order) as the in-memory one and, given its
    weights, the same outputs. The subprocess also loads the in-memory model saved as `.keras`
    (custom layers included) with nothing imported but the emitted file."""
    for name in sorted(SPECS):
        g = load(name)
        model = randomize_keras(BACKEND.build(g, training=True))
        x = example(g).transpose(0, 2, 3, 1)
        (tmp_path / f"{name}.py").write_text(BACKEND.emit(g))
        model.save(tmp_path / f"{name}.keras")
        out = model(x, training=False)
        outs = out if isinstance(out, dict) else {"out": out}
        arrays = {f"w{i}": v for i, v in enumerate(model.get_weights())}
        arrays.update({f"y_{k}": np.asarray(v) for k, v in outs.items()})
        np.savez(tmp_path / f"{name}.npz", x=x, **arrays)
        (tmp_path / f"{name}.paths").write_text("\n".join(v.path for v in model.weights))
    script = textwrap.dedent(
        """
        import runpy, sys
        import numpy as np
        sys.modules["inceptdsl"] = None  # any import of inceptdsl now fails
        import keras
        for name in sys.argv[2:]:
            base = f"{sys.argv[1]}/{name}"
            ns = runpy.run_path(base + ".py")
            aux = "LOSS_WEIGHTS" in ns
            model = ns["build"](training=True) if aux else ns["build"]()
            paths = [v.path for v in model.weights]
            assert paths == open(base + ".paths").read().split("\\n"), name
            saved = np.load(base + ".npz")
            model.set_weights([saved[f"w{i}"] for i in range(len(paths))])
            loaded = keras.models.load_model(base + ".keras")
            for m in (model, loaded):
                out = m(saved["x"], training=False)
                outs = out if isinstance(out, dict) else {"out": out}
                assert sorted(f"y_{k}" for k in outs) == sorted(
                    k for k in saved.files if k.startswith("y_")
                ), name
                for k, v in outs.items():
                    np.testing.assert_allclose(np.asarray(v), saved[f"y_{k}"], rtol=1e-6, atol=1e-6)
        print("ok", len(sys.argv) - 2)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), *sorted(SPECS)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().endswith(f"ok {len(SPECS)}")


def test_inference_model_has_one_output_and_no_aux_layers() -> None:
    g = load("auxnet")
    infer = BACKEND.build(g)
    train = BACKEND.build(g, training=True)
    x = example(g)
    assert keras_output(infer, x).shape == (2, 5)
    out = train(x.transpose(0, 2, 3, 1), training=False)
    assert sorted(out) == ["aux1", "aux2", "logits"]
    assert all(tuple(v.shape) == (2, 5) for v in out.values())
    infer_paths = {v.path for v in infer.weights}
    aux_paths = {v.path for v in train.weights} - infer_paths
    assert infer_paths < {v.path for v in train.weights}
    assert aux_paths and all(p.startswith(("aux1.", "aux2.")) for p in aux_paths)
    assert not any(p.startswith("aux") for p in infer_paths)


def test_training_flag_is_ignored_without_aux_heads() -> None:
    g = load("branches")
    assert len(BACKEND.build(g, training=True).outputs) == 1


def test_loss_weights_are_emitted_for_the_training_outputs() -> None:
    source = BACKEND.emit(load("auxnet"))
    assert 'LOSS_WEIGHTS = {"logits": 1.0, "aux1": 0.3, "aux2": 0.3}' in source
    assert "def build(training: bool = False) -> keras.Model:" in source
    assert "LOSS_WEIGHTS" not in BACKEND.emit(load("branches"))


# Every custom layer of runtime.py: LRN, a ceil-mode average pool counting its padding but not
# the ceil rows (14 -> 8), a torch-style padded max pool (stride 2, even size: 8 -> 4), a
# scaled residual and an adaptive pool with unequal windows (4 -> 3).
CUSTOM = """
network custom {
  input 3 x 14 x 14
  conv 8 3x3 pad=1
  lrn 3
  avgpool 3x3 stride=2 pad=1 ceil=true
  maxpool 3x3 stride=2 pad=1
  residual scale=0.5 { conv 8 1x1 }
  adaptive_avgpool 3x3
  concat split=2 {
    identity
    shuffle 2
  }
  layer_scale init=0.5
  drop_path 0.1
}
"""


def test_keras_save_and_load_round_trip(tmp_path: Path) -> None:
    g = inceptdsl.loads(CUSTOM).graph
    model = randomize_keras(BACKEND.build(g), seed=1)
    from inceptdsl.backends.keras import CUSTOM_OBJECTS  # (imports Keras)

    custom = {c.__name__ for c in CUSTOM_OBJECTS.values()}
    assert custom <= {type(la).__name__ for la in model.layers}
    path = tmp_path / "custom.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [v.path for v in loaded.weights] == [v.path for v in model.weights]
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    x = example(g)
    np.testing.assert_allclose(keras_output(loaded, x), keras_output(model, x), rtol=1e-6)


def test_weights_from_a_keras_model_by_name_or_by_position() -> None:
    g = load("tfsame")
    source = randomize_keras(BACKEND.build(g), seed=2)
    by_name = BACKEND.build(g, weights_from=source)
    x = example(g)
    np.testing.assert_array_equal(keras_output(by_name, x), keras_output(source, x))
    # a model with other layer names but the same weight shapes in the same order loads by
    # position, as keras.applications models do (test_fidelity_keras.py)
    renamed = keras.Model.from_config(_renamed(source.get_config()))
    renamed.set_weights(source.get_weights())
    by_position = BACKEND.build(g, weights_from=renamed)
    np.testing.assert_array_equal(keras_output(by_position, x), keras_output(source, x))


def _renamed(config: dict) -> dict:
    text = repr(config).replace("'sep", "'other_sep").replace("'stem", "'other_stem")
    return eval(text)  # noqa: S307 - a config we just made


def test_training_model_weights_fill_the_inference_model_by_name() -> None:
    g = load("auxnet")
    train = randomize_keras(BACKEND.build(g, training=True), seed=3)
    infer = BACKEND.build(g, weights_from=train)
    x = example(g)
    np.testing.assert_array_equal(keras_output(infer, x), keras_output(train, x))


def test_weights_from_a_different_network_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="do not fit"):
        BACKEND.build(load("branches"), weights_from=BACKEND.build(load("branches", num_classes=3)))
    with pytest.raises(UsageError, match="do not fit"):
        BACKEND.build(load("tfsame"), weights_from=BACKEND.build(load("numbered")))


@pytest.mark.parametrize("weights", [42, "model.keras", [np.zeros(3)], {}])
def test_weights_from_other_types_is_a_usage_error(weights: object) -> None:
    with pytest.raises(UsageError, match="weights_from must be"):
        BACKEND.build(load("numbered"), weights_from=weights)


def _graph_with_name(name: str) -> nx.DiGraph:
    g = load("numbered")
    return nx.relabel_nodes(g, {"last": name})


@pytest.mark.parametrize("name", ['x"); import os; ("', "a/b", "a b", "_hidden", "a..b", "é"])
def test_hand_made_graph_with_code_in_a_name_is_refused(name: str) -> None:
    g = _graph_with_name(name)
    g.graph["output"] = name
    with pytest.raises(InvalidValueError, match="cannot be used by the keras backend"):
        BACKEND.emit(g)


def test_network_and_aux_names_are_checked() -> None:
    g = load("numbered")
    g.graph["name"] = "bad name"
    with pytest.raises(InvalidValueError, match="network name"):
        BACKEND.emit(g)
    text = SPECS["auxnet"].replace("aux1: aux", "logits: aux").replace("aux1.", "logits.")
    with pytest.raises(InvalidValueError, match="aux head name 'logits'"):
        BACKEND.emit(inceptdsl.loads(text, filename="auxnet.incept").graph)


def test_stride_with_dilation_is_refused_with_its_location() -> None:
    g = inceptdsl.loads(
        "network t {\n  input 3 x 16 x 16\n  c: conv 4 3x3 stride=2 dilation=2\n}\n"
    ).graph
    with pytest.raises(InvalidValueError, match="stride and a dilation") as err:
        BACKEND.emit(g)
    assert err.value.span is not None and err.value.span.line == 3


@pytest.mark.parametrize(
    ("torch_m", "keras_m"), [(0.1, 0.9), (0.01, 0.99), (0.3, 0.7), (0.003, 0.997)]
)
def test_batch_norm_momentum_is_converted(torch_m: float, keras_m: float) -> None:
    assert keras_momentum(torch_m) == keras_m
    g = inceptdsl.loads(f"network t {{\n  input 3 x 4 x 4\n  n: bn momentum={torch_m}\n}}\n").graph
    assert BACKEND.build(g).get_layer("n").momentum == keras_m


def test_cli_compile_writes_the_emitted_source(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    spec = ROOT / "specs" / "keras" / "xception.incept"
    out = tmp_path / "xception.py"
    assert main(["compile", str(spec), "--backend", "keras", "-o", str(out)]) == 0
    assert out.read_text() == BACKEND.emit(inceptdsl.load(str(spec)).graph)
    assert main(["compile", str(spec), "--backend", "keras"]) == 0
    assert capsys.readouterr().out == out.read_text()


# An aux head that is only an identity (no statement: its block gets `pass`) and an identity
# as the network's output.
EDGES = """
network edges {
  input 3 x 8 x 8
  a: conv 4 3x3 pad=1
  side: aux from a weight=0.5 { identity }
  b: conv 4 1x1 act=relu
  out: identity
}
"""


def test_identity_only_aux_head_and_identity_output() -> None:
    g = inceptdsl.loads(EDGES).graph
    assert "        pass\n" in BACKEND.emit(g)
    model = BACKEND.build(g, training=True)
    x = example(g)
    out = model(x.transpose(0, 2, 3, 1), training=False)
    a = model.get_layer("a")(x.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(np.asarray(out["side"]), np.asarray(a))
    assert tuple(out["logits"].shape) == (2, 8, 8, 4)


def test_to_keras_training_model_compiles_with_the_spec_loss_weights() -> None:
    """`net.to_keras(training=True)` is the training model; its `loss_weights` (the spec's) go
    to `compile`, and Keras' total loss is then the main loss plus each weighted aux loss."""
    import keras

    net = inceptdsl.loads(SPECS["auxnet"], filename="auxnet.incept")
    model = net.to_keras(training=True)
    assert model.loss_weights == {"logits": 1.0, "aux1": 0.3, "aux2": 0.3}
    assert model.aux_weights == {"aux1": 0.3, "aux2": 0.3}
    assert net.to_keras().loss_weights == {"logits": 1.0}
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer="sgd", loss={k: ce for k in model.loss_weights}, loss_weights=model.loss_weights
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 5, 4)
    logs = model.evaluate(x, {k: y for k in model.loss_weights}, verbose=0, return_dict=True)
    out = model(x, training=False)
    parts = {k: float(ce(y, out[k])) for k in model.loss_weights}
    want = parts["logits"] + 0.3 * parts["aux1"] + 0.3 * parts["aux2"]
    assert abs(logs["loss"] - want) <= 1e-4 * want
    model.fit(x, {k: y for k in model.loss_weights}, epochs=1, verbose=0)  # and it trains
