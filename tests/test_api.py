"""The public Python API (README, "Python API"): names, types and attributes users rely on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from conftest import ROOT

import inceptdsl
from inceptdsl.expect import ExpectResult
from inceptdsl.report import Report, Row


def test_public_names() -> None:
    assert set(inceptdsl.__all__) == {"Network", "SpecError", "__version__", "load", "loads"}
    for name in inceptdsl.__all__:
        assert hasattr(inceptdsl, name), name
    assert callable(inceptdsl.load) and callable(inceptdsl.loads)
    assert isinstance(inceptdsl.Network, type)
    assert issubclass(inceptdsl.SpecError, Exception)


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", inceptdsl.__version__)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{inceptdsl.__version__}"' in pyproject


def test_load() -> None:
    net = inceptdsl.load("specs/inception_v3.incept")
    assert isinstance(net, inceptdsl.Network)
    assert net.name == "inception_v3"
    assert net.input_shape == (3, 299, 299)
    assert isinstance(net.graph, nx.DiGraph)
    assert net.graph.graph["name"] == "inception_v3"
    assert net.path == "specs/inception_v3.incept"
    assert net.graph.nodes[net.labels["Mixed_7c"]]["shape"] == (2048, 8, 8)


def test_load_accepts_a_path_object() -> None:
    net = inceptdsl.load(ROOT / "specs" / "googlenet.incept", aux_logits=False)  # type: ignore[arg-type]
    assert net.name == "googlenet"
    assert net.graph.graph["aux_heads"] == ()


def test_load_with_parameters() -> None:
    net = inceptdsl.load("specs/inception_v3.incept", num_classes=10, image_size=320)
    assert net.input_shape == (3, 320, 320)
    assert net.graph.nodes["fc"]["shape"] == (10,)
    assert net.params["num_classes"] == 10


def test_loads() -> None:
    text = "network tiny(c: int = 4) {\n  input 1 x 5 x 5\n  conv c 3x3\n}\n"
    net = inceptdsl.loads(text, filename="tiny.incept", c=2)
    assert (net.name, net.input_shape) == ("tiny", (1, 5, 5))
    assert net.graph.nodes["conv"]["shape"] == (2, 3, 3)
    assert net.path == "tiny.incept"


def test_loads_default_filename_in_errors() -> None:
    with pytest.raises(inceptdsl.SpecError) as exc:
        inceptdsl.loads("network n {\n  input 1 x 5 x 5\n  conv 4 7x7\n}\n")
    assert str(exc.value).startswith("<string>.incept:3:3: error[E403]: ")


def test_spec_error_attributes() -> None:
    with pytest.raises(inceptdsl.SpecError) as exc:
        inceptdsl.loads("network n {\n  input 1 x 5 x 5\n  cnv 4 3x3\n}\n", filename="e.incept")
    err = exc.value
    assert (err.code, err.path, err.line, err.column) == ("E201", "e.incept", 3, 3)
    assert err.message == "unknown layer or block `cnv`"
    assert err.exit_code == 1
    rendered = err.render()
    assert rendered.splitlines()[0] == "e.incept:3:3: error[E201]: unknown layer or block `cnv`"
    assert "  cnv 4 3x3" in rendered


def test_missing_file_is_a_spec_error() -> None:
    with pytest.raises(inceptdsl.SpecError) as exc:
        inceptdsl.load("specs/no_such_spec.incept")
    assert exc.value.code == "E002" and exc.value.exit_code == 2


def test_report_attributes() -> None:
    rep = inceptdsl.load("specs/googlenet.incept").report()
    assert isinstance(rep, Report)
    assert (rep.params, rep.buffers, rep.macs) == (13_004_888, 15_072, 1_498_376_192)
    assert rep.flops == 2_996_752_384
    assert rep.aux_params == 6_379_984
    assert isinstance(rep.rows, list) and all(isinstance(r, Row) for r in rep.rows)
    assert [r.name for r in rep.rows][:2] == ["conv1", "maxpool1"]
    assert isinstance(rep.to_json(), str)
    for attr in ("params", "buffers", "macs", "flops", "aux_params", "rows", "to_json"):
        assert hasattr(rep, attr), attr


def test_verify_returns_results() -> None:
    results = inceptdsl.load("specs/googlenet.incept").verify()
    assert results and all(isinstance(r, ExpectResult) for r in results)
    assert all(r.ok for r in results)
    assert all(r.source for r in results)


def test_with_params() -> None:
    net = inceptdsl.load("specs/googlenet.incept")
    small = net.with_params(num_classes=10)
    assert small.graph.nodes["fc"]["shape"] == (10,)
    assert net.graph.nodes["fc"]["shape"] == (1000,)


def test_core_imports_no_framework() -> None:
    """`import inceptdsl` and loading a spec import neither torch nor tensorflow."""
    code = (
        "import sys, inceptdsl\n"
        "net = inceptdsl.load('specs/inception_v3.incept')\n"
        "net.report().to_json(); net.verify()\n"
        "bad = [m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_with_params_equals_loading_with_those_params() -> None:
    """Parameters the caller did not give keep following their defaults (fails while
    with_params re-passes every bound value, derived defaults included, as an override)."""
    text = (
        "network d(image_size: int = 16, half: int = image_size // 2) {\n"
        "  input 3 x image_size x half\n}\n"
    )
    base = inceptdsl.loads(text, filename="d.incept")
    direct = inceptdsl.loads(text, filename="d.incept", image_size=32)
    assert direct.input_shape == (3, 32, 16)
    assert base.with_params(image_size=32).input_shape == direct.input_shape
    # Values the network was loaded with are kept.
    assert base.with_params(half=3).with_params(image_size=8).input_shape == (3, 8, 3)


def test_a_spec_parameter_may_be_called_path_or_text(tmp_path: Path) -> None:
    """`load`'s and `loads`'s own arguments are positional-only: `--set path=1` was an internal
    error ("load() got multiple values for argument 'path'")."""
    spec = tmp_path / "t.incept"
    text = "network t(path: int = 3, text: int = 2) {\n  input 3 x 8 x 8\n  conv path 1x1\n}\n"
    spec.write_text(text, encoding="utf-8")
    assert inceptdsl.load(str(spec), path=7, text=1).report().params == 3 * 7 + 7
    assert inceptdsl.loads(text, "t.incept", path=5, text=1).report().params == 3 * 5 + 5
    assert inceptdsl.network.load_to_verify(str(spec), path=4).report().params == 3 * 4 + 4
