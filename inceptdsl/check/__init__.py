"""Semantic passes over the parsed program, run in the order of PASSES before lowering.

Each pass is a pure function `Program -> list[SpecError]` in a module named after it; all
passes run and their errors are reported together (capped), so independent mistakes surface at
once. Checks that need values or shapes (types of evaluated arguments, shape errors) happen
during lowering, where those are known.
"""

from __future__ import annotations

from ..errors import raise_all
from ..front.loader import Program
from .check_recursion import check_recursion
from .functions import check_functions
from .placement import check_placement
from .resolve_names import resolve_names

PASSES = (resolve_names, check_placement, check_recursion, check_functions)


def run_checks(program: Program) -> None:
    errors = [e for p in PASSES for e in p(program)]
    if errors:
        raise_all(errors)
