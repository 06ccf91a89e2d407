"""A variant's edits (`replace`, `insert`, `remove`), keyed by the parent's IR paths, and how
lowering applies them: each where the parent's unit of that path is reached, keeping every other
name the parent's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import EditPathError, SpecError, raise_all
from ..front import ast as A
from ..front.loader import SpecFile
from ..front.source import Span
from ..ir import ops as O
from ..ir.graph import AuxHead
from ..middle.evaluate import Evaluator
from ..middle.layer_params import activation_call
from ..names import did_you_mean
from .context import Ctx, Expectation, choose_static


@dataclass
class Edit:
    """One edit of a variant, with the names and file its unit is lowered with."""

    stmt: A.ReplaceStmt | A.InsertStmt | A.RemoveStmt
    path: str
    span: Span
    names: Mapping[str, Any]
    file: SpecFile
    parent: str
    used: bool = False

    @property
    def words(self) -> str:
        if isinstance(self.stmt, A.InsertStmt):
            return f"insert ... {self.stmt.where} {self.path}"
        return f"{'replace' if isinstance(self.stmt, A.ReplaceStmt) else 'remove'} {self.path}"


@dataclass
class Edits:
    """A variant's edits keyed by full IR path (the parent's names), applied during lowering
    as each unit is reached; every edit must be used by the end."""

    replace: dict[str, Edit] = field(default_factory=dict)
    remove: dict[str, Edit] = field(default_factory=dict)
    before: dict[str, list[Edit]] = field(default_factory=dict)
    after: dict[str, list[Edit]] = field(default_factory=dict)
    every: list[Edit] = field(default_factory=list)
    applied: list[Edit] = field(default_factory=list)

    def add(self, e: Edit) -> None:
        """Add an edit; one of a parent's (added earlier) for the same path gives way."""
        self.every.append(e)
        if isinstance(e.stmt, (A.ReplaceStmt, A.RemoveStmt)):
            for table in (self.replace, self.remove):
                old = table.pop(e.path, None)
                if old is not None:
                    old.used = True  # superseded by the child's edit of the same path
            (self.replace if isinstance(e.stmt, A.ReplaceStmt) else self.remove)[e.path] = e
        else:
            where = self.before if e.stmt.where == "before" else self.after
            where.setdefault(e.path, []).append(e)

    def use(self, e: Edit) -> Edit:
        e.used = True
        self.applied.append(e)
        return e


