"""The optimization passes on the IR (framework-free): what each pass changes and keeps, the
weight map, purity and determinism, the fusion decisions, the CLI. Outputs are compared in
tests/test_optimize_fidelity.py."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
from conftest import bundled_specs, spec_id

import inceptdsl
from inceptdsl.cli import main
from inceptdsl.ir import Op, inputs
from inceptdsl.ir.printer import print_graph
from inceptdsl.optimize import PASSES, Target, optimize
from inceptdsl.optimize.cost_model import Site, predicted_gain
from inceptdsl.optimize.weights import Concat, Source, graph_keys, identity

ROOT = Path(__file__).resolve().parent.parent

SPECS = {
    # an Inception module: three 1x1 siblings, one straight into the concat, a nested concat,
    # a pool branch, dropout and an aux head
    "module": """
network module(num_classes: int = 5) {
  input 8 x 9 x 9
  defaults conv(bias=false, bn=bn(eps=0.001), act=relu)
  Mixed: concat {
    b1: conv 4 1x1
    b5_1: conv 3 1x1 -> b5_2: conv 4 3x3 pad=1
    b3_1: conv 5 1x1 -> concat {
      b3_2a: conv 2 1x3 pad=(0, 1)
      b3_2b: conv 2 3x1 pad=(1, 0)
    }
    avgpool 3x3 stride=1 pad=1 -> pool: conv 2 1x1
  }
  aux: aux from Mixed weight=0.3 {
    global_avgpool
    flatten
    fc: linear num_classes
  }
  global_avgpool
  dropout 0.5
  flatten
  fc: linear num_classes
}
""",
    # siblings that all feed the concat side by side: fused, the concat reads the fused conv
    "adjacent": """
network adjacent {
  input 6 x 8 x 8
  stem: conv 6 3x3 pad=1 bn=bn() act=relu
  cat: concat {
    a: conv 3 1x1 act=relu
    b: conv 5 1x1 act=relu
    maxpool 3x3 stride=1 pad=1
  }
}
""",
    # standalone BNs: after a conv (folded), after a conv another node reads (kept), a lone
    # activation after a folded conv, a residual scale after a conv without activation
    "standalone": """
