"""Lowering: expand the network (blocks, repeats, defaults, conditionals) into the IR graph.

Shape inference and costing happen as each node is created (shapes.py, cost.py), because
later arguments may depend on earlier shapes (`in.channels`). Naming rules (docs/language.md,
"Names"; scopes.py): a label names a unit; in a labelled `{ }` group or `repeat`, unlabelled
members are numbered 0, 1, ... (nn.Sequential style); elsewhere unlabelled layers get their
layer name (`conv`, `conv_1`, ...) and unlabelled block calls, groups, concats and residuals
add no level to the hierarchy. A name is either a node or a scope, never both.

One job a module: limits.py (size and work limits), work.py (the work counted against them),
scopes.py (the namespace rule, shared with the importers), binding.py (arguments of networks,
block calls and `extends`), context.py (what a statement sees; what lowering returns),
edits.py (a variant's edits and their application), structures.py (repeat, merges,
residuals), expand.py (Lowerer: the network, its statements and units lowered into nodes), memo.py
(block calls recorded once and replayed, for sweeps).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..front.loader import Program
from ..front.source import Span
from .binding import (
    bind_network_params,
    extends_args,
    network_decl,
    network_functions,
    network_params,
)
from .context import Expectation, Lowered
from .expand import Lowerer
from .limits import (
    MAX_NESTING,
    MAX_NODES,
    MAX_REPEAT,
    MAX_STEPS,
    MAX_TENSOR_ELEMENTS,
)
from .memo import BlockMemo

__all__ = [
    "BlockMemo",
    "MAX_NESTING",
    "MAX_NODES",
    "MAX_REPEAT",
    "MAX_STEPS",
    "MAX_TENSOR_ELEMENTS",
    "Expectation",
    "Lowered",
    "Lowerer",
    "bind_network_params",
    "extends_args",
    "lower",
    "network_decl",
    "network_functions",
    "network_params",
]


def lower(
    program: Program,
    overrides: Mapping[str, Any],
    override_span: Span | None = None,
    memo: BlockMemo | None = None,
) -> Lowered:
    """The network of `program` lowered with `overrides`; with `memo` (memo.py), block calls
    lowered before with the same arguments are replayed from it."""
    decl = network_decl(program)
    params = bind_network_params(
        decl,
        overrides,
        override_span,
        network_params(decl, program.root),
        network_functions(decl, program.root),
    )
    return Lowerer(program, memo).network(decl, params)