class Editing:
    """Lowerer's application of a variant's edits (a mixin: Lowerer sets these attributes and
    lowers the units)."""

    edits: Edits
    expects: list[Expectation]
    seen: list[str]
    removed: int
    aux_heads: list[AuxHead]

    if TYPE_CHECKING:

        def _unit(self, u: A.Unit, x: str, ctx: Ctx) -> str: ...

        def _unit_core(self, u: A.Unit, x: str, ctx: Ctx) -> str: ...

        def _label(self, u: A.Unit, ctx: Ctx) -> str: ...

    def _collect(
        self,
        stmts: tuple[A.Stmt, ...],
        names: Mapping[str, Any],
        file: SpecFile,
        forced: dict[str, dict[str, tuple[Any, Span]]],
        top: bool,
        parent: str,
    ) -> None:
        """Gather a variant body's edits, `defaults` and (at the top level) `expect`s."""
        for s in stmts:
            ev = Evaluator(names, functions=file.functions)
            if isinstance(s, A.LetStmt):
                names = {**names, s.name: ev.eval(s.value)}
            elif isinstance(s, A.DefaultsStmt):
                opts = forced.setdefault(s.op, {})
                for kw in s.kwargs:
                    opts[kw.name] = (ev.eval(kw.value), kw.span)
            elif isinstance(s, A.IfStmt):
                body = choose_static(s, ev)
                if body is not None:
                    self._collect(body.stmts, names, file, forced, top, parent)
            elif isinstance(s, A.ExpectStmt):
                if top:
                    self.expects.append(Expectation(s, names))
            elif isinstance(s, A.RemoveStmt):
                for segs, span in zip(s.targets, s.target_spans, strict=True):
                    self.edits.add(Edit(s, ".".join(segs), span, names, file, parent))
            elif isinstance(s, (A.ReplaceStmt, A.InsertStmt)):
                self.edits.add(Edit(s, ".".join(s.target), s.target_span, names, file, parent))
            # anything else: the placement pass has reported it

    def _check_edits_used(self) -> None:
        errors: list[SpecError] = []
        done = [e for e in self.edits.applied if not isinstance(e.stmt, A.InsertStmt)]
        for e in self.edits.every:
            if e.used:
                continue
            inside = next((o for o in done if e.path.startswith(o.path + ".")), None)
            if inside is not None:
                hint = f"it is inside `{inside.path}`, which `{inside.words}` edits"
            elif isinstance(e.stmt, A.InsertStmt) and any(h.name == e.path for h in self.aux_heads):
                hint = "an aux head can be replaced or removed; insert into its body instead"
            else:
                hint = did_you_mean(e.path, self.seen) or (
                    "paths are the parent's IR names: `inceptdsl ir PARENT` lists them"
                )
            errors.append(
                EditPathError(
                    f"`{e.words}`: network `{e.parent}` has no unit `{e.path}`"
                    + (" (as built with these parameters)" if inside is None else ""),
                    e.span,
                    hint=hint,
                )
            )
        raise_all(errors)

    def _edited_unit(self, u: A.Unit, x: str, ctx: Ctx) -> str:
        name = self._peek_name(u, ctx)
        if name is None:
            return self._unit_core(u, x, ctx)
        self.seen.append(name)
        edits = self.edits
        for e in edits.before.pop(name, ()):
            x = self._insert(edits.use(e), x, ctx)
        rem, rep = edits.remove.pop(name, None), edits.replace.pop(name, None)
        if rem is not None:
            edits.use(rem)
            self._consume_name(u, ctx)
            self.removed += 1
            out = x
        elif rep is not None:
            out = self._replacement(edits.use(rep), u, name, x, ctx)
        else:
            out = self._unit_core(u, x, ctx)
        for e in edits.after.pop(name, ()):
            out = self._insert(edits.use(e), out, ctx)
        return out

    def _peek_name(self, u: A.Unit, ctx: Ctx) -> str | None:
        """The full name unit `u` is about to get (None for a unit that adds no level)."""
        scope = ctx.scope
        if u.label is not None:
            return scope.prefix + self._label(u, ctx)
        core = u.core
        if u.splice or (isinstance(core, A.Repeat)):
            return None
        if isinstance(core, A.Call) and core.name not in ctx.file.blocks:
            if core.name not in O.LAYERS and core.name in ctx.names:
                act = activation_call(core, ctx.names[core.name])
                core = act if act is not None else core
            if scope.indexed:
                return scope.prefix + str(scope.next_index)
            return scope.prefix + scope.peek_generated(core.name)
        return scope.prefix + str(scope.next_index) if scope.indexed else None

    def _consume_name(self, u: A.Unit, ctx: Ctx) -> None:
        """A removed unit keeps its number or generated name taken, so that the units after it
        keep the parent's names (a label is simply not used)."""
        if u.label is not None:
            return
        if ctx.scope.indexed:
            ctx.scope.index(u.span)
        elif isinstance(u.core, A.Call):
            ctx.scope.generated(u.core.name, u.span)

    def _edit_ctx(self, e: Edit, x: str, ctx: Ctx) -> Ctx:
        """An edit's unit sees the variant's names and blocks, the parent's defaults and scope
        at that point, and `in.*` = the tensor it receives."""
        return replace(ctx, names=e.names, file=e.file, block_in=x)

    def _replacement(self, e: Edit, u: A.Unit, name: str, x: str, ctx: Ctx) -> str:
        assert isinstance(e.stmt, A.ReplaceStmt)
        new = e.stmt.unit
        numbered = ctx.scope.indexed and u.label is None
        if new.label is None and not numbered:
            local = name[len(ctx.scope.prefix) :]
            new = A.Unit.model_construct(
                span=new.span, label=local, label_span=new.span, core=new.core
            )
        elif new.label is not None and numbered:
            ctx.scope.next_index += 1  # renamed: the number stays taken, the rest keep theirs
        return self._unit_core(new, x, self._edit_ctx(e, x, ctx))

    def _insert(self, e: Edit, x: str, ctx: Ctx) -> str:
        assert isinstance(e.stmt, A.InsertStmt)
        return self._unit(e.stmt.unit, x, self._edit_ctx(e, x, ctx))