network standalone {
  input 4 x 8 x 8
  c1: conv 6 3x3 pad=1 bias=false
  bn1: bn
  relu
  c2: conv 6 1x1
  add {
    bn2: bn scale=false
    identity
  }
  residual scale=0.2 {
    up: conv 6 1x1
  }
  residual scale=0.5 {
    sig: conv 6 1x1 act=sigmoid
  }
  residual scale=0.3 {
    lr: conv 6 1x1 act=leaky_relu
  }
  drop_path 0.1
}
""",
}


def load(name: str) -> nx.DiGraph:
    return inceptdsl.loads(SPECS[name], filename=f"{name}.incept").graph


def ops(g: nx.DiGraph) -> Counter[str]:
    return Counter(d["op"].value for _, d in g.nodes(data=True))


# -- each pass ----------------------------------------------------------------------------------


def test_dead_code_removes_aux_heads_dropout_identity_and_drop_path() -> None:
    g = load("module")
    out = optimize(g, skip=[p for p in PASSES if p != "dead_code"])
    assert out.graph.graph["aux_heads"] == ()
    assert not any(d["aux"] for _, d in out.graph.nodes(data=True))
    assert ops(out.graph)["dropout"] == 0
    assert not any(k.startswith("aux.") for k in out.weights)
    assert "fc.weight" in out.weights  # the main head stays
    s = optimize(load("standalone"), skip=[p for p in PASSES if p != "dead_code"])
    assert ops(s.graph)["identity"] == ops(s.graph)["drop_path"] == 0


def test_fold_bn_folds_unit_and_standalone_bns_and_lone_activations() -> None:
    g = load("standalone")
    out = optimize(g, skip=["hfuse", "concat", "fold_scale"])
    counts = ops(out.graph)
    assert counts["batchnorm"] == 1  # bn2: c2 is also read by the residual's identity branch
    assert "bn1" not in out.graph and "bn2" in out.graph
    c1 = out.graph.nodes["c1"]["attrs"]
    assert c1.bias and c1.bn is None and str(c1.act) == "relu"  # bn1 and the relu folded in
    assert ops(g)["act"] - counts["act"] == 1
    kept = [n for n in out.notes if n.pass_name == "fold_bn" and n.node == "bn2"]
    assert kept and "other readers" in kept[0].text
    w = out.weights["c1.bias"]  # made from bn1's state (there was no conv bias)
    assert set(w.sources()) == {
        f"bn1.{k}" for k in ("weight", "bias", "running_mean", "running_var")
    }
    m = optimize(load("module"))
    assert ops(m.graph)["batchnorm"] == 0
    assert all(d["attrs"].bn is None for _, d in m.graph.nodes(data=True) if d["op"] is Op.CONV2D)


def test_fold_scale_where_exact_only() -> None:
    out = optimize(load("standalone"), skip=["hfuse", "concat"])
    scales = {n for n, d in out.graph.nodes(data=True) if d["op"] is Op.SCALE}
    readers = {inputs(out.graph, s)[0] for s in scales}
    assert readers == {"sig"}  # sigmoid does not commute with a scale; relu-like ones do
    assert "lr" not in readers and "up" not in readers
    assert str(out.weights["up.weight"]).endswith("* 0.2)")
    with_bn = optimize(load("standalone"), skip=["fold_bn", "hfuse", "concat"])
    notes = [n.text for n in with_bn.notes if n.pass_name == "fold_scale"]
    assert any("sigmoid" in t for t in notes)


def test_hfuse_fuses_sibling_convs_into_one_and_slices_it() -> None:
    out = optimize(load("module"), Target("nchw"))
    g = out.graph
    fused = "Mixed.b1__b5_1__b3_1"
    assert g.nodes[fused]["op"] is Op.CONV2D and g.nodes[fused]["attrs"].out_channels == 12
    for name, (start, size) in {
        "Mixed.b1": (0, 4),
        "Mixed.b5_1": (4, 3),
        "Mixed.b3_1": (7, 5),
    }.items():
        assert g.nodes[name]["op"] is Op.CHANNEL_SLICE
        assert (g.nodes[name]["attrs"].start, g.nodes[name]["attrs"].size) == (start, size)
        assert inputs(g, name) == (fused,)
    kernel = out.weights[f"{fused}.weight"]
    assert isinstance(kernel, Concat) and len(kernel.parts) == 3
    # the 1x3 and 3x1 convs differ in kernel: not siblings
    assert g.nodes["Mixed.b3_2a"]["op"] is Op.CONV2D
    note = [n for n in out.notes if n.pass_name == "hfuse"][0]
    assert "fused Mixed.b1, Mixed.b5_1, Mixed.b3_1" in note.text and "predicted" in note.text


def test_hfuse_is_decided_per_target() -> None:
    g = inceptdsl.load(str(ROOT / "specs" / "inception_v3.incept")).graph
    nchw = optimize(g, Target("nchw"))
    blocked = optimize(g, Target("nchwc"))
    assert ops(nchw.graph)["conv2d"] < ops(blocked.graph)["conv2d"] == 94
    texts = [n.text for n in blocked.notes if n.pass_name == "hfuse"]
    assert texts and all(t.startswith("not fused") for t in texts)


def test_cost_model_prices_the_slice_copies() -> None:
    site = Site(768, 17, 17, 17, 17, (1, 1), (192, 160, 160), sliced_readers=2)
    nchw, nhwc, blocked = (predicted_gain(site, Target(lay)) for lay in ("nchw", "nhwc", "nchwc"))
    assert nchw > nhwc > 1.0 > blocked
    assert predicted_gain(site, Target("nchw", 8)) < nchw  # a slice of 8 samples is a copy
    no_slices = Site(768, 17, 17, 17, 17, (1, 1), (192, 160, 160), sliced_readers=0)
    assert predicted_gain(no_slices, Target("nhwc")) > nhwc


def test_concat_pass_inlines_nested_concats_and_merges_adjacent_slices() -> None:
    g = load("module")
    assert ops(g)["concat"] == 2
    m = optimize(g)
    (outer,) = [n for n, d in m.graph.nodes(data=True) if d["op"] is Op.CONCAT]
    assert inputs(m.graph, outer)[2:4] == ("Mixed.b3_2a", "Mixed.b3_2b")
    a = optimize(load("adjacent"))
    assert inputs(a.graph, "cat.concat")[0] == "cat.a__b"
    assert a.graph.nodes["cat.a__b"]["op"] is Op.CONV2D
    assert not any(d["op"] is Op.CHANNEL_SLICE for _, d in a.graph.nodes(data=True))


# -- the pipeline -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", bundled_specs(), ids=spec_id)
def test_every_bundled_spec_optimizes_to_a_checked_graph(path: Path) -> None:
    g = inceptdsl.load(str(path)).graph
    before = print_graph(g)
    out = optimize(g)
    assert print_graph(g) == before  # the input graph is not modified
    assert print_graph(optimize(g).graph) == print_graph(out.graph)  # deterministic
    assert list(out.weights) == graph_keys(out.graph)  # a recipe for every tensor, in order
    original = set(identity(g))
    assert {k for e in out.weights.values() for k in e.sources()} <= original
    assert sum(d["macs"] for _, d in out.graph.nodes(data=True)) == sum(
        d["macs"] for _, d in g.nodes(data=True) if d["aux"] is None
    )  # no pass changes the work, only how it is grouped
    assert tuple(out.graph.nodes[out.graph.graph["output"]]["shape"]) == tuple(
        g.nodes[g.graph["output"]]["shape"]
    )
    assert ops(out.graph)["dropout"] == 0
    # every batch norm left reads something other than a conv (InceptionNeXt's norm after the
    # token mixer's concat, whose identity part has no conv to fold into), and says so
    kept = {n for n, d in out.graph.nodes(data=True) if d["op"] is Op.BATCHNORM}
    for n in kept:
        src = out.graph.nodes[next(iter(out.graph.predecessors(n)))]
        assert src["op"] not in (Op.CONV2D, Op.SEPCONV2D), n
    assert kept == {note.node for note in out.notes if note.text.startswith("kept: after")}


def test_unchanged_tensors_are_their_sources() -> None:
    out = optimize(load("module"))
    assert out.weights["fc.weight"] == Source("fc.weight")


def test_unknown_pass() -> None:
    with pytest.raises(ValueError, match="no optimization pass"):
        optimize(load("module"), skip=["nope"])


# -- the command line ---------------------------------------------------------------------------


def test_cli_ir_optimize_prints_the_decisions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ir", "specs/googlenet.incept", "--optimize", "--layout", "nchwc"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# optimized for nchwc batch 1: dead_code, fold_bn")
    assert "# hfuse: " in out and "not fused" in out and "predicted" in out
    assert "%inception3a.branch1 : 64x28x28 = conv2d[act=relu, bias=true, bn=none" in out
    assert main(["ir", "specs/googlenet.incept", "--optimize", "--skip", "hfuse"]) == 0
    assert "hfuse" not in capsys.readouterr().out.splitlines()[0]


def test_cli_report_optimize_shows_both_op_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "specs/inception_v3.incept", "--optimize", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    table = out.split("the optimized graph (eval only):\n")[1]
    assert "batchnorm" not in table  # the spec's BNs are inside conv units
    rows = {ln.split()[0]: ln.split()[1:] for ln in table.splitlines() if ln and ln[0] != " "}
    assert rows["conv2d"] == ["96", "75"] and rows["dropout"] == ["1", "0"]
    assert rows["buffers"] == ["34,432", "0"]
    assert rows["MACs"][0] == rows["MACs"][1] == "5,713,216,096"


def test_cli_compile_optimize_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "specs/googlenet.incept", "--backend", "torch", "--weights", "x"]) == 2
    assert "does not take --weights" in capsys.readouterr().err
    args = ["compile", "specs/googlenet.incept", "--backend", "keras", "--optimize"]
    assert main([*args, "--weights", "x", "-o", str(tmp_path / "k.py")]) == 2
    assert "--weights is for the torch and onnx backends" in capsys.readouterr().err
    args = ["compile", "specs/googlenet.incept", "--backend", "torch", "--optimize"]
    assert main([*args, "--weights", str(tmp_path / "g.pt"), "-o", str(tmp_path / "g.py")]) == 2
    assert "which is the --weights file" in capsys.readouterr().err
    missing = str(tmp_path / "none.pt")
    args = ["compile", "specs/googlenet.incept", "--backend", "onnx", "--optimize", "--weights"]
    assert main([*args, missing, "-o", str(tmp_path / "g.onnx")]) == 2
    assert "does not exist or is not a file" in capsys.readouterr().err
    assert main(["report", "specs/googlenet.incept", "--optimize", "--format", "json"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["ir", "specs/googlenet.incept", "--optimize", "--skip", "nope"])
    assert exc.value.code == 2


@pytest.mark.parametrize("layout", ["own", "nchwc"])
@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_network_emit_optimize_is_what_compile_optimize_writes(
    backend: str, layout: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both optimize for the layout the backend computes in (its `optimize_layout`): with the
    layout changed to one where the cost model declines every fusion, both follow it."""
    from inceptdsl.backend import get

    if layout != "own":
        monkeypatch.setattr(type(get(backend)), "optimize_layout", layout)
    net = inceptdsl.load("specs/inception_v3.incept")
    args = ["-q", "compile", "specs/inception_v3.incept", "--backend", backend, "--optimize"]
    assert main(args) == 0
    source = net.emit(backend, optimize=True)
    assert source == capsys.readouterr().out
    assert ("branch1x1__branch5x5_1__branch3x3dbl_1" in source) == (layout == "own")


def test_optimized_models_refuse_training_and_loose_weights() -> None:
    net = inceptdsl.load("specs/googlenet.incept")
    with pytest.raises(ValueError, match="strictly"):
        net.to_torch(optimize=True, strict=False)
    with pytest.raises(ValueError, match="eval-only"):
        net.to_keras(optimize=True, training=True)
    with pytest.raises(TypeError, match="go with optimize=True"):
        net.to_torch(onednn=True)
