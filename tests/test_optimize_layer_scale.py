"""fold_scale on layer scales: a `layer_scale` after a conv or a (per-position) linear layer
with no activation is folded into that layer's rows (whether gamma is stored (C,) or
(C, 1, 1)); after an activation, or where another node reads the layer, it is kept, with a
note. The optimized models compute the unoptimized one's function (torch, with the 1% control
of test_optimize_fidelity.check_torch), and Keras' optimized model takes the same weights."""

from __future__ import annotations

import numpy as np
from support.fidelity import relative_error
from support.optimize_cases import _case, check_torch

import inceptdsl
from inceptdsl.backend import get
from inceptdsl.ir import Op
from inceptdsl.optimize import optimize

SPEC = """
network ls {
  input 6 x 5 x 5
  a: conv 8 3x3 pad=1
  a_ls: layer_scale init=0.5 dims=3
  b: linear 12 per_position=true
  b_ls: layer_scale init=0.25
  c: linear 8 per_position=true bias=false
  c_ls: layer_scale dims=3
  d: conv 8 1x1 act=relu
  d_ls: layer_scale dims=3
  residual {
    e: dwconv 3x3 pad=1
    e_ls: layer_scale dims=3
  }
  global_avgpool -> flatten
  f: linear 4
  f_ls: layer_scale
}
"""


def test_layer_scales_fold_into_the_layer_before_where_exact() -> None:
    g = inceptdsl.loads(SPEC, filename="ls.incept").graph
    opt = optimize(g)
    notes = {n.node: n.text for n in opt.notes if n.pass_name == "fold_scale"}
    for name, into in [("a_ls", "a"), ("b_ls", "b"), ("c_ls", "c"), ("f_ls", "f")]:
        assert notes[name] == f"layer scale folded into {into}"
        assert name not in opt.graph
        assert name not in opt.weights
    assert notes["d_ls"] == "kept: d's relu does not commute with the scale"
    assert opt.graph.nodes["d_ls"]["op"] is Op.LAYER_SCALE
    assert notes["e_ls"] == "layer scale folded into e"  # the residual reads e_ls, not e
    assert str(opt.weights["c.weight"]) == "(c.weight * c_ls)"


def test_folded_models_compute_the_same_function() -> None:
    g, model, x, want = _case(inceptdsl.loads(SPEC, filename="ls.incept").graph)
    check_torch(get("torch").build_optimized(g, model, channels_last=False), x, want)  # type: ignore[attr-defined]
    kmodel = get("keras").build_optimized(g, model)  # type: ignore[attr-defined]

    def keras() -> np.ndarray:
        return np.asarray(kmodel(x.permute(0, 2, 3, 1).numpy(), training=False))

    assert relative_error(keras(), want) <= 1e-4
    kernel = next(v for v in kmodel.weights if v.path.endswith("kernel"))  # the control
    kernel.assign(kernel.numpy() * 1.01)
    assert relative_error(keras(), want) > 1e-4
