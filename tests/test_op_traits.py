"""Op traits are declared once in each OpDef (inceptdsl/ir/registry.py `Trait`), and the memory
model, the optimizer's dead-code pass and the torch backend's in-place rule use the sets derived
from them.

`drop_path` is both an alias and an eval identity: in eval it returns its input tensor itself
(torch's `drop_path` helper returns `x`, Keras' `DropPath` returns `inputs`), so it allocates
nothing, and the optimizer removes it like `dropout`. Before, the memory model counted a new
tensor for it while the optimizer removed it.
"""

from __future__ import annotations

import inceptdsl
from inceptdsl.ir.ops import ALIASES, EVAL_IDENTITY, FRESH, REGISTRY, Op, Trait, with_trait
from inceptdsl.middle import memory
from inceptdsl.optimize import Target, optimize

SPEC = """
network n {{
  input 8 x 16 x 16
  {op} -> conv 8 3x3 pad=1 -> global_avgpool -> flatten -> linear 4
}}
"""


def _allocated(op: str) -> int:
    """The peak: an alias of the (kept) input adds nothing while the conv runs."""
    return memory.estimate(inceptdsl.loads(SPEC.format(op=op)).graph).peak_bytes


def test_the_sets_are_the_declared_traits() -> None:
    assert memory.ALIASES == ALIASES == with_trait(Trait.ALIAS)
    assert EVAL_IDENTITY == {Op.DROPOUT, Op.DROP_PATH, Op.IDENTITY}
    assert EVAL_IDENTITY <= ALIASES == EVAL_IDENTITY | {Op.FLATTEN}
    assert not FRESH & ALIASES and Op.CONV2D in FRESH


def test_an_eval_identity_allocates_nothing() -> None:
    """drop_path and dropout cost what identity costs; a real op (scale: a new tensor) more."""
    assert _allocated("drop_path 0.1") == _allocated("dropout 0.1") == _allocated("identity")
    assert _allocated("scale 0.5") > _allocated(
        "identity"
    )  # control: the estimate sees a fresh tensor


def test_the_optimizer_removes_every_eval_identity() -> None:
    for op in ("drop_path 0.1", "dropout 0.1", "identity"):
        g = inceptdsl.loads(SPEC.format(op=op)).graph
        kept = {d["op"] for _, d in optimize(g, Target(layout="nchw")).graph.nodes(data=True)}
        assert not kept & EVAL_IDENTITY, op
    g = inceptdsl.loads(SPEC.format(op="scale 0.5")).graph  # control: scale is no identity
    assert any(
        d["op"] in (Op.SCALE, Op.CONV2D) for _, d in optimize(g, Target()).graph.nodes(data=True)
    )


def test_every_registered_op_declares_how_its_output_is_held() -> None:
    """Each op is fresh, an alias, or one of the few that are neither for a reason."""
    neither = {op for op, d in REGISTRY.items() if not d.traits & {Trait.FRESH, Trait.ALIAS}}
    # input: the caller's tensor; act: relu's backward needs its output; lrn: conservatively not
    # in place; channel_slice: a view torch may not overwrite
    assert neither == {Op.INPUT, Op.ACT, Op.LRN, Op.CHANNEL_SLICE}
