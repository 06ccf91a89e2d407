"""Pass: no block uses itself, directly or through other blocks (the expansion would not end)."""

from __future__ import annotations

from ..errors import BlockRecursionError, Note, SpecError
from ..front import ast as A
from ..front.loader import BlockRef, Program
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

    def report(path: list[tuple[BlockRef, A.Call]], target: BlockRef) -> None:
        tkey = id(target.decl)
        start = next((i for i, (r, _) in enumerate(path) if id(r.decl) == tkey), 0)
        cycle = path[start:]
        names = " -> ".join(r.decl.name for r, _ in cycle) + f" -> {target.decl.name}"
        errors.append(
            BlockRecursionError(
                f"block recursion: {names}",
                cycle[-1][1].name_span,
                notes=[Note(f"{r.decl.name} uses {c.name} here", c.name_span) for r, c in cycle],
                hint="a block cannot contain itself; use `repeat N { ... }` to stack copies",
            )
        )

    def visit(root: BlockRef) -> None:
        # Depth-first with an explicit stack: a chain of a few thousand blocks must not
        # exhaust Python's recursion limit. path[i] is the call from stack[i] to stack[i + 1].
        state[id(root.decl)] = 1
        stack = [(root, iter(callees(root)))]
        path: list[tuple[BlockRef, A.Call]] = []
        while stack:
            ref, pending = stack[-1]
            step = next(pending, None)
            if step is None:
                state[id(ref.decl)] = 2
                stack.pop()
                if path:
                    path.pop()
                continue
            target, call = step
            seen = state.get(id(target.decl))
            if seen == 1:
                report([*path, (ref, call)], target)
            elif seen is None:
                state[id(target.decl)] = 1
                path.append((ref, call))
                stack.append((target, iter(callees(target))))

    for f in program.files.values():
        for ref in f.blocks.values():
            if ref.file is f and id(ref.decl) not in state:
                visit(ref)
    return errors
