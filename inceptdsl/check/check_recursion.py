"""Pass: no block uses itself, directly or through other blocks (the expansion would not end)."""

from __future__ import annotations

from .. import ast as A
from ..errors import BlockRecursionError, Note, SpecError
from ..loader import BlockRef, Program
from .resolve_names import walk_stmts


def check_recursion(program: Program) -> list[SpecError]:
    state: dict[int, int] = {}  # id(decl) -> 1 visiting, 2 done
    errors: list[SpecError] = []

    def callees(ref: BlockRef) -> list[tuple[BlockRef, A.Call]]:
        out = []
        for s in walk_stmts(ref.decl.body):
            if isinstance(s, A.Unit) and isinstance(s.core, A.Call):
                target = ref.file.blocks.get(s.core.name)
                if target is not None:
                    out.append((target, s.core))
        return out

    def visit(ref: BlockRef, path: list[tuple[BlockRef, A.Call]]) -> None:
        key = id(ref.decl)
        if state.get(key) == 2:
            return
        state[key] = 1
        for target, call in callees(ref):
            tkey = id(target.decl)
            if state.get(tkey) == 1:
                hops = [*path, (ref, call)]
                start = next((i for i, (r, _) in enumerate(hops) if id(r.decl) == tkey), 0)
                cycle = hops[start:]
                names = " -> ".join(r.decl.name for r, _ in cycle) + f" -> {target.decl.name}"
                errors.append(
                    BlockRecursionError(
                        f"block recursion: {names}",
                        call.name_span,
                        notes=[
                            Note(f"{r.decl.name} uses {c.name} here", c.name_span) for r, c in cycle
                        ],
                        hint="a block cannot contain itself; use `repeat N { ... }` to stack copies",
                    )
                )
                continue
            visit(target, [*path, (ref, call)])
        state[key] = 2

    for f in program.files.values():
        for ref in f.blocks.values():
            if ref.file is f:
                visit(ref, [])
    return errors
