"""Size and work limits of lowering: absurd input stops here with a located error, not a hang.

Read through the module (`limits.MAX_NODES`), so that a test can lower one for a run.
"""

from __future__ import annotations

MAX_NODES = 100_000
"""Most IR nodes one network may expand to (the largest bundled spec has under 1,000)."""

MAX_TENSOR_ELEMENTS = 2**32
"""Largest activation or weight tensor (elements per sample) accepted."""

MAX_REPEAT = 100_000
"""Largest `repeat` count (E900). The only definition: check/budget.py's estimate is given it
(a larger count there counts as nothing, since lowering reports it when it is reached)."""

MAX_STEPS = 10 * MAX_NODES
"""Most expansion steps (statements, units, repeat iterations) one lowering may take. Work
that creates no node (empty blocks, nested empty `repeat`s, `let`s in a loop) is counted too,
so it cannot run for hours under the node limit. A layer in a `repeat` takes three steps
(iteration, statement, unit), so any network under MAX_NODES fits; a million empty steps take
about a second. What each counts is defined once, in check/budget.py (STMT, UNIT, ITERATION,
BLOCK_CALL, BINDING), which the estimate of the work before it is done mirrors."""

MAX_NESTING = 100
"""Deepest nesting of units while lowering (groups, branches, repeats, aux heads and block
calls, counted through the blocks called): lowering recurses once per level, so absurd input
must stop here with E904 rather than in a RecursionError. Bundled specs nest under 10."""
