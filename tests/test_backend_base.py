"""The Backend base class: capabilities are declared class attributes with defaults, and what a
backend cannot do raises `unsupported()` (a UsageError naming the backend), never an
AttributeError. A minimal backend (only `build` and `emit`) is enough for every caller."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest

from inceptdsl.backend import Backend, available, get
from inceptdsl.errors import UsageError
from inceptdsl.front.source import Span


class Minimal(Backend):
    name = "minimal"
    suffix = ".txt"

    def build(self, graph: nx.DiGraph, weights_from: Any = None, **options: Any) -> Any:
        return len(graph)

    def emit(self, graph: nx.DiGraph, **options: Any) -> str:
        return f"{len(graph)} nodes\n"


def test_a_minimal_backend_has_the_default_capabilities() -> None:
    b = Minimal()
    assert (b.optimize_layout, b.optimizer, b.importer) == ("nchw", None, None)
    assert (b.runtime, b.timer) == (None, None)
    assert not (b.writes_files or b.weights_in_file or b.saves_weights)
    assert dict(b.ops) == {} and set(b.activations) == set()


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.build_optimized(nx.DiGraph()),
        lambda b: b.write(nx.DiGraph(), "out.txt"),
        lambda b: b.emit_optimized(nx.DiGraph()),
        lambda b: b.write_optimized(nx.DiGraph(), "out.txt"),
        lambda b: b.read_weights("w.pt"),
        lambda b: b.saved_weights(nx.DiGraph()),
        lambda b: b.measure(nx.DiGraph()),
    ],
)
def test_what_a_backend_lacks_is_a_usage_error_naming_it(call: Any) -> None:
    with pytest.raises(UsageError, match="backend 'minimal' does not support"):
        call(Minimal())


def test_unsupported_is_located() -> None:
    span = Span("net.incept", 3, 5, 3, 12)
    with pytest.raises(UsageError) as err:
        Minimal().unsupported("op foo", span, hint="use another backend")
    assert (err.value.path, err.value.line, err.value.column) == ("net.incept", 3, 5)
    assert err.value.hint == "use another backend"


@pytest.mark.backend  # imports onnx
def test_the_built_in_backends_declare_their_capabilities() -> None:
    assert set(available()) >= {"torch", "keras", "onnx"}
    torch, keras, onnx = get("torch"), get("keras"), get("onnx")
    assert all(isinstance(b, Backend) for b in (torch, keras, onnx))
    assert (torch.optimize_layout, keras.optimize_layout, onnx.optimize_layout) == (
        "nchw",
        "nhwc",
        "nchwc",
    )
    assert [b.name for b in (torch, keras, onnx) if b.writes_files] == ["onnx"]
    assert [b.name for b in (torch, keras, onnx) if b.weights_in_file] == ["onnx"]
    assert [b.name for b in (torch, keras, onnx) if b.saves_weights] == ["torch"]
    assert [b.name for b in (torch, keras, onnx) if b.importer is not None] == ["torch", "onnx"]
    assert all(b.optimizer is not None and b.ops for b in (torch, keras, onnx))
    assert [(b.name, b.runtime) for b in (torch, keras, onnx) if b.timer is not None] == [
        ("torch", "torch"),
        ("onnx", "onnxruntime"),
    ]


def test_timing_is_reached_through_the_registry_only() -> None:
    """The sweep's latency worker (core) asks a backend to time a model (`measure`): it names
    no framework, imports none and does not reach one through sys.modules."""
    import ast

    from conftest import ROOT

    from inceptdsl.sweep import latency, latency_worker

    frameworks = {"torch", "onnxruntime", "onnx", "numpy", "tensorflow", "keras"}
    for module in (latency_worker, latency):
        assert module.__file__ is not None
        tree = ast.parse(open(module.__file__, encoding="utf-8").read())
        imported = {
            (n.module or "" if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names
        }
        assert not imported & frameworks, module.__name__
        text = ast.unparse(tree)
        assert "sys.modules" not in text and "onnxruntime as" not in text
    assert latency.RUNTIMES == {"onnxruntime": "onnx", "torch": "torch"}
    assert (ROOT / "backends" / "torch" / "timing.py").is_file()


def test_load_source_runs_each_text_once_and_evicts_the_oldest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Shared by torch and keras (backends/common/loaded.py): both evict past KEEP."""
    import sys

    from inceptdsl.backends.common import loaded

    monkeypatch.setattr(loaded, "KEEP", 2)
    monkeypatch.setattr(loaded, "_MODULES", {})
    first = loaded.load_source("x = []\n", "n", "keras")
    assert loaded.load_source("x = []\n", "n", "keras") is first
    assert loaded.load_source("x = []\n", "n", "torch") is not first  # per backend
    later = [loaded.load_source(f"x = {i}\n", "n", "keras") for i in range(2)]
    assert first.__name__ not in sys.modules
    assert [m.x for m in later] == [0, 1] and all(m.__name__ in sys.modules for m in later)
    for m in [*later, *loaded._MODULES["torch"].values()]:
        sys.modules.pop(m.__name__, None)


def test_no_capability_is_probed() -> None:
    """Callers read the declared capabilities: no hasattr/getattr of a Backend attribute
    anywhere in the core (a probe hides a capability the base class does not declare)."""
    import re

    from conftest import ROOT

    plain = {"name", "suffix"}  # every object may have these: not capabilities
    names = "|".join(n for n in vars(Backend) if not n.startswith("_") and n not in plain)
    probe = re.compile(rf"""\b(?:hasattr|getattr)\([^,()]+,\s*["'](?:{names})["']""")
    found = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in sorted((ROOT / "inceptdsl").rglob("*.py"))
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if probe.search(line)
    ]
    assert found == []
    assert probe.search('layout = getattr(backend, "optimize_layout", "nchw")')  # control


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_an_op_without_a_rule_is_a_located_error(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An op missing from a backend's dispatch table (a plugin op, say) is unsupported() at the
    node's source position, not a KeyError."""
    import inceptdsl
    from inceptdsl.ir import Op

    ops = {"torch": "inceptdsl.backends.torch.ops", "keras": "inceptdsl.backends.keras.ops"}
    import importlib

    table = importlib.import_module(ops[backend]).OP_TABLE
    monkeypatch.delitem(table, Op.LRN)
    net = inceptdsl.loads("network n {\n  input 3 x 8 x 8\n  lrn 5\n}\n")
    with pytest.raises(UsageError, match=f"backend '{backend}' does not support op lrn") as err:
        get(backend).emit(net.graph)
    assert (err.value.line, err.value.column) == (3, 3)
